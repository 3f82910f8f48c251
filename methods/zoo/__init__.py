"""The trained-model zoo: shipped checkpoints, their cards, and the `bench train` plumbing.

Every trainable component registers a `Component` (name, builder, trainer). Its shipped
checkpoint lives at ``methods/weights/<name>.pt`` with a JSON card beside it
(``<name>.json``: data, steps, wall time, device, seed, quality figures, the command that
made it). Checkpoints hold only tensors and plain config (loaded with
``torch.load(weights_only=True)``), stored in fp16 where the component allows, and load
all-or-nothing: a missing, truncated or foreign file raises `UserError` naming the file and
the commands that make it; a model is never returned half-loaded.

Training never touches the shipped weights: `bench train NAME` writes ``<name>.pt`` + card into
its work dir (``runs/train/<name>/``), and only `ship` (``bench zoo ship NAME``) replaces the
shipped pair, after loading the checkpoint all-or-nothing and checking its card.
"""
from __future__ import annotations

import json
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from bench.errors import UserError
from bench.registry import Registry

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "weights"
FORMAT = "editsc-ckpt"
FORMAT_VERSION = 1


@dataclass
class Component:
    name: str
    summary: str
    build: Callable[[dict], Any]  # config -> fresh torch.nn.Module
    train: Callable[["TrainContext"], None]
    default_config: dict = field(default_factory=dict)
    fp16: bool = True  # store weights as fp16
    train_options: tuple[str, ...] = ()  # keys `bench train NAME --set KEY=VALUE` accepts (none: --set is refused)
    made_by: str | None = None  # another component whose training also exports this one (e.g. the GAN's D)


# The same registry class as methods/channels/datasets; an entry's "factory" is the Component itself.
COMPONENTS: Registry = Registry("component", listed_by="bench zoo")


def register_component(component: Component) -> Component:
    """Register `component` under its name (ValueError if the name is taken); returns it."""
    return COMPONENTS.register(component.name, component.summary or component.name)(component)


def load_components() -> None:
    import methods.zoo.components  # noqa: F401  (registers every component)


def component(name: str) -> Component:
    """The registered component `name`, or UserError suggesting the closest name."""
    load_components()
    return COMPONENTS.entry(name).factory


def weights_path(name: str) -> Path:
    override = os.environ.get("EDITSC_WEIGHTS")
    return (Path(override) if override else WEIGHTS_DIR) / f"{name}.pt"


def init_source(name: str, value: str) -> Path:
    """The checkpoint a trainer's ``--set init_from=shipped|PATH`` names: the shipped weights of component
    `name` (whatever is shipped when the run starts; cards record the file's digest), or PATH."""
    return weights_path(name) if value == "shipped" else Path(value)


def card_path(name: str) -> Path:
    return weights_path(name).with_suffix(".json")


def _made_by(name: str) -> str | None:
    try:
        return component(name).made_by
    except Exception:  # noqa: BLE001 - an unknown name just gets the plain hint
        return None


def train_command(name: str) -> str:
    return f"bench train {_made_by(name) or name}"


def remake_hint(name: str) -> str:
    """The commands that (re)make the shipped checkpoint + card of `name`."""
    parent = _made_by(name)
    if parent:
        return f"'bench train {parent}' (it exports {name} too) then " \
               f"'bench zoo ship {name} --from runs/train/{parent}/{name}.pt'"
    return f"'{train_command(name)}' then 'bench zoo ship {name}'"


def save_checkpoint(path: Path, name: str, config: dict, state: dict, card: dict | None = None,
                    fp16: bool = False, extra: dict | None = None) -> Path:
    """Write a checkpoint atomically: {format, version, component, config, state[, extra]}."""
    import torch

    tensors = {}
    for k, v in state.items():
        v = v.detach().cpu()
        if fp16 and v.is_floating_point():
            v = v.half()
        tensors[k] = v.contiguous()
    blob = {"format": FORMAT, "version": FORMAT_VERSION, "component": name, "config": config,
            "state": tensors, "fp16": bool(fp16)}
    if extra:
        blob["extra"] = extra
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    torch.save(blob, tmp)
    os.replace(tmp, path)
    if card is not None:
        write_card(path.with_suffix(".json"), card)
    return path


