"""Sampling labelled editing requests and the expected degree of eq. (10)."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Sequence

import numpy as np

from datasets.instructions.lexicon import (ATTRIBUTE_INDEX, ATTRIBUTES, INTERJECTIONS, MAX_DEGREE,
                                           MODES, PEOPLE, POST_AMOUNTS, PRE_AMOUNTS,
                                           QUESTION_OPENERS, REQUEST_OPENERS, SUFFIXES)
from datasets.instructions.templates import Template, templates

#: how often each mode is drawn when the caller does not fix one
MODE_WEIGHTS = {"definite": 0.4, "indefinite": 0.3, "target": 0.3}


@dataclass(frozen=True)
class Instruction:
    """One editing request and its ground truth.

    attribute: index into ATTRIBUTES (0 Bangs, 1 Eyeglasses, 2 Beard, 3 Smiling, 4 Young).
    direction: +1 / -1. delta: 1-5 for definite, 1 for indefinite.
    For ``mode == "target"``: ``target`` is the requested degree and direction/delta are
    derived from the current degree (direction = sign(target - current) with +1 on a tie,
    delta = |target - current|); when the current degree is unknown they are 0 (unresolved,
    see ``resolve``).
    """

    text: str
    attribute: int
    direction: int
    delta: int
    mode: str
    target: int | None
    template_id: str

    @property
    def attribute_name(self) -> str:
        return ATTRIBUTES[self.attribute]

    def resolve(self, current: int | Sequence[int]) -> "Instruction":
        """Fill in direction/delta of a target request once the current degree is known."""
        if self.mode != "target":
            return self
        cur = _current_of(current, self.attribute)
        diff = int(self.target) - cur
        return replace(self, direction=1 if diff >= 0 else -1, delta=abs(diff))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["attribute_name"] = self.attribute_name
        return d


def _current_of(current: int | Sequence[int], attribute: int) -> int:
    if isinstance(current, (int, np.integer)):
        return int(current)
    return int(current[attribute])


def clamp_degree(value: int) -> int:
    return int(min(max(int(value), 0), MAX_DEGREE))


def expected_degree(current: int | Sequence[int], instruction: Instruction) -> int:
    """Eq. (10): a_exp = min(max(a + delta * d, 0), u), u = 5; target mode -> the target.

    ``current`` is the degree of the instructed attribute, or all five degrees.
    """
    if instruction.mode == "target":
        return clamp_degree(instruction.target)
    cur = _current_of(current, instruction.attribute)
    return clamp_degree(cur + instruction.delta * instruction.direction)


def _as_rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    return np.random.default_rng(rng)


def _pick(rng: np.random.Generator, seq):
    return seq[int(rng.integers(len(seq)))]


def _person(rng: np.random.Generator, attribute: int):
    if ATTRIBUTES[attribute] == "Beard" and rng.random() < 0.7:
        pool = [p for p in PEOPLE if p[2] == "m"]
    else:
        pool = list(PEOPLE)
    return _pick(rng, pool)


def _casing(rng: np.random.Generator, text: str) -> str:
    r = rng.random()
    if r < 0.3:
        return text.lower()
    if r < 0.33:
        return text.upper()
    text = text.replace("i'd ", "I'd ").replace("i want", "I want").replace("i can", "I can")
    if text.startswith("i "):
        text = "I " + text[2:]
    return text[:1].upper() + text[1:]


def render(template: Template, rng, delta: int | None = None, noise: bool = True) -> str:
    """Fill a template's slots (person, amount) and add optional natural noise."""
    rng = _as_rng(rng)
    obj, poss, _ = _person(rng, template.attribute)
    slots = {"obj": obj, "poss": poss, "pre": "", "by": ""}
    if template.mode == "definite":
        if delta is None:
            raise ValueError("definite templates need a delta")
        slots["pre"] = _pick(rng, PRE_AMOUNTS[delta])
        slots["by"] = _pick(rng, POST_AMOUNTS[delta])
    text = template.pattern.format(**slots)
    if not noise:
        return text[:1].upper() + text[1:] + ("?" if template.question else ".")
    question = template.question
    if template.imperative and rng.random() < 0.35:
        opener = _pick(rng, REQUEST_OPENERS)
        question = opener in QUESTION_OPENERS
        text = opener + text
    if rng.random() < 0.15:
        text = _pick(rng, INTERJECTIONS) + text
    if rng.random() < 0.2:
        text += _pick(rng, SUFFIXES)
    if question:
        text += _pick(rng, ("?", "?", "", " ?"))
    else:
        text += _pick(rng, (".", ".", "", "!", "...", " ."))
    if rng.random() < 0.05:
        text = text.replace(" ", "  ", 1)
    return _casing(rng, text)


