"""Input validation shared by every metric: uint8 RGB images, matching shapes, minimum sizes.

Every problem is a :class:`bench.errors.UserError` whose message names the fix.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from bench.errors import UserError


def as_image_batch(x: Any, what: str = "images") -> np.ndarray:
    """Return ``x`` as a uint8 array of shape (N, H, W, 3); (H, W, 3) becomes N=1.

    Raises UserError for other dtypes, ranks or channel counts (no silent rescaling: a
    float image in [0, 1] passed as uint8 would give nonsense metrics).
    """
    if isinstance(x, (list, tuple)):
        if not x:
            raise UserError(f"{what}: got an empty list; give at least one uint8 (H, W, 3) image")
        shapes = {np.shape(i) for i in x}
        if len(shapes) > 1:
            raise UserError(f"{what}: images have different shapes {sorted(shapes)}; "
                            "resize them to one size first")
        x = np.stack([np.asarray(i) for i in x])
    arr = np.asarray(x)
    if arr.dtype != np.uint8:
        raise UserError(f"{what}: expected dtype uint8 with values 0..255, got {arr.dtype}; "
                        "convert with np.clip(np.rint(img), 0, 255).astype(np.uint8) "
                        "(multiply by 255 first if your floats are in [0, 1])")
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise UserError(f"{what}: expected shape (H, W, 3) or (N, H, W, 3) RGB, got {arr.shape}; "
                        "convert grayscale/RGBA images to RGB first")
    if arr.shape[0] == 0 or arr.shape[1] == 0 or arr.shape[2] == 0:
        raise UserError(f"{what}: got an empty array of shape {arr.shape}")
    return arr


def as_image_pair(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate two batches that are compared image by image (same shape required)."""
    a = as_image_batch(a, "received images")
    b = as_image_batch(b, "reference images")
    if a.shape != b.shape:
        raise UserError(f"image shapes differ: received {a.shape[1:]} x{a.shape[0]} vs reference "
                        f"{b.shape[1:]} x{b.shape[0]}; metrics compare images of equal size one to one")
    return a, b


def check_min_size(batch: np.ndarray, min_px: int, what: str, hint: str = "") -> None:
    h, w = batch.shape[1:3]
    if min(h, w) < min_px:
        raise UserError(f"{what} needs images of at least {min_px}x{min_px} pixels, got {h}x{w}"
                        + (f"; {hint}" if hint else ""))
