"""Checks for the options of a spec (``name:key=value,...``), done when the entry is created.

`bench.registry.parse_options` turns values that look like numbers or true/false into int, float
or bool and leaves the rest as text, so an option can arrive as any of those whatever the user
meant. These helpers accept only the intended type, refuse non-finite numbers and values outside
the allowed range, and raise a `UserError` that names the option, states what is allowed and
shows what was given, e.g. ``jpeg-ldpc n must be an integer in [2, 4096], got 100000``.
"""
from __future__ import annotations

import math
from typing import Any

from bench.errors import UserError


def _given(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def _bounds(lo, hi, lo_open: bool = False, hi_open: bool = False) -> str:
    if lo is not None and hi is not None:
        return f" in {'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}"
    if lo is not None:
        return f" {'>' if lo_open else '>='} {lo}"
    if hi is not None:
        return f" {'<' if hi_open else '<='} {hi}"
    return ""


def int_option(value: Any, what: str, lo: int | None = None, hi: int | None = None, note: str = "") -> int:
    """`value` as an int in [lo, hi]; an integral float (``1e3``) counts, text, bools and fractions don't.

    `what` names the option ("jpeg-ldpc n"); `note` is appended to the allowed range in the message.
    """
    ok = not isinstance(value, bool) and (
        isinstance(value, int) or (isinstance(value, float) and math.isfinite(value) and value.is_integer()))
    if ok:
        number = int(value)
        ok = (lo is None or number >= lo) and (hi is None or number <= hi)
    if not ok:
        raise UserError(f"{what} must be an integer{_bounds(lo, hi)}{note}, got {_given(value)}")
    return number


def float_option(value: Any, what: str, lo: float | None = None, hi: float | None = None,
                 lo_open: bool = False, hi_open: bool = False, note: str = "") -> float:
    """`value` as a finite float within the given bounds (open or closed); text, bools, inf and nan fail."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    if ok:
        number = float(value)
        ok = (lo is None or (number > lo if lo_open else number >= lo)) and \
             (hi is None or (number < hi if hi_open else number <= hi))
    if not ok:
        raise UserError(f"{what} must be a finite number{_bounds(lo, hi, lo_open, hi_open)}{note}, "
                        f"got {_given(value)}")
    return number


def bool_option(value: Any, what: str) -> bool:
    """`value` if it is a bool (true/false, yes/no, on/off in a spec); anything else fails."""
    if not isinstance(value, bool):
        raise UserError(f"{what} must be true or false, got {_given(value)}")
    return value


def snr_list_option(value: Any, what: str) -> list[float]:
    """Comma- (or semicolon-) separated SNRs in dB (``--set snrs=-6,0,6``) as distinct finite floats; a
    single number arrives as int/float. ``what`` names the option ("channel-adapters snrs")."""
    try:
        vals = [float(v) for v in str(value).replace(";", ",").split(",") if v.strip()]
    except ValueError:
        raise UserError(f"{what} must be comma-separated numbers of dB, got {_given(value)}") from None
    if not vals or not all(math.isfinite(v) for v in vals) or len(set(vals)) != len(vals):
        raise UserError(f"{what} must be distinct finite numbers of dB, got {_given(value)}")
    return vals
