"""Where does the shipped identity embedder miss the same person under a new nuisance?

Rebuilds the new-nuisance probe pairs (``methods.nets.identity_probes.probe_pairs``' recipe: the same
person, degrees and photo recipe, two independent nuisances) for held-out test identities, embeds
them with the shipped embedder and reports the verified share (cosine >= the shipped threshold) by
quartile of each nuisance difference (head turn, roll, scale, key-light reach, ...) and by the degrees
and hair style the pair shares. Prints Markdown; reads nothing but the shipped weights.

    OMP_NUM_THREADS=1 python scripts/experiments/nuisance_misses.py [--start 500] [--n 600]

About 1.5 minutes for 600 pairs on one thread.
"""
from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> None:
    import torch

    from datasets.synthfaces.v2 import identity_from_id, render, sample_nuisance
    from datasets.synthfaces.v2.identity import HAIR_STYLES
    from datasets.synthfaces.v2.splits import split_identity
    from lookalike_legibility import positive_int  # this script's folder is on sys.path when run
    from methods.nets import identity_embedder as ie

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--start", type=int, default=500, help="first test-split index (>= 0)")
    ap.add_argument("--n", type=positive_int, default=600)
    args = ap.parse_args()
    if args.start < 0:
        ap.error(f"--start must be a test-split index >= 0, got {args.start}")
    torch.set_num_threads(1)
    model = ie.load_embedder()
    a_imgs, b_imgs, rows = [], [], []
    for index in range(args.start, args.start + args.n):
        rng = np.random.default_rng([0x9B0BE, index, 0])  # the probe's own draws
        ident = split_identity("test", index)
        attrs = rng.integers(0, 6, 5).tolist()
        n1 = sample_nuisance(rng, "photo")
        a_imgs.append(render(ident, attrs, 64, "photo", n1))
        n2 = sample_nuisance(rng, "photo")
        b_imgs.append(render(ident, attrs, 64, "photo", n2))
        face = identity_from_id(ident)
        rows.append({
            "head turn difference (rad)": abs(n1.yaw - n2.yaw),
            "roll difference (rad)": abs(n1.roll - n2.roll),
            "scale difference (|log ratio|)": abs(math.log(n1.scale / n2.scale)),
            "key-light reach (larger of the two)": max(n1.light_reach, n2.light_reach),
            "light direction difference (rad)": abs(math.remainder(n1.light_az - n2.light_az, 2 * math.pi)),
            "colour temperature difference": abs(n1.warmth - n2.warmth),
            "Bangs": attrs[0], "Eyeglasses": attrs[1], "Beard": attrs[2], "Smiling": attrs[3], "Young": attrs[4],
            "hair style": HAIR_STYLES[face.hair_style],
        })
    za, zb = model.embed(np.stack(a_imgs)), model.embed(np.stack(b_imgs))
    cos = (torch.as_tensor(za) * torch.as_tensor(zb)).sum(1).numpy()
    ok = cos >= model.threshold
    print(f"{args.n} held-out identities ({args.start}..{args.start + args.n - 1}), new-nuisance pairs: "
          f"{100 * ok.mean():.1f} % verified at the shipped threshold {model.threshold:.4f}\n")
    print("| what the pair differs in / shares | groups (verified %) |")
    print("|---|---|")
    for key in rows[0]:
        v = np.array([r[key] for r in rows])
        if v.dtype.kind == "f":
            q = np.quantile(v, np.linspace(0, 1, 5))
            cells = [f"{lo:.3f}-{hi:.3f}: {100 * ok[(v >= lo) & (v <= hi)].mean():.0f}"
                     for lo, hi in zip(q[:-1], q[1:])]
        else:
            cells = [f"{u}: {100 * ok[v == u].mean():.0f} (n {int((v == u).sum())})" for u in sorted(set(v.tolist()))]
        print(f"| {key} | " + "; ".join(cells) + " |")


if __name__ == "__main__":
    main()
