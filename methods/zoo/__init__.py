"""The trained-model zoo: shipped checkpoints, their cards, and the `bench train` plumbing.

Every trainable component registers a `Component` (name, builder, trainer). Its shipped
checkpoint lives at ``methods/weights/<name>.pt`` with a JSON card beside it
(``<name>.json``: data, steps, wall time, device, seed, quality figures, the command that
made it). Checkpoints hold only tensors and plain config (loaded with
``torch.load(weights_only=True)``), stored in fp16 where the component allows, and load
all-or-nothing: a missing, truncated or foreign file raises `UserError` naming the file and
the `bench train` command that makes it; a model is never returned half-loaded.
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


def card_path(name: str) -> Path:
    return weights_path(name).with_suffix(".json")


def train_command(name: str) -> str:
    return f"bench train {name}"


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


def read_checkpoint(path: Path, name: str) -> dict:
    """Read and validate a checkpoint file (tensors only; no code runs)."""
    import pickle
    import zipfile

    import torch

    if not path.exists():
        raise UserError(f"checkpoint for '{name}' not found at {path}; make it with '{train_command(name)}'")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        if "GLOBAL" in str(exc) or "Unsupported global" in str(exc):
            raise UserError(f"checkpoint {path} contains objects other than tensors and plain data; refused "
                            f"without running them (re-create it with '{train_command(name)}')") from None
        raise UserError(f"checkpoint {path} is truncated or corrupted (UnpicklingError); "
                        f"re-create it with '{train_command(name)}'") from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise UserError(f"checkpoint {path} is truncated or corrupted ({type(exc).__name__}); "
                        f"re-create it with '{train_command(name)}'") from None
    if not isinstance(blob, dict) or blob.get("format") != FORMAT:
        raise UserError(f"{path} is not an editsc-bench checkpoint; re-create it with '{train_command(name)}'")
    if blob.get("component") != name:
        raise UserError(f"{path} holds a '{blob.get('component')}' checkpoint, not '{name}'")
    if blob.get("version") != FORMAT_VERSION:
        raise UserError(f"{path} has checkpoint format version {blob.get('version')}, this code reads "
                        f"{FORMAT_VERSION}; re-create it with '{train_command(name)}'")
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
                            f"train a matching one with '{train_command(name)}'")
    try:
        model = comp.build(config)
    except (TypeError, ValueError, KeyError) as exc:
        raise UserError(f"checkpoint {path} has a config this code cannot build ({exc}); "
                        f"re-create it with '{train_command(name)}'") from None
    own = model.state_dict()
    state = blob["state"]
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    bad_shape = sorted(k for k in set(own) & set(state) if tuple(own[k].shape) != tuple(state[k].shape))
    if missing or unexpected or bad_shape:
        first = (missing or unexpected or bad_shape)[0]
        raise UserError(f"checkpoint {path} does not match the '{name}' architecture "
                        f"({len(missing)} missing, {len(unexpected)} unexpected, {len(bad_shape)} mis-shaped "
                        f"tensors, e.g. '{first}'); re-create it with '{train_command(name)}'")
    with torch.no_grad():
        model.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()}, strict=True)
    model.eval()
    return model


def load_model(name: str, path: str | Path | None = None, expect: dict | None = None, device: str = "cpu"):
    """The shipped (or given) checkpoint of `name` as an eval-mode module on `device`."""
    p = Path(path) if path else weights_path(name)
    blob = read_checkpoint(p, name)
    return build_loaded(name, blob, p, expect).to(device)


def read_card(name: str) -> dict | None:
    p = card_path(name)
    if not p.exists():
        return None
    try:
        return json.loads(p.read_text())
    except json.JSONDecodeError:
        return {"error": f"card {p} is not valid JSON"}


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

    work_dir holds resumable state (`last.pt`, `log.jsonl`); `export` writes the shipped
    checkpoint + card (to methods/weights unless `out` is given).
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

    def export(self, config: dict, state: dict, quality: dict, steps: int, data: str, fp16: bool = True) -> Path:
        path = (self.out / f"{self.name}.pt") if self.out else weights_path(self.name)
        card = base_card(self.name, config, self.seed, steps, self.wall_s(), self.device, data,
                         quality, f"bench train {self.name} --seed {self.seed}"
                         + (f" --steps {self.steps}" if self.steps else ""))
        save_checkpoint(path, self.name, config, state, card, fp16=fp16)
        return path
