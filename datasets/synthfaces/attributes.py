"""The five editable attributes and their degrees 0..5 (CelebA-Dialog semantics).

The order is fixed: ``attributes[i]`` is the degree of ``ATTRIBUTES[i]``.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from bench.errors import UserError

ATTRIBUTES: tuple[str, ...] = ("Bangs", "Eyeglasses", "Beard", "Smiling", "Young")
NUM_ATTRIBUTES = len(ATTRIBUTES)
MAX_DEGREE = 5
DEGREES = tuple(range(MAX_DEGREE + 1))

#: What the renderer draws at each degree (world 2's ``v2/face.py`` per-degree tables; world 1's ``face.py``
#: differs at Smiling 2, where it already shows the teeth, and Young 3, where it draws faint lines and a
#: little grey): the one source of truth
#: for the renderer's documentation, the instruction language's target degrees (its
#: ``datasets.instructions.lexicon.DEGREE_TERMS`` map each description's wording to the phrases
#: target requests use, and tests check that every target template agrees) and ``bench parse``.
DEGREE_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "Bangs": (
        "no bangs, forehead fully visible",
        "short wisps at the hairline",
        "short bangs covering about a third of the forehead",
        "bangs covering about half of the forehead",
        "long bangs ending just above the eyebrows",
        "extremely long fringe covering the eyebrows",
    ),
    "Eyeglasses": (
        "no eyeglasses",
        "thin wire rims",
        "medium plastic frames",
        "thick frames",
        "thick frames with tinted lenses",
        "dark sunglasses",
    ),
    "Beard": (
        "clean-shaven",
        "light stubble",
        "heavy stubble with a moustache and goatee",
        "short full beard",
        "full beard",
        "very long, thick full beard",
    ),
    "Smiling": (
        "neutral, mouth closed",
        "slight closed-mouth smile",
        "clear closed-mouth smile",
        "smile showing the upper teeth",
        "broad, open-mouthed smile with teeth",
        "very broad open-mouth laugh",
    ),
    "Young": (
        "very old (about eighty): white hair, deep wrinkles",
        "old (about sixty): grey hair, wrinkles",
        "middle-aged (about forty-five): greying hair, light wrinkles",
        "adult (twenties to thirties): no wrinkles, no grey",
        "young (a teenager): smooth skin",
        "very young (a child): smooth, rosy-cheeked, bigger eyes",
    ),
}

_LOWER = {name.lower(): i for i, name in enumerate(ATTRIBUTES)}


def attribute_index(attr) -> int:
    """Index of an attribute given as an index (0..4) or a name (case-insensitive)."""
    if isinstance(attr, str):
        key = attr.strip().lower()
        if key not in _LOWER:
            raise UserError(f"unknown attribute '{attr}': valid attributes are {', '.join(ATTRIBUTES)}")
        return _LOWER[key]
    if isinstance(attr, bool) or not isinstance(attr, (int, np.integer)) or not 0 <= int(attr) < NUM_ATTRIBUTES:
        raise UserError(
            f"attribute index {attr!r} is invalid: use 0..{NUM_ATTRIBUTES - 1} or a name "
            f"({', '.join(ATTRIBUTES)})"
        )
    return int(attr)


def check_degree(value, name: str = "degree") -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise UserError(f"{name} must be an integer 0..{MAX_DEGREE}, got {value!r}")
    value = int(value)
    if not 0 <= value <= MAX_DEGREE:
        raise UserError(f"{name} {value} is out of range: valid degrees are 0..{MAX_DEGREE}")
    return value


def validate_attributes(attributes) -> tuple[int, ...]:
    """Normalise attribute degrees to a 5-tuple of ints 0..5.

    Accepts a sequence of 5 degrees in ATTRIBUTES order, or a mapping from attribute name
    (case-insensitive) to degree; attributes missing from a mapping get degree 0.
    """
    if isinstance(attributes, Mapping):
        out = [0] * NUM_ATTRIBUTES
        for key, value in attributes.items():
            idx = attribute_index(key)
            out[idx] = check_degree(value, f"degree of {ATTRIBUTES[idx]}")
        return tuple(out)
    if isinstance(attributes, np.ndarray):
        attributes = attributes.tolist()
    if isinstance(attributes, (str, bytes)) or not isinstance(attributes, Sequence):
        raise UserError(
            f"attributes must be {NUM_ATTRIBUTES} degrees in the order {', '.join(ATTRIBUTES)} "
            f"(or a name->degree mapping), got {attributes!r}"
        )
    if len(attributes) != NUM_ATTRIBUTES:
        raise UserError(
            f"expected {NUM_ATTRIBUTES} attribute degrees ({', '.join(ATTRIBUTES)}), got {len(attributes)}"
        )
    return tuple(check_degree(v, f"degree of {name}") for name, v in zip(ATTRIBUTES, attributes))


def with_degree(attributes, attr, degree) -> tuple[int, ...]:
    """`attributes` with one attribute set to `degree`."""
    attrs = list(validate_attributes(attributes))
    attrs[attribute_index(attr)] = check_degree(degree, "new degree")
    return tuple(attrs)
