"""Training data for the image zoo from the SynthFaces world the zoo is trained on.

``WORLD`` is the world every image-trained component (attribute predictor P, attribute judge J,
identity embedder, DeepSC) learns from; cards record it, and the default dataset world
(``datasets.synthfaces.dataset.DEFAULT_WORLD``) must equal it (a test checks), so nothing
trained on one world is silently scored on another.

World 2 separates identity from nuisance, so training sets here draw, per image, the degrees
*uniformly and independently* (a predictor must read rare degrees as well as common ones; the
CelebA-like population prior is for test items, not for teaching) and a fresh nuisance
(backdrop, clothing, pose, lighting). Arrays are cached as .npz beside the SynthFaces caches.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

WORLD = 2
_SPLIT_CODES = {"finetune": 1, "test": 2, "train": 3}


def _cache(name: str, make, root=None) -> dict[str, np.ndarray]:
    from datasets.synthfaces.cache import default_cache_root

    path = Path(root or default_cache_root()) / f"zoo-w{WORLD}_{name}_v1.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except Exception:  # noqa: BLE001 - a broken cache is rebuilt
            pass
    arrays = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}.npz")
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, path)
    return arrays


def _rng(split: str, index: int, seed: int, tag: int) -> np.random.Generator:
    return np.random.default_rng([tag, _SPLIT_CODES[split], int(index), int(seed)])


def uniform_faces(split: str, n: int, size: int = 64, style: str = "photo", seed: int = 0, start: int = 0,
                  cache: bool = True) -> dict[str, np.ndarray]:
    """Identities start..start+n-1 of `split`, each once, with uniform independent degrees and a
    random nuisance: images (n, size, size, 3), identity (n,), attributes (n, 5)."""
    from datasets.synthfaces.v2 import render, sample_nuisance
    from datasets.synthfaces.v2.splits import split_identity

    def make():
        images = np.empty((n, size, size, 3), np.uint8)
        ids = np.empty(n, np.int64)
        attrs = np.empty((n, 5), np.uint8)
        for i in range(n):
            rng = _rng(split, start + i, seed, 0xFACE)
            ids[i] = split_identity(split, start + i)
            attrs[i] = rng.integers(0, 6, 5)
            images[i] = render(int(ids[i]), attrs[i].tolist(), size, style, sample_nuisance(rng, style))
        return {"images": images, "identity": ids, "attributes": attrs}

    return _cache(f"uniform_{split}_{style}_n{n}_from{start}_s{size}_seed{seed}", make) if cache else make()


def view_plan(split: str, index: int, k: int, seed: int):
    """Identity `index` of `split`: (identity, [(degrees, nuisance)] * k, look-alike identity), the
    draws `identity_views` renders (and `identity_view_factors` labels) in one fixed RNG order."""
    from datasets.synthfaces.v2 import identity_from_id, lookalike, sample_nuisance
    from datasets.synthfaces.v2.splits import split_identity

    rng = _rng(split, index, seed, 0x1DE7)
    ident = identity_from_id(int(split_identity(split, index)))
    views = [(rng.integers(0, 6, 5).tolist(), sample_nuisance(rng, "photo")) for _ in range(k)]
    return ident, views, lookalike(ident, 3, rng)


def identity_views(split: str, n: int, k: int, size: int = 64, seed: int = 0, start: int = 0,
                   cache: bool = True) -> dict[str, np.ndarray]:
    """Each identity rendered k times, every view with its own uniform degrees and nuisance, plus one
    look-alike per identity (3 face-geometry factors changed, same colouring and hair) rendered with
    view 0's degrees and nuisance, so it differs from view 0 only where the changed geometry
    shows (the hardest negative): images (n, k, ...), lookalikes (n, ...), identity (n,)."""
    from datasets.synthfaces.v2 import render

    def make():
        images = np.empty((n, k, size, size, 3), np.uint8)
        looks = np.empty((n, size, size, 3), np.uint8)
        ids = np.empty(n, np.int64)
        for i in range(n):
            ident, views, twin = view_plan(split, start + i, k, seed)
            ids[i] = ident.id
            for v, (attrs, nuis) in enumerate(views):
                images[i, v] = render(ident, attrs, size, "photo", nuis)
            looks[i] = render(twin, views[0][0], size, "photo", views[0][1])
        return {"images": images, "lookalikes": looks, "identity": ids}

    return _cache(f"views_{split}_n{n}_k{k}_from{start}_s{size}_seed{seed}", make) if cache else make()


def factor_names() -> tuple[tuple[str, int], ...]:
    """(name, levels) of the identity factors an embedder is taught to read: the geometry factors and
    the appearance factors except part_side (a mirror swaps it, and a mirrored photo shows the same person)."""
    from datasets.synthfaces.v2.identity import APPEARANCE_FACTORS, GEOMETRY_FACTORS

    return GEOMETRY_FACTORS + tuple(f for f in APPEARANCE_FACTORS if f[0] != "part_side")


def factor_labels(ident) -> list[int]:
    return [int(getattr(ident, name)) for name, _ in factor_names()]


def identity_view_factors(split: str, n: int, k: int, seed: int = 0, start: int = 0) -> dict[str, np.ndarray]:
    """The identity factors (``factor_names()`` order) of the identities and look-alikes of
    ``identity_views(split, n, k, seed=seed, start=start)``: identity (n, F), lookalike (n, F)."""
    ids = np.empty((n, len(factor_names())), np.int64)
    looks = np.empty_like(ids)
    for i in range(n):
        ident, _, twin = view_plan(split, start + i, k, seed)
        ids[i], looks[i] = factor_labels(ident), factor_labels(twin)
    return {"identity": ids, "lookalike": looks}


def identity_view_poses(split: str, n: int, k: int, seed: int = 0, start: int = 0) -> np.ndarray:
    """The pose (``datasets.synthfaces.v2.render.pose_vector``) of every view of
    ``identity_views(split, n, k, seed=seed, start=start)``: float32 (n, k, 5); a look-alike has
    view 0's pose."""
    from datasets.synthfaces.v2.render import pose_vector

    out = np.empty((n, k, 5), np.float32)
    for i in range(n):
        _, views, _ = view_plan(split, start + i, k, seed)
        out[i] = [pose_vector(nuis) for _, nuis in views]
    return out
