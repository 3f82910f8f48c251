"""Identities: everything about a SynthFaces face that is *not* an edited attribute.

An identity is a frozen dataclass derived deterministically from an integer id in
``[0, IDENTITY_COUNT)``. It holds

* 18 *discrete factors* (head shape, skin tone, hair, eyes, brows, nose, mouth, ears,
  background, clothing), each an index into a small table of visibly different levels
  (the tables live in :mod:`datasets.synthfaces.palette`), and
* a few *continuous nuisance* parameters (small pose: shift / rotation / scale, lighting
  direction and gain, slight colour jitter) drawn from a NumPy RNG seeded with the id.

The discrete factors are the mixed-radix digits of ``permute(id)``, where ``permute`` is a
fixed bijection of ``[0, IDENTITY_COUNT)`` (a 4-round Feistel network with cycle walking).
Distinct ids therefore always give distinct factor tuples -- no two identities collide --
while neighbouring ids still look unrelated.

Identity count
--------------
``IDENTITY_COUNT`` is the product of the factor sizes (see ``FACTORS``):
5*4*4*10*8*6*2*3*6*3*3*2*4*3*3*3*10*8 = 214,990,848,000 (about 2.1e11). Counting
conservatively only the factors that are obvious even on a 64x64 thumbnail -- skin tone
(10), hair colour (8), hair style (6) x parting side (2), jaw shape (4), face width (5),
face length (4), eye colour (6) and nose type (4) -- already gives 1,843,200 > 1e6
distinguishable faces, before brows, eye shape/spacing, mouth, lips, ears, background,
clothing, pose and lighting are taken into account.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from functools import lru_cache
from math import prod

import numpy as np

from bench.errors import UserError

# (name, number of levels). Order fixes the mixed-radix digit order; never reorder
# without bumping datasets.synthfaces.cache.CACHE_VERSION.
FACTORS: tuple[tuple[str, int], ...] = (
    ("face_width", 5),
    ("face_length", 4),
    ("jaw", 4),  # round, oval, pointed, square
    ("skin", 10),  # realistic skin-tone palette, light -> deep
    ("hair_colour", 8),
    ("hair_style", 6),  # crop, side-swept, bob, long, curly, bun
    ("part_side", 2),  # parting / sweep to the left or right
    ("eye_shape", 3),  # narrow, almond, round
    ("eye_colour", 6),
    ("eye_spacing", 3),
    ("brow_thickness", 3),
    ("brow_arch", 2),
    ("nose", 4),
    ("mouth_width", 3),
    ("lip_colour", 3),
    ("ear_size", 3),
    ("background", 10),
    ("clothing", 8),
)
FACTOR_NAMES = tuple(name for name, _ in FACTORS)
IDENTITY_COUNT: int = prod(n for _, n in FACTORS)

# Factors that are clearly visible at 64x64; their product is the conservative count.
CONSERVATIVE_FACTORS = ("skin", "hair_colour", "hair_style", "part_side", "jaw", "face_width",
                        "face_length", "eye_colour", "nose")
CONSERVATIVE_COUNT: int = prod(n for name, n in FACTORS if name in CONSERVATIVE_FACTORS)


@dataclass(frozen=True)
class Identity:
    """All non-attribute parameters of one face. Build it with `identity_from_id`."""

    id: int
    # discrete factors (indices into the tables of datasets.synthfaces.palette)
    face_width: int
    face_length: int
    jaw: int
    skin: int
    hair_colour: int
    hair_style: int
    part_side: int
    eye_shape: int
    eye_colour: int
    eye_spacing: int
    brow_thickness: int
    brow_arch: int
    nose: int
    mouth_width: int
    lip_colour: int
    ear_size: int
    background: int
    clothing: int
    # continuous nuisance: pose (canonical units, radians), lighting, colour jitter
    shift_x: float
    shift_y: float
    rotation: float
    scale: float
    light_x: float
    light_y: float
    light_gain: float
    skin_jitter: float
    hair_jitter: float
    hairline_jitter: float
    frame_colour: int  # colour of eyeglass frames, if the glasses attribute is on

    def factors(self) -> dict[str, int]:
        """The discrete factor levels, by name."""
        return {name: getattr(self, name) for name in FACTOR_NAMES}

    def factor_tuple(self) -> tuple[int, ...]:
        return tuple(getattr(self, name) for name in FACTOR_NAMES)


# ---------------------------------------------------------------- bijection of [0, N)
_HALF_BITS = (IDENTITY_COUNT.bit_length() + 1) // 2
_MASK = (1 << _HALF_BITS) - 1
_ROUND_KEYS = (0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C)


def _round(r: int, key: int) -> int:
    h = (r * 0x9E3779B1 + key) & 0xFFFFFFFFFFFF
    h ^= h >> 17
    h = (h * 0x85EBCA6B) & 0xFFFFFFFFFFFF
    h ^= h >> 13
    return h & _MASK


def _feistel(v: int) -> int:
    left, right = v >> _HALF_BITS, v & _MASK
    for key in _ROUND_KEYS:
        left, right = right, left ^ _round(right, key)
    return (left << _HALF_BITS) | right


def permute(i: int) -> int:
    """A fixed bijection of [0, IDENTITY_COUNT) (Feistel network + cycle walking)."""
    v = _feistel(i)
    while v >= IDENTITY_COUNT:
        v = _feistel(v)
    return v


def factor_digits(i: int) -> tuple[int, ...]:
    """The discrete factor levels of identity `i` (mixed-radix digits of permute(i))."""
    v = permute(i)
    out = []
    for _, n in FACTORS:
        v, d = divmod(v, n)
        out.append(d)
    return tuple(out)


def check_identity_id(i) -> int:
    if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
        raise UserError(f"identity id must be an integer in [0, {IDENTITY_COUNT}), got {i!r}")
    i = int(i)
    if not 0 <= i < IDENTITY_COUNT:
        raise UserError(f"identity id {i} is out of range: valid ids are 0 .. {IDENTITY_COUNT - 1}")
    return i


@lru_cache(maxsize=4096)
def identity_from_id(i: int) -> Identity:
    """The identity with id `i` (deterministic; valid ids are 0 .. IDENTITY_COUNT-1)."""
    i = check_identity_id(i)
    digits = factor_digits(i)
    rng = np.random.default_rng([0x5F4CE5, i])
    u = rng.random(11)
    az = 2.0 * np.pi * u[4]
    reach = 0.35 + 0.5 * u[5]  # how far off-axis the key light is
    cont = dict(
        shift_x=float(0.08 * u[0] - 0.04),
        shift_y=float(0.06 * u[1] - 0.03),
        rotation=float(np.deg2rad(12.0 * u[2] - 6.0)),
        scale=float(0.94 + 0.10 * u[3]),
        light_x=float(reach * np.cos(az)),
        light_y=float(-abs(reach * np.sin(az)) * 0.8),  # light mostly from above
        light_gain=float(0.9 + 0.18 * u[6]),
        skin_jitter=float(0.06 * u[7] - 0.03),
        hair_jitter=float(0.10 * u[8] - 0.05),
        hairline_jitter=float(0.04 * u[9] - 0.02),
        frame_colour=int(u[10] * 4) % 4,
    )
    return Identity(i, *digits, **cont)


def identity_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(Identity))
