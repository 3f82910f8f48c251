"""World-2 face geometry (canonical units) and attribute regions.

Canonical coordinates: x in [-1, 1] left -> right, y in [-1, 1] top -> bottom, before the
nuisance pose (yaw, roll, scale, shift) is applied by the canvas. The head is larger than in
world 1 (half-width 0.43-0.55, i.e. 14-18 px at 64 px) so face geometry reads at 64 px.

Geometry is a function of the identity and the Young degree only: Young changes the face's
proportions (a child has a rounder face, larger eyes set lower, a small nose and a short lower
face; an old face has sagging jowls, thinner lips, a longer nose and larger ears).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..sdf import clamp
from .identity import HAIR_STYLES, Identity

# ---------------------------------------------------------------- identity level tables
FACE_WIDTH = (0.43, 0.46, 0.49, 0.52, 0.55)        # head half-width
FACE_LENGTH = (0.56, 0.59, 0.62, 0.65, 0.68)       # head half-height
JAW = ((0.04, 2.0), (0.17, 2.0), (0.31, 1.8), (0.07, 3.6))  # (taper of the lower half, exponent)
CHEEKBONES = (0.0, 0.035, 0.07)                     # relative widening at cheekbone height
FOREHEAD = (0.60, 0.69, 0.78)                       # hairline height, fraction of b above the centre
CHIN = (-0.03, 0.0, 0.04)                           # extra length of the lower face
EYE_SIZE = (0.078, 0.088, 0.098)                    # eye half-width
EYE_SHAPE = (0.46, 0.58, 0.72)                      # eye height / width
EYE_SPACING = (0.165, 0.185, 0.205, 0.225)          # eye centre offset from the midline
EYE_TILT = (-0.16, 0.0, 0.18)                       # slope of the eye axis (outer corner up > 0)
BROW_THICKNESS = (0.013, 0.019, 0.026)
BROW_SHAPE = ((0.008, 0.0), (0.030, 0.0), (0.022, 1.0))  # (arch height, angularity)
NOSE_LENGTH = (0.17, 0.20, 0.23, 0.26)              # nostril line below the eye line
NOSE_WIDTH = (0.046, 0.056, 0.066, 0.076)           # half-width at the nostrils
MOUTH_WIDTH = (0.160, 0.178, 0.196, 0.214)          # half-width
LIP_FULLNESS = (0.72, 1.0, 1.3)
EAR_SIZE = (0.85, 1.0, 1.18)

# ---------------------------------------------------------------- Young: proportions per degree
Y_EYE = (0.92, 0.95, 0.98, 1.0, 1.08, 1.26)        # eye size
Y_EYE_DROP = (0.0, 0.0, 0.0, 0.0, 0.012, 0.05)    # eyes (and everything below) sit lower
Y_NOSE = (1.10, 1.06, 1.02, 1.0, 0.94, 0.72)       # nose length and width
Y_LOWER = (1.05, 1.03, 1.01, 1.0, 0.98, 0.87)      # lower-face height
Y_TAPER = (0.03, 0.02, 0.01, 0.0, -0.02, -0.10)    # + = narrower jaw line, - = rounder
Y_JOWL = (0.07, 0.045, 0.02, 0.0, 0.0, 0.0)        # jowls: widening of the lower face
Y_CHEEK = (0.0, 0.0, 0.0, 0.0, 0.02, 0.07)         # round, full cheeks
Y_LIPS = (0.62, 0.78, 0.92, 1.0, 1.1, 1.05)        # lip fullness
Y_MOUTH = (1.03, 1.02, 1.0, 1.0, 0.97, 0.80)       # mouth width
Y_EAR = (1.14, 1.09, 1.04, 1.0, 0.98, 0.94)
Y_BROW = (1.15, 1.08, 1.02, 1.0, 0.94, 0.72)       # brow thickness
Y_HAIRLINE = (0.06, 0.035, 0.012, 0.0, 0.0, 0.0)   # receding hairline (masculine faces)


@dataclass(frozen=True)
class HairStyle:
    v_side: float   # hair volume beyond the head outline at the sides
    v_top: float    # ... and on top
    bottom: float   # y (relative to the eye line) where the front hair ends at the sides
    back: float     # y where the back hair ends (< -1: no back hair)
    curl: float     # amplitude of the wavy outline
    tilt: float     # hairline tilt towards the parting side
    bun: bool = False
    buzz: bool = False


STYLES = {
    "crop": HairStyle(0.036, 0.065, -0.03, -9.0, 0.0, 0.05),
    "side-swept": HairStyle(0.050, 0.110, 0.00, -9.0, 0.0, 0.17),
    "buzz": HairStyle(0.010, 0.016, -0.06, -9.0, 0.0, 0.0, buzz=True),
    "bob": HairStyle(0.078, 0.085, 0.40, 0.46, 0.0, 0.06),
    "long": HairStyle(0.062, 0.075, 0.95, 1.05, 0.0, 0.07),
    "wavy": HairStyle(0.095, 0.095, 0.90, 1.0, 0.016, 0.05),
    "bun": HairStyle(0.030, 0.045, -0.02, -9.0, 0.0, 0.02, bun=True),
    "curly": HairStyle(0.150, 0.160, 0.18, 0.26, 0.024, 0.03),
    "shoulder": HairStyle(0.068, 0.080, 0.66, 0.72, 0.0, 0.09),
}
HAIR = tuple(STYLES[name] for name in HAIR_STYLES)


@dataclass(frozen=True)
class Geometry:
    a: float            # head half-width
    b: float            # head half-height (upper half)
    b_low: float        # lower half-height (to the chin)
    hy: float           # head centre y
    taper: float
    jaw_p: float
    cheek: float        # cheekbone / full-cheek widening
    jowl: float
    ey: float           # eye line
    ex: float           # eye centre |x|
    erx: float
    ery: float
    tilt: float
    brow_y: float
    brow_th: float
    brow_arch: float
    brow_angle: float
    nose_y: float       # nostril line
    nose_w: float
    my: float           # mouth line
    mw: float           # mouth half-width
    lip_u: float        # upper / lower lip thickness
    lip_l: float
    chin: float         # y of the chin
    ear_s: float
    hl0: float          # hairline height at the midline
    recede: float       # temple recession of the hairline
    hair: HairStyle
    side: float         # +1 / -1 parting side
    hair_bottom: float
    lens_w: float
    lens_h: float
    lens_cy: float
    neck_w: float
    body_top: float     # where the clothing starts (identity only: Young never moves the body)
    masc: bool

    def hairline(self, x):
        return self.hl0 + 0.45 * x * x + self.hair.tilt * self.side * x + self.recede * (1.0 - np.minimum(
            np.abs(np.abs(x) - 0.26) * 6.0, 1.0))

    @property
    def hair_top(self) -> float:
        return self.hy - self.b - self.hair.v_top - (0.20 if self.hair.bun else 0.0) - self.hair.curl

    @property
    def hair_half_width(self) -> float:
        return self.a + self.hair.v_side + self.hair.curl + 0.03


@lru_cache(maxsize=8192)
def geometry(ident: Identity, young: int = 3) -> Geometry:
    masc = bool(ident.masculine)
    a = FACE_WIDTH[ident.face_width] * (1.02 if masc else 1.0)
    b = FACE_LENGTH[ident.face_length]
    hy = -0.03
    taper, jaw_p = JAW[ident.jaw]
    taper = max(0.0, taper * (0.72 if masc else 1.05) + Y_TAPER[young])
    b_low = (b + CHIN[ident.chin]) * Y_LOWER[young]
    ey = hy + 0.01 + Y_EYE_DROP[young]
    erx = EYE_SIZE[ident.eye_size] * Y_EYE[young]
    ery = erx * EYE_SHAPE[ident.eye_shape] * (1.0 + 0.35 * (Y_EYE[young] - 1.0))
    ex = min(EYE_SPACING[ident.eye_spacing], a * 0.45)
    brow_th = BROW_THICKNESS[ident.brow_thickness] * (1.3 if masc else 0.9) * Y_BROW[young]
    arch, angle = BROW_SHAPE[ident.brow_shape]
    brow_y = ey - ery - (0.045 if masc else 0.058)
    nose_len = NOSE_LENGTH[ident.nose_length] * Y_NOSE[young]
    nose_y = ey + nose_len
    nose_w = NOSE_WIDTH[ident.nose_width] * (1.08 if masc else 0.95) * (0.5 + 0.5 * Y_NOSE[young])
    chin = hy + b_low
    my = nose_y + 0.36 * (chin - nose_y)
    mw = MOUTH_WIDTH[ident.mouth_width] * Y_MOUTH[young]
    full = LIP_FULLNESS[ident.lip_fullness] * Y_LIPS[young] * (0.85 if masc else 1.1)
    style = HAIR[ident.hair_style]
    hl0 = hy - FOREHEAD[ident.forehead] * b
    recede = Y_HAIRLINE[young] if masc else 0.0
    if style.bottom > 0.9:
        hair_bottom = 0.98
    elif HAIR_STYLES[ident.hair_style] == "bob":
        hair_bottom = my + 0.07
    else:
        hair_bottom = ey + style.bottom
    lens_w = min(0.125, ex - 0.03)
    return Geometry(
        a=a, b=b, b_low=b_low, hy=hy, taper=taper, jaw_p=jaw_p,
        cheek=CHEEKBONES[ident.cheekbones] + Y_CHEEK[young], jowl=Y_JOWL[young],
        ey=ey, ex=ex, erx=erx, ery=ery, tilt=EYE_TILT[ident.eye_tilt],
        brow_y=brow_y, brow_th=brow_th, brow_arch=arch, brow_angle=angle,
        nose_y=nose_y, nose_w=nose_w, my=my, mw=mw, lip_u=0.028 * full, lip_l=0.040 * full,
        chin=chin, ear_s=EAR_SIZE[ident.ear_size] * Y_EAR[young], hl0=hl0, recede=recede,
        hair=style, side=1.0 if ident.part_side else -1.0, hair_bottom=hair_bottom,
        lens_w=lens_w, lens_h=0.085, lens_cy=ey + 0.006,
        neck_w=a * (0.52 if masc else 0.44), body_top=hy + b + CHIN[ident.chin] + 0.16, masc=masc,
    )


def head_sdf(x, y, g: Geometry, grow: float = 0.0, extra_chin: float = 0.0):
    """Approximate signed distance to the head outline.

    Upper half: an ellipse; lower half: a tapered superellipse (the jaw), widened at the
    cheekbones and (old faces) at the jowls. `grow` expands the outline, `extra_chin`
    stretches the lower half downwards.
    """
    dy = y - g.hy
    lower = dy > 0
    t = clamp(dy * (1.0 / g.b_low), 0.0, 1.0)
    cheek = g.cheek * np.exp(-((dy - 0.10) * (1.0 / 0.16)) ** 2)
    jowl = g.jowl * np.exp(-((dy - 0.72 * g.b_low) * (1.0 / 0.12)) ** 2)
    a_eff = g.a * (1.0 - g.taper * t * t + cheek + jowl) + grow
    b_eff = np.where(lower, np.float32(g.b_low + extra_chin), np.float32(g.b)) + grow
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
    return g.brow_y + g.brow_th + 0.035


# ---------------------------------------------------------------- attribute regions
Box = tuple[float, float, float, float]


def attribute_boxes(g: Geometry, attr_index: int) -> tuple[Box, ...]:
    """Canonical boxes (x0, y0, x1, y1); attribute `attr_index` never paints outside their union.

    Regions depend on the geometry (identity and Young degree), so they hold for an edit of
    the attribute with every other degree fixed.
    """
    if attr_index == 0:  # Bangs: forehead, brows and the hair above them
        w = g.a + 0.06
        return ((-w, g.hair_top - 0.04, w, bangs_bottom(g) + 0.36 * g.a * g.a + 0.06 * g.a + 0.10),)
    if attr_index == 1:  # Eyeglasses: the eye band from ear to ear
        w = g.a + 0.07
        return ((-w, g.lens_cy - g.lens_h - 0.08, w, g.lens_cy + g.lens_h + 0.08),)
    if attr_index == 2:  # Beard: lower face, jaw, neck and chest under the chin
        w = g.a * (1.0 + g.jowl) + 0.13
        return ((-w, g.ey, w, g.chin + 0.40),)
    if attr_index == 3:  # Smiling: mouth, cheeks and (laughing) the lower eyelids
        w = g.a * (1.0 + g.cheek) + 0.03
        return ((-w, g.ey - g.ery - 0.05, w, g.my + 0.22),)
    # Young: head, hair and ears (proportions, skin, hair colour), and the neck (skin tone)
    w = g.hair_half_width + 0.12
    top = g.hair_top - 0.08
    bottom = max(g.hair_bottom + 0.12, g.chin + 0.42, g.hair.back + 0.12)
    return ((-w, top, w, bottom), (-(g.neck_w + 0.04), top, g.neck_w + 0.04, 1.8))
