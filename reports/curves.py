"""SNR curves in the paper's figure style: one line per method, x = SNR (dB), PNG + CSV."""
from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from bench.metrics.registered import direction  # noqa: E402
from reports.aggregate import Group, curves, mean_ci  # noqa: E402

MARKERS = "osD^v<>pP*Xh"

# method -> snr -> (mean, ci_lo, ci_hi, n)
Stats = dict[str, dict[float, tuple[float, float, float, int]]]


def row_stats(rows, metric: str) -> Stats:
    return {m: {s: (*mean_ci(v), int(v.size)) for s, v in per.items()} for m, per in curves(rows, metric).items()}


def set_stats(records: list[dict], group: Group, metric: str) -> Stats:
    """Stats from `set_metrics` records (one value with its bootstrap interval per method/SNR)."""
    out: Stats = {}
    for d in records:
        if d["name"] == metric and (d["dataset"], d["channel"], d["size"]) == (group.dataset, group.channel, group.size):
            out.setdefault(d["method"], {})[d["snr"]] = (d["value"], d["lo"], d["hi"], d["n"])
    return {m: dict(sorted(per.items())) for m, per in out.items()}


REF_WORDS = {"original": "vs original", "target": "vs ground-truth edit"}


def reference_note(rows, metric: str) -> str:
    """Which reference a per-row metric was measured against, from the rows' metric_refs."""
    refs = sorted({r.metric_refs.get(metric) for r in rows if r.metric_refs.get(metric)})
    return " / ".join(REF_WORDS.get(x, x) for x in refs)


def write_curve(rows, group: Group, metric: str, stem: Path) -> list[Path]:
    return write_stats_curve(row_stats(rows, metric), group, metric, stem, reference_note(rows, metric))


def _wrap(label: str, width: int = 60) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(label, width, break_on_hyphens=False)) or label


def write_stats_curve(data: Stats, group: Group, metric: str, stem: Path, note: str = "") -> list[Path]:
    if not data:
        return []
    stem.parent.mkdir(parents=True, exist_ok=True)
    csv_path = stem.with_suffix(".csv")
    with open(csv_path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["method", "dataset", "channel", "size", "snr_db", "metric", "mean", "ci95_lo", "ci95_hi", "n"])
        for method, per_snr in sorted(data.items()):
            for snr, (mean, lo, hi, n) in per_snr.items():
                w.writerow([method, group.dataset, group.channel, group.size, snr, metric,
                            f"{mean:.6g}", f"{lo:.6g}", f"{hi:.6g}", n])
    labels = [_wrap(m) for m in sorted(data)]
    legend_lines = sum(label.count("\n") + 1 for label in labels)
    fig, ax = plt.subplots(figsize=(5.2, 3.6 + 0.16 * legend_lines), dpi=150)
    for i, (method, per_snr) in enumerate(sorted(data.items())):
        snrs = list(per_snr)
        stats = list(per_snr.values())
        ax.plot(snrs, [s[0] for s in stats], marker=MARKERS[i % len(MARKERS)], linewidth=1.6, markersize=5,
                label=labels[i])
        ax.fill_between(snrs, [s[1] for s in stats], [s[2] for s in stats], alpha=0.15)
    arrow = "↑" if direction(metric) else "↓"
    ax.set_xlabel("SNR (dB)")
    name, _, ref = metric.partition("@")
    note = note or (REF_WORDS.get(ref, "") if ref else "")
    ax.set_ylabel(f"{name.upper()} ({arrow})" + (f"\n{note}" if note else ""), fontsize=8)
    ax.set_title(group.title(), fontsize=8)
    ax.set_xticks(sorted({s for d in data.values() for s in d}))
    ax.grid(True, linestyle=":", linewidth=0.6)
    ax.legend(fontsize=6.5, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=1)
    fig.tight_layout()
    png_path = stem.with_suffix(".png")
    fig.savefig(png_path)
    plt.close(fig)
    return [png_path, csv_path]