def write_card(path: Path, card: dict) -> None:
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def read_checkpoint(path: Path, name: str, data: bytes | None = None) -> dict:
    """Read and validate a checkpoint file (tensors only; no code runs).

    With `data`, those bytes are read instead of the file (messages still name `path`): a caller
    that validates and then copies the bytes copies exactly what was validated.
    """
    import io
    import pickle
    import zipfile

    import torch

    if data is None and not path.exists():
        raise UserError(f"checkpoint for '{name}' not found at {path}; make it with {remake_hint(name)}")
    try:
        blob = torch.load(io.BytesIO(data) if data is not None else path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "GLOBAL" in str(exc) or "Unsupported global" in str(exc):
            raise UserError(f"checkpoint {path} contains objects other than tensors and plain data; refused "
                            f"without running them (re-create it with {remake_hint(name)})") from None
        raise UserError(f"checkpoint {path} is truncated or corrupted (UnpicklingError); "
                        f"re-create it with {remake_hint(name)}") from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise UserError(f"checkpoint {path} is truncated or corrupted ({type(exc).__name__}); "
                        f"re-create it with {remake_hint(name)}") from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise UserError(f"{path} is not an editsc-bench checkpoint; re-create it with {remake_hint(name)}")
    if blob.get("component") != name:
        raise UserError(f"{path} holds a '{blob.get('component')}' checkpoint, not '{name}'; "
                        f"make a '{name}' one with {remake_hint(name)}")
    if blob.get("version") != FORMAT_VERSION:
        raise UserError(f"{path} has checkpoint format version {blob.get('version')}, this code reads "
                        f"{FORMAT_VERSION}; re-create it with {remake_hint(name)}")
    state = blob.get("state")
    if not isinstance(blob.get("config"), dict) or not isinstance(state, dict) or not all(
            isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()):
        raise UserError(f"checkpoint {path} is malformed (its config or its state of named tensors is missing); "
                        f"re-create it with {remake_hint(name)}")
    return blob


def build_loaded(name: str, blob: dict, path: Path, expect: dict | None = None):
    """A fresh model from the checkpoint's config with every tensor loaded, or UserError."""
    import torch

    comp = component(name)
    config = dict(blob["config"])
    if expect:
        diff = {k: (config.get(k), v) for k, v in expect.items() if config.get(k) != v}
        if diff:
            detail = ", ".join(f"{k}: file {a!r} vs wanted {b!r}" for k, (a, b) in diff.items())
            raise UserError(f"checkpoint {path} is for another architecture/resolution ({detail}); "
                            f"train a matching one with {remake_hint(name)}")
    try:
        model = comp.build(config)
    except Exception as exc:  # any failure to build from the file's config is the file's fault
        raise UserError(f"checkpoint {path} has a config this code cannot build ({exc}); "
                        f"re-create it with {remake_hint(name)}") from None
    own = model.state_dict()
    state = blob["state"]
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    bad_shape = sorted(k for k in set(own) & set(state) if tuple(own[k].shape) != tuple(state[k].shape))
    if missing or unexpected or bad_shape:
        first = (missing or unexpected or bad_shape)[0]
        raise UserError(f"checkpoint {path} does not match the '{name}' architecture "
                        f"({len(missing)} missing, {len(unexpected)} unexpected, {len(bad_shape)} mis-shaped "
                        f"tensors, e.g. '{first}'); re-create it with {remake_hint(name)}")
    with torch.no_grad():
        model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()}, strict=True)
    model.eval()
    return model


def load_model(name: str, path: str | Path | None = None, expect: dict | None = None, device: str = "cpu"):
    """The shipped (or given) checkpoint of `name` as an eval-mode module on `device`."""
    p = Path(path) if path else weights_path(name)
    blob = read_checkpoint(p, name)
    return build_loaded(name, blob, p, expect).to(device)


# What every card holds (written by `base_card`); other keys are free. JSON types as Python types.
CARD_FIELDS: dict[str, tuple[type, ...]] = {"component": (str,), "quality": (dict,), "steps": (int,),
                                            "seed": (int,), "command": (str,)}
CARD_OPTIONAL: dict[str, tuple[type, ...]] = {"wall_time_s": (int, float), "device": (str,), "data": (str,),
                                              "config": (dict,), "benchmarks": (dict,)}
_JSON_TYPE = {dict: "an object", list: "an array", str: "a string", int: "a number", float: "a number",
              bool: "true/false", type(None): "null"}


def card_problem(card: Any, name: str) -> str | None:
    """Why `card` (parsed JSON) is not a valid card of component `name`, or None if it is."""
    if not isinstance(card, dict):
        return f"is {_JSON_TYPE.get(type(card), type(card).__name__)}, not a JSON object"
    for key, types in {**CARD_FIELDS, **CARD_OPTIONAL}.items():
        if key not in card:
            if key in CARD_FIELDS:
                return f"has no '{key}' field"
            continue
        value = card[key]
        if isinstance(value, bool) or not isinstance(value, types):
            want = " or ".join(sorted({_JSON_TYPE[t] for t in types}))
            return f"has '{key}' = {_JSON_TYPE.get(type(value), type(value).__name__)}, expected {want}"
    if card["component"] != name:
        return f"is the card of '{card['component']}', not '{name}'"
    bench = card.get("benchmarks")
    if bench is not None:
        results = bench.get("results")
        if not isinstance(bench.get("machine"), dict) or not isinstance(results, dict) or not all(
                isinstance(v, dict) and isinstance(v.get("mean_ms"), (int, float)) for v in results.values()):
            return "has malformed 'benchmarks' (expected machine and results with mean_ms; refile with " \
                   "'bench zoo --bench')"
    return None


