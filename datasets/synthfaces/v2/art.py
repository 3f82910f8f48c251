"""World-2 art: the same people and attribute degrees in another medium (MetFaces-like OOD).

The face is first rendered as a photograph on a period backdrop in period clothing (wider
pose range, see `nuisance.POSE_RANGES`), then repainted in one of three media
(``Nuisance.medium``):

* **oil** (60 %): paint smeared along a smooth brush-direction field, flat tonal patches,
  visible brush strokes (elongated value noise), warm varnish palette with deep shadows,
  soft umber contour lines, canvas weave and craquelure;
* **watercolour** (20 %): pale washes on white paper, pigment pooling at patch edges, crisp
  sepia ink outlines, paper grain;
* **chalk** (20 %): a sanguine / charcoal drawing on toned paper: monochrome, strong
  outlines and diagonal hatching in the shadows.

Everything is a function of (canvas, identity id, nuisance) and defined relative to the
image size, so it is deterministic and looks alike at every resolution. Edits stay local:
every operation reads a neighbourhood of a few pixels (at 64 px) of the photo render.
"""
from __future__ import annotations

import math

import numpy as np

from ..sdf import F32
from .identity import Identity
from .nuisance import Nuisance

_LUMA = np.array((0.299, 0.587, 0.114), F32)
_VARNISH = np.array((1.12, 0.94, 0.64), F32)
_PAPER = {1: np.array((246, 242, 232), F32), 2: np.array((226, 208, 178), F32)}
_INK = {0: np.array((46, 30, 18), F32), 1: np.array((70, 44, 30), F32), 2: np.array((112, 42, 28), F32)}


def _hash2(i, j, salt: float):
    v = np.sin(i * F32(127.1) + j * F32(311.7) + F32(salt)) * F32(43758.5453)
    return v - np.floor(v)


def value_noise(u, v, salt: float = 0.0):
    """Smooth value noise in [0, 1) on a unit lattice (bilinear with smoothstep)."""
    i, j = np.floor(u), np.floor(v)
    fu, fv = u - i, v - j
    fu = fu * fu * (F32(3.0) - F32(2.0) * fu)
    fv = fv * fv * (F32(3.0) - F32(2.0) * fv)
    a = _hash2(i, j, salt)
    b = _hash2(i + 1, j, salt)
    c = _hash2(i, j + 1, salt)
    d = _hash2(i + 1, j + 1, salt)
    return a + (b - a) * fu + (c - a) * fv + (a - b - c + d) * fu * fv


def _bilinear(img: np.ndarray, r, c) -> np.ndarray:
    n = img.shape[0]
    r = np.clip(r, 0.0, max(n - 1.001, 0.0))
    c = np.clip(c, 0.0, max(n - 1.001, 0.0))
    r0, c0 = r.astype(np.intp), c.astype(np.intp)
    fr, fc = (r - r0)[..., None], (c - c0)[..., None]
    i00 = r0 * n + c0
    dr, dc = (n if n > 1 else 0), (1 if n > 1 else 0)
    flat = img.reshape(-1, img.shape[-1])
    top = flat.take(i00, axis=0) * (1 - fc) + flat.take(i00 + dc, axis=0) * fc
    bot = flat.take(i00 + dr, axis=0) * (1 - fc) + flat.take(i00 + dr + dc, axis=0) * fc
    return top * (1 - fr) + bot * fr


def _blur3(a: np.ndarray) -> np.ndarray:
    p = np.pad(a, [(1, 1), (1, 1)] + [(0, 0)] * (a.ndim - 2), mode="edge")
    h = (p[:, :-2] + 2 * p[:, 1:-1] + p[:, 2:]) * F32(0.25)
    return (h[:-2] + 2 * h[1:-1] + h[2:]) * F32(0.25)


