"""World-2 painter: a face under a nuisance, with five attributes.

Layer order (back to front): background, back hair, neck, clothing, ears, head, age marks
(wrinkles, rosy cheeks), nose, beard, smile folds and cheeks, mouth, moustache, eyes (with
the laughing squint), brows, front hair, bangs, eyeglasses, colour temperature. Every
attribute paints only inside its region (`geometry.attribute_boxes`); the colour
temperature is a per-pixel gain, so it keeps that locality.

Degree tables are sized so that every step of every attribute changes at least ~60 pixels
by a clearly visible amount at 64 px (see `datasets.synthfaces.v2.legibility`).
"""
from __future__ import annotations

import math

import numpy as np

from .. import palette as P1
from ..sdf import F32, circle, clamp, ellipse, hash_noise, parabola_stroke, rounded_box, segment
from . import palette as P2
from .canvas import PoseCanvas
from .geometry import Geometry, bangs_bottom, head_sdf
from .identity import Identity
from .nuisance import Nuisance

# ------------------------------------------------------------------ Young (degree 0..5)
AGE = (1.0, 0.72, 0.42, 0.0, 0.0, 0.0)             # wrinkle strength
GREY = (0.93, 0.70, 0.0, 0.0, 0.0, 0.0)            # hair greying ...
GREY_TONE = (238.0, 196.0, 170.0, 0.0, 0.0, 0.0)   # ... towards white / silver
TEMPLE_GREY = (0.0, 0.0, 0.75, 0.0, 0.0, 0.0)      # middle-aged: grey temples, salt and pepper
ROSY = (0.0, 0.0, 0.0, 0.0, 0.22, 0.55)            # cheek blush
GLOW = (0.0, 0.0, 0.0, 0.0, 0.025, 0.045)            # brighter, smoother skin
SALLOW = (0.22, 0.14, 0.06, 0.0, 0.0, 0.0)         # old skin: desaturated, a little darker
# ------------------------------------------------------------------ Smiling
LIFT = (-0.010, 0.040, 0.070, 0.070, 0.076, 0.084)      # mouth-corner lift
WIDEN = (1.0, 1.15, 1.28, 1.34, 1.42, 1.46)             # mouth width
OPEN = (0.0, 0.0, 0.0, 0.040, 0.070, 0.130)             # lip gap at the centre
TEETH_LOW = (0.0, 0.0, 0.0, 0.0, 0.0, 1.0)              # lower teeth (laugh)
FOLD = (0.0, 0.80, 0.92, 0.95, 0.98, 1.0)               # smile-fold shadow
FOLD_OUT = (0.0, 0.0, 0.030, 0.040, 0.055, 0.070)       # folds pushed outwards by the cheeks
APPLE = (0.0, 0.70, 0.95, 1.0, 1.10, 1.25)              # raised cheek highlight
APPLE_UP = (0.0, 0.0, 0.030, 0.035, 0.050, 0.070)       # ... and how far the cheeks rise
SQUINT = (0.0, 0.20, 0.36, 0.47, 0.58, 0.78)
LAUGH_LINES = (0.0, 0.0, 0.75, 0.85, 0.95, 1.0)         # crinkles at the outer eye corners             # lower lid raised (narrowed eyes)
# ------------------------------------------------------------------ Bangs: coverage of the forehead
FRINGE = (0.0, 0.30, 0.47, 0.65, 0.88, 1.0)
# ------------------------------------------------------------------ Eyeglasses: (frame half-width, tint)
GLASSES = ((0.0, 0.0), (0.010, 0.0), (0.019, 0.0), (0.028, 0.0), (0.030, 0.72), (0.032, 0.95))
# ------------------------------------------------------------------ Beard
BEARD_GROW = (0.0, 0.004, 0.008, 0.014, 0.034, 0.055)
BEARD_EXT = (0.0, 0.0, 0.0, 0.02, 0.09, 0.24)       # how far the beard hangs below the chin

TEETH = np.array((236, 232, 220), F32)
MOUTH_INSIDE = np.array((70, 18, 24), F32)
SCLERA = np.array((240, 236, 230), F32)
LASH = np.array((30, 22, 20), F32)
LUMA = np.array((0.3, 0.59, 0.11), F32)


def _mix(c1, c2, t):
    return c1 + (c2 - c1) * F32(t)