def parse_card(text: str | bytes, path: Path, name: str) -> dict:
    """The card in `text` (the content of `path`), validated; UserError naming the file and the problem."""
    fix = f"restore it, or remake it with {remake_hint(name)}"
    try:
        card = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        why = f"{exc.msg} at line {exc.lineno}" if isinstance(exc, json.JSONDecodeError) else "not UTF-8 text"
        raise UserError(f"card {path} is not valid JSON ({why}); {fix}") from None
    problem = card_problem(card, name)
    if problem:
        raise UserError(f"card {path} {problem}; {fix}")
    return card


def read_card(name: str, path: str | Path | None = None) -> dict | None:
    """The validated card of `name` (shipped, or at `path`); None when there is no card file.

    UserError when the file cannot be read, is not JSON, or is not a card of `name`.
    """
    p = Path(path) if path else card_path(name)
    if not p.exists():
        return None
    try:
        text = p.read_bytes()
    except OSError as exc:
        raise UserError(f"card {p} cannot be read ({exc.strerror or exc})") from None
    return parse_card(text, p, name)


def trained_path(name: str) -> Path:
    """Where `bench train NAME` (run from the checkout) leaves its checkpoint: runs/train/NAME/NAME.pt."""
    return Path("runs") / "train" / name / f"{name}.pt"


def ship(name: str, src: str | Path | None = None) -> tuple[Path, Path]:
    """Replace the shipped checkpoint + card of `name` with `src` (default `trained_path(name)`) and
    the card beside it. The checkpoint must load all-or-nothing and the card must be valid; the
    bytes checked are the bytes written, each file is replaced atomically (temporary + rename) and
    nothing is touched when a check fails. Returns the two destination paths.
    """
    import hashlib

    comp = component(name)
    src = Path(src) if src else trained_path(name)
    if not src.is_file():
        raise UserError(f"no trained '{name}' checkpoint at {src}; train one with '{train_command(name)}' "
                        f"(it writes {trained_path(name)}) or give --from PATH")
    card_src = src.with_suffix(".json")
    if not card_src.is_file():
        raise UserError(f"no card beside {src} (expected {card_src}, which '{train_command(name)}' writes with "
                        "the checkpoint); weights are not shipped without their card")
    try:
        data, card_text = src.read_bytes(), card_src.read_bytes()
    except OSError as exc:
        raise UserError(f"cannot read {exc.filename}: {exc.strerror}") from None
    build_loaded(comp.name, read_checkpoint(src, comp.name, data=data), src)  # all-or-nothing, or UserError
    parse_card(card_text, card_src, comp.name)
    dest, dest_card = weights_path(comp.name), card_path(comp.name)
    tmps = [dest.with_name(f".{dest.name}.ship{os.getpid()}"), dest_card.with_name(f".{dest_card.name}.ship{os.getpid()}")]
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        for tmp, blob in zip(tmps, (data, card_text)):
            with open(tmp, "wb") as f:
                f.write(blob)
                f.flush()
                os.fsync(f.fileno())
        if hashlib.sha256(tmps[0].read_bytes()).digest() != hashlib.sha256(data).digest():
            raise UserError(f"the copy of {src} in {dest.parent} does not read back identically; nothing shipped")
        os.replace(tmps[0], dest)
        os.replace(tmps[1], dest_card)
    except OSError as exc:
        raise UserError(f"cannot write the shipped weights in {dest.parent} ({exc.strerror or exc}); "
                        "nothing shipped") from None
    finally:
        for tmp in tmps:
            tmp.unlink(missing_ok=True)
    return dest, dest_card


@dataclass
class ComponentStatus:
    """What `bench zoo` says about one component's shipped files."""

    name: str
    weights: Path
    size_bytes: int | None  # None: not shipped
    weights_problem: str | None  # why the checkpoint does not load (None: it loads, or is not shipped)
    card: dict | None  # the valid card, if any
    card_problem: str | None  # why there is no valid card (None: valid, or nothing shipped)
    card_missing: bool = False  # the problem is that there is no card file at all

    @property
    def ok(self) -> bool:
        return self.size_bytes is not None and self.weights_problem is None and self.card_problem is None


