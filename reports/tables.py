"""CBR and timing tables (CSV + Markdown)."""
from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

import numpy as np

from bench.cbr import cbr_table_convention


def _write(rows: list[dict], stem: Path, title: str) -> list[Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    cols = list(rows[0]) if rows else []
    csv_path, md_path = stem.with_suffix(".csv"), stem.with_suffix(".md")
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=cols)
        w.writeheader()
        w.writerows(rows)
    lines = [f"# {title}", "", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    md_path.write_text("\n".join(lines) + "\n")
    return [csv_path, md_path]


def cbr_table(rows, stem: Path) -> list[Path]:
    """Per method/dataset/size: channel uses and CBR in both conventions (see bench/cbr.py)."""
    acc = defaultdict(list)
    for r in rows:
        acc[(r.method, r.dataset, r.size)].append(r)
    out = []
    for (method, dataset, size), rs in sorted(acc.items()):
        bpps = [r.bpp for r in rs if r.bpp is not None]
        out.append({
            "method": method, "dataset": dataset, "resolution": f"{size}x{size}",
            "complex_uses": int(np.mean([r.channel_uses for r in rs])),
            "cbr_paper": f"{np.mean([r.cbr_paper for r in rs]):.4f}",
            "cbr_complex": f"{np.mean([r.cbr_complex for r in rs]):.4f}",
            "cbr_tables_I_II": f"{np.mean([cbr_table_convention(r.bpp, r.channel_uses, size, size) for r in rs]):.4f}",
            "bpp": f"{np.mean(bpps):.3f}" if bpps else "",
        })
    return _write(out, stem, "Channel bandwidth ratio (cbr_paper: real values / HWC, LDPC redundancy included; "
                             "cbr_complex: channel uses / HWC; cbr_tables_I_II: the paper's Tables I-II convention, "
                             "information bits / (6 HWC) for source-coded schemes, i.e. without the LDPC redundancy)")


def timing_table(rows, stem: Path) -> list[Path]:
    """Mean wall time per stage and method, in milliseconds.

    Transmitter stages (tx.*) run once per image and are shared by all SNRs, so they are
    averaged over distinct images; receiver and channel stages are per row.
    """
    per_method: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    seen_tx = set()
    for r in rows:
        key = (r.method, r.dataset, r.image_id, r.channel, r.seed, r.size)
        for stage, sec in r.times.items():
            if stage.startswith("tx.") and stage != "tx.transmit":
                if (key, stage) in seen_tx:
                    continue
                seen_tx.add((key, stage))
            per_method[r.method][stage].append(sec * 1000.0)
    out = []
    for method, stages in sorted(per_method.items()):
        for stage, ms in sorted(stages.items()):
            out.append({"method": method, "stage": stage, "mean_ms": f"{np.mean(ms):.3f}",
                        "median_ms": f"{np.median(ms):.3f}", "calls": len(ms)})
    return _write(out, stem, "Per-stage wall time (tx.* once per image, the rest per SNR)")


def outcome_of(row) -> str | None:
    """The edit outcome a row records, wherever the scheme put it (transmitter, receiver, editor)."""
    info = row.info or {}
    for key in ("outcome", "tx.outcome", "editor.outcome", "tx.editor.outcome"):
        if key in info:
            return str(info[key])
    return None


def outcome_table(rows, stem: Path) -> list[Path]:
    """Per method and dataset: how many rows ended in each edit outcome (edited, not-understood,
    at-limit, gave-up, no-edit) and how many had an undecodable bitstream. Nothing a sweep met is
    hidden: a request a method could not apply is a counted outcome, not a missing row."""
    from methods.editing.base import Outcome

    acc: dict = defaultdict(lambda: defaultdict(int))
    for r in rows:
        o = outcome_of(r)
        if o is None and r.task != "edit":
            continue
        k = (r.method, r.dataset)
        acc[k][o or "unrecorded"] += 1
        acc[k]["rows"] += 1
        acc[k]["decode failures"] += int(r.decode_failures > 0)
    cols = list(Outcome.ALL) + ["unrecorded"]
    out = []
    for (method, dataset), counts in sorted(acc.items()):
        row = {"method": method, "dataset": dataset, "rows": counts["rows"]}
        row.update({c: counts.get(c, 0) for c in cols if c != "unrecorded" or counts.get(c)})
        row["decode failures"] = counts["decode failures"]
        out.append(row)
    cols_all = ["method", "dataset", "rows"] + cols + ["decode failures"]
    out = [{c: r.get(c, 0) for c in cols_all} for r in out]
    return _write(out, stem, "Edit outcomes per method (rows; transmitter outcomes repeat once per SNR)")
