"""Executing units of work: one (method, image, SNRs) unit -> finished result rows.

`execute_unit` is a pure function of the unit and the sweep context (it writes the received
PNGs, whose paths are deterministic, and returns rows; it never touches the database). The
driver in `bench.runner` plans units, claims them and is the only SQLite writer. Executors
only decide *where* units run:

* `SequentialExecutor` — in the driver's process, reusing its set-up methods and items.
* `ProcessPoolExecutor` (``--workers N``) — N spawned processes. Each receives the driver's
  set-up methods, channel and dataset pickled once (networks are module-level classes, so they
  pickle; anything that does not is rebuilt from its spec), creates the metrics, and fetches
  items by id (`Dataset.get`). Results are identical to the sequential ones row for row.

A later executor (Ray) plugs in on the same `submit(unit) -> Future` seam.
"""
from __future__ import annotations

import concurrent.futures as cf
import hashlib
import multiprocessing
import os
import pickle
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
from PIL import Image

from bench.cbr import cbr_complex, cbr_paper
from bench.errors import UserError
from bench.store import Row

POWER_TOLERANCE = 1e-6


class MethodError(RuntimeError):
    """A method raised while processing a row; earlier rows are already stored."""


@dataclass(frozen=True)
class Unit:
    method: str  # canonical spec
    provenance: str
    item_id: str
    snrs: tuple[float, ...]

    @property
    def key(self) -> str:
        return f"{self.method}\x1f{self.provenance}\x1f{self.item_id}\x1f{','.join(f'{s:g}' for s in self.snrs)}"


@dataclass(frozen=True)
class SweepContext:
    """Everything a worker needs to rebuild the sweep's objects (plain, picklable data)."""

    dataset: str
    channel: str
    seed: int
    size: int
    out: str
    metrics: tuple[str, ...]
    plugins: tuple[str, ...] = ()
    batch_receive: bool = True


@dataclass
class Parts:
    """The live objects one process uses to execute units."""

    methods: dict[str, Any]  # spec -> set-up Method
    channel: Any
    metrics: dict[str, Any]
    fetch: Callable[[str], Any]  # item id -> Item
    provenance: dict[str, str] = field(default_factory=dict)  # spec -> digest
    weights: dict[str, dict[str, str]] = field(default_factory=dict)  # spec -> {role: sha256}


# ----------------------------------------------------------------------------- helpers

def stable_seed(*parts) -> int:
    digest = hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def slug(text: str, limit: int = 48) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in text)[:limit]
    return f"{safe}-{hashlib.sha1(text.encode()).hexdigest()[:8]}"


def snr_label(snr: float) -> str:
    return f"{snr:+g}dB"


