"""The short table `bench run` prints: per method, CBR and the mean primary metric per SNR."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from reports.aggregate import curves, group_rows, load_rows, metric_names, mean_ci

PRIMARY = ("psnr", "lpips-alex", "ssim")


def summary_table(db: Path, methods=None, dataset=None) -> str:
    rows = load_rows(db)
    if methods:
        rows = [r for r in rows if r.method in methods]
    if dataset:
        rows = [r for r in rows if r.dataset == dataset]
    if not rows:
        return "(no results)"
    blocks = []
    for group, grows in group_rows(rows).items():
        names = metric_names(grows)
        metric = next((m for m in PRIMARY if m in names), names[0] if names else None)
        snrs = sorted({r.snr for r in grows})
        width = max(len("method"), *(len(r.method) for r in grows)) + 2
        head = f"{'method':<{width}}{'CBR paper':>10}{'CBR cplx':>10}{'fails':>7}  " + "".join(f"{s:>9g}" for s in snrs)
        from reports.curves import reference_note

        note = reference_note(grows, metric) if metric else ""
        lines = [f"{group.title()} — mean {metric or '(no metric)'}" + (f" ({note})" if note else "") + " by SNR (dB)",
                 head, "-" * len(head)]
        per = curves(grows, metric) if metric else {}
        for method in sorted({r.method for r in grows}):
            mrows = [r for r in grows if r.method == method]
            fails = sum(r.decode_failures for r in mrows)
            cells = []
            for s in snrs:
                vals = per.get(method, {}).get(s)
                cells.append(f"{mean_ci(vals)[0]:>9.3f}" if vals is not None and vals.size else f"{'-':>9}")
            lines.append(f"{method:<{width}}{np.mean([r.cbr_paper for r in mrows]):>10.4f}"
                         f"{np.mean([r.cbr_complex for r in mrows]):>10.4f}{fails:>7}  " + "".join(cells))
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)
