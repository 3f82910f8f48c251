"""Decorator registries for methods, channels, datasets and metrics.

Everything the runner touches is found here by name; no other code branches on names.
A *spec* selects an entry and its options: ``name`` or ``name:k=v,k=v`` (values parsed
as int/float/bool where they look like one). A value in square brackets is a *nested spec*
passed through verbatim, so composed methods carry their parts' options unambiguously:
``m2:editor=[identity],codec=[jpeg-ldpc:bpp=0.5,rate=0.5]``. Entries registered with
``raw_arg=True`` receive everything after the first ``:`` verbatim as one argument
(``folder:PATH``). Entries may carry metadata (``meta``), e.g. a metric's direction.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any, Callable, Generic, TypeVar

from bench.errors import UserError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry:
    name: str
    factory: Callable[..., Any]
    summary: str
    raw_arg: bool
    meta: dict = field(default_factory=dict)


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


NEST_HINT = "nest a part's spec in brackets, e.g. m2:editor=[identity],codec=[jpeg-ldpc:bpp=0.5,rate=0.5]"


def split_top(text: str, sep: str = ",") -> list[str]:
    """Split `text` at `sep` outside square brackets; UserError on unbalanced brackets."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
            if depth < 0:
                raise UserError(f"unbalanced ']' in spec '{text}'; {NEST_HINT}")
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if depth:
        raise UserError(f"unclosed '[' in spec '{text}'; {NEST_HINT}")
    parts.append("".join(cur))
    return parts


def parse_options(text: str, what: str) -> dict[str, Any]:
    opts: dict[str, Any] = {}
    for part in filter(None, (p.strip() for p in split_top(text))):
        if "=" not in part or part.startswith("["):
            raise UserError(f"bad {what} option '{part}': write options as key=value, e.g. 'rayleigh:fading=block'"
                            + ("" if "=" in part else f" ({NEST_HINT})" if "[" in part else ""))
        key, value = part.split("=", 1)
        key, value = key.strip().replace("-", "_"), value.strip()
        if key in opts:
            raise UserError(f"{what} option '{key}' given twice in '{text}'")
        if value.startswith("["):
            if not value.endswith("]"):
                raise UserError(f"bad {what} option '{part}': text after the closing ']'; {NEST_HINT}")
            inner = value[1:-1].strip()
            if not inner:
                raise UserError(f"{what} option '{key}' has an empty nested spec '[]'; {NEST_HINT}")
            opts[key] = inner
        elif "[" in value or "]" in value:
            raise UserError(f"bad {what} option '{part}': a nested spec must be the whole value; {NEST_HINT}")
        else:
            opts[key] = _parse_value(value)
    return opts


def nested(spec: str) -> str:
    """How a part's canonical spec is written inside a composed spec."""
    return f"[{spec}]"


class Registry(Generic[T]):
    def __init__(self, kind: str, listed_by: str = "bench list"):
        self.kind = kind
        self.listed_by = listed_by  # the command that lists the entries, named in unknown-name errors
        self._entries: dict[str, Entry] = {}

    def register(self, name: str, summary: str = "", raw_arg: bool = False, **meta):
        def deco(factory):
            if name in self._entries:
                raise ValueError(f"{self.kind} '{name}' registered twice")
            doc = summary or (factory.__doc__ or "").strip().splitlines()[0:1]
            self._entries[name] = Entry(name, factory, summary or (doc[0] if doc else ""), raw_arg, dict(meta))
            return factory
        return deco

    def __contains__(self, name: str) -> bool:
        return name in self._entries

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
        if not isinstance(spec, str) or not spec.strip():
            raise UserError(f"empty {self.kind} spec; run 'bench list' to see the {self.kind}s")
        name, _, rest = spec.strip().partition(":")
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
EDITORS: Registry = Registry("editor")
CHANNELS: Registry = Registry("channel")
DATASETS: Registry = Registry("dataset")
METRICS: Registry = Registry("metric")
