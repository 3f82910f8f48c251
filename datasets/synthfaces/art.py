"""The "art" style (the MetFaces analogue): the same face as an old painted portrait.

Applied to the photo-layout render (which already uses darker museum backdrops and period
clothing colours for this style): a warm varnish palette with stronger contrast, flat
posterised paint patches broken up by elongated brush-stroke noise, dark outlines, a
canvas weave and a vignette. All noise is seeded by the identity id and defined at a fixed
resolution relative to the image, so the result is deterministic and looks alike at
every size.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from .identity import Identity
from .sdf import F32, Canvas

_LUMA = np.array((0.299, 0.587, 0.114), F32)
_VARNISH = np.array((1.10, 0.93, 0.66), F32)


def _noise_field(seed: int, shape: tuple[int, int], size: int) -> np.ndarray:
    """Smooth noise in [-1, 1]: a random grid of `shape`, bicubically resized to size x size."""
    rng = np.random.default_rng([0xA27, seed, shape[0], shape[1]])
    grid = rng.random(shape, dtype=np.float32) * 2.0 - 1.0
    return np.array(Image.fromarray(grid, mode="F").resize((size, size), Image.BICUBIC), dtype=F32)


def _box_blur(a: np.ndarray, r: int) -> np.ndarray:
    """Separable (2r+1) box blur with edge padding, on the first two axes."""
    if r <= 0:
        return a
    k = 2 * r + 1
    pad = [(r, r), (r, r)] + [(0, 0)] * (a.ndim - 2)
    p = np.pad(a, pad, mode="edge")
    c = np.cumsum(p, axis=0, dtype=np.float32)
    c = np.concatenate([np.zeros_like(c[:1]), c], axis=0)
    p = (c[k:] - c[:-k]) / k
    c = np.cumsum(p, axis=1, dtype=np.float32)
    c = np.concatenate([np.zeros_like(c[:, :1]), c], axis=1)
    return (c[:, k:] - c[:, :-k]) / k


def stylize(canvas: Canvas, ident: Identity) -> np.ndarray:
    img = canvas.img
    n = canvas.size
    r = max(n // 128, 0)  # paint smoothing radius grows with resolution
    img = _box_blur(img, r)
    lum = img @ _LUMA
    # varnish palette: warm, yellowed, slightly desaturated, contrast S-curve
    warm = lum[..., None] * _VARNISH
    img = img * F32(0.55) + warm * F32(0.45)
    t = np.clip(img / F32(255.0), 0.0, 1.0)
    img = (t * t * (F32(3.0) - F32(2.0) * t) * F32(0.6) + t * F32(0.4)) * F32(255.0)
    # brush strokes: elongated noise, used to dither a coarse posterisation
    strokes = _noise_field(ident.id, (max(6, min(n, 64) // 8), max(12, min(n, 64) // 2)), n)
    strokes += F32(0.5) * _noise_field(ident.id + 1, (max(12, min(n, 128) // 3), max(4, min(n, 128) // 12)), n)
    step = F32(26.0)
    img = img * F32(1.08)
    lum2 = img @ _LUMA
    lq = np.floor((lum2 + strokes * F32(12.0)) / step + F32(0.5)) * step  # flat tonal patches, hue kept
    img = img * ((lq + F32(4.0)) / (lum2 + F32(4.0)))[..., None] * F32(0.75) + img * F32(0.25)
    img = img * F32(0.7) + _box_blur(img, max(1, n // 96)) * F32(0.3)
    # dark outlines from the luminance gradient of the underlying face
    gy, gx = np.gradient(lum)
    mag = np.sqrt(gx * gx + gy * gy) * F32(n / 64.0)
    edge = np.clip((mag - F32(14.0)) / F32(30.0), 0.0, 1.0)
    if n >= 128:
        edge = np.clip(_box_blur(edge, n // 256) * F32(1.6), 0.0, 1.0)
    img = img * (F32(1.0) - F32(0.62) * edge)[..., None] + (F32(18.0) * edge)[..., None] * np.array((1.0, 0.8, 0.6), F32)
    # canvas weave + grain, vignette
    cyc = min(n / 3.0, 160.0) * np.pi
    weave = np.sin(canvas.px * F32(cyc)) * np.sin(canvas.py * F32(cyc))
    grain = _noise_field(ident.id + 2, (min(n, 256), min(n, 256)), n)
    vign = F32(1.0) - F32(0.16) * (canvas.px ** 2 + canvas.py ** 2) ** F32(1.5)
    img = img * (vign * (F32(1.0) + F32(0.05) * weave + F32(0.05) * grain))[..., None]
    return np.clip(img + F32(0.5), 0, 255).astype(np.uint8)
