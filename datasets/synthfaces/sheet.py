"""Contact sheets for eyeballing SynthFaces.

    python -m datasets.synthfaces.sheet OUT.png [--kind random|degrees|art] [--size 64]
                                               [--seed 0] [--identity ID] [--scale 1]

``random``: 8x8 random identities and attributes; ``degrees``: one identity, one row per
attribute (Bangs, Eyeglasses, Beard, Smiling, Young) across degrees 0..5; ``art``: the
same 8x8 faces in the art style.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
from PIL import Image

from bench.errors import UserError

from .attributes import MAX_DEGREE, NUM_ATTRIBUTES
from .contact import contact_sheet
from .identity import IDENTITY_COUNT
from .render import render


def random_faces(n: int = 64, size: int = 64, seed: int = 0, style: str = "photo"):
    rng = np.random.default_rng(seed)
    return [render(int(rng.integers(0, IDENTITY_COUNT)), rng.integers(0, MAX_DEGREE + 1, NUM_ATTRIBUTES).tolist(),
                   size, style) for _ in range(n)]


def degree_faces(identity: int, size: int = 64, base=(0, 0, 0, 0, 3), style: str = "photo"):
    """5 rows x 6 cols: each attribute swept over degrees 0..5, the others at `base`."""
    out = []
    for a in range(NUM_ATTRIBUTES):
        for d in range(MAX_DEGREE + 1):
            attrs = list(base)
            attrs[a] = d
            out.append(render(identity, attrs, size, style))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m datasets.synthfaces.sheet", description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--kind", choices=("random", "degrees", "art"), default="random")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--identity", type=int, default=1234)
    ap.add_argument("--scale", type=int, default=1, help="nearest-neighbour upscaling of the sheet")
    args = ap.parse_args(argv)
    try:
        if args.kind == "degrees":
            sheet = contact_sheet(degree_faces(args.identity, args.size), 6)
        else:
            sheet = contact_sheet(random_faces(64, args.size, args.seed, "art" if args.kind == "art" else "photo"), 8)
        img = Image.fromarray(sheet)
        if args.scale > 1:
            img = img.resize((img.width * args.scale, img.height * args.scale), Image.NEAREST)
        img.save(args.out)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
