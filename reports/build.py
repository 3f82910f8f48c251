"""`bench report`: every figure and table from one results database."""
from __future__ import annotations

from pathlib import Path

from bench.runner import slug
from reports.aggregate import group_rows, load_rows, load_set_metrics, metric_names
from reports.curves import reference_note, set_stats, write_curve, write_stats_curve
from reports.tables import cbr_table, outcome_table, timing_table


def build_report(db: Path, dest: Path, methods=None) -> list[Path]:
    """Curves per (dataset, channel, size), CBR, timing and outcome tables under `dest`; `methods`: only
    these method specs (e.g. one paper figure's), default every method in the store."""
    rows = load_rows(db)
    set_records = load_set_metrics(db)
    if methods is not None:
        keep = set(methods)
        rows = [r for r in rows if r.method in keep]
        set_records = [d for d in set_records if d["method"] in keep]
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for group, grows in group_rows(rows).items():
        gdir = dest / slug(f"{group.dataset}_{group.channel}_{group.size}px")
        for metric in metric_names(grows):
            written += write_curve(grows, group, metric, gdir / f"snr_{metric}")
        # Decode-failure rate vs SNR shows the digital cliff.
        written += write_curve(grows, group, "decode_failure_rate", gdir / "snr_decode_failure_rate")
        # set metrics follow the per-row metrics' references (ground-truth edit for edit rows, else original)
        base = next((m for m in metric_names(grows) if "@" not in m), None)
        for name in sorted({d["name"] for d in set_records}):
            note = reference_note(grows, base) if base and "@" not in name else ""
            written += write_stats_curve(set_stats(set_records, group, name), group, name, gdir / f"snr_{name}", note)
    written += cbr_table(rows, dest / "cbr")
    written += timing_table(rows, dest / "timing")
    if any(r.task == "edit" for r in rows):
        written += outcome_table(rows, dest / "outcomes")
    return written
