"""Contact sheets for eyeballing SynthFaces.

    python -m datasets.synthfaces.sheet OUT.png [--kind KIND] [--world 1|2] [--size 64]
                                               [--seed 0] [--identity ID] [--scale 1]
    python -m datasets.synthfaces.sheet --all DIR [--world 2]      # every kind into DIR/KIND.png

World 1 kinds: ``random``: 8x8 random identities and attributes; ``degrees``: one identity,
one row per attribute (Bangs, Eyeglasses, Beard, Smiling, Young) across degrees 0..5;
``art``: the same 8x8 faces in the art style.

World 2 kinds: ``random``: 8x4 test items (population degrees, random nuisance);
``degrees``: three identities, each with one row per attribute across degrees 0..5 (the
other degrees neutral: no bangs, glasses or beard, not smiling, adult), frontal;
``nuisance``: 4 identities (rows), each under 8 random nuisances; ``lookalike``: 6
identities (rows): the face, then look-alikes with k = 1, 2, 3, 5, 8, 17 geometry factors
changed, same nuisance; ``art``: 8x4 items of the art test set; ``art-degrees``: one identity,
one row per attribute in the art style (one medium per row).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from bench.errors import UserError

from .attributes import MAX_DEGREE, NUM_ATTRIBUTES
from .contact import contact_sheet
from .identity import IDENTITY_COUNT
from .render import render

KINDS = {1: ("random", "degrees", "art"), 2: ("random", "degrees", "nuisance", "lookalike", "art", "art-degrees")}


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


# ---------------------------------------------------------------- world 2
def world2_sheet(kind: str, size: int = 64, seed: int = 0, identity: int | None = None) -> np.ndarray:
    from .dataset import SynthFaces
    from .v2 import lookalike, render as render2, sample_nuisance
    from .v2.identity import identity_from_id as identity2
    from .v2.nuisance import Nuisance
    from .v2.splits import split_identity as split_identity2

    rng = np.random.default_rng(seed)
    first = split_identity2("test", 0) if identity is None else int(identity)
    if kind in ("random", "art"):
        ds = SynthFaces("test", style="photo" if kind == "random" else "art", requests="none", world=2)
        return contact_sheet([it.image for it in ds.items(32, size, seed)], 8)
    if kind == "degrees":
        faces = []
        for ident in (first, first + 3, first + 7):
            for a in range(NUM_ATTRIBUTES):
                for d in range(MAX_DEGREE + 1):
                    attrs = [0, 0, 0, 0, 3]
                    attrs[a] = d
                    faces.append(render2(ident, attrs, size))
        return contact_sheet(faces, MAX_DEGREE + 1)
    if kind == "art-degrees":
        faces = []
        for a in range(NUM_ATTRIBUTES):
            nuis = Nuisance(background=a * 3 % 14, medium=(0, 0, 1, 2, 0)[a], light_az=2.2)
            for d in range(MAX_DEGREE + 1):
                attrs = [0, 0, 0, 0, 3]
                attrs[a] = d
                faces.append(render2(first, attrs, size, "art", nuis))
        return contact_sheet(faces, MAX_DEGREE + 1)
    if kind == "nuisance":
        faces = []
        for r in range(4):
            ident = first + 11 * r
            for _ in range(8):
                faces.append(render2(ident, [0, 0, 0, 1, 3], size, "photo", sample_nuisance(rng)))
        return contact_sheet(faces, 8)
    if kind == "lookalike":
        faces = []
        for r in range(6):
            ident = identity2(first + 5 * r)
            nuis = sample_nuisance(rng)
            nuis = Nuisance(**{**nuis.to_dict(), "yaw": 0.0, "roll": 0.0})
            faces.append(render2(ident, [0, 0, 0, 0, 3], size, "photo", nuis))
            for k in (1, 2, 3, 5, 8, 17):
                faces.append(render2(lookalike(ident, k, rng), [0, 0, 0, 0, 3], size, "photo", nuis))
        return contact_sheet(faces, 7)
    raise UserError(f"unknown world-2 sheet kind {kind!r}: use one of {', '.join(KINDS[2])}")


def make_sheet(kind: str, world: int = 1, size: int = 64, seed: int = 0, identity: int | None = None) -> np.ndarray:
    if world not in KINDS:
        raise UserError(f"unknown SynthFaces world {world!r}: valid worlds are 1, 2")
    if kind not in KINDS[world]:
        raise UserError(f"unknown sheet kind {kind!r} for world {world}: use one of {', '.join(KINDS[world])}")
    if world == 2:
        return world2_sheet(kind, size, seed, identity)
    if kind == "degrees":
        return contact_sheet(degree_faces(1234 if identity is None else identity, size), 6)
    return contact_sheet(random_faces(64, size, seed, "art" if kind == "art" else "photo"), 8)


def _save(sheet: np.ndarray, path, scale: int) -> None:
    img = Image.fromarray(sheet)
    if scale > 1:
        img = img.resize((img.width * scale, img.height * scale), Image.NEAREST)
    img.save(path, optimize=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m datasets.synthfaces.sheet", description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", help="output PNG (not with --all)")
    ap.add_argument("--all", metavar="DIR", help="write every kind of the world into DIR/KIND.png")
    ap.add_argument("--kind", default="random", help="random|degrees|art (world 1); "
                    "random|degrees|nuisance|lookalike|art|art-degrees (world 2)")
    ap.add_argument("--world", type=int, default=1, choices=(1, 2))
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--identity", type=int, default=None)
    ap.add_argument("--scale", type=int, default=1, help="nearest-neighbour upscaling of the sheet")
    args = ap.parse_args(argv)
    if (args.out is None) == (args.all is None):
        ap.error("give either OUT.png or --all DIR")
    try:
        if args.all:
            folder = Path(args.all)
            folder.mkdir(parents=True, exist_ok=True)
            for kind in KINDS[args.world]:
                path = folder / f"{kind}.png"
                _save(make_sheet(kind, args.world, args.size, args.seed, args.identity), path, args.scale)
                print(path)
            return 0
        _save(make_sheet(args.kind, args.world, args.size, args.seed, args.identity), args.out, args.scale)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