def _choose_mode(rng: np.random.Generator, allowed: Sequence[str]) -> str:
    w = np.array([MODE_WEIGHTS[m] for m in allowed], dtype=float)
    return allowed[int(rng.choice(len(allowed), p=w / w.sum()))]


def _build(rng, template: Template, current: int | None, delta: int | None) -> Instruction:
    if template.mode == "definite":
        delta = int(delta if delta is not None else rng.integers(1, MAX_DEGREE + 1))
        direction = int(template.direction)
    elif template.mode == "indefinite":
        delta, direction = 1, int(template.direction)
    else:
        delta, direction = 0, 0
    text = render(template, rng, delta if template.mode == "definite" else None)
    ins = Instruction(text=text, attribute=template.attribute, direction=direction, delta=delta,
                      mode=template.mode, target=template.target, template_id=template.id)
    if template.mode == "target" and current is not None:
        ins = ins.resolve(current)
    return ins


def _attr_index(attribute) -> int | None:
    if attribute is None:
        return None
    if isinstance(attribute, str):
        if attribute not in ATTRIBUTE_INDEX:
            raise ValueError(f"unknown attribute {attribute!r}; use one of {ATTRIBUTES}")
        return ATTRIBUTE_INDEX[attribute]
    return int(attribute)


def generate(rng, current_degrees: Sequence[int] | None = None, attribute: int | str | None = None,
             split: str = "train", mode: str | None = None) -> Instruction:
    """Draw a random request from the ``split`` templates.

    No feasibility filtering beyond template preconditions ("add glasses" only at degree 0):
    a definite request may overshoot and is then clamped by eq. (10). Use ``sample_request``
    for requests that avoid impossible changes.
    """
    rng = _as_rng(rng)
    attr = _attr_index(attribute)
    if attr is None:
        attr = int(rng.integers(len(ATTRIBUTES)))
    current = None if current_degrees is None else int(current_degrees[attr])
    pool = [t for t in templates(split) if t.attribute == attr and t.allowed(current)]
    modes = [m for m in MODES if any(t.mode == m for t in pool)] if mode is None else [mode]
    chosen_mode = _choose_mode(rng, modes)
    pool = [t for t in pool if t.mode == chosen_mode]
    if chosen_mode != "target":
        dirs = sorted({t.direction for t in pool})
        d = _pick(rng, dirs)
        pool = [t for t in pool if t.direction == d]
    else:
        degs = sorted({t.target for t in pool})
        tgt = _pick(rng, degs)
        pool = [t for t in pool if t.target == tgt]
    return _build(rng, _pick(rng, pool), current, None)


def sample_request(rng, degrees: Sequence[int] | None, attribute: int | str | None = None,
                   split: str = "train", allow_clamp: bool = False) -> Instruction:
    """A request that is possible for a face with these ``degrees`` whenever one exists.

    Never asks to raise an attribute at 5 or lower it at 0, keeps definite deltas within the
    room left, never targets the current degree (unless ``allow_clamp``, which lets definite
    deltas overshoot so eq. (10) clamping can be exercised). ``degrees=None``: as ``generate``.
    """
    rng = _as_rng(rng)
    if degrees is None:
        return generate(rng, None, attribute, split)
    degrees = [clamp_degree(d) for d in degrees]
    attr = _attr_index(attribute)
    attrs = [attr] if attr is not None else list(range(len(ATTRIBUTES)))
    pool_all = templates(split)
    options: list[tuple[int, str, int]] = []  # (attribute, mode, direction or target)
    for a in attrs:
        cur = degrees[a]
        for t in pool_all:
            if t.attribute != a or not t.allowed(cur):
                continue
            if t.mode == "target":
                if t.target != cur:
                    options.append((a, "target", t.target))
            elif allow_clamp or (t.direction > 0 and cur < MAX_DEGREE) or (t.direction < 0 and cur > 0):
                options.append((a, t.mode, t.direction))
    options = sorted(set(options))
    if not options:  # nothing feasible (cannot happen with the shipped phrasebook)
        return generate(rng, degrees, attr if attr is not None else None, split)
    chosen_attr = _pick(rng, sorted({o[0] for o in options}))
    options = [o for o in options if o[0] == chosen_attr]
    chosen_mode = _choose_mode(rng, sorted({o[1] for o in options}, key=MODES.index))
    value = _pick(rng, sorted({o[2] for o in options if o[1] == chosen_mode}))
    cur = degrees[chosen_attr]
    pool = [t for t in pool_all if t.attribute == chosen_attr and t.mode == chosen_mode
            and t.allowed(cur) and (t.target if chosen_mode == "target" else t.direction) == value]
    delta = None
    if chosen_mode == "definite":
        room = MAX_DEGREE - cur if value > 0 else cur
        top = MAX_DEGREE if allow_clamp or room == 0 else room
        delta = int(rng.integers(1, top + 1))
    return _build(rng, _pick(rng, pool), cur, delta)
