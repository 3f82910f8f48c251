"""Signed-distance primitives and the anti-aliased canvas they are painted on.

Shapes are signed distance fields (negative inside) evaluated on NumPy coordinate
arrays; a pixel's coverage is ``clip(0.5 - d / pixel_width, 0, 1)``, i.e. analytic
anti-aliasing with a one-pixel ramp, so every resolution renders crisp edges without
supersampling. The canvas evaluates each shape only inside its bounding box.
"""
from __future__ import annotations

import math

import numpy as np

F32 = np.float32
_max, _min = np.maximum, np.minimum


def clamp(a, lo, hi):
    """np.clip without its Python-level overhead (matters for many small arrays)."""
    return _min(_max(a, lo), hi)


def ellipse(x, y, cx, cy, rx, ry):
    """Approximate signed distance to an axis-aligned ellipse (exact on the axes)."""
    px = (x - cx) * (1.0 / rx)
    py = (y - cy) * (1.0 / ry)
    k0 = np.sqrt(px * px + py * py)
    k1 = np.sqrt(px * px * (1.0 / (rx * rx)) + py * py * (1.0 / (ry * ry)))
    return k0 * (k0 - 1.0) / np.maximum(k1, 1e-6)


def circle(x, y, cx, cy, r):
    dx = x - cx
    dy = y - cy
    return np.sqrt(dx * dx + dy * dy) - r


def rounded_box(x, y, cx, cy, hw, hh, r):
    qx = np.abs(x - cx) - (hw - r)
    qy = np.abs(y - cy) - (hh - r)
    outside = np.sqrt(np.maximum(qx, 0.0) ** 2 + np.maximum(qy, 0.0) ** 2)
    return outside + np.minimum(np.maximum(qx, qy), 0.0) - r


def segment(x, y, ax, ay, bx, by, r):
    """Capsule of radius r around the segment a-b."""
    pax = x - ax
    pay = y - ay
    bax, bay = bx - ax, by - ay
    h = clamp((pax * bax + pay * bay) / (bax * bax + bay * bay), 0.0, 1.0)
    dx = pax - bax * h
    dy = pay - bay * h
    return np.sqrt(dx * dx + dy * dy) - r


def parabola_stroke(x, y, xm, ym, half_len, curv, thick, slope=0.0, taper=0.0):
    """A stroke along y = ym + slope*(x-xm) + curv*(x-xm)^2 for |x-xm| <= half_len.

    `thick` is the half-thickness at the centre; `taper` in [0, 1] thins it towards the
    ends (1 = pointed ends). Distance is approximate (vertical distance over slope norm).
    """
    u = x - xm
    f = ym + slope * u + curv * u * u
    fp = slope + 2.0 * curv * u
    t = clamp(np.abs(u) * (1.0 / half_len), 0.0, 1.0)
    th = thick * (1.0 - taper * t * t)
    d = np.abs(y - f) / np.sqrt(1.0 + fp * fp) - th
    return np.maximum(d, np.abs(u) - half_len)


def hash_noise(x, y, salt: float = 0.0):
    """Deterministic white noise in [0, 1) from coordinates (per-pixel speckle)."""
    v = np.sin(x * 127.1 + y * 311.7 + salt) * 43758.5453
    return v - np.floor(v)


class Canvas:
    """A float32 RGB image (values 0..255) with canonical face coordinates per pixel.

    Pixel (r, c) has image coordinates p = ((c+0.5)*2/size - 1, (r+0.5)*2/size - 1);
    canonical (face) coordinates are q = R(-rotation) (p - shift) / scale.
    """

    def __init__(self, size: int, shift=(0.0, 0.0), rotation: float = 0.0, scale: float = 1.0):
        self.size = size
        self.shift = (float(shift[0]), float(shift[1]))
        self.rotation = float(rotation)
        self.scale = float(scale)
        c = ((np.arange(size, dtype=F32) + F32(0.5)) * F32(2.0 / size) - F32(1.0))
        self.px = c[None, :]
        self.py = c[:, None]
        ca, sa = math.cos(rotation), math.sin(rotation)
        dx = self.px - F32(self.shift[0])
        dy = self.py - F32(self.shift[1])
        inv = F32(1.0 / scale)
        self.X = ((F32(ca) * dx + F32(sa) * dy) * inv).astype(F32)
        self.Y = ((F32(-sa) * dx + F32(ca) * dy) * inv).astype(F32)
        self.pw = 2.0 / size / scale  # one pixel in canonical units
        self.img = np.zeros((size, size, 3), dtype=F32)
        self._ca, self._sa = ca, sa

    # ---------------------------------------------------------------- regions
    def to_pixel(self, qx: float, qy: float) -> tuple[float, float]:
        """Canonical -> fractional pixel (col, row)."""
        px = self.scale * (self._ca * qx - self._sa * qy) + self.shift[0]
        py = self.scale * (self._sa * qx + self._ca * qy) + self.shift[1]
        return (px + 1.0) * self.size / 2.0 - 0.5, (py + 1.0) * self.size / 2.0 - 0.5

    def box(self, x0, y0, x1, y1):
        """Pixel slices covering the canonical box [x0,x1]x[y0,y1], or None when empty."""
        col, row = self.to_pixel(0.5 * (x0 + x1), 0.5 * (y0 + y1))
        k = self.scale * self.size * 0.25
        hw, hh = (x1 - x0) * k, (y1 - y0) * k
        aca, asa = abs(self._ca), abs(self._sa)
        ex, ey = aca * hw + asa * hh, asa * hw + aca * hh
        c0 = max(int(col - ex) - 1, 0)
        c1 = min(int(col + ex) + 3, self.size)
        r0 = max(int(row - ey) - 1, 0)
        r1 = min(int(row + ey) + 3, self.size)
        if c0 >= c1 or r0 >= r1:
            return None
        return (slice(r0, r1), slice(c0, c1))

    def coords(self, sl):
        return self.X[sl], self.Y[sl]

    def mask_box(self, x0, y0, x1, y1) -> np.ndarray:
        """Boolean (size, size) mask of pixels whose canonical coords fall in the box."""
        return (self.X >= x0) & (self.X <= x1) & (self.Y >= y0) & (self.Y <= y1)

    # ---------------------------------------------------------------- painting
    def cov(self, d, soft: float = 0.0):
        """Coverage of a signed distance; `soft` widens the ramp (canonical units)."""
        w = max(self.pw, soft)
        return clamp(F32(0.5) - d * F32(1.0 / w), F32(0.0), F32(1.0))

    def paint(self, sl, alpha, colour, opacity: float = 1.0):
        """Alpha-composite `colour` ((3,) or (h, w, 3)) over the region with coverage `alpha`."""
        im = self.img[sl]
        if opacity != 1.0:
            alpha = alpha * F32(opacity)
        im += alpha[..., None] * (colour - im)

    def darken(self, sl, alpha, factor: float):
        """Multiply the region by (1 - alpha*(1-factor)) (shadows, wrinkles)."""
        im = self.img[sl]
        im *= (F32(1.0) - alpha * F32(1.0 - factor))[..., None]

    def to_uint8(self) -> np.ndarray:
        return clamp(self.img + F32(0.5), 0, 255).astype(np.uint8)
