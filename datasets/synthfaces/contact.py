"""`contact_sheet`: tile images into a grid (used by the sheet script and reports)."""
from __future__ import annotations

import numpy as np

from bench.errors import UserError


def contact_sheet(images, cols: int, pad: int = 2, background: int = 255) -> np.ndarray:
    """Tile equally sized (H, W, 3) uint8 images into a grid with `cols` columns."""
    images = [np.asarray(im) for im in images]
    if not images:
        raise UserError("contact_sheet needs at least one image")
    if isinstance(cols, bool) or not isinstance(cols, (int, np.integer)) or cols < 1:
        raise UserError(f"cols must be a positive integer, got {cols!r}")
    h, w = images[0].shape[:2]
    if any(im.shape != images[0].shape for im in images):
        raise UserError("contact_sheet images must all have the same shape")
    rows = -(-len(images) // cols)
    cols = min(cols, len(images))
    out = np.full((rows * (h + pad) + pad, cols * (w + pad) + pad, 3), background, np.uint8)
    for k, im in enumerate(images):
        r, c = divmod(k, cols)
        y, x = pad + r * (h + pad), pad + c * (w + pad)
        out[y:y + h, x:x + w] = im if im.ndim == 3 else im[..., None]
    return out
