"""World-2 identities: the face itself, nothing about the photograph.

An identity is everything that stays the same across photographs of one person: face
geometry, skin, eye colour, hair colour and hair style (and a masculine/feminine face type
that shapes the jaw, brows and lips and that the beard prior depends on). Background,
clothing, pose and lighting are *nuisance* (:mod:`.nuisance`), drawn per image.

Two groups of factors:

* 17 **geometry factors** (``GEOMETRY_FACTORS``: face width, face length, jaw, cheekbones,
  forehead, chin, eye size / shape / spacing / tilt, brow thickness / shape, nose length /
  width, mouth width, lip fullness, ear size) are the mixed-radix digits of ``permute(id)``,
  a fixed bijection of ``[0, IDENTITY_COUNT)``. Distinct ids therefore always have distinct
  face geometry; every level is uniformly likely.
* **Appearance factors** (``APPEARANCE_FACTORS``: face type, skin tone, hair colour, hair
  style, parting side, eye colour, lip colour, plus tiny continuous tone jitter) are drawn
  from CelebA-like priors (mostly lighter skin tones, hair and eye colour depending on the
  skin tone, hair style depending on the face type) with an RNG seeded by the id.

``lookalike(ident, k, rng)`` returns the same person with exactly ``k`` geometry factors
moved to another level (an `Identity` object, not addressable by id): the probe for
"how much geometry does an identity model see".
"""
from __future__ import annotations

from dataclasses import dataclass, fields, replace
from functools import lru_cache
from math import prod

import numpy as np

from bench.errors import UserError

# (name, number of levels); the order fixes the mixed-radix digit order (never reorder).
GEOMETRY_FACTORS: tuple[tuple[str, int], ...] = (
    ("face_width", 5),
    ("face_length", 5),
    ("jaw", 4),            # round, oval, pointed, square
    ("cheekbones", 3),     # flat, medium, high/wide
    ("forehead", 3),       # low, medium, high hairline
    ("chin", 3),           # short, medium, long
    ("eye_size", 3),
    ("eye_shape", 3),      # narrow, almond, round
    ("eye_spacing", 4),
    ("eye_tilt", 3),       # down-turned, level, up-turned outer corners
    ("brow_thickness", 3),
    ("brow_shape", 3),     # straight, soft arch, angled
    ("nose_length", 4),
    ("nose_width", 4),
    ("mouth_width", 4),
    ("lip_fullness", 3),
    ("ear_size", 3),
)
GEOMETRY_NAMES = tuple(name for name, _ in GEOMETRY_FACTORS)
IDENTITY_COUNT: int = prod(n for _, n in GEOMETRY_FACTORS)

HAIR_STYLES = ("crop", "side-swept", "buzz", "bob", "long", "wavy", "bun", "curly", "shoulder")

# Appearance priors. Skin tones light -> deep (v1 palette); CelebA is mostly lighter-skinned.
SKIN_PRIOR = (0.13, 0.17, 0.16, 0.13, 0.10, 0.08, 0.07, 0.06, 0.05, 0.05)
# hair colours: black, dark brown, brown, light brown, dark blonde, light blonde, auburn, ginger
HAIR_PRIOR_LIGHT = (0.12, 0.22, 0.20, 0.13, 0.12, 0.10, 0.06, 0.05)   # skin tones 0-2
HAIR_PRIOR_MEDIUM = (0.32, 0.34, 0.18, 0.07, 0.04, 0.01, 0.03, 0.01)  # 3-5
HAIR_PRIOR_DEEP = (0.62, 0.33, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0)          # 6-9
# eye colours: dark brown, brown, hazel, green, blue, grey
EYE_PRIOR_LIGHT = (0.18, 0.20, 0.15, 0.12, 0.25, 0.10)
EYE_PRIOR_DEEP = (0.78, 0.20, 0.02, 0.0, 0.0, 0.0)
# hair styles by face type, in HAIR_STYLES order
STYLE_PRIOR_MASC = (0.30, 0.26, 0.17, 0.02, 0.03, 0.01, 0.01, 0.14, 0.06)
STYLE_PRIOR_FEM = (0.03, 0.05, 0.01, 0.16, 0.27, 0.16, 0.10, 0.08, 0.14)
MASCULINE_SHARE = 0.417  # CelebA "Male"

APPEARANCE_FACTORS: tuple[tuple[str, int], ...] = (
    ("masculine", 2), ("skin", 10), ("hair_colour", 8), ("hair_style", len(HAIR_STYLES)),
    ("part_side", 2), ("eye_colour", 6), ("lip_colour", 3),
)


