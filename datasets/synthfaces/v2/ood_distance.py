"""How far out of distribution is the art set? FD-VGG16 of photo vs art next to the photo floor.

    python -m datasets.synthfaces.v2.ood_distance [--n 500] [--size 64] [--worlds 1 2]

For each world: FD-VGG16 (bench.metrics, ImageNet VGG16 relu5_3, pooled) between the first
`n` plain test items (``requests=none``) and the first `n` plain train items -- the floor a
same-distribution pair reaches with this many images -- and between the photo test set and
the art test set. Prints one JSON object.
"""
from __future__ import annotations

import argparse
import json

import numpy as np


def image_set(spec: str, n: int, size: int) -> np.ndarray:
    from bench.registry import DATASETS, load_builtin

    load_builtin()
    return np.stack([it.image for it in DATASETS.create(spec).items(n, size, 0)])


def distances(world: int, n: int = 500, size: int = 64) -> dict:
    from bench.metrics.distribution import distribution_distance

    suffix = ",requests=none" + ("" if world == 1 else f",world={world}")
    test = image_set(f"synthfaces:split=test{suffix}", n, size)
    train = image_set(f"synthfaces:split=train{suffix}", n, size)
    art = image_set(f"synthfaces-art:split=test{suffix}", n, size)
    floor = distribution_distance(test, train, backend="vgg16")["FD-VGG16"]
    ood = distribution_distance(test, art, backend="vgg16")["FD-VGG16"]
    return {"world": world, "n": n, "size": size, "FD-VGG16 photo test vs photo train": round(float(floor), 2),
            "FD-VGG16 photo test vs art test": round(float(ood), 2), "ratio": round(float(ood / floor), 1)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m datasets.synthfaces.v2.ood_distance")
    ap.add_argument("--n", type=int, default=500)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--worlds", type=int, nargs="+", default=[1, 2])
    args = ap.parse_args(argv)
    print(json.dumps([distances(w, args.n, args.size) for w in args.worlds], indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
