"""The resumable sweep runner: methods × images × SNRs through one channel.

For each method and image the runner calls ``prepare`` once (the SNR-independent part of the
transmitter) and reuses it for every SNR still missing from the results store. Channel noise
for a row is drawn from a generator seeded by (seed, method, dataset, image, SNR, channel,
stream), so a resumed sweep produces exactly the rows an uninterrupted one would.
"""
from __future__ import annotations

import hashlib
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from bench.cbr import cbr_complex, cbr_paper
from bench.errors import UserError
from bench.registry import CHANNELS, DATASETS, METHODS, METRICS
from bench.store import ResultStore, Row
from datasets.base import Item
from methods.schemes.base import Method

POWER_TOLERANCE = 1e-6


class MethodError(RuntimeError):
    """A method raised while processing a row; earlier rows are already stored."""


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


@dataclass
class SweepResult:
    db_path: Path
    rows_written: int = 0
    rows_skipped: int = 0  # already in the store
    prepares: int = 0
    images: int = 0
    set_groups: int = 0  # (method, SNR) groups whose set-level metrics were (re)computed
    notes: list[str] = field(default_factory=list)  # things the user should know (printed by the CLI)
    dataset_skipped: list[str] = field(default_factory=list)


def stable_seed(*parts) -> int:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def slug(text: str, limit: int = 48) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:limit]
    return f"{safe}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def snr_label(snr: float) -> str:
    return f"{snr:+g}dB"


