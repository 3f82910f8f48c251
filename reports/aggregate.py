"""Group result rows into per-(dataset, channel, size) curves: method -> SNR -> values."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.store import ResultStore, Row



@dataclass(frozen=True)
class Group:
    dataset: str
    channel: str
    size: int

    def title(self) -> str:
        return f"{self.dataset} · {self.channel} · {self.size}px"


def series_labels(pairs) -> dict[tuple[str, str], str]:
    """(method, provenance) -> the curve label. A method whose rows came from more than one set of
    trained weights gets one curve per provenance ('deepsc [w 1a2b3c4d]'), never a mixed one."""
    pairs = set(pairs)
    count: dict[str, int] = defaultdict(int)
    for method, _ in pairs:
        count[method] += 1
    return {(m, p): (m if count[m] == 1 else f"{m} [w {p[:8]}]") for m, p in pairs}


def load_rows(db: Path) -> list[Row]:
    """All rows, with `method` set to its curve label (see `series_labels`)."""
    store = ResultStore(db, readonly=True)
    try:
        rows = store.rows()
    finally:
        store.close()
    labels = series_labels((r.method, r.provenance) for r in rows)
    for r in rows:
        r.method = labels[(r.method, r.provenance)]
    return rows


def load_set_metrics(db: Path) -> list[dict]:
    store = ResultStore(db, readonly=True)
    try:
        records = store.set_metrics()
        pairs = store.conn.execute("SELECT DISTINCT method, provenance FROM results").fetchall()
    finally:
        store.close()
    labels = series_labels(list(pairs) + [(d["method"], d["provenance"]) for d in records])
    for d in records:
        d["method"] = labels[(d["method"], d["provenance"])]
    return records


def group_rows(rows: list[Row]) -> dict[Group, list[Row]]:
    out: dict[Group, list[Row]] = defaultdict(list)
    for r in rows:
        out[Group(r.dataset, r.channel, r.size)].append(r)
    return dict(out)


def metric_names(rows: list[Row]) -> list[str]:
    names: dict[str, None] = {}
    for r in rows:
        names.update(dict.fromkeys(r.metrics))
    return list(names)


def row_value(row: Row, metric: str) -> float | None:
    """A row's value for `metric`: a stored metric, or a derived per-row quantity."""
    if metric == "decode_failure_rate":
        return float(row.decode_failures > 0)
    return row.metrics.get(metric)


def curves(rows: list[Row], metric: str) -> dict[str, dict[float, np.ndarray]]:
    """method -> snr -> array of per-image values (non-finite values kept, e.g. PSNR inf)."""
    acc: dict[str, dict[float, list[float]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        v = row_value(r, metric)
        if v is not None:
            acc[r.method][r.snr].append(v)
    return {m: {s: np.asarray(v, dtype=float) for s, v in sorted(d.items())} for m, d in acc.items()}


def mean_ci(values: np.ndarray) -> tuple[float, float, float]:
    """Mean and percentile-bootstrap 95% interval of the finite values (nan when there are none)."""
    from bench.metrics.bootstrap import bootstrap_ci

    v = values[np.isfinite(values)]
    if v.size == 0:
        return float("nan"), float("nan"), float("nan")
    return bootstrap_ci(v)
