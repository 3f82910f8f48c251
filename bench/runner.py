"""The resumable sweep driver: methods × images × SNRs through one channel.

The driver plans *units* — (method, image, the SNRs still missing) — and hands them to an
executor (`bench.executor`: in-process, or ``--workers N`` processes). A unit prepares the
transmitter once and reuses it for every SNR; its rows come back to the driver, the only
SQLite writer, which commits each row on its own. Channel noise for a row is drawn from a
generator seeded by (seed, dataset, image, SNR, channel, stream), so a resumed or parallel
sweep produces exactly the rows an uninterrupted sequential one would.

Rows are keyed by the method's canonical spec *and provenance* (the digests of the trained
weights it used): retrained weights make old rows not count as done. Units are claimed in the
database, so two runs on the same ``--out`` share the work instead of both doing all of it.
"""
from __future__ import annotations

import math
import os
import sys
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from bench.errors import UserError
from bench.executor import (MethodError, Parts, ProcessPoolExecutor, SequentialExecutor, SweepContext, Unit,
                            references, save_image, score, slug, snr_label, stable_seed)  # noqa: F401
from bench.registry import CHANNELS, DATASETS, METHODS, METRICS
from bench.store import ResultStore, Row
from datasets.base import Item

SNR_RANGE = (-50.0, 60.0)  # dB; outside it the noise variance under/overflows or the sweep is meaningless
MAX_WORKERS = 64


@dataclass
class SweepConfig:
    methods: list[str]
    dataset: str
    snrs: list[float]
    channel: str = "awgn"
    n: int | None = 16
    seed: int = 0
    size: int | None = None
    out: Path = Path("runs")
    metrics: list[str] | None = None
    set_metrics: bool = True  # FD/KD per (method, SNR) over the sweep's images
    progress: bool = True
    workers: int = 0  # 0: run units in this process; N >= 1: N worker processes
    plugins: list[str] = field(default_factory=list)  # modules workers import (registered extras)
    batch_receive: bool = True  # hand a method all SNRs of an image in one receive_batch call
    executor: str = "local"  # 'local' (in-process or --workers), 'ray' or 'ray:address=HOST:PORT'

    wait_poll_s: float = 0.5  # how often to look at units another run is computing


@dataclass
class SweepResult:
    db_path: Path
    rows_written: int = 0
    rows_skipped: int = 0  # already in the store
    prepares: int = 0
    images: int = 0
    set_groups: int = 0  # (method, SNR) groups whose set-level metrics were (re)computed
    rescored: int = 0  # finished rows that got a metric added to the sweep
    shared_units: int = 0  # units another run on the same --out computed
    notes: list[str] = field(default_factory=list)  # things the user should know (printed by the CLI)
    dataset_skipped: list[str] = field(default_factory=list)


def check_writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"output directory {out} is not writable ({exc.strerror}); pass a writable --out") from None


def validate_snrs(values) -> list[float]:
    lo, hi = SNR_RANGE
    snrs = []
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise UserError(f"SNR value '{v}' is not a number; give SNRs in dB, e.g. --snr -6 0 6 12 18") from None
        if not math.isfinite(f):
            raise UserError(f"SNR value '{v}' is not finite; give finite SNRs in dB, e.g. --snr -6 0 6 12 18")
        if not lo <= f <= hi:
            raise UserError(f"SNR {v} dB is outside the supported range {lo:g} ... {hi:g} dB; "
                            "give SNRs in dB, e.g. --snr -6 0 6 12 18")
        snrs.append(f)
    if not snrs:
        raise UserError("no SNR given; e.g. --snr -6 0 6 12 18")
    return list(dict.fromkeys(snrs))


def default_metric_names() -> list[str]:
    return [m for m in ("psnr", "ssim", "lpips-alex") if m in METRICS.names()]


def _check_metrics(names: list[str], size: int) -> dict:
    from bench.metrics.registered import level

    metrics = {}
    for name in names:
        if name in METRICS and level(name) != "image":
            raise UserError(f"'{name}' is a {level(name)}-level metric, not a per-image one; leave it out of "
                            f"--metrics (per-image metrics: {', '.join(n for n in METRICS.names() if level(n) == 'image')})")
        metrics[name] = METRICS.create(name)
        need = getattr(metrics[name], "min_size", 1)
        if size < need:
            raise UserError(f"metric '{name}' needs images of at least {need} px but --size is {size}; "
                            f"raise --size or choose --metrics without it")
    return metrics


