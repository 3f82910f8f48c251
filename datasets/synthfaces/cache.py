"""On-disk cache of rendered splits: one compressed .npz per (split, n, size, style, seed).

Layout of ``<root>/synthfaces_<split>_<style>_n<n>_s<size>_seed<seed>_v<CACHE_VERSION>.npz`` (world 1;
world 2: ``synthfaces-w2_<split>_<style>_<req|plain>_n<n>_s<size>_seed<seed>_v<CACHE_VERSION_W2>.npz``,
``req`` for items with a request, whose degrees differ from the plain population items):

* ``images``      uint8 (n, size, size, 3)
* ``identity``    int64 (n,)  identity ids
* ``attributes``  uint8 (n, 5) degrees in the order Bangs, Eyeglasses, Beard, Smiling, Young
* ``index``       int64 (n,)  image index within the split
* ``split``, ``style``, ``version``: 0-d string / int arrays

The root defaults to ``$EDITSC_CACHE/synthfaces`` when EDITSC_CACHE is set, else
``~/.cache/editsc-bench/synthfaces``. Files are written atomically (temp file + rename)
and reused when present; bump CACHE_VERSION whenever rendering changes.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from bench.errors import UserError

from .render import check_size, check_style, render
from .splits import check_split, sample_attributes, split_identity, split_len

CACHE_VERSION = 1
CACHE_VERSION_W2 = 1


def default_cache_root() -> Path:
    env = os.environ.get("EDITSC_CACHE")
    base = Path(env).expanduser() if env else Path.home() / ".cache" / "editsc-bench"
    return base / "synthfaces"


def cache_path(split: str, n: int, size: int, style: str = "photo", root=None, seed: int = 0, world: int = 1,
               requests: bool = True) -> Path:
    root = Path(root).expanduser() if root is not None else default_cache_root()
    if world == 2:
        kind = "req" if requests else "plain"
        return root / f"synthfaces-w2_{split}_{style}_{kind}_n{n}_s{size}_seed{seed}_v{CACHE_VERSION_W2}.npz"
    return root / f"synthfaces_{split}_{style}_n{n}_s{size}_seed{seed}_v{CACHE_VERSION}.npz"


def _check_n(split: str, n) -> int:
    total = split_len(split)
    if n is None:
        if total > 1_000_000:
            raise UserError(f"split '{split}' has {total} images: pass n (how many to cache)")
        return total
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise UserError(f"n must be a positive number of images, got {n!r}")
    return min(int(n), total)


def render_split(split: str, n: int, size: int, style: str = "photo", seed: int = 0, world: int = 1,
                 requests: bool = True):
    """Render images 0..n-1 of a split: (images, identity, attributes)."""
    if world == 2:
        return _render_split2(split, n, size, style, seed, requests)
    images = np.empty((n, size, size, 3), np.uint8)
    ids = np.empty(n, np.int64)
    attrs = np.empty((n, 5), np.uint8)
    for i in range(n):
        ids[i] = split_identity(split, i)
        attrs[i] = sample_attributes(split, i, seed)
        images[i] = render(int(ids[i]), attrs[i].tolist(), size, style)
    return images, ids, attrs


def render_workers(n: int) -> int:
    """Processes that render a world-2 split of `n` images: EDITSC_RENDER_WORKERS, else one per core
    (at most 16) for 4000 images or more (a GPU machine's 16 cores render 30 000 faces in seconds
    instead of minutes), else 1. Every image depends only on its index, so the result is the same."""
    env = os.environ.get("EDITSC_RENDER_WORKERS", "").strip()
    if env:
        if not env.isdigit() or int(env) < 1:
            raise UserError(f"EDITSC_RENDER_WORKERS={env!r}: expected a whole number of processes >= 1")
        return int(env)
    return min(os.cpu_count() or 1, 16) if n >= 4000 else 1


def _render_range2(split: str, lo: int, hi: int, size: int, style: str, seed: int, requests: bool):
    from .v2.items import plan
    from .v2.render import render as render2

    images = np.empty((hi - lo, size, size, 3), np.uint8)
    ids = np.empty(hi - lo, np.int64)
    attrs = np.empty((hi - lo, 5), np.uint8)
    for j, i in enumerate(range(lo, hi)):
        p = plan(split, i, seed, style, requests)
        ids[j], attrs[j] = p.identity, p.degrees
        images[j] = render2(p.identity, list(p.degrees), size, style, p.nuisance)
    return images, ids, attrs


def _render_split2(split: str, n: int, size: int, style: str, seed: int, requests: bool):
    workers = min(render_workers(n), n)
    if workers <= 1:
        return _render_range2(split, 0, n, size, style, seed, requests)
    from concurrent.futures import ProcessPoolExecutor

    bounds = np.linspace(0, n, 4 * workers + 1).astype(int)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(_render_range2, [split] * (len(bounds) - 1), bounds[:-1].tolist(), bounds[1:].tolist(),
                              [size] * (len(bounds) - 1), [style] * (len(bounds) - 1), [seed] * (len(bounds) - 1),
                              [requests] * (len(bounds) - 1)))
    return tuple(np.concatenate([part[k] for part in parts]) for k in range(3))


def load_split_cache(path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def build_split_cache(split: str, n: int | None, size: int = 64, style: str = "photo", root=None,
                      seed: int = 0, world: int = 1, requests: bool = True) -> Path:
    """Render (or reuse) the first `n` images of `split` and return the .npz path.

    The images are exactly those `SynthFaces(split, style, world=world).items(n, size, seed)`
    yields (world 2: `requests` tells items with a request from plain ones).
    """
    split = check_split(split)
    n = _check_n(split, n)
    size = check_size(size)
    style = check_style(style)
    if world not in (1, 2):
        raise UserError(f"unknown SynthFaces world {world!r}: valid worlds are 1, 2")
    version = CACHE_VERSION if world == 1 else CACHE_VERSION_W2
    path = cache_path(split, n, size, style, root, seed, world, requests)
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                if z["images"].shape == (n, size, size, 3) and int(z["version"]) == version:
                    return path
        except Exception:  # corrupt / partial file: rebuild it
            pass
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create the SynthFaces cache directory {path.parent}: {exc}; "
                        "set EDITSC_CACHE to a writable directory") from None
    images, ids, attrs = render_split(split, n, size, style, seed, world, requests)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}.npz")
    np.savez_compressed(tmp, images=images, identity=ids, attributes=attrs,
                        index=np.arange(n, dtype=np.int64), split=np.array(split),
                        style=np.array(style), version=np.array(version))
    os.replace(tmp, path)
    return path