def component_status(name: str) -> ComponentStatus:
    """Check the shipped checkpoint (a full all-or-nothing load, ~10 ms) and card of `name`."""
    comp = component(name)
    path = weights_path(comp.name)
    if not path.exists():
        return ComponentStatus(comp.name, path, None, None, None, None)
    size = path.stat().st_size if path.is_file() else 0
    weights_problem = card_problem_ = card = None
    try:
        load_model(comp.name, path)
    except UserError as exc:
        weights_problem = str(exc)
    try:
        card = read_card(comp.name)
        if card is None:
            card_problem_ = f"no card at {card_path(comp.name)}; ship the checkpoint with its card: {remake_hint(name)}"
    except UserError as exc:
        card_problem_ = str(exc)
    return ComponentStatus(comp.name, path, size, weights_problem, card, card_problem_,
                           card_missing=card is None and card_problem_ is not None and not card_path(comp.name).exists())


def base_card(name: str, config: dict, seed: int, steps: int, wall_s: float, device: str, data: str,
              quality: dict, command: str) -> dict:
    import torch

    return {"component": name, "config": config, "seed": seed, "steps": steps, "wall_time_s": round(wall_s, 1),
            "device": device, "data": data, "quality": quality, "command": command,
            "torch": torch.__version__, "python": platform.python_version(),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


@dataclass
class TrainContext:
    """What `bench train` hands a component's trainer.

    work_dir holds resumable state (`last.pt`, `log.jsonl`); `export` writes the trained
    checkpoint + card into `out` (default: work_dir), never into the shipped weights: `ship`
    (`bench zoo ship NAME`) puts them there. `steps` must be None (the component's default) or
    >= 1, `seed` >= 0.
    """

    name: str
    seed: int
    device: str
    steps: int | None  # None: the component's default
    work_dir: Path
    out: Path | None = None
    resume: bool = True
    quick: bool = False  # tiny smoke-test run (tests use it)
    started: float = field(default_factory=time.time)
    prior_wall_s: float = 0.0  # training time spent before a resume; trainers restore it from their state
    options: dict = field(default_factory=dict)  # --set KEY=VALUE (checked against the component's train_options)

    def __post_init__(self) -> None:
        if self.steps is not None and (isinstance(self.steps, bool) or not isinstance(self.steps, int)
                                       or self.steps < 1):
            raise UserError(f"training steps must be >= 1 (got {self.steps!r}); leave them out for the "
                            f"component's default")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < 2**32:
            raise UserError(f"training seed must be an integer in [0, 2^32 - 1] (got {self.seed!r})")
        self.work_dir = Path(self.work_dir)

    @property
    def export_path(self) -> Path:
        """Where `export` writes the checkpoint (the card goes beside it)."""
        return Path(self.out or self.work_dir) / f"{self.name}.pt"

    def wall_s(self) -> float:
        """Total training wall time, resumed runs included (store it in the resumable state)."""
        return self.prior_wall_s + time.time() - self.started

    def log(self, **values) -> None:
        values.setdefault("time_s", round(time.time() - self.started, 2))
        line = json.dumps(values, sort_keys=True)
        print(f"[{self.name}] " + " ".join(f"{k}={v}" for k, v in values.items()), flush=True)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        with open(self.work_dir / "log.jsonl", "a") as f:
            f.write(line + "\n")

    @property
    def state_path(self) -> Path:
        return self.work_dir / "last.pt"

    def save_state(self, state: dict) -> None:
        """Resumable training state (any torch-saveable dict of tensors/numbers)."""
        import torch

        self.work_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_suffix(f".tmp{os.getpid()}")
        torch.save(state, tmp)
        os.replace(tmp, self.state_path)

    def load_state(self) -> dict | None:
        import torch

        if not (self.resume and self.state_path.exists()):
            return None
        try:
            return torch.load(self.state_path, map_location="cpu", weights_only=True)
        except Exception as exc:  # a broken resume file must not kill training
            print(f"[{self.name}] ignoring unreadable resume state {self.state_path}: {exc}", flush=True)
            return None

    def command(self, name: str | None = None) -> str:
        """The `bench train` command line that reproduces this run (``name``: the component trained)."""
        return (f"bench train {name or self.name} --seed {self.seed}" + (f" --steps {self.steps}" if self.steps else "")
                + "".join(f" --set {k}={v}" for k, v in sorted(self.options.items())))

    def export(self, config: dict, state: dict, quality: dict, steps: int, data: str, fp16: bool = True) -> Path:
        path = self.export_path
        card = base_card(self.name, config, self.seed, steps, self.wall_s(), self.device, data,
                         quality, self.command())
        save_checkpoint(path, self.name, config, state, card, fp16=fp16)
        return path
