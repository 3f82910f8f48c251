"""Decorator registries for methods, channels, datasets and metrics.

Everything the runner touches is found here by name; no other code branches on names.
A *spec* selects an entry and its options: ``name`` or ``name:k=v,k=v`` (values parsed
as int/float/bool where they look like one). Entries registered with ``raw_arg=True``
receive everything after the first ``:`` verbatim as one argument (``folder:PATH``).
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable, Generic, TypeVar

from bench.errors import UserError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    name: str
    factory: Callable[..., Any]
    summary: str
    raw_arg: bool


def _parse_value(text: str) -> Any:
    low = text.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def parse_options(text: str, what: str) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        if "=" not in part:
            raise UserError(f"bad {what} option '{part}': write options as key=value, e.g. 'rayleigh:fading=block'")
        key, value = part.split("=", 1)
        opts[key.strip().replace("-", "_")] = _parse_value(value.strip())
    return opts


class Registry(Generic[T]):
    def __init__(self, kind: str, listed_by: str = "bench list"):
        self.kind = kind
        self.listed_by = listed_by  # the command that lists the entries, named in unknown-name errors
        self._entries: dict[str, Entry] = {}

    def register(self, name: str, summary: str = "", raw_arg: bool = False):
        def deco(factory):
            if name in self._entries:
                raise ValueError(f"{self.kind} '{name}' registered twice")
            doc = summary or (factory.__doc__ or "").strip().splitlines()[0:1]
            self._entries[name] = Entry(name, factory, summary or (doc[0] if doc else ""), raw_arg)
            return factory
        return deco

    def names(self) -> list[str]:
        return sorted(self._entries)

    def entries(self) -> list[Entry]:
        return [self._entries[n] for n in self.names()]

    def entry(self, name: str) -> Entry:
        if name not in self._entries:
            close = difflib.get_close_matches(name, self._entries, n=1, cutoff=0.4)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            raise UserError(f"unknown {self.kind} '{name}'{hint} (run '{self.listed_by}' to see all)")
        return self._entries[name]

    def create(self, spec: str) -> T:
        name, _, rest = spec.partition(":")
        entry = self.entry(name.strip())
        try:
            if entry.raw_arg:
                obj = entry.factory(rest) if rest else entry.factory()
            else:
                obj = entry.factory(**parse_options(rest, self.kind))
        except TypeError as exc:
            raise UserError(f"bad options for {self.kind} '{name}': {exc}") from None
        # Objects may set a canonical spec of their own (with defaults filled in, paths resolved);
        # otherwise, or when a subclass inherited another entry's spec, the given spec names them.
        own = getattr(obj, "spec", "") or ""
        if own.partition(":")[0] != entry.name:
            try:
                obj.spec = spec.strip()
            except AttributeError:
                pass
        return obj


def load_builtin() -> None:
    """Import every module that registers entries (idempotent)."""
    import channels.registered  # noqa: F401
    import datasets.registered  # noqa: F401
    import methods.registered  # noqa: F401
    import bench.metrics.registered  # noqa: F401


METHODS: Registry = Registry("method")
CHANNELS: Registry = Registry("channel")
DATASETS: Registry = Registry("dataset")
METRICS: Registry = Registry("metric")
