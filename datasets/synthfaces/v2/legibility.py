"""How legible is each degree step? Pixels changed by a clearly visible amount.

A pixel counts as *visibly changed* between two renders when its largest channel difference
exceeds `THRESHOLD` (24 grey levels, about 9 % of the range) at 64 px. For every attribute
and every step d -> d+1, `step_sizes` renders the step for many identities, each in a
realistic context (its other degrees drawn from the population prior for its face type, a
random photo nuisance), and counts those pixels. The world-2 requirement (issue 9): the
median over identities of every step is at least 60 pixels, and the per-attribute medians
(over all steps and identities) are within a factor of 10 of each other.
"""
from __future__ import annotations

import numpy as np

from ..attributes import ATTRIBUTES, MAX_DEGREE, NUM_ATTRIBUTES

THRESHOLD = 24
MIN_STEP_PIXELS = 60
MAX_RATIO = 10.0


def changed_pixels(a: np.ndarray, b: np.ndarray, threshold: int = THRESHOLD) -> int:
    d = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(-1)
    return int((d > threshold).sum())


def contexts(n: int, seed: int = 0, world: int = 2):
    """`n` (identity, degrees, nuisance) contexts: test-split identities, prior degrees, photo nuisance."""
    if world == 1:
        from ..splits import sample_attributes, split_identity

        return [(split_identity("test", k), sample_attributes("test", k, seed), None) for k in range(n)]
    from .identity import identity_from_id
    from .nuisance import sample_nuisance
    from .population import sample_degrees
    from .splits import split_identity

    out = []
    for k in range(n):
        ident = split_identity("test", k)
        rng = np.random.default_rng([0x1E6, seed, k])
        out.append((ident, sample_degrees(rng, identity_from_id(ident).masculine), sample_nuisance(rng)))
    return out


def step_sizes(n: int = 50, size: int = 64, seed: int = 0, world: int = 2, threshold: int = THRESHOLD,
               style: str = "photo") -> np.ndarray:
    """(5 attributes, 5 steps, n identities) counts of visibly changed pixels per step."""
    if world == 1:
        from ..render import render as render1

        def draw(ident, attrs, nuis):
            return render1(ident, attrs, size, style)
    else:
        from .render import render as render2

        def draw(ident, attrs, nuis):
            return render2(ident, attrs, size, style, nuis)
    out = np.zeros((NUM_ATTRIBUTES, MAX_DEGREE, n), np.int64)
    for k, (ident, base, nuis) in enumerate(contexts(n, seed, world)):
        for a in range(NUM_ATTRIBUTES):
            prev = None
            for d in range(MAX_DEGREE + 1):
                attrs = list(base)
                attrs[a] = d
                img = draw(ident, attrs, nuis)
                if prev is not None:
                    out[a, d - 1, k] = changed_pixels(prev, img, threshold)
                prev = img
    return out


def summary(counts: np.ndarray) -> dict:
    """Per-step medians, per-attribute medians and their max/min ratio."""
    step_med = np.median(counts, axis=2)
    attr_med = np.median(counts.reshape(counts.shape[0], -1), axis=1)
    return {"step_median": {name: step_med[a].tolist() for a, name in enumerate(ATTRIBUTES)},
            "attribute_median": {name: float(attr_med[a]) for a, name in enumerate(ATTRIBUTES)},
            "min_step_median": float(step_med.min()),
            "ratio": float(attr_med.max() / max(attr_med.min(), 1.0))}


if __name__ == "__main__":  # python -m datasets.synthfaces.v2.legibility [N] [WORLD]
    import json
    import sys

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    world = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    print(json.dumps(summary(step_sizes(n, world=world)), indent=1))