@dataclass(frozen=True)
class Identity:
    """One world-2 person. Build it with `identity_from_id` (or `lookalike`)."""

    id: int
    # geometry (uniform, bijective in the id)
    face_width: int
    face_length: int
    jaw: int
    cheekbones: int
    forehead: int
    chin: int
    eye_size: int
    eye_shape: int
    eye_spacing: int
    eye_tilt: int
    brow_thickness: int
    brow_shape: int
    nose_length: int
    nose_width: int
    mouth_width: int
    lip_fullness: int
    ear_size: int
    # appearance (CelebA-like priors)
    masculine: bool
    skin: int
    hair_colour: int
    hair_style: int
    part_side: int
    eye_colour: int
    lip_colour: int
    skin_jitter: float
    hair_jitter: float

    def geometry_factors(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in GEOMETRY_NAMES}

    def factors(self) -> dict:
        """All discrete factors by name (JSON-friendly), e.g. for item labels."""
        out = self.geometry_factors()
        out.update(masculine=bool(self.masculine), skin=self.skin, hair_colour=self.hair_colour,
                   hair_style=HAIR_STYLES[self.hair_style], part_side=self.part_side,
                   eye_colour=self.eye_colour, lip_colour=self.lip_colour)
        return out


# ---------------------------------------------------------------- bijection of [0, N)
_HALF_BITS = (IDENTITY_COUNT.bit_length() + 1) // 2
_MASK = (1 << _HALF_BITS) - 1
_ROUND_KEYS = (0x2545F491, 0x9E3779B9, 0x7F4A7C15, 0xBB67AE85)


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


def geometry_digits(i: int) -> tuple[int, ...]:
    v = permute(i)
    out = []
    for _, n in GEOMETRY_FACTORS:
        v, d = divmod(v, n)
        out.append(d)
    return tuple(out)


def check_identity_id(i) -> int:
    if isinstance(i, bool) or not isinstance(i, (int, np.integer)):
        raise UserError(f"identity id must be an integer in [0, {IDENTITY_COUNT}), got {i!r}")
    i = int(i)
    if not 0 <= i < IDENTITY_COUNT:
        raise UserError(f"identity id {i} is out of range: valid world-2 ids are 0 .. {IDENTITY_COUNT - 1}")
    return i


def _draw(rng: np.random.Generator, probs) -> int:
    p = np.asarray(probs, np.float64)
    return int(np.searchsorted(np.cumsum(p / p.sum()), rng.random(), side="right"))


@lru_cache(maxsize=8192)
def identity_from_id(i: int) -> Identity:
    """The world-2 identity with id `i` (deterministic; valid ids 0 .. IDENTITY_COUNT-1)."""
    i = check_identity_id(i)
    rng = np.random.default_rng([0x1D2, i])
    masc = bool(rng.random() < MASCULINE_SHARE)
    skin = _draw(rng, SKIN_PRIOR)
    hair = _draw(rng, HAIR_PRIOR_LIGHT if skin <= 2 else HAIR_PRIOR_MEDIUM if skin <= 5 else HAIR_PRIOR_DEEP)
    style = _draw(rng, STYLE_PRIOR_MASC if masc else STYLE_PRIOR_FEM)
    part = int(rng.random() < 0.5)
    eye = _draw(rng, EYE_PRIOR_LIGHT if skin <= 4 else EYE_PRIOR_DEEP)
    lip = int(rng.integers(3))
    skin_j, hair_j = (float(v) for v in 0.06 * rng.random(2) - 0.03)
    return Identity(i, *geometry_digits(i), masculine=masc, skin=skin, hair_colour=hair, hair_style=style,
                    part_side=part, eye_colour=eye, lip_colour=lip, skin_jitter=skin_j, hair_jitter=hair_j)


def lookalike(ident: Identity, k: int = 3, rng=None) -> Identity:
    """`ident` with exactly `k` geometry factors set to a different level (uniformly chosen).

    Everything else (skin, eyes, hair, face type, tone jitter, id) stays, so a render under
    the same nuisance differs only where the changed geometry shows.
    """
    if not isinstance(ident, Identity):
        ident = identity_from_id(ident)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= len(GEOMETRY_FACTORS):
        raise UserError(f"lookalike k must be an integer 0..{len(GEOMETRY_FACTORS)}, got {k!r}")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    picks = rng.choice(len(GEOMETRY_FACTORS), size=int(k), replace=False)
    changes = {}
    for j in sorted(int(p) for p in picks):
        name, n = GEOMETRY_FACTORS[j]
        old = getattr(ident, name)
        changes[name] = (old + 1 + int(rng.integers(n - 1))) % n
    return replace(ident, **changes)


def identity_fields() -> tuple[str, ...]:
    return tuple(f.name for f in fields(Identity))
