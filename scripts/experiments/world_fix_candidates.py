"""What a world fix would change: measured on world 2 and on candidate tables, without shipping a world.

Two world-level defects cap issue 9's bars (docs/identity-embedder-experiments.md,
datasets/synthfaces/README.md):

A. **Bangs 2 vs 3.** A fringe degree is a fraction of the forehead, measured from the hairline the
   fringe hides. What a reader sees is the forehead left *below* the fringe (fringe to brows). Part A
   computes that gap from the geometry alone (no rendering) for held-out identities, normalised by
   the face's half-height, and asks how well an ideal reader of the gap names the degree: a
   nearest-neighbour reader fitted on other identities (k = 25), per hairline level. Candidate rule:
   the gap is fixed per degree relative to the face (``(1 - f_d)`` of a *medium* forehead, the
   fringe at least 0.04 long), so the visible landmark carries the degree.
B. **Invisible geometry factors.** Ear size, cheekbones, lip fullness and nose width move 0-3 pixels at
   64 px. Part B renders held-out identities with each of those factors moved alone, and 3-factor
   look-alikes drawn as the probe draws them, under world 2's tables and under widened candidate
   tables (patched into the world-2 geometry module for this process only), and counts changed pixels
   (largest channel moves > 24 levels), as ``lookalike_legibility.py`` does.

    python scripts/experiments/world_fix_candidates.py [--n 150] [--part A|B|both]

Nothing here changes the shipped world: a world change is a new world version that every image model
is retrained on.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

WIDENED = {  # candidate tables for the four factors that barely show (world 2's in the comment)
    "CHEEKBONES": (0.0, 0.065, 0.13),          # (0.0, 0.035, 0.07)   relative widening
    "NOSE_WIDTH": (0.038, 0.064, 0.090, 0.116),  # (0.046 .. 0.076)   nostril half-width
    "LIP_FULLNESS": (0.55, 1.0, 1.55),          # (0.72, 1.0, 1.3)
    "EAR_SIZE": (0.70, 1.0, 1.35),              # (0.85, 1.0, 1.18)
}
FACTOR_OF = {"CHEEKBONES": "cheekbones", "NOSE_WIDTH": "nose_width", "LIP_FULLNESS": "lip_fullness",
             "EAR_SIZE": "ear_size"}


# ------------------------------------------------------------------------------------ part A
def fringe_gaps(g, rule: str) -> np.ndarray:
    """Fringe-to-brow gap at the midline for Bangs degrees 1..4, in units of the face half-height."""
    from datasets.synthfaces.v2.face import FRINGE
    from datasets.synthfaces.v2.geometry import FOREHEAD

    brow_top = g.brow_y - g.brow_arch - g.brow_th - 0.01
    out = []
    for d in range(1, 5):
        if rule == "world2":
            yb = g.hl0 + FRINGE[d] * (brow_top - g.hl0)
        else:  # candidate: a fixed share of a medium forehead is left visible, whatever the hairline
            medium = brow_top - (g.hy - FOREHEAD[1] * g.b)
            yb = max(brow_top - (1.0 - FRINGE[d]) * medium, g.hl0 + 0.04)
        out.append((brow_top - yb) / g.b)
    return np.array(out)


def part_a(n: int) -> None:
    from datasets.synthfaces.v2.geometry import geometry
    from datasets.synthfaces.v2.identity import identity_from_id
    from datasets.synthfaces.v2.splits import split_identity

    def table(split_start: int, rule: str):
        feats, labels, hairline = [], [], []
        for i in range(n):
            ident = identity_from_id(split_identity("test", split_start + i))
            young = int(np.random.default_rng([0xB4, split_start + i]).integers(0, 6))
            gaps = fringe_gaps(geometry(ident, young), rule)
            feats.extend(gaps)
            labels.extend(range(1, 5))
            hairline.extend([ident.forehead] * 4)
        return np.array(feats), np.array(labels), np.array(hairline)

    print(f"Part A: an ideal reader of the fringe-to-brow gap (k-NN, k = 25, fitted on {n} other identities), "
          f"{n} held-out identities, Bangs degrees 1-4, random Young degree\n")
    print("| rule | hairline | degree 1 | degree 2 | degree 3 | degree 4 | degrees 2-3 "
          "| gap range deg 2 / deg 3 (face half-heights) |")
    print("|---|---|---|---|---|---|---|---|")
    for rule in ("world2", "candidate"):
        xf, yf, _ = table(20_000, rule)
        xt, yt, ht = table(30_000, rule)
        near = np.argsort(np.abs(xt[:, None] - xf[None, :]), axis=1)[:, :25]
        pred = np.array([np.bincount(yf[row], minlength=5).argmax() for row in near])
        for level, name in enumerate(("low", "medium", "high")):
            m = ht == level
            acc = [100 * np.mean(pred[m & (yt == d)] == d) for d in range(1, 5)]
            m23 = m & ((yt == 2) | (yt == 3))
            g2, g3 = xt[m & (yt == 2)], xt[m & (yt == 3)]
            print(f"| {rule} | {name} | " + " | ".join(f"{a:.0f} %" for a in acc)
                  + f" | {100 * np.mean(pred[m23] == yt[m23]):.0f} % | {g2.min():.2f}-{g2.max():.2f} / "
                    f"{g3.min():.2f}-{g3.max():.2f} |")
    print()


# ------------------------------------------------------------------------------------ part B
def legibility(n: int) -> dict[str, list[int]]:
    """Changed pixels of the four factors moved alone and of 3-factor look-alikes, counted (and drawn)
    exactly as ``lookalike_legibility.py`` does."""
    from lookalike_legibility import pixel_changes  # this script's folder is on sys.path when run

    per = pixel_changes(n, FACTOR_OF.values(), shift=False)
    return {("3-factor look-alike" if k == "look-alike" else k): [px for px, _ in v] for k, v in per.items()}


def part_b(n: int) -> None:
    from datasets.synthfaces.v2 import geometry as geo

    results = {"world 2": legibility(n)}
    saved = {k: getattr(geo, k) for k in WIDENED}
    try:
        for k, v in WIDENED.items():
            setattr(geo, k, v)
        geo.geometry.cache_clear()
        results["candidate"] = legibility(n)
    finally:
        for k, v in saved.items():
            setattr(geo, k, v)
        geo.geometry.cache_clear()
    print(f"Part B: pixels changed at 64 px (largest channel > 24 levels), {n} held-out identities, own degrees "
          "and nuisance; candidate tables: " + ", ".join(f"{k} {v}" for k, v in WIDENED.items()) + "\n")
    print("| change | world 2: median | under 5 px | under 20 px | candidate: median | under 5 px | under 20 px |")
    print("|---|---|---|---|---|---|---|")
    for key in results["world 2"]:
        cells = []
        for world in ("world 2", "candidate"):
            px = np.array(results[world][key])
            cells += [f"{np.median(px):.0f}", f"{100 * np.mean(px < 5):.0f} %", f"{100 * np.mean(px < 20):.0f} %"]
        label = key if key.startswith("3-") else f"{key} alone"
        print(f"| {label} | " + " | ".join(cells) + " |")
    print()


def main() -> None:
    from lookalike_legibility import positive_int

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=positive_int, default=150)
    ap.add_argument("--part", choices=("A", "B", "both"), default="both")
    args = ap.parse_args()
    if args.part in ("A", "both"):
        part_a(max(args.n, 300))
    if args.part in ("B", "both"):
        part_b(args.n)


if __name__ == "__main__":
    main()
