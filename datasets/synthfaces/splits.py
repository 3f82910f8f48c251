"""Splits with disjoint identities, and per-image attribute sampling.

Splits are contiguous identity-id ranges (ids are scrambled into faces by a bijection, so
a range is an unbiased sample of the identity space and ranges never share a face):

===========  =======================  ==========================================
split        identity ids             use
===========  =======================  ==========================================
finetune     [0, 16)                  few-shot adaptation (the paper's n_ft < 20)
(reserved)   [16, 1_000)              unused guard band
test         [1_000, 101_000)         evaluation (100k faces)
train        [101_000, IDENTITY_COUNT) training (about 2.1e11 faces)
===========  =======================  ==========================================

Image ``index`` of a split shows identity ``start + index``; its five attribute degrees
are ``splitmix64(split, index, seed, attribute) mod 6`` -- deterministic in
(split, index, seed), uniform over 0..5 and independent across attributes. ``seed``
changes the attributes, never the identity of an index.
"""
from __future__ import annotations

from bench.errors import UserError

from .attributes import MAX_DEGREE, NUM_ATTRIBUTES
from .identity import IDENTITY_COUNT

SPLITS: dict[str, tuple[int, int]] = {
    "finetune": (0, 16),
    "test": (1_000, 101_000),
    "train": (101_000, IDENTITY_COUNT),
}
_SPLIT_CODES = {"finetune": 1, "test": 2, "train": 3}
_M64 = (1 << 64) - 1


def check_split(split) -> str:
    if split not in SPLITS:
        raise UserError(f"unknown SynthFaces split {split!r}: valid splits are {', '.join(SPLITS)}")
    return split


def split_len(split: str, table: dict[str, tuple[int, int]] = SPLITS) -> int:
    lo, hi = table[check_split(split)]
    return hi - lo


def split_identity(split: str, index: int, table: dict[str, tuple[int, int]] = SPLITS) -> int:
    """Identity id shown by image `index` of `split` (ids from `table`, world 1's by default)."""
    lo, hi = table[check_split(split)]
    if not 0 <= index < hi - lo:
        raise UserError(f"index {index} is outside split '{split}' (0 .. {hi - lo - 1})")
    return lo + index


def splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    return x ^ (x >> 31)


def sample_attributes(split: str, index: int, seed: int = 0) -> tuple[int, ...]:
    """The attribute degrees of image `index` of `split` for `seed` (5 ints in 0..5)."""
    h = splitmix64((_SPLIT_CODES[check_split(split)] << 56) ^ splitmix64(index) ^ splitmix64(splitmix64(seed) + 1))
    out = []
    for a in range(NUM_ATTRIBUTES):
        h = splitmix64(h + a)
        out.append(h % (MAX_DEGREE + 1))
    return tuple(out)