class Colours:
    """Colours of one face (identity + Young degree) in one photograph (nuisance, style)."""

    def __init__(self, ident: Identity, young: int, nuis: Nuisance, style: str):
        base = P1.SKIN[ident.skin] * F32(1.0 + ident.skin_jitter)
        lum = float(base @ LUMA)
        skin = _mix(base, np.full(3, lum, F32), SALLOW[young]) * F32(1.0 - 0.25 * SALLOW[young])
        glow = GLOW[young]
        self.skin = clamp(skin * F32(1.0 + glow) + F32(90.0 * glow), 0, 255)
        hair0 = clamp(P1.HAIR[ident.hair_colour] * F32(1.0 + ident.hair_jitter), 0, 255)
        if young == 5:  # children's hair is a little lighter
            hair0 = clamp(hair0 * F32(1.08) + F32(10.0), 0, 255)
        self.hair_base = hair0
        self.grey = np.full(3, GREY_TONE[young] or 170.0, F32) * np.array((1.0, 1.0, 0.98), F32)
        self.hair = _mix(hair0, self.grey, GREY[young])
        brow_grey = GREY[young] * 0.75 + TEMPLE_GREY[young] * 0.3
        self.brow = _mix(_mix(hair0, P1.HAIR[1], 0.35) * F32(0.8), self.grey * F32(0.85), brow_grey)
        self.beard = _mix(self.hair, self.grey, 0.45 * TEMPLE_GREY[young]) * F32(0.8)  # greys with the temples
        self.stubble = _mix(self.hair * F32(0.55), np.array((38, 30, 28), F32), 0.55)
        self.lip = _mix(self.skin, P1.LIP_TINT[ident.lip_colour], 0.42 if ident.masculine else 0.62)
        self.iris = P1.EYES[ident.eye_colour]
        bgs = P2.BACKGROUND_ART if style == "art" else P2.BACKGROUND_PHOTO
        self.background = bgs[nuis.background % len(bgs)]
        cloth = P2.CLOTHING[nuis.clothing % len(P2.CLOTHING)]
        if style == "art":  # period clothing: darker, warmer
            cloth = _mix(cloth * F32(0.6), np.array((70, 50, 36), F32), 0.35)
        self.cloth = cloth
        dark = lum < 130  # frames that stand out against the skin
        k = ident.id % 4
        self.frame = (P1.FRAME_LIGHT if dark else P1.FRAME)[k]
        self.wire = (P1.WIRE_LIGHT if dark else np.array(((40, 40, 46), (120, 90, 40), (40, 40, 46), (70, 70, 80)),
                                                         F32))[k]