def run_sweep(cfg: SweepConfig, on_row: Callable[[Row], None] | None = None) -> SweepResult:
    from bench.provenance import method_provenance
    from bench.registry import load_builtin

    load_builtin()
    snrs = validate_snrs(cfg.snrs)
    if cfg.n is not None and cfg.n < 1:
        raise UserError(f"--n must be at least 1 (got {cfg.n})")
    if isinstance(cfg.workers, bool) or not isinstance(cfg.workers, int) or not 0 <= cfg.workers <= MAX_WORKERS:
        raise UserError(f"--workers must be an integer in 0..{MAX_WORKERS} (0 = in this process), got {cfg.workers!r}")
    methods = [METHODS.create(spec) for spec in cfg.methods]
    if not methods:
        raise UserError("no method given; e.g. --methods jpeg-ldpc,uncoded (see 'bench list')")
    methods = list({m.spec: m for m in methods}.values())
    channel = CHANNELS.create(cfg.channel)
    dataset = DATASETS.create(cfg.dataset)
    metric_names = list(dict.fromkeys(cfg.metrics if cfg.metrics is not None else default_metric_names()))
    size = int(cfg.size or dataset.default_size)
    if size < 8:
        raise UserError(f"--size {size} is too small; use at least 8 pixels")
    metrics = _check_metrics(metric_names, size)

    out = Path(cfg.out)
    check_writable(out)
    store = ResultStore(out / "results.sqlite")
    result = SweepResult(db_path=store.path)
    executor = None
    try:
        provenance, weights = {}, {}
        for m in methods:
            m.setup(size)
            provenance[m.spec], weights[m.spec] = method_provenance(m)
        items: list[Item] = list(dataset.items(cfg.n, size, cfg.seed))
        result.dataset_skipped = list(dataset.skipped)
        if not items:
            raise UserError(f"dataset '{dataset.spec}' yielded no usable image"
                            + (f" ({len(dataset.skipped)} skipped)" if dataset.skipped else ""))
        by_id = {it.id: it for it in items}
        result.images = len(items)
        scope = {"dataset": dataset.spec, "channel": channel.spec, "seed": cfg.seed, "size": size}
        done = store.done_keys(dataset.spec, channel.spec, cfg.seed, size)
        units = []
        for m in methods:
            for it in items:
                todo = tuple(s for s in snrs if (m.spec, provenance[m.spec], it.id, s) not in done)
                if todo:
                    units.append(Unit(m.spec, provenance[m.spec], it.id, todo))
        pending_rows = sum(len(u.snrs) for u in units)
        result.rows_skipped = len(methods) * len(items) * len(snrs) - pending_rows
        touched: set[tuple[str, str, float]] = set()
        result.rescored = _rescore(store, out, scope, methods, provenance, by_id, set(snrs), metrics, touched,
                                   result.notes)

        ctx = SweepContext(dataset=dataset.spec, channel=channel.spec, seed=cfg.seed, size=size, out=str(out),
                           metrics=tuple(metric_names), plugins=tuple(cfg.plugins), batch_receive=cfg.batch_receive)
        from bench.executor import parse_executor

        kind, ex_opts = parse_executor(cfg.executor)
        if kind == "ray" and units:
            from bench.executor import RayExecutor, ship

            executor = RayExecutor(ctx, [m.spec for m in methods], ex_opts,
                                   ship({m.spec: m for m in methods}, dataset, channel))
        elif cfg.workers >= 1 and units:
            from bench.executor import ship

            payload = ship({m.spec: m for m in methods}, dataset, channel)
            executor = ProcessPoolExecutor(ctx, [m.spec for m in methods], cfg.workers, payload)
        else:
            parts = Parts(methods={m.spec: m for m in methods}, channel=channel, metrics=metrics,
                          fetch=by_id.__getitem__, provenance=provenance, weights=weights)
            executor = SequentialExecutor(ctx, parts)
        bar = _progress(pending_rows, cfg.progress)

        def accept(rows: list[Row]) -> None:
            for row in rows:
                if store.insert(row):
                    result.rows_written += 1
                    touched.add((row.method, row.provenance, row.snr))
                if on_row:
                    on_row(row)
                bar.update(1)

        deferred = _drive(store, executor, units, accept, result, scope)
        if deferred:
            _await_others(store, executor, deferred, accept, result, scope, cfg)
        bar.close()
        if cfg.set_metrics and len(items) < 2:
            result.notes.append(f"set-level metrics (FD/KD) need at least 2 images; this sweep has {len(items)}, "
                                "so they were skipped (raise --n)")
        if cfg.set_metrics and len(items) >= 2:
            import warnings

            from bench.set_metrics import update_set_metrics

            refs = {"original": {it.id: it.image for it in items},
                    "target": {it.id: it.target for it in items if it.target is not None}}
            with warnings.catch_warnings(record=True) as caught:  # e.g. an untrusted Inception file refused
                warnings.simplefilter("always")
                result.set_groups = update_set_metrics(store, out, scope, refs, touched)
            result.notes.extend(dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, UserWarning)))
    finally:
        if executor is not None:
            executor.shutdown()
        store.close()
    return result