def check_writable(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-probe-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(f"output directory {out} is not writable ({exc.strerror}); pass a writable --out") from None


def validate_snrs(values) -> list[float]:
    snrs = []
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise UserError(f"SNR value '{v}' is not a number; give SNRs in dB, e.g. --snr -6 0 6 12 18") from None
        if not math.isfinite(f):
            raise UserError(f"SNR value '{v}' is not finite; give finite SNRs in dB, e.g. --snr -6 0 6 12 18")
        snrs.append(f)
    if not snrs:
        raise UserError("no SNR given; e.g. --snr -6 0 6 12 18")
    return list(dict.fromkeys(snrs))


def save_image(path: Path, image: np.ndarray) -> None:
    """Write a PNG atomically (temp file + rename) so a killed run never leaves a half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}.png")
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(tmp)
    os.replace(tmp, path)


def default_metric_names() -> list[str]:
    return [m for m in ("psnr", "ssim", "lpips-alex") if m in METRICS.names()]


def _check_power(method: Method, streams: dict[str, np.ndarray]) -> None:
    if not streams:
        raise MethodError(f"method '{method.spec}' sent no stream")
    for name, x in streams.items():
        x = np.asarray(x)
        if not np.iscomplexobj(x) and x.dtype.kind != "f":
            raise MethodError(f"method '{method.spec}' stream '{name}' is {x.dtype}, expected complex symbols")
        p = float(np.mean(np.abs(x) ** 2)) if x.size else 0.0
        if not p <= 1.0 + POWER_TOLERANCE:
            raise MethodError(
                f"method '{method.spec}' violated the average power constraint on stream '{name}' "
                f"(mean |x|^2 = {p:.4g} > 1); normalise with channels.analog.power_normalize")


def _timed(fn: Callable, *args):
    t0 = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - t0


def run_sweep(cfg: SweepConfig, on_row: Callable[[Row], None] | None = None) -> SweepResult:
    from bench.registry import load_builtin

    load_builtin()
    snrs = validate_snrs(cfg.snrs)
    if cfg.n is not None and cfg.n < 1:
        raise UserError(f"--n must be at least 1 (got {cfg.n})")
    methods: list[Method] = [METHODS.create(spec) for spec in cfg.methods]
    if not methods:
        raise UserError("no method given; e.g. --methods jpeg-ldpc,uncoded (see 'bench list')")
    channel = CHANNELS.create(cfg.channel)
    dataset = DATASETS.create(cfg.dataset)
    metric_names = cfg.metrics if cfg.metrics is not None else default_metric_names()
    metrics = {name: METRICS.create(name) for name in metric_names}
    size = int(cfg.size or dataset.default_size)
    if size < 8:
        raise UserError(f"--size {size} is too small; use at least 8 pixels")
    for name, metric in metrics.items():
        need = getattr(metric, "min_size", 1)
        if size < need:
            raise UserError(f"metric '{name}' needs images of at least {need} px but --size is {size}; "
                            f"raise --size or choose --metrics without it")

    out = Path(cfg.out)
    check_writable(out)
    store = ResultStore(out / "results.sqlite")
    result = SweepResult(db_path=store.path)
    try:
        items: list[Item] = list(dataset.items(cfg.n, size, cfg.seed))
        result.dataset_skipped = list(dataset.skipped)
        if not items:
            raise UserError(f"dataset '{dataset.spec}' yielded no usable image"
                            + (f" ({len(dataset.skipped)} skipped)" if dataset.skipped else ""))
        result.images = len(items)
        done = store.done_keys(dataset.spec, channel.spec, cfg.seed, size)
        total = len(methods) * len(items) * len(snrs)
        pending = sum(1 for m in methods for it in items for s in snrs if (m.spec, it.id, s) not in done)
        result.rows_skipped = total - pending
        bar = _progress(pending, cfg.progress)
        touched: set[tuple[str, float]] = set()
        for method in methods:
            method.setup(size)
            for item in items:
                todo = [s for s in snrs if (method.spec, item.id, s) not in done]
                if not todo:
                    continue
                prepared, t_prep = _guard(method, item.id, None, method.prepare, item)
                result.prepares += 1
                reference = item.target if (method.task == "edit" and item.target is not None) else item.image
                for snr in todo:
                    row = _one_row(cfg, store, out, method, channel, dataset.spec, item, reference, prepared,
                                   t_prep, snr, size, metrics)
                    if store.insert(row):
                        result.rows_written += 1
                        touched.add((row.method, row.snr))
                    if on_row:
                        on_row(row)
                    bar.update(1)
        bar.close()
        if cfg.set_metrics and len(items) < 2:
            result.notes.append(f"set-level metrics (FD/KD) need at least 2 images; this sweep has {len(items)}, "
                                "so they were skipped (raise --n)")
        if cfg.set_metrics and len(items) >= 2:
            references = {"transmit": {it.id: it.image for it in items},
                          "edit": {it.id: it.target if it.target is not None else it.image for it in items}}
            scope = {"dataset": dataset.spec, "channel": channel.spec, "seed": cfg.seed, "size": size}
            from bench.set_metrics import update_set_metrics

            result.set_groups = update_set_metrics(store, out, scope, references, touched)
    finally:
        store.close()
    return result


def _guard(method: Method, image_id: str, snr: float | None, fn: Callable, *args):
    try:
        return _timed(fn, *args)
    except (UserError, MethodError):
        raise
    except Exception as exc:  # a method bug: say where, keep stored rows
        where = f"image '{image_id}'" + (f" at {snr:g} dB" if snr is not None else "")
        raise MethodError(f"method '{method.spec}' failed in {fn.__name__}() on {where}: "
                          f"{type(exc).__name__}: {exc}") from exc


def _one_row(cfg, store, out, method, channel, dataset_spec, item, reference, prepared, t_prep, snr, size,
             metrics) -> Row:
    streams, t_tx = _guard(method, item.id, snr, method.transmit, prepared, snr)
    _check_power(method, streams)
    t0 = time.perf_counter()
    received = {}
    for name, x in streams.items():
        rng = np.random.default_rng(stable_seed(cfg.seed, method.spec, dataset_spec, item.id, snr, channel.spec, name))
        received[name] = channel(np.asarray(x), snr, rng)
    t_ch = time.perf_counter() - t0
    decoded, t_rx = _guard(method, item.id, snr, method.receive, received, prepared.side_info, snr)
    image = np.asarray(decoded.image)
    if image.shape != reference.shape or image.dtype != np.uint8:
        raise MethodError(f"method '{method.spec}' returned an image of shape {image.shape} {image.dtype}; "
                          f"expected {reference.shape} uint8")
    t0 = time.perf_counter()
    values = {name: float(m(image, reference)) for name, m in metrics.items()}
    t_met = time.perf_counter() - t0
    rel = Path("images") / slug(method.spec) / slug(dataset_spec) / slug(channel.spec) / f"seed{cfg.seed}" \
        / f"{size}px" / snr_label(snr) / f"{slug(item.id, 80)}.png"
    save_image(out / rel, image)
    uses = int(sum(np.asarray(x).size for x in streams.values()))
    times = {f"tx.{k}": v for k, v in prepared.stage_times.items()}
    times.update({f"rx.{k}": v for k, v in decoded.stage_times.items()})
    times.update({"tx.prepare": t_prep, "tx.transmit": t_tx, "channel": t_ch, "rx.receive": t_rx, "metrics": t_met})
    return Row(
        method=method.spec, dataset=dataset_spec, image_id=item.id, snr=float(snr), channel=channel.spec,
        seed=cfg.seed, size=size, task=method.task, received_path=str(rel), channel_uses=uses,
        cbr_paper=cbr_paper(uses, *reference.shape), cbr_complex=cbr_complex(uses, *reference.shape),
        bpp=prepared.bpp, decode_failures=int(decoded.decode_failures), text_sent=prepared.text_sent,
        text_received=decoded.text_received, times=times, metrics=values, info=_jsonable(decoded.info),
        created=time.time())


def _jsonable(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, (np.integer,)):
            v = int(v)
        elif isinstance(v, (np.floating,)):
            v = float(v)
        elif isinstance(v, np.ndarray):
            v = v.tolist()
        out[str(k)] = v
    return out


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