class FaceRenderer:
    def __init__(self, canvas: PoseCanvas, ident: Identity, g: Geometry, attrs, nuis: Nuisance, style: str):
        self.c = canvas
        self.i = ident
        self.g = g
        self.n = nuis
        self.bangs, self.glasses, self.beard, self.smile, self.young = attrs
        self.col = Colours(ident, self.young, nuis, style)
        self.light = nuis.light
        self.gain = nuis.light_gain
        self.nose_dx = canvas.yaw_s * 0.05  # the nose sticks out: it moves further with yaw

    # ---------------------------------------------------------------- helpers
    def shade(self, x, y, cx, cy, rx, ry, amb=0.62, dif=0.46):
        """Lambert shading of a pseudo-ellipsoid (soft, volumetric look)."""
        nx = (x - cx) * (1.0 / rx)
        ny = (y - cy) * (1.0 / ry)
        nz = np.sqrt(clamp(1.0 - nx * nx - ny * ny, 0.0, 1.0))
        lx, ly, lz = self.light
        lam = clamp(nx * lx + ny * ly + nz * lz, 0.0, 1.0)
        return (F32(amb) + F32(dif) * lam) * F32(self.gain)

    def hair_texture(self, x, y):
        g, hs, pw = self.g, self.g.hair, self.c.pw
        if hs.curl:
            f = min(60.0, 2 * math.pi / (3.5 * pw))
            return F32(1.0) + F32(0.10) * np.sin(f * x + 2.5 * np.sin(13.0 * y)) * np.sin(f * y + 2.5 * np.sin(11.0 * x))
        if hs.buzz:
            return F32(0.92) + F32(0.16) * hash_noise(x, y, 4.1)
        x0, y0 = g.side * 0.07, g.hy - g.b - hs.v_top * 0.4
        dx, dy = x - x0, y - y0
        r = np.sqrt(dx * dx + dy * dy) + F32(1e-3)
        k = 56.0
        att = clamp((2 * math.pi / k) * r / F32(3.5 * pw) - F32(1.0), 0.0, 1.0)
        ang = np.arctan2(dx, dy)
        t = np.sin(k * ang + 2.5 * np.sin(5.0 * r)) * F32(0.5) + np.sin(2.7 * k * ang + 1.3) * F32(0.5)
        return F32(1.0) + F32(0.08) * att * t

    def hair_colour(self, x, y, base_shade=1.0):
        g, hs = self.g, self.g.hair
        sh = self.shade(x, y, 0.0, g.hy - 0.1, g.a + 0.15, g.b + 0.2, amb=0.55, dif=0.55)
        k = np.sqrt((x * (1.0 / (g.a + hs.v_side))) ** 2 + ((y - g.hy) * (1.0 / (g.b + hs.v_top))) ** 2)
        sheen = clamp(1.0 - np.abs(k - 0.8) * 9.0, 0.0, 1.0) * (y < g.hy - 0.15)
        sh = sh * self.hair_texture(x, y) * (F32(base_shade) + F32(0.15) * sheen)
        col = self.col.hair
        tg = TEMPLE_GREY[self.young]
        if tg:  # grey temples and a few grey streaks (middle-aged)
            temple = clamp((np.abs(x) - g.a * 0.62) * F32(8.0), 0.0, 1.0)
            w = F32(tg) * (F32(0.38) + F32(0.62) * temple)
            col = col + w[..., None] * (self.col.grey - col)
            return col * sh[..., None] + (F32(30.0 * base_shade) * sheen)[..., None]
        return col * sh[..., None] + (F32(30.0 * base_shade) * sheen)[..., None]

    # ---------------------------------------------------------------- background and body
    def background(self):
        c, n = self.c, self.n
        bg = self.col.background
        ca, sa = math.cos(n.bg_angle), math.sin(n.bg_angle)
        t = c.px * F32(ca) + c.py * F32(sa)
        grad = F32(1.0) + F32(0.12) * t
        r2 = c.px * c.px + c.py * c.py
        vign = F32(1.0) - F32(0.12) * r2
        img = bg * (grad * vign)[..., None]
        if n.bg_pattern == 1:  # out-of-focus blobs of light
            rng = np.random.default_rng([0xB0C, n.bg_seed])
            lift = np.zeros_like(r2)
            for _ in range(4):
                cx, cy = rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 0.6)
                rad = rng.uniform(0.18, 0.42)
                d = np.sqrt((c.px - F32(cx)) ** 2 + (c.py - F32(cy)) ** 2) - F32(rad)
                lift = np.maximum(lift, clamp(F32(0.5) - d * F32(4.0), 0.0, 1.0) * F32(rng.uniform(0.15, 0.32)))
            img = img + lift[..., None] * (F32(255.0) - img)
        elif n.bg_pattern == 2:  # wall and floor / horizon, softly out of focus
            rng = np.random.default_rng([0xB0D, n.bg_seed])
            hz = rng.uniform(0.1, 0.6)
            w = clamp((c.py - F32(hz)) * F32(6.0) + F32(0.5), 0.0, 1.0)
            tone = F32(rng.uniform(0.6, 0.8))
            img = img * (F32(1.0) - w * (F32(1.0) - tone))[..., None]
        c.img[:] = img
        c.backdrop = img  # kept for the art media that paint on paper

    def back_hair(self):
        g, hs, c = self.g, self.g.hair, self.c
        if hs.bun:
            cy = g.hy - g.b - 0.10
            sl = c.box(-0.19, cy - 0.19, 0.19, cy + 0.19)
            x, y = c.coords(sl)
            d = circle(x, y, 0.0, cy, 0.14)
            c.paint(sl, c.cov(d), self.hair_colour(x, y, 0.92))
            return
        if hs.back < -1:
            return
        w = g.a + hs.v_side + 0.015
        top = g.hy - g.b * 0.5
        sl = c.box(-w - 0.05, top - 0.05, w + 0.05, hs.back + 0.05)
        if sl is None:
            return
        x, y = c.coords(sl)
        d = rounded_box(x, y, 0.0, 0.5 * (top + hs.back), w, 0.5 * (hs.back - top), 0.10)
        if hs.curl:
            d = d + F32(hs.curl) * np.sin(23.0 * y + 9.0 * x)
        c.paint(sl, c.cov(d), self.hair_colour(x, y, 0.68))

    def neck(self):
        g, c = self.g, self.c
        nw = g.neck_w
        top = g.hy + 0.2 * g.b
        sl = c.box(-nw - 0.02, top, nw + 0.02, 1.8)
        if sl is None:
            return
        x, y = c.coords(sl)
        d = rounded_box(x, y, 0.0, (top + 1.8) * 0.5, nw, (1.8 - top) * 0.5, 0.04)
        sh = self.shade(x, y, 0.0, 0.6, nw * 1.6, 1.2, amb=0.6, dif=0.32)
        dj = head_sdf(x, y - 0.07, g)
        sh = sh * (F32(1.0) - F32(0.38) * clamp(0.5 - dj * 12.0, 0.0, 1.0))
        c.paint(sl, c.cov(d), self.col.skin * sh[..., None])

    def clothing(self):
        g, c, n = self.g, self.c, self.n
        sl = c.box(-1.4, 0.62, 1.4, 1.8)
        if sl is None:
            return
        x, y = c.coords(sl)
        top = g.body_top
        ds = ellipse(x, y, 0.0, top + 0.62, 1.12 if g.masc else 1.0, 0.60)
        nw = g.neck_w
        if n.neckline == 1:   # V neck
            dn = np.maximum(np.abs(x) * F32(1.3) + (F32(top - 0.02) - y) * F32(0.55), F32(-1.0)) - F32(nw * 0.9)
            dn = np.maximum(dn, F32(top) - F32(0.05) - y)
        else:                 # crew neck / collar opening
            dn = ellipse(x, y, 0.0, top + 0.05, nw * 0.95, 0.10)
        d = np.maximum(ds, -dn)
        sh = self.shade(x, y, 0.0, top + 0.62, 1.2, 0.8, amb=0.55, dif=0.5)
        c.paint(sl, c.cov(d), self.col.cloth * sh[..., None])
        seam = np.maximum(np.abs(dn) - 0.008, ds)
        c.darken(sl, c.cov(seam), 0.7)
        if n.neckline == 2:   # shirt collar: two light triangles
            xa = np.abs(x)
            tri = np.maximum(np.maximum(segment(xa, y, nw * 0.95, top + 0.02, nw * 0.2, top + 0.17, 0.0) - 0.05,
                                        xa - nw * 1.6), -dn - 0.002)
            collar = np.minimum(self.col.cloth * F32(1.35) + F32(40.0), F32(250.0))
            c.paint(sl, c.cov(tri), collar * sh[..., None])
            c.darken(sl, c.cov(np.abs(tri) - 0.006) * F32(0.6), 0.6)

    def ears(self):
        g, c = self.g, self.c
        rx, ry = 0.058 * g.ear_s, 0.105 * g.ear_s
        cx, cy = g.a * 0.98, g.ey + 0.06
        sl = c.box(-cx - rx - 0.02, cy - ry - 0.02, cx + rx + 0.02, cy + ry + 0.02)
        x, y = c.coords(sl)
        xa = np.abs(x)
        d = ellipse(xa, y, cx, cy, rx, ry)
        sh = self.shade(x, y, np.sign(x) * cx, cy, rx * 1.4, ry * 1.4, amb=0.55, dif=0.4)
        c.paint(sl, c.cov(d), self.col.skin * sh[..., None])
        di = ellipse(xa, y, cx + 0.012, cy + 0.005, rx * 0.45, ry * 0.6)
        c.darken(sl, c.cov(di, soft=0.02), 0.7)

    def head(self):
        g, c = self.g, self.c
        w = g.a * (1.0 + g.cheek + g.jowl) + 0.02
        sl = c.box(-w, g.hy - g.b - 0.02, w, g.hy + g.b_low + 0.02)
        x, y = c.coords(sl)
        d = head_sdf(x, y, g)
        sh = self.shade(x, y, 0.0, g.hy, g.a * 1.12, g.b * 1.12)
        ds = ellipse(np.abs(x), y, g.ex, g.ey - 0.005, g.erx + 0.045, g.ery + 0.05)
        sh = sh * (F32(1.0) - F32(0.12) * c.cov(ds, soft=0.05))
        if g.masc:  # a shade darker along the jaw and under the cheekbones
            dj = head_sdf(x, y, g, grow=-0.05)
            sh = sh * (F32(1.0) - F32(0.06) * clamp(dj * 20.0 + 1.0, 0.0, 1.0) * (y > g.ey + 0.1))
        c.paint(sl, c.cov(d), self.col.skin * sh[..., None])

    # ---------------------------------------------------------------- Young: marks on the skin
    def age_marks(self):
        g, c = self.g, self.c
        rosy = ROSY[self.young]
        if rosy:
            cx, cy = g.ex + 0.035, g.nose_y - 0.005
            sl = c.box(-cx - 0.12, cy - 0.10, cx + 0.12, cy + 0.10)
            x, y = c.coords(sl)
            d = ellipse(np.abs(x), y, cx, cy, 0.085, 0.06)
            c.paint(sl, c.cov(d, soft=0.06) * F32(rosy), np.array((234, 100, 108), F32))
        age = AGE[self.young]
        if not age:
            return
        darkf = 0.5
        th = 0.005 + 0.006 * age
        alpha = F32(0.4 + 0.6 * age)
        n_lines = 3 if age > 0.6 else 2
        y0 = g.brow_y - 0.06 - 0.04 * (n_lines - 1)
        sl = c.box(-0.2, y0 - 0.05, 0.2, g.brow_y - 0.01)
        x, y = c.coords(sl)
        d = None
        for k in range(n_lines):
            yk = g.brow_y - 0.06 - 0.04 * k
            dk = parabola_stroke(x, y, 0.0, yk, 0.17 - 0.02 * k, 0.8, th, taper=0.8)
            d = dk if d is None else np.minimum(d, dk)
        c.darken(sl, c.cov(d) * alpha, darkf)
        # nasolabial folds and (older) marionette lines
        ax, ay = g.nose_w + 0.035, g.nose_y - 0.025
        bx, by = g.mw + 0.045, g.my + 0.04
        sl = c.box(-bx - 0.04, ay - 0.03, bx + 0.04, g.chin)
        x, y = c.coords(sl)
        xa = np.abs(x)
        d = segment(xa, y, ax, ay, bx, by, th * 0.9)
        if age > 0.6:
            d = np.minimum(d, segment(xa, y, g.mw + 0.03, g.my + 0.02, g.mw + 0.05, g.my + 0.12, th * 0.8))
        d = np.maximum(d, head_sdf(x, y, g, grow=-0.015))
        c.darken(sl, c.cov(d, soft=0.012) * alpha, darkf)
        # crow's feet and under-eye bags
        ox, oy = g.ex + g.erx + 0.02, g.ey
        sl = c.box(-ox - 0.08, oy - 0.08, ox + 0.08, oy + 0.08)
        x, y = c.coords(sl)
        xa = np.abs(x)
        d = parabola_stroke(xa, y, g.ex, g.ey + g.ery + 0.026, g.erx * 0.9, -1.5, th * 0.85, taper=0.7)
        for ang in (-0.5, 0.0, 0.5):
            d = np.minimum(d, segment(xa, y, ox, oy, ox + 0.055 * math.cos(ang), oy + 0.055 * math.sin(ang), th * 0.7))
        c.darken(sl, c.cov(d) * alpha, darkf)
        # age spots
        if age > 0.6:
            sl = c.box(-g.a, g.hy - g.b, g.a, g.ey)
            x, y = c.coords(sl)
            d = np.minimum(circle(x, y, 0.17 * g.side, g.hl0 + 0.1, 0.02), circle(x, y, -0.23 * g.side, g.ey - 0.1, 0.015))
            c.darken(sl, c.cov(d, soft=0.02) * F32(0.5), 0.75)

    def nose(self):
        g, c = self.g, self.c
        lx = self.light[0]
        shadow_side = -1.0 if lx > 0 else 1.0
        sl = c.box(-0.14, g.ey - 0.02, 0.14, g.nose_y + 0.06)
        x, y = c.coords(sl)
        x = x - F32(self.nose_dx)
        ax, ay = shadow_side * 0.035, g.ey + 0.03
        bx, by = shadow_side * (g.nose_w * 0.85), g.nose_y - 0.02
        d = segment(x, y, ax, ay, bx, by, 0.007)
        c.darken(sl, c.cov(d, soft=0.035) * F32(0.85), 0.76)
        d = ellipse(x, y, 0.0, g.nose_y + 0.014, g.nose_w * 0.95, 0.024)
        c.darken(sl, c.cov(d, soft=0.03) * F32(0.7), 0.74)
        d = ellipse(x, y, 0.0, g.nose_y - 0.03, g.nose_w * 0.45, 0.024)
        c.paint(sl, c.cov(d, soft=0.03) * F32(0.25), np.minimum(self.col.skin * F32(1.25), 255))
        xa = np.abs(x)
        d = ellipse(xa, y, g.nose_w * 0.52, g.nose_y, g.nose_w * 0.38, 0.012)
        c.darken(sl, c.cov(d) * F32(0.9), 0.42)
        d = ellipse(xa, y, g.nose_w * 0.84, g.nose_y - 0.012, 0.015, 0.028)
        c.darken(sl, c.cov(d, soft=0.02) * F32(0.55), 0.72)

    # ---------------------------------------------------------------- beard
    def _beard_top(self, x, cheek_raise):
        g = self.g
        ax = np.abs(x)
        cheek = (g.my - 0.03 - cheek_raise
                 - clamp((ax - g.mw) / (g.a - g.mw), 0.0, 1.0) * (g.my - 0.03 - g.ey - 0.09))
        must = np.where(ax < g.mw + 0.04, np.float32(g.nose_y + 0.026), np.float32(9.0))
        return np.minimum(cheek, must)

    def beard_texture(self, x, y, noise):
        f = min(90.0, 2 * math.pi / (3.2 * self.c.pw))
        return F32(0.84) + F32(0.18) * noise + F32(0.06) * np.sin(f * x + 2.0 * np.sin(17.0 * y + 5.0 * x))

    def beard_layer(self):
        deg = self.beard
        if deg == 0:
            return
        g, c = self.g, self.c
        grow, ext = BEARD_GROW[deg], BEARD_EXT[deg]
        raise_ = (0.0, 0.0, 0.0, 0.01, 0.04, 0.06)[deg]
        w = g.a * (1.0 + g.jowl) + 0.09
        sl = c.box(-w, g.ey + 0.02, w, g.chin + 0.36)
        x, y = c.coords(sl)
        d = np.maximum(head_sdf(x, y, g, grow=grow, extra_chin=ext), self._beard_top(x, raise_) - y)
        mw = g.mw * WIDEN[self.smile]
        op = OPEN[self.smile]
        hole = ellipse(x, y, 0.0, g.my + 0.5 * op - 0.004, mw + 0.012, 0.04 + 0.5 * op)
        d = np.maximum(d, -hole)
        if deg >= 4:  # tufty outline
            d = d + F32(0.006 * (deg - 2)) * np.sin(36.0 * x + 2.0 * np.sin(21.0 * y))
        noise = hash_noise(x, y, 1.7)
        if deg <= 2:  # stubble: a speckled shadow over the whole beard area
            a = c.cov(d, soft=0.02) * (F32(0.24 + 0.22 * (deg - 1)) + F32(0.26) * noise)
            c.paint(sl, clamp(a, 0.0, 1.0), self.col.stubble)
        if deg >= 2:
            if deg == 2:  # moustache joined to a chin goatee
                xa = np.abs(x)
                dm = np.maximum(xa - (g.mw + 0.03), np.maximum(g.nose_y + 0.03 - y, y - g.my + 0.006))
                dg = ellipse(x, y, 0.0, 0.5 * (g.my + g.chin) + 0.02, g.mw * 0.85, 0.5 * (g.chin - g.my) + 0.025)
                dg = np.maximum(np.maximum(dg, g.my + 0.03 - y), head_sdf(x, y, g, grow=0.01))
                dside = segment(xa, y, g.mw + 0.015, g.my - 0.012, g.mw * 0.75, g.my + 0.075, 0.016)
                d = np.minimum(np.minimum(dm, dg), dside)
            sh = self.shade(x, y, 0.0, g.my, g.a * 1.3, 0.5, amb=0.6, dif=0.45)
            colour = self.col.beard
            c.paint(sl, c.cov(d) * F32(0.97), colour * (sh * self.beard_texture(x, y, noise))[..., None]
                    + (F32(26.0) * noise * noise * sh)[..., None])

    def moustache(self):
        if self.beard < 3:
            return
        g, c = self.g, self.c
        s = self.smile
        mw = g.mw * WIDEN[s]
        sl = c.box(-mw - 0.07, g.nose_y, mw + 0.07, g.my + 0.05)
        x, y = c.coords(sl)
        u = clamp(x * (1.0 / mw), -1.0, 1.0)
        lipt = g.my - LIFT[s] * u * u - g.lip_u * 0.8 * np.sqrt(clamp(1.0 - u * u, 0.0, 1.0))
        d = np.maximum(np.maximum(g.nose_y + 0.022 - y, y - (lipt + 0.008 + 0.02 * u * u)),
                       np.abs(x) - (mw + 0.04))
        noise = hash_noise(x, y, 1.7)
        sh = self.shade(x, y, 0.0, g.my, g.a * 1.3, 0.5, amb=0.6, dif=0.45)
        c.paint(sl, c.cov(d) * F32(0.97), self.col.beard * (sh * self.beard_texture(x, y, noise))[..., None]
                + (F32(26.0) * noise * noise * sh)[..., None])

    # ---------------------------------------------------------------- Smiling
    def smile_folds(self):
        s = self.smile
        if not s:
            return
        g, c = self.g, self.c
        mw = g.mw * WIDEN[s]
        # raised cheeks: the apples of the cheeks lift and catch the light
        cx, cy = g.ex + 0.02, g.nose_y - 0.015 - APPLE_UP[s]
        sl = c.box(-cx - 0.14, cy - 0.10, cx + 0.14, cy + 0.10)
        x, y = c.coords(sl)
        inside = c.cov(head_sdf(x, y, g, grow=-0.02))
        d = ellipse(np.abs(x), y, cx, cy, 0.092, 0.056)
        lit = np.minimum(self.col.skin * F32(1.08) + F32(14.0), 255)
        light = lit + (np.array((236, 128, 126), F32) - lit) * F32(0.5)  # lifted, flushed cheeks
        c.paint(sl, c.cov(d, soft=0.06) * inside * F32(min(0.85 * APPLE[s], 0.95)), light)
        # smile folds: soft shadow bands from the nose wings around the mouth corners
        o = FOLD_OUT[s]
        ax, ay = g.nose_w + 0.045 + 0.5 * o, g.nose_y - 0.02
        bx, by = mw + 0.03 + o, g.my + 0.035 - LIFT[s] * 0.3
        sl = c.box(-bx - 0.06, ay - 0.04, bx + 0.06, by + 0.06)
        x, y = c.coords(sl)
        xa = np.abs(x)
        d = parabola_stroke(y, xa, 0.5 * (ay + by), 0.5 * (ax + bx) + 0.012, 0.5 * (by - ay) + 0.008,
                            -2.0, 0.015 + 0.0015 * s, slope=(bx - ax) / (by - ay), taper=0.5)
        inside = c.cov(head_sdf(x, y, g, grow=-0.02))
        c.paint(sl, c.cov(d, soft=max(0.024, 1.6 * c.pw)) * inside * F32(0.9 * FOLD[s]),
                self.col.skin * F32(0.5 * self.gain))
        d = circle(xa, y, mw + 0.016, g.my - LIFT[s] + 0.006, 0.009)
        c.darken(sl, c.cov(d, soft=0.016) * F32(FOLD[s]), 0.55)
        if LAUGH_LINES[s]:  # crinkles fanning out from the outer eye corners
            ox, oy = g.ex + g.erx + 0.012, g.ey + 0.004
            sl = c.box(-ox - 0.07, oy - 0.07, ox + 0.07, oy + 0.07)
            x, y = c.coords(sl)
            xa = np.abs(x)
            d = None
            for ang in (-0.45, 0.1, 0.6):
                dk = segment(xa, y, ox, oy, ox + 0.05 * math.cos(ang), oy + 0.05 * math.sin(ang), 0.0055)
                d = dk if d is None else np.minimum(d, dk)
            d = np.maximum(d, head_sdf(x, y, g, grow=-0.01))
            c.darken(sl, c.cov(d, soft=0.012) * F32(LAUGH_LINES[s]), 0.6)

    def mouth(self):
        g, c, col = self.g, self.c, self.col
        s = self.smile
        mw = g.mw * WIDEN[s]
        lift = LIFT[s]
        op = OPEN[s]
        tu, tl = g.lip_u, g.lip_l * (1.0 - 0.3 * (s / 5.0))
        sl = c.box(-mw - 0.04, g.my - lift - tu - 0.04, mw + 0.04, g.my + op + tl + 0.04)
        x, y = c.coords(sl)
        u = clamp(x * (1.0 / mw), -1.0, 1.0)
        gx = np.sqrt(clamp(1.0 - u * u, 0.0, 1.0))
        f = g.my - lift * u * u
        side = np.abs(x) - mw
        bow = F32(0.35) * np.exp(-(x * x) * (1.0 / 0.0009))
        top = f - tu * gx * (1.0 - bow) - 0.002
        bottom = f + op * gx ** 0.7
        lips = np.maximum(np.maximum(top - y, y - (bottom + tl * gx + 0.002)), side)
        sh = self.shade(x, y, 0.0, g.my, mw * 1.4, 0.12, amb=0.7, dif=0.38)
        sh = sh * np.where(y > bottom, F32(1.08), F32(0.92))
        c.paint(sl, c.cov(lips), col.lip * sh[..., None])
        if op:
            dopen = np.maximum(np.maximum(f - y, y - bottom), side + 0.006)
            c.paint(sl, c.cov(dopen), MOUTH_INSIDE)
            th = min(op, 0.034) * (0.92 if s < 5 else 0.62)
            dt = np.maximum(dopen, y - (f + th * gx ** 0.4))
            c.paint(sl, c.cov(dt), TEETH * (F32(0.9) + F32(0.1) * gx)[..., None])
            if s >= 3:  # gaps between the teeth
                dg = np.maximum(np.abs(np.abs(x) - F32(mw * 0.28)) - F32(0.003), dt)
                c.darken(sl, c.cov(dg) * F32(0.5), 0.75)
            if TEETH_LOW[s]:
                dl = np.maximum(dopen, (bottom - 0.016 * gx) - y)
                c.paint(sl, c.cov(dl) * F32(0.92), TEETH * F32(0.86))
        else:
            d = np.maximum(np.abs(y - f) - (0.0055 + 0.002 * s), side + 0.008)
            c.darken(sl, c.cov(d), 0.4)
        if s:  # shadowed, upturned mouth corners
            dc = circle(np.abs(x), y, mw - 0.002, g.my - lift + 0.002, 0.014)
            c.darken(sl, c.cov(dc, soft=0.014) * F32(0.9), 0.45)

    # ---------------------------------------------------------------- eyes & brows
    def eyes(self):
        g, c, col = self.g, self.c, self.col
        erx, ery = g.erx, g.ery
        ir = min(0.040 * erx / 0.088, erx * 0.56)
        cx, cy = g.ex, g.ey
        sl = c.box(-cx - erx - 0.04, cy - ery - 0.05, cx + erx + 0.04, cy + ery + 0.05)
        x, y = c.coords(sl)
        xa = np.abs(x)
        xr = xa - cx                  # towards the outer corner > 0
        xs = x - np.sign(x) * cx      # image-left/right (catch-lights agree in both eyes)
        yt = y + F32(g.tilt) * xr     # tilted eye axis
        dsc = ellipse(xa, yt, cx, cy, erx, ery)
        d = parabola_stroke(xa, yt, cx, cy - ery - 0.016, erx * 0.85, 1.0, 0.0045, taper=0.8)
        c.darken(sl, c.cov(d, soft=0.012) * F32(0.6), 0.68)
        c.paint(sl, c.cov(dsc), SCLERA * self.shade(xs, y, 0.0, cy, erx * 1.5, ery * 2.5, 0.7, 0.3)[..., None])
        ri = circle(xr, yt, 0.0, cy + 0.003, ir)
        di = np.maximum(ri, dsc)
        c.paint(sl, c.cov(di), col.iris * (F32(0.72) + F32(0.48) * clamp((yt - cy + ir) * (1.0 / (2 * ir)), 0, 1))[..., None])
        dp = np.maximum(ri + F32(ir * 0.52), dsc)
        c.paint(sl, c.cov(dp), np.array((12, 10, 10), F32))
        dh = circle(xs, y, 0.012, cy - 0.009, ir * 0.3)
        c.paint(sl, c.cov(np.maximum(dh, dsc)) * F32(0.9), np.array((255, 255, 255), F32))
        sq = SQUINT[self.smile]
        if sq:  # smiling eyes: the cheeks push the lower lid up (a crescent when laughing)
            bump = F32(1.0) - clamp((xr / F32(erx)) ** 2, 0.0, 1.0)
            lid_y = F32(cy + ery) - F32(2.0 * ery * sq) * (F32(0.55) + F32(0.45) * bump)
            dl = np.maximum(dsc - 0.006, lid_y - yt)
            c.paint(sl, c.cov(dl), self.col.skin * F32(0.9 * self.gain))
            crease = np.maximum(np.abs(yt - lid_y - 0.004) - 0.004, dsc - 0.004)
            c.darken(sl, c.cov(crease) * F32(0.8), 0.55)
        lid = np.maximum(np.abs(dsc + 0.002) - (0.006 + 0.0045 * clamp(xr * (1.0 / erx), 0, 1)
                                                 + (0.0 if g.masc else 0.0015)), yt - cy + ery * 0.15)
        c.paint(sl, c.cov(lid), LASH)
        low = np.maximum(np.abs(dsc) - 0.003, cy + ery * 0.3 - yt)
        c.darken(sl, c.cov(low) * F32(0.5), 0.62)

    def brows(self):
        g, c = self.g, self.c
        hl = g.erx + 0.03
        cx = g.ex + 0.01
        sl = c.box(-cx - hl - 0.03, g.brow_y - 0.07, cx + hl + 0.03, g.brow_y + 0.06)
        x, y = c.coords(sl)
        xa = np.abs(x)
        if g.brow_angle:  # angled: straight rise to a peak two thirds out, then down
            peak = cx + hl * 0.35
            yb = g.brow_y - g.brow_arch * (1.0 - np.abs(xa - peak) / (hl * 1.3)) + 0.03 * (xa - cx)
            d = np.maximum(np.abs(y - yb) - g.brow_th * (1.0 - 0.5 * clamp((xa - cx) / hl, 0.0, 1.0)),
                           np.abs(xa - cx) - hl)
        else:
            curv = g.brow_arch / (hl * hl)
            d = parabola_stroke(xa, y, cx, g.brow_y - g.brow_arch, hl, curv, g.brow_th, slope=0.05, taper=0.55)
        c.paint(sl, c.cov(d) * F32(0.95), self.col.brow)

    # ---------------------------------------------------------------- hair
    def hair_outer(self, x, y):
        g, hs = self.g, self.g.hair
        cx = 0.03 * g.side * (hs.tilt > 0.1)
        d = ellipse(x, y, cx, g.hy - 0.015, g.a + hs.v_side, g.b + hs.v_top)
        if g.hair_bottom > g.hy:
            bot = g.hair_bottom
            d = np.minimum(d, rounded_box(x, y, cx, 0.5 * (g.hy + bot), g.a + hs.v_side, 0.5 * (bot - g.hy), 0.08))
        if hs.curl:
            ang = np.arctan2(y - g.hy, x)
            d = d + F32(hs.curl) * np.sin(14.0 * ang + 0.7 * g.side)
        return d

    def front_hair(self):
        g, c, hs = self.g, self.c, self.g.hair
        w = g.hair_half_width + 0.02
        sl = c.box(-w, g.hair_top - 0.04, w, g.hair_bottom + 0.04)
        x, y = c.coords(sl)
        dout = self.hair_outer(x, y)
        if hs.buzz:  # close-cropped: hair only on the skull above the hairline
            dout = np.maximum(head_sdf(x, y, g, grow=0.014), y - (g.hy - 0.05))
        win_face = np.maximum(ellipse(x, y, 0.0, g.hy + 0.05, g.a * 0.9, g.b * 1.05), g.hairline(x) - y)
        win_neck = np.maximum(np.abs(x) - g.a * 0.86, g.hy + 0.12 - y)
        win = np.minimum(win_face, win_neck)
        d = np.maximum(np.maximum(dout, -win), y - g.hair_bottom)
        c.paint(sl, c.cov(d), self.hair_colour(x, y))
        if not hs.curl and not hs.buzz:  # parting line
            xp = g.side * 0.12
            dp = segment(x, y, xp * 0.6, g.hy - g.b - hs.v_top * 0.5, xp, g.hairline(xp) - 0.01, 0.0035)
            dp = np.maximum(dp, d)
            c.darken(sl, c.cov(dp, soft=0.01) * F32(0.8), 0.6)

    def bangs_layer(self):
        deg = self.bangs
        if deg == 0:
            return
        g, c = self.g, self.c
        hs = g.hair
        brow_top = g.brow_y - g.brow_arch - g.brow_th - 0.01
        yb = bangs_bottom(g) if deg == 5 else g.hl0 + FRINGE[deg] * (brow_top - g.hl0)
        sl = c.box(-g.a - 0.05, g.hair_top - 0.02, g.a + 0.05, yb + 0.36 * g.a * g.a + 0.06 * g.a + 0.09)
        x, y = c.coords(sl)
        if deg == 1:  # wisps: pointed locks hanging from the hairline
            jag = F32(0.07) * np.abs(np.sin(x * 26.0 + 0.5 * g.side)) ** 0.6
        else:
            jag = F32(0.016 + 0.004 * deg) * np.abs(np.sin(x * 38.0 + 0.5 * g.side))
        edge = yb + 0.36 * x * x + 0.06 * g.side * x - jag
        dhead = head_sdf(x, y, g, grow=0.016)
        outer = self.hair_outer(x, y) if not hs.buzz else head_sdf(x, y, g, grow=0.03)
        d = np.maximum(np.maximum(outer, y - edge), dhead)
        dsh = np.maximum(np.maximum(y - edge - 0.024, dhead), outer)
        c.darken(sl, c.cov(dsh, soft=0.03) * F32(0.75), 0.62)
        strand = np.abs(np.sin(x * 38.0 + 0.5 * g.side))
        colour = self.hair_colour(x, y) * F32(0.94) + (F32(18.0) * strand - F32(10.0))[..., None]
        c.paint(sl, c.cov(d), colour)
        # the fringe's lower edge is a little darker (hair tips in shadow)
        dt = np.maximum(np.abs(y - edge + 0.012) - 0.012, d)
        c.darken(sl, c.cov(dt) * F32(0.6), 0.75)

    # ---------------------------------------------------------------- eyeglasses
    def eyeglasses(self):
        deg = self.glasses
        if deg == 0:
            return
        g, c, col = self.g, self.c, self.col
        fw, tint = GLASSES[deg]
        lw, lh = g.lens_w, g.lens_h * (0.86 if deg <= 2 else 1.0)
        if deg >= 3:  # bold frames have bigger lenses
            lw, lh = lw + 0.012, lh + 0.012
        if deg == 5:
            lw, lh = lw + 0.006, lh + 0.008
        cy = g.lens_cy
        frame = col.wire if deg == 1 else col.frame
        sl = c.box(-g.a - 0.04, cy - lh - 0.05, g.a + 0.04, cy + lh + 0.05)
        x, y = c.coords(sl)
        r = 0.045 + 0.02 * (deg == 5)
        dl = np.minimum(rounded_box(x, y, -g.ex, cy, lw, lh, r), rounded_box(x, y, g.ex, cy, lw, lh, r))
        if tint:
            shade = np.array((16, 14, 16), F32) if deg == 5 else np.array((86, 58, 36), F32)
            c.paint(sl, c.cov(dl) * F32(tint), shade)
        glare = np.maximum(dl, np.abs((x - np.sign(x) * g.ex) + (y - cy) * 0.9 + 0.02) - 0.013)
        c.paint(sl, c.cov(glare, soft=0.01) * F32(0.2 if deg < 5 else 0.38), np.array((255, 255, 255), F32))
        rim = np.abs(dl) - fw
        if deg >= 3:  # heavier top bar (browline)
            rim = np.minimum(rim, np.maximum(np.abs(dl) - fw * 1.5, y - (cy - lh * 0.35)))
        inner = g.ex - lw
        bridge = parabola_stroke(x, y, 0.0, cy - lh * 0.35, inner + 0.012, 1.4, max(fw * 0.9, 0.008))
        temples = np.minimum(
            segment(x, y, -(g.ex + lw), cy - lh * 0.5, -(g.a + 0.012), cy - lh * 0.45, max(fw * 0.85, 0.008)),
            segment(x, y, g.ex + lw, cy - lh * 0.5, g.a + 0.012, cy - lh * 0.45, max(fw * 0.85, 0.008)))
        d = np.minimum(np.minimum(rim, bridge), temples)
        sh = F32(0.85) + F32(0.3) * clamp(cy - y + lh, 0.0, 2 * lh) / F32(2 * lh)
        c.paint(sl, c.cov(d), frame * sh[..., None])

    # ---------------------------------------------------------------- all
    def draw(self):
        self.background()
        self.back_hair()
        self.neck()
        self.clothing()
        self.ears()
        self.head()
        self.age_marks()
        self.nose()
        self.beard_layer()
        self.smile_folds()
        self.mouth()
        self.moustache()
        self.eyes()
        self.brows()
        self.front_hair()
        self.bangs_layer()
        self.eyeglasses()
        w = self.n.warmth
        if w:
            tint = np.array((1.0 + w, 1.0, 1.0 - w), F32)
            self.c.img *= tint
            self.c.backdrop = self.c.backdrop * tint