def save_image(path: Path, image: np.ndarray) -> None:
    """Write a PNG atomically (temp file + rename) so a killed run never leaves a half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}.png")
    Image.fromarray(np.ascontiguousarray(image, dtype=np.uint8)).save(tmp)
    os.replace(tmp, path)


def _cuda_sync() -> None:
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available() and torch.cuda.is_initialized():
        torch.cuda.synchronize()


def timed(fn: Callable, *args):
    """Call fn(*args) and return (result, seconds); synchronises CUDA around it when a GPU is in use."""
    _cuda_sync()
    t0 = time.perf_counter()
    out = fn(*args)
    _cuda_sync()
    return out, time.perf_counter() - t0


def guard(method, image_id: str, snr: float | None, fn: Callable, *args):
    try:
        return timed(fn, *args)
    except (UserError, MethodError):
        raise
    except Exception as exc:  # a method bug: say where, keep stored rows
        where = f"image '{image_id}'" + (f" at {snr:g} dB" if snr is not None else "")
        raise MethodError(f"method '{method.spec}' failed in {fn.__name__}() on {where}: "
                          f"{type(exc).__name__}: {exc}") from exc


def check_power(method, streams: dict[str, np.ndarray]) -> None:
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


def stream_noise_seed(seed: int, dataset: str, image_id: str, snr: float, channel: str, stream: str) -> int:
    """Noise for one stream of one row. It depends on the stream's part-local name, not on the
    method: every method sees the same noise realisation on a stream of the same name at the same
    image and SNR (common random numbers, so method comparisons are paired), and a composed
    scheme's 'codec/image' stream gets exactly the plain codec's noise."""
    return stable_seed(seed, dataset, image_id, snr, channel, stream.rsplit("/", 1)[-1])


def references(task: str, item) -> dict[str, str]:
    """metric-key suffix -> reference name. The unsuffixed key is the task's primary reference: the
    ground-truth edit for edit tasks when the dataset has one, else the original. Edit rows also get
    '@original' (the papers' convention: edited vs original image)."""
    if task == "edit" and item.target is not None:
        return {"": "target", "@original": "original"}
    return {"": "original"}


def score(metrics: dict[str, Any], image: np.ndarray, item, task: str, decoded_info: dict) -> tuple[dict, dict]:
    values, refs = score_many(metrics, [image], item, task, [decoded_info])
    return values[0], refs


def score_many(metrics: dict[str, Any], images: list[np.ndarray], item, task: str,
               decoded_infos: list[dict]) -> tuple[list[dict], dict]:
    """Per-row metric values for several received versions of one item (e.g. its SNRs), and the
    reference each metric key used. Metrics that only compare two images run as one batch."""
    from bench.metrics.registered import EvalContext, PerImageMetric

    values: list[dict] = [{} for _ in images]
    refs: dict[str, str] = {}
    ctxs = [EvalContext(original=item.image, target=item.target, labels=item.labels, decoded_info=info)
            for info in decoded_infos]
    for suffix, ref in references(task, item).items():
        for name, m in metrics.items():
            if suffix and getattr(m, "reference_free", False):
                continue  # the same value for every reference: stored once, under the plain name
            key = name + suffix
            refs[key] = ref
            if type(m).score is PerImageMetric.score and hasattr(m, "batch"):
                reference = ctxs[0].reference(ref)
                batch = m.batch(np.stack(images), np.broadcast_to(reference, (len(images),) + reference.shape))
                for v, x in zip(values, np.asarray(batch, dtype=float)):
                    v[key] = float(x)
            else:
                for v, image, ctx in zip(values, images, ctxs):
                    v[key] = float(m.score(image, ctx, ref))
    return values, refs


def jsonable(value):
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


# ----------------------------------------------------------------------------- the pure unit function

def execute_unit(unit: Unit, ctx: SweepContext, parts: Parts) -> list[Row]:
    """Run one unit: prepare once, then transmit/channel per SNR, receive (batched), score, save PNGs."""
    from methods.schemes.base import Request

    method = parts.methods[unit.method]
    prov = parts.provenance.get(unit.method)
    if prov is not None and prov != unit.provenance:
        raise UserError(f"the weights of method '{unit.method}' changed during the sweep (provenance {prov} != "
                        f"{unit.provenance}); rerun the command")
    item = parts.fetch(unit.item_id)
    request = Request(id=item.id, image=item.image, instruction=item.instruction)
    prepared, t_prep = guard(method, item.id, None, method.prepare, request)
    t_prep += prepared.reused_s  # a reused edit still costs the scheme its time
    channel = parts.channel
    receptions, sent = [], []
    for snr in unit.snrs:
        streams, t_tx = guard(method, item.id, snr, method.transmit, prepared, snr)
        check_power(method, streams)
        t0 = time.perf_counter()
        received = {}
        for name, x in streams.items():
            rng = np.random.default_rng(stream_noise_seed(ctx.seed, ctx.dataset, item.id, snr, ctx.channel, name))
            received[name] = channel(np.asarray(x), snr, rng)
        sent.append((streams, t_tx, time.perf_counter() - t0))
        receptions.append((received, prepared.side_info, snr))
    decoded_all, rx_times, failure = [], [], None
    if ctx.batch_receive:
        try:
            decoded_all, t_rx = guard(method, item.id, None, method.receive_batch, receptions)
            rx_times = [t_rx / max(len(receptions), 1)] * len(receptions)
        except MethodError:
            decoded_all = []  # find the reception that fails, keeping the rows before it
    if not decoded_all:
        for rec in receptions:
            try:
                (d,), t = guard(method, item.id, rec[2], _receive_one(method), rec)
            except MethodError as exc:
                failure = exc
                break
            decoded_all.append(d)
            rx_times.append(t)
    elif len(decoded_all) != len(receptions):
        raise MethodError(f"method '{method.spec}' returned {len(decoded_all)} images for {len(receptions)} receptions")
    rx_times = [t + d.reused_s for t, d in zip(rx_times, decoded_all)]
    rows = []
    images = [np.asarray(d.image) for d in decoded_all]
    for image in images:
        if image.shape != item.image.shape or image.dtype != np.uint8:
            raise MethodError(f"method '{method.spec}' returned an image of shape {image.shape} {image.dtype}; "
                              f"expected {item.image.shape} uint8")
    t0 = time.perf_counter()
    scores, refs = score_many(parts.metrics, images, item, method.task, [d.info for d in decoded_all]) \
        if images else ([], {})
    t_met = (time.perf_counter() - t0) / max(len(images), 1)
    for snr, (streams, t_tx, t_ch), decoded, t_rx, image, values in zip(unit.snrs, sent, decoded_all, rx_times,
                                                                          images, scores):
        rel = Path("images") / slug(unit.method) / unit.provenance / slug(ctx.dataset) / slug(ctx.channel) \
            / f"seed{ctx.seed}" / f"{ctx.size}px" / snr_label(snr) / f"{slug(item.id, 80)}.png"
        save_image(Path(ctx.out) / rel, image)
        uses = int(sum(np.asarray(x).size for x in streams.values()))
        times = {f"tx.{k}": v for k, v in prepared.stage_times.items()}
        times.update({f"rx.{k}": v for k, v in decoded.stage_times.items()})
        times.update({"tx.prepare": t_prep, "tx.transmit": t_tx, "channel": t_ch, "rx.receive": t_rx,
                      "metrics": t_met})
        info = {f"tx.{k}": v for k, v in prepared.info.items()}
        info.update(decoded.info)
        rows.append(Row(
            method=unit.method, provenance=unit.provenance, dataset=ctx.dataset, image_id=item.id, snr=float(snr),
            channel=ctx.channel, seed=ctx.seed, size=ctx.size, task=method.task, received_path=str(rel),
            channel_uses=uses, cbr_paper=cbr_paper(uses, *item.image.shape),
            cbr_complex=cbr_complex(uses, *item.image.shape), bpp=prepared.bpp,
            decode_failures=int(decoded.decode_failures), text_sent=prepared.text_sent,
            text_received=decoded.text_received, times=times, metrics=values, metric_refs=refs,
            weights=dict(parts.weights.get(unit.method, {})), info=jsonable(info), created=time.time()))
    if failure is not None:
        failure.rows = rows  # the driver stores these before reporting the error
        raise failure
    return rows


def _receive_one(method):
    def receive(reception):
        return method.receive_batch([reception])
    receive.__name__ = "receive"
    return receive


# ----------------------------------------------------------------------------- executors

class SequentialExecutor:
    """Runs each unit in the driver's process when it is submitted."""

    capacity = 1

    def __init__(self, ctx: SweepContext, parts: Parts):
        self.ctx, self.parts = ctx, parts

    def submit(self, unit: Unit) -> cf.Future:
        fut: cf.Future = cf.Future()
        try:
            fut.set_result(execute_unit(unit, self.ctx, self.parts))
        except BaseException as exc:  # noqa: BLE001 - handed to the driver like a worker's error
            if isinstance(exc, KeyboardInterrupt):
                raise
            fut.set_exception(exc)
        return fut

    def shutdown(self) -> None:
        pass


_WORKER: dict[Any, Any] = {}


def _worker_init(plugins: tuple[str, ...], threads: int, payload: bytes | None = None) -> None:
    import importlib

    from bench.registry import load_builtin

    os.environ["OMP_NUM_THREADS"] = str(threads)  # torch reads it when (and if) a method imports it
    load_builtin()
    for name in plugins:
        importlib.import_module(name)
    _WORKER["shipped"] = pickle.loads(payload) if payload else {}


def ship(methods: dict[str, Any], dataset, channel) -> bytes | None:
    """The driver's set-up objects, pickled for the workers (None where they do not pickle)."""
    shipped: dict[str, Any] = {"methods": {}}
    for key, obj in (("dataset", dataset), ("channel", channel)):
        try:
            shipped[key] = pickle.dumps(obj)
        except Exception:  # noqa: BLE001 - rebuilt from the spec in the worker instead
            pass
    for spec, m in methods.items():
        try:
            shipped["methods"][spec] = pickle.dumps(m)
        except Exception:  # noqa: BLE001
            pass
    return pickle.dumps(shipped)


def build_parts(ctx: SweepContext, specs: list[str], shipped: dict | None = None) -> Parts:
    """A worker's objects for the sweep: the driver's pickled ones where given, else built from specs
    (and set up); items are fetched by id."""
    from bench.provenance import method_provenance
    from bench.registry import CHANNELS, DATASETS, METHODS, METRICS

    shipped = shipped or {}
    dataset = pickle.loads(shipped["dataset"]) if "dataset" in shipped else DATASETS.create(ctx.dataset)
    channel = pickle.loads(shipped["channel"]) if "channel" in shipped else CHANNELS.create(ctx.channel)
    methods, prov, weights = {}, {}, {}
    for spec in specs:
        if spec in shipped.get("methods", {}):
            m = pickle.loads(shipped["methods"][spec])
        else:
            m = METHODS.create(spec)
            m.setup(ctx.size)
        methods[spec] = m
        prov[spec], weights[spec] = method_provenance(m)
    parts = Parts(methods=methods, channel=channel,
                  metrics={n: METRICS.create(n) for n in ctx.metrics},
                  fetch=lambda item_id: dataset.get(item_id, ctx.size, ctx.seed), provenance=prov, weights=weights)
    return parts


def _worker_run(unit: Unit, ctx: SweepContext, specs: tuple[str, ...]) -> list[Row]:
    key = (ctx, specs)
    if key not in _WORKER:
        _WORKER[key] = build_parts(ctx, list(specs), _WORKER.get("shipped"))
    return execute_unit(unit, ctx, _WORKER[key])


class ProcessPoolExecutor:
    """Units run in N spawned worker processes (fresh interpreters: no forked torch state)."""

    def __init__(self, ctx: SweepContext, specs: list[str], workers: int, payload: bytes | None = None):
        threads = max(1, (os.cpu_count() or 1) // workers)
        self.ctx, self.specs = ctx, tuple(specs)
        self.capacity = 2 * workers
        self.pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                           initializer=_worker_init, initargs=(ctx.plugins, threads, payload))

    def submit(self, unit: Unit) -> cf.Future:
        return self.pool.submit(_worker_run, unit, self.ctx, self.specs)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


# ----------------------------------------------------------------------------- Ray

def parse_executor(spec: str | None) -> tuple[str, dict]:
    """``local`` (default), ``ray`` or ``ray:address=HOST:PORT[,num_cpus=N]`` -> (kind, options)."""
    from bench.registry import parse_options

    if spec in (None, "", "local"):
        return "local", {}
    name, _, rest = str(spec).partition(":")
    if name != "ray":
        raise UserError(f"--executor must be 'local' or 'ray[:address=HOST:PORT,num_cpus=N]', got {spec!r}")
    opts = parse_options(rest, "executor") if rest else {}
    unknown = set(opts) - {"address", "num_cpus"}
    if unknown:
        raise UserError(f"--executor ray takes address= and num_cpus=, not {', '.join(sorted(unknown))}")
    return "ray", opts


def _ray_unit(unit: Unit, ctx: SweepContext, specs: tuple[str, ...], payload: bytes | None) -> list[Row]:
    """A Ray task: the worker process builds (once, then caches) the sweep's parts and runs one unit.
    Ray reuses worker processes, so the module-level cache plays the role of _worker_init."""
    if "shipped" not in _WORKER:
        _worker_init(ctx.plugins, int(os.environ.get("OMP_NUM_THREADS", "1") or 1), payload)
    return _worker_run(unit, ctx, specs)


class RayExecutor:
    """Units as Ray tasks (a local instance, or an existing cluster with ``address=``). The driver stays the
    only SQLite writer: tasks return rows, the runner inserts them; a killed driver or worker leaves
    unfinished units unclaimed-or-stale exactly as with worker processes, so rerunning resumes.
    Received images are written by the tasks into ``--out``: on a cluster it must be a shared path."""

    def __init__(self, ctx: SweepContext, specs: list[str], options: dict, payload: bytes | None = None):
        try:
            import ray
        except ImportError:
            raise UserError("--executor ray needs Ray: pip install 'editsc-bench[ray]' (ray==2.60.0)") from None
        self.ray = ray
        self.started = False
        if not ray.is_initialized():
            kw = {"ignore_reinit_error": True, "include_dashboard": False, "log_to_driver": False}
            if options.get("address"):
                kw["address"] = str(options["address"])
            else:
                kw["num_cpus"] = int(options.get("num_cpus") or (os.cpu_count() or 1))
            try:
                ray.init(**kw)
            except Exception as exc:  # noqa: BLE001 - a cluster that cannot be reached is the user's problem
                raise UserError(f"cannot start or reach Ray ({type(exc).__name__}: {exc}); check address=") from None
            self.started = True
        self.ctx, self.specs = ctx, tuple(specs)
        self.payload = ray.put(payload)
        self.task = ray.remote(num_cpus=1)(_ray_unit)
        self.capacity = max(1, int(ray.cluster_resources().get("CPU", 1)) * 2)

    def submit(self, unit: Unit) -> cf.Future:
        return self.task.remote(unit, self.ctx, self.specs, self.payload).future()

    def shutdown(self) -> None:
        if self.started:
            self.ray.shutdown()
