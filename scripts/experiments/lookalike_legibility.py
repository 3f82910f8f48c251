"""How visible is each face-geometry factor at 64 px? (the identity embedder's look-alike ceiling)

For N held-out test identities, each under its own random degrees and nuisance, every geometry
factor is moved alone to another level (as ``lookalike`` moves three) and the render is compared
with the original: pixels whose largest channel moves by more than 24 levels, and the mean absolute
change over the frame. Beside it, the same counts for 3-factor look-alikes drawn as the probe draws
them, and for the changes an embedder must ignore (a 3-px shift). Prints a Markdown table.

    python scripts/experiments/lookalike_legibility.py [--n 150]
"""
from __future__ import annotations

import argparse
from dataclasses import replace

import numpy as np


def changed(a: np.ndarray, b: np.ndarray) -> tuple[int, float]:
    d = np.abs(a.astype(np.int16) - b.astype(np.int16))
    return int((d.max(-1) > 24).sum()), float(d.mean())


def positive_int(text: str) -> int:
    """argparse type: a count of at least 1 (one clear line, exit 2, for anything else)."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of identities >= 1, got {text!r}")
    return value


def pixel_changes(n: int, factors=None, shift: bool = True) -> dict[str, list[tuple[int, float]]]:
    """For held-out test identities 4000..4000+n-1 under their own degrees and nuisance: what moving
    each geometry factor in `factors` alone (default: all, in the world's order), a 3-factor look-alike
    and (`shift`) a 3-px shift change, as ``changed`` counts it. Keys: factor names, "look-alike",
    "shift". The random draws follow the factors' order, so a subset in the world's order draws the
    same levels a caller with that subset always drew."""
    from datasets.synthfaces.v2 import identity_from_id, lookalike, render, sample_nuisance
    from datasets.synthfaces.v2.identity import GEOMETRY_FACTORS
    from datasets.synthfaces.v2.splits import split_identity
    from methods.nets.identity_probes import shift_image

    levels = dict(GEOMETRY_FACTORS)
    names = [name for name, _ in GEOMETRY_FACTORS] if factors is None else list(factors)
    out = {name: [] for name in names + ["look-alike"] + (["shift"] if shift else [])}
    for i in range(n):
        rng = np.random.default_rng([0x1E61B, i])
        ident = identity_from_id(split_identity("test", 4000 + i))
        attrs = rng.integers(0, 6, 5).tolist()
        nuis = sample_nuisance(rng, "photo")
        base = render(ident, attrs, 64, "photo", nuis)
        for name in names:
            new = (getattr(ident, name) + 1 + int(rng.integers(levels[name] - 1))) % levels[name]
            out[name].append(changed(base, render(replace(ident, **{name: new}), attrs, 64, "photo", nuis)))
        out["look-alike"].append(changed(base, render(lookalike(ident, 3, rng), attrs, 64, "photo", nuis)))
        if shift:
            out["shift"].append(changed(base, shift_image(base, *(int(v) for v in rng.choice([-3, 3], 2)))))
    return out


def main() -> None:
    from datasets.synthfaces.v2.identity import GEOMETRY_FACTORS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=positive_int, default=150)
    n = ap.parse_args().n
    per = pixel_changes(n)
    look, shift = per.pop("look-alike"), per.pop("shift")

    def row(label: str, vals: list[tuple[int, float]]) -> str:
        px = np.array([v[0] for v in vals])
        mad = np.array([v[1] for v in vals])
        return (f"| {label} | {np.median(px):.0f} | {np.percentile(px, 10):.0f} | {100 * np.mean(px < 20):.0f} % | {100 * np.mean(px < 5):.0f} % | "
                f"{np.median(mad):.2f} |")

    print(f"{n} held-out test identities (4000..{3999 + n}), 64 px, own degrees and nuisance each\n")
    print("| change | pixels changed (median) | 10th percentile | under 20 pixels | under 5 pixels | mean abs change (levels, median) |")
    print("|---|---|---|---|---|---|")
    for name, _ in sorted(GEOMETRY_FACTORS, key=lambda f: np.median([v[0] for v in per[f[0]]])):
        print(row(f"{name} alone", per[name]))
    print(row("3-factor look-alike (as the probe)", look))
    print(row("3-px shift (must be ignored)", shift))


if __name__ == "__main__":
    main()
