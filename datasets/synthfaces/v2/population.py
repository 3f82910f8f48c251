"""World-2 population: CelebA-like attribute degrees that depend on the face.

The joint prior over the five degrees given the face type (masculine / feminine) is a
chain of small tables,

    P(young | face) P(glasses | face, young) P(beard | face, young) P(bangs | face) P(smile | face)

chosen so that the binary CelebA attributes come out at their published rates (CelebA's
40-attribute labels over 202,599 images): Male 41.7 %, Young 77.4 %, Eyeglasses 6.5 %,
No_Beard 83.4 % (beards almost only on masculine faces), Bangs 15.2 %, Smiling 48.2 %.
A CelebA attribute corresponds to a degree threshold (``CELEBA_THRESHOLDS``): Eyeglasses,
Beard and Bangs are "present" from degree 1, Smiling from degree 2 (a clear smile; degree 1
is CelebA-Dialog's slight smile) and Young from degree 3 (adult or younger). The spread over
degrees follows CelebA-Dialog's fine-grained labels in spirit (most present attributes at
low and middle degrees, the extreme degree rarer). ``MARGINALS`` holds the resulting
per-degree marginals (computed exactly from the tables; README table and tests use it).
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..attributes import ATTRIBUTES, MAX_DEGREE, NUM_ATTRIBUTES
from .identity import MASCULINE_SHARE

D = MAX_DEGREE + 1

YOUNG = {  # P(young degree | face): 0 very old .. 5 very young
    True: (0.050, 0.090, 0.200, 0.330, 0.300, 0.030),
    False: (0.020, 0.040, 0.085, 0.300, 0.490, 0.065),
}
GLASSES_ANY = (0.19, 0.15, 0.10, 0.055, 0.035, 0.03)   # P(glasses > 0 | young), scaled by face type
GLASSES_FACE = {True: 1.45, False: 0.70}
GLASSES_DEG = (0.26, 0.30, 0.20, 0.09, 0.15)          # degree 1..5 given glasses
BEARD_ANY = (0.35, 0.41, 0.43, 0.41, 0.39, 0.02)      # P(beard > 0 | masculine, young)
BEARD_FEM = 0.002                                     # P(beard > 0 | feminine)
BEARD_DEG = (0.32, 0.24, 0.20, 0.14, 0.10)
BANGS_ANY = {True: 0.045, False: 0.228}
BANGS_DEG = (0.16, 0.22, 0.26, 0.22, 0.14)
SMILE = {
    True: (0.42, 0.14, 0.15, 0.14, 0.10, 0.05),
    False: (0.35, 0.14, 0.16, 0.16, 0.12, 0.07),
}
CELEBA_THRESHOLDS = {"Bangs": 1, "Eyeglasses": 1, "Beard": 1, "Smiling": 2, "Young": 3}
CELEBA_RATES = {"Male": 0.417, "Bangs": 0.152, "Eyeglasses": 0.065, "Beard": 0.166, "Smiling": 0.482,
                "Young": 0.774}


def _present(p_any: float, spread) -> np.ndarray:
    return np.concatenate([[1.0 - p_any], p_any * np.asarray(spread, float)])


@lru_cache(maxsize=None)
def tables(masc: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(young (6,), glasses (6 young, 6), beard (6 young, 6), bangs (6,), smile (6,)) for a face type."""
    young = np.asarray(YOUNG[masc], float)
    glasses = np.stack([_present(min(0.9, GLASSES_ANY[y] * GLASSES_FACE[masc]), GLASSES_DEG) for y in range(D)])
    beard = np.stack([_present(BEARD_ANY[y] if masc else BEARD_FEM, BEARD_DEG) for y in range(D)])
    bangs = _present(BANGS_ANY[masc], BANGS_DEG)
    smile = np.asarray(SMILE[masc], float)
    return young, glasses, beard, bangs, smile


def joint(attrs, masc: bool) -> float:
    """P(attrs | face type) under the prior."""
    b, g, br, s, y = (int(v) for v in attrs)
    young, glasses, beard, bangs, smile = tables(bool(masc))
    return float(young[y] * glasses[y, g] * beard[y, br] * bangs[b] * smile[s])


def conditional(attrs, attr: int, masc: bool) -> np.ndarray:
    """P(degree of `attr` | the other degrees, face type), as a (6,) vector."""
    p = np.empty(D)
    a = list(attrs)
    for d in range(D):
        a[attr] = d
        p[d] = joint(a, masc)
    return p / p.sum()


def _draw(rng: np.random.Generator, p) -> int:
    c = np.cumsum(p)
    return int(min(np.searchsorted(c / c[-1], rng.random(), side="right"), len(c) - 1))


def sample_degrees(rng: np.random.Generator, masc: bool) -> tuple[int, ...]:
    """Five degrees (Bangs, Eyeglasses, Beard, Smiling, Young) from the prior."""
    young, glasses, beard, bangs, smile = tables(bool(masc))
    y = _draw(rng, young)
    g = _draw(rng, glasses[y])
    br = _draw(rng, beard[y])
    b = _draw(rng, bangs)
    s = _draw(rng, smile)
    return (b, g, br, s, y)


@lru_cache(maxsize=1)
def marginals() -> dict:
    """Exact per-degree marginals of the prior over the population (face types mixed)."""
    out = {name: np.zeros(D) for name in ATTRIBUTES}
    by_face = {}
    for masc, w in ((True, MASCULINE_SHARE), (False, 1.0 - MASCULINE_SHARE)):
        young, glasses, beard, bangs, smile = tables(masc)
        face = {"Bangs": bangs, "Eyeglasses": young @ glasses, "Beard": young @ beard, "Smiling": smile,
                "Young": young}
        by_face[masc] = face
        for name in ATTRIBUTES:
            out[name] += w * face[name]
    return {"all": out, "masculine": by_face[True], "feminine": by_face[False]}


def celeba_rates() -> dict:
    """The binary CelebA rates the prior implies (threshold per attribute), plus Male."""
    m = marginals()["all"]
    rates = {name: float(m[name][CELEBA_THRESHOLDS[name]:].sum()) for name in ATTRIBUTES}
    rates["Male"] = MASCULINE_SHARE
    return rates


assert NUM_ATTRIBUTES == 5