def paint(canvas, ident: Identity, nuis: Nuisance) -> np.ndarray:
    n = canvas.size
    px, py = canvas.px, canvas.py                      # image coordinates in [-1, 1]
    salt = float((ident.id * 7919 + nuis.bg_seed) % 10007) * 0.013
    medium = int(nuis.medium) % 3
    photo = canvas.img
    lum0 = photo @ _LUMA
    # brush direction: a smooth random field, strokes follow it
    theta = (value_noise(px * F32(1.6) + F32(3.0), py * F32(1.6), salt) * F32(2.0 * math.pi)).astype(F32)
    theta = np.broadcast_to(theta, (n, n))
    ct, st = np.cos(theta), np.sin(theta)
    # 1. smear the paint along the strokes (length ~1/22 of the image)
    rows = np.arange(n, dtype=F32)[:, None]
    cols = np.arange(n, dtype=F32)[None, :]
    L = F32(n / 36.0 if medium == 0 else n / 48.0)
    img = photo * F32(0.4)
    for t in (-1.0, 1.0):
        img += _bilinear(photo, rows + F32(t) * L * st, cols + F32(t) * L * ct) * F32(0.3)
    # 2. brush-stroke texture: noise elongated along the stroke direction
    u = (px * ct + py * st) * F32(7.0)
    v = (-px * st + py * ct) * F32(20.0 if medium == 0 else 16.0)
    stroke = value_noise(u, v, salt + 1.0) - F32(0.5)
    lum = img @ _LUMA
    backdrop = getattr(canvas, "backdrop", None)
    if backdrop is not None and medium:  # drawings and watercolours leave the paper bare around the sitter
        figure = np.clip(np.abs(photo - backdrop).max(-1) * F32(0.25), 0.0, 1.0)
        figure = _blur3(figure)
    else:
        figure = None
    if medium == 0:   # oil: flat tonal patches, warm varnish, deep shadows
        step = F32(20.0)
        lq = np.floor((lum + stroke * F32(14.0)) / step + F32(0.5)) * step
        img = img * ((lq + F32(4.0)) / (lum + F32(4.0)))[..., None] * F32(0.5) + img * F32(0.5)
        lum = img @ _LUMA
        img = img * F32(0.62) + (lum[..., None] * _VARNISH) * F32(0.38)
        t = np.clip(img * F32(1.1 / 255.0), 0.0, 1.0)
        img = (t * t * (F32(3.0) - F32(2.0) * t) * F32(0.5) + t * F32(0.5)) * F32(255.0)
        img = img * (F32(1.0) + F32(0.14) * stroke)[..., None]
    elif medium == 1:  # watercolour: pale washes, pigment pooling at patch edges
        step = F32(34.0)
        lq = np.floor((lum + stroke * F32(6.0)) / step + F32(0.5)) * step
        wash = img * ((lq + F32(8.0)) / (lum + F32(8.0)))[..., None]
        img = _PAPER[1] - (_PAPER[1] - wash) * F32(0.68)
        pool = np.abs(lq - _blur3(lq))
        img = img * (F32(1.0) - np.clip(pool / F32(60.0), 0.0, 0.15))[..., None]
        img = img * (F32(1.0) + F32(0.08) * stroke)[..., None]
        if figure is not None:
            bare = _PAPER[1] - (_PAPER[1] - backdrop) * F32(0.12)
            img = bare + figure[..., None] * (img - bare)
    else:              # chalk drawing: monochrome on toned paper, hatching in the shadows
        tone = np.clip((lum - F32(30.0)) / F32(190.0), 0.0, 1.0) ** F32(0.9)
        if figure is not None:
            tone = F32(0.92) + figure * (tone - F32(0.92))
        hatch_f = F32(n / 2.6)
        hatch = (np.sin((px + py) * hatch_f) > F32(0.2)).astype(F32)
        dark = np.clip((F32(0.62) - tone) * F32(2.5), 0.0, 1.0)
        tone = tone * (F32(1.0) - F32(0.35) * dark * hatch) + F32(0.1) * stroke
        ink = _INK[2] if (ident.id + nuis.bg_seed) % 2 else _INK[0]
        img = ink + (_PAPER[2] - ink) * np.clip(tone, 0.0, 1.0)[..., None]
    # 3. contour lines from the photo's luminance edges (displaced like the paint)
    blur = _blur3(lum0)
    for _ in range(max(0, n // 128).bit_length()):  # the same contours at every size
        blur = _blur3(blur)
    gy, gx = np.gradient(blur) if n >= 3 else (np.zeros_like(blur), np.zeros_like(blur))
    mag = np.sqrt(gx * gx + gy * gy) * F32(n / 64.0)
    lo, k = {0: (20.0, 0.4), 1: (16.0, 0.7), 2: (14.0, 0.8)}[medium]
    edge = np.clip((mag - F32(lo)) / F32(26.0), 0.0, 1.0) * F32(k)
    if n >= 128:
        edge = np.clip(_blur3(edge) * F32(1.5), 0.0, 1.0)
    if figure is not None:
        edge = edge * figure
    ink = _INK[2 if medium == 2 and (ident.id + nuis.bg_seed) % 2 else medium if medium < 2 else 0]
    img = img + edge[..., None] * (ink - img)
    # 4. the support: canvas weave and craquelure (oil) or paper grain
    if medium == 0:
        cyc = F32(min(n / 3.0, 170.0) * math.pi)
        weave = np.sin(px * cyc) * np.sin(py * cyc)
        cr = np.abs(value_noise(px * F32(16.0), py * F32(16.0), salt + 2.0) - F32(0.5))
        crack = np.clip(F32(1.0) - cr * F32(120.0), 0.0, 1.0) * F32(0.16)
        vign = F32(1.0) - F32(0.22) * (px * px + py * py) ** F32(1.4)
        img = img * (vign * (F32(1.0) + F32(0.06) * weave) * (F32(1.0) - crack))[..., None]
    else:
        grain = value_noise(px * F32(min(n, 256) * 0.45), py * F32(min(n, 256) * 0.45), salt + 3.0)
        img = img * (F32(0.95) + F32(0.08) * grain)[..., None]
    return np.clip(img + F32(0.5), 0, 255).astype(np.uint8)