def _drive(store: ResultStore, executor, units: list[Unit], accept, result: SweepResult,
           scope: dict | None = None) -> list[tuple[Unit, int]]:
    """Claim and run units (at most `executor.capacity` in flight); returns units another run holds.

    After a claim the unit's SNRs are looked up again: another run may have finished it (and
    released its claim) since this run planned it, and it must not be computed twice."""
    queue, inflight, deferred = deque(units), {}, []
    try:
        while queue or inflight:
            while queue and len(inflight) < executor.capacity:
                unit = queue.popleft()
                claimed, other = store.claim(unit.key)
                if not claimed:
                    deferred.append((unit, other))
                    continue
                if scope is not None:
                    have = store.done_snrs(scope, unit.method, unit.provenance, unit.item_id)
                    if all(float(s) in have for s in unit.snrs):  # finished by another run meanwhile
                        store.release(unit.key)
                        result.shared_units += 1
                        result.rows_skipped += len(unit.snrs)
                        continue
                inflight[executor.submit(unit)] = unit
                result.prepares += 1
            if not inflight:
                break
            finished, _ = wait(list(inflight), return_when=FIRST_COMPLETED)
            for fut in finished:
                unit = inflight.pop(fut)
                exc = fut.exception()
                if exc is not None:  # a worker's MethodError/UserError: keep the rows it finished, then stop
                    accept(getattr(exc, "rows", None) or [])
                    if isinstance(exc, BrokenExecutor):
                        raise MethodError(f"a worker process died while computing method '{unit.method}' on image "
                                          f"'{unit.item_id}' ({exc}); finished rows are saved — rerun, or run with "
                                          "--workers 0 to see the error in this process") from exc
                    raise exc
                accept(fut.result())
                store.release(unit.key)
    finally:
        for fut, unit in inflight.items():
            fut.cancel()
            store.release(unit.key)
    return deferred


def _await_others(store, executor, deferred, accept, result, scope, cfg) -> None:
    """Wait for units another live run is computing; take over any whose run died."""
    pids = sorted({pid for _, pid in deferred if pid})
    print(f"note: another bench run on this --out (pid {', '.join(map(str, pids))}) is computing "
          f"{len(deferred)} unit(s) of this sweep; waiting for them", file=sys.stderr, flush=True)
    waiting = list(deferred)
    while waiting:
        done = store.done_keys(scope["dataset"], scope["channel"], scope["seed"], scope["size"])
        still = []
        for unit, pid in waiting:
            if all((unit.method, unit.provenance, unit.item_id, s) in done for s in unit.snrs):
                result.shared_units += 1
                result.rows_skipped += len(unit.snrs)
                continue
            claimed, _ = store.claim(unit.key)
            if claimed:  # the other run died or gave the unit up: do it here
                missing = tuple(s for s in unit.snrs if (unit.method, unit.provenance, unit.item_id, s) not in done)
                small = Unit(unit.method, unit.provenance, unit.item_id, missing)
                store.release(unit.key)
                _drive(store, executor, [small], accept, result, scope)
                continue
            still.append((unit, pid))
        waiting = still
        if waiting:
            time.sleep(cfg.wait_poll_s)
    if result.shared_units:
        result.notes.append(f"{result.shared_units} unit(s) of this sweep were computed by another run on the same "
                            "--out and are included")


def _rescore(store, out, scope, methods, provenance, by_id, snrs, metrics, touched, notes) -> int:
    """Add metrics requested now but missing from finished rows (computed from the stored images)."""
    if not metrics:
        return 0
    wanted = {(m.spec, provenance[m.spec]) for m in methods}
    rows = store.rows("WHERE dataset=? AND channel=? AND seed=? AND size=?",
                      (scope["dataset"], scope["channel"], scope["seed"], scope["size"]))
    done = missing_files = 0
    for row in rows:
        if (row.method, row.provenance) not in wanted or row.image_id not in by_id or row.snr not in snrs:
            continue
        item = by_id[row.image_id]
        refs = references(row.task, item)
        need = {name for name, m in metrics.items() for suffix in refs
                if not (suffix and getattr(m, "reference_free", False)) and name + suffix not in row.metrics}
        if not need:
            continue
        path = out / row.received_path
        try:
            image = np.asarray(Image.open(path).convert("RGB"))
        except (OSError, ValueError):
            missing_files += 1
            continue
        values, ref_names = score({n: metrics[n] for n in sorted(need)}, image, item, row.task, row.info)
        store.update_metrics(row.id, {**row.metrics, **values}, {**row.metric_refs, **ref_names})
        done += 1
    if done:
        notes.append(f"added metric(s) {', '.join(metrics)} to {done} finished row(s) from their stored images")
    if missing_files:
        notes.append(f"{missing_files} finished row(s) lack their received image, so new metrics could not be added "
                     "to them; rerun into a fresh --out to recompute them")
    return done


class _NoBar:
    def update(self, n):
        pass

    def close(self):
        pass


def _progress(total: int, enabled: bool):
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, unit="row", dynamic_ncols=True, desc="sweep")
