"""Resolved face geometry (canonical units) of an identity, and attribute regions.

Canonical coordinates: x in [-1, 1] left -> right, y in [-1, 1] top -> bottom, before the
identity's small pose (shift / rotation / scale) is applied by the canvas.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from . import palette as P
from .identity import Identity
from .sdf import clamp


@dataclass(frozen=True)
class HairStyle:
    v_side: float      # hair volume beyond the head outline at the sides
    v_top: float       # ... and on top
    bottom: float      # how far down the front hair reaches at the sides (relative, see below)
    back: float        # y of the end of the hair behind the head (None-like: -9 = no back hair)
    curl: float        # amplitude of the wavy outline
    tilt: float        # hairline tilt towards the parting side
    bun: bool = False


HAIR_STYLES = (
    HairStyle(0.032, 0.045, -0.03, -9.0, 0.0, 0.05),            # crop: ends above the ears
    HairStyle(0.050, 0.090, 0.00, -9.0, 0.0, 0.15),             # side-swept
    HairStyle(0.070, 0.075, 0.40, 0.42, 0.0, 0.06),             # bob: to the jaw
    HairStyle(0.058, 0.065, 0.95, 0.98, 0.0, 0.07),             # long: to the shoulders
    HairStyle(0.125, 0.135, 0.20, 0.24, 0.022, 0.03),           # curly: big round volume
    HairStyle(0.030, 0.040, -0.02, -9.0, 0.0, 0.02, bun=True),  # bun on top
)


@dataclass(frozen=True)
class Geometry:
    a: float            # head half-width
    b: float            # head half-height
    hy: float           # head centre y
    taper: float
    jaw_p: float
    ey: float           # eye line
    ex: float           # eye centre |x|
    erx: float          # eye half-width
    ery: float          # eye half-height
    brow_y: float
    brow_th: float
    brow_arch: float
    nose_y: float       # nostril line
    nose_w: float
    my: float           # mouth line
    mw: float           # mouth half-width
    chin: float
    ear_s: float
    hl0: float          # hairline height at the midline
    hair: HairStyle
    side: float         # +1 / -1: parting side
    hair_bottom: float  # absolute y where the front hair ends at the sides
    lens_w: float
    lens_h: float

    def hairline(self, x):
        return self.hl0 + 0.5 * x * x + self.hair.tilt * self.side * x


@lru_cache(maxsize=4096)
def geometry(ident: Identity) -> Geometry:
    a = P.FACE_WIDTH[ident.face_width]
    b = P.FACE_LENGTH[ident.face_length]
    hy = -0.02
    taper, jaw_p = P.JAW[ident.jaw]
    ey = hy + 0.0
    ex = min(P.EYE_SPACING[ident.eye_spacing], a * 0.42)
    erx = 0.080
    ery = erx * P.EYE_SHAPE[ident.eye_shape]
    brow_th = P.BROW_THICKNESS[ident.brow_thickness]
    brow_y = ey - ery - 0.052
    nose_len, nose_w = P.NOSE[ident.nose]
    nose_y = ey + nose_len
    chin = hy + b
    my = nose_y + 0.33 * (chin - nose_y)
    style = HAIR_STYLES[ident.hair_style]
    hl0 = hy - 0.72 * b + ident.hairline_jitter
    hair_bottom = ey + style.bottom if style.bottom < 0.9 else 0.95
    if ident.hair_style == 2:
        hair_bottom = my + 0.06
    lens_w = min(0.118, ex - 0.032)
    return Geometry(
        a=a, b=b, hy=hy, taper=taper, jaw_p=jaw_p, ey=ey, ex=ex, erx=erx, ery=ery,
        brow_y=brow_y, brow_th=brow_th, brow_arch=P.BROW_ARCH[ident.brow_arch],
        nose_y=nose_y, nose_w=nose_w, my=my, mw=P.MOUTH_WIDTH[ident.mouth_width], chin=chin,
        ear_s=P.EAR_SIZE[ident.ear_size], hl0=hl0, hair=style,
        side=1.0 if ident.part_side else -1.0, hair_bottom=hair_bottom,
        lens_w=lens_w, lens_h=0.080,
    )


def head_sdf(x, y, g: Geometry, grow: float = 0.0, extra_chin: float = 0.0):
    """Approximate signed distance to the head outline (jaw shape from the identity).

    `grow` expands the outline; `extra_chin` stretches the lower half downwards.
    """
    dy = y - g.hy
    lower = dy > 0
    t = clamp(dy * (1.0 / g.b), 0.0, 1.0)
    a_eff = g.a * (1.0 - g.taper * t * t) + grow
    b_eff = np.where(lower, g.b + extra_chin, g.b) + grow
    u = np.abs(x) / a_eff
    v = np.abs(dy) / b_eff
    if g.jaw_p == 2.0:
        k = np.sqrt(u * u + v * v)
    else:
        p = np.where(lower, np.float32(g.jaw_p), np.float32(2.0))
        k = (u ** p + v ** p) ** (1.0 / p)
    return (k - 1.0) * np.minimum(a_eff, b_eff)


def bangs_bottom(g: Geometry) -> float:
    """Lowest fringe line at the midline (Bangs degree 5: covering the brows)."""
    return g.brow_y + g.brow_th + 0.03


# -------------------------------------------------------------- attribute regions
def attribute_box(g: Geometry, attr_index: int) -> tuple[float, float, float, float]:
    """Canonical box (x0, y0, x1, y1) outside which attribute `attr_index` never paints."""
    if attr_index == 0:  # Bangs: forehead and hair above the brows
        return (-(g.a + 0.03), g.hy - g.b - 0.06, g.a + 0.03, bangs_bottom(g) + 0.30 * g.a * g.a + 0.08)
    if attr_index == 1:  # Eyeglasses: the eye band from ear to ear
        return (-(g.a + 0.035), g.ey - g.lens_h - 0.05, g.a + 0.035, g.ey + g.lens_h + 0.05)
    if attr_index == 2:  # Beard: lower face, jaw and neck
        return (-(g.a + 0.10), g.ey - 0.02, g.a + 0.10, g.chin + 0.30)
    if attr_index == 3:  # Smiling: mouth and cheeks
        w = max(g.mw * 1.3 + 0.075, g.ex + 0.11)
        return (-w, g.nose_y - 0.06, w, g.my + 0.12)
    # Young: hair, skin and features (the whole person except far background)
    return (-(g.a + 0.3), -1.6, g.a + 0.3, 1.6)
