"""Painting a face: background, body, head, features, hair and the five attributes.

Layer order (back to front): background, back hair, neck, clothing, ears, head (with
age/youth skin), wrinkles, nose, beard, smile folds, mouth, moustache, eyes, brows, front
hair, bangs, eyeglasses. Every attribute paints only inside its region
(`geometry.attribute_box`), so editing one attribute leaves the rest of the image
untouched except where the new attribute covers it.
"""
from __future__ import annotations

import math

import numpy as np

from . import palette as P
from .geometry import Geometry, bangs_bottom, head_sdf
from .identity import Identity
from .sdf import F32, Canvas, circle, clamp, ellipse, hash_noise, parabola_stroke, rounded_box, segment

# ------------------------------------------------------------------ per-degree tables
# Young (index = degree 0..5)
AGE = (1.0, 0.72, 0.44, 0.26, 0.0, 0.0)          # wrinkle strength
GREY = (0.95, 0.85, 0.50, 0.25, 0.0, 0.0)         # hair greying ...
GREY_TONE = (238.0, 200.0, 150.0, 140.0, 140.0, 140.0)  # ... towards white / silver / ash
ROSY = (0.0, 0.0, 0.0, 0.0, 0.25, 0.55)           # cheek blush
EYE_GROW = (1.0, 1.0, 1.0, 1.0, 1.06, 1.16)        # youthful bigger eyes
GLOW = (0.0, 0.0, 0.0, 0.0, 0.03, 0.10)            # youthful brighter skin and hair
# Smiling
LIFT = (-0.008, 0.036, 0.052, 0.054, 0.058, 0.062)
WIDEN = (0.93, 1.12, 1.19, 1.21, 1.26, 1.32)
OPEN = (0.0, 0.0, 0.016, 0.032, 0.052, 0.084)
TEETH_H = (0.0, 0.0, 0.016, 0.022, 0.027, 0.030)
FOLD = (0.0, 0.55, 0.62, 0.66, 0.70, 0.75)
# Bangs: fraction of the way from the hairline to the top of the brows
FRINGE = (0.0, 0.27, 0.47, 0.66, 0.93, 1.0)
# Eyeglasses: (frame half-width, lens tint alpha)
GLASSES = ((0.0, 0.0), (0.0055, 0.0), (0.013, 0.0), (0.020, 0.10), (0.022, 0.55), (0.024, 0.95))

TEETH = np.array((238, 234, 224), F32)
MOUTH_INSIDE = np.array((78, 20, 26), F32)
SCLERA = np.array((240, 236, 230), F32)
LUMA = np.array((0.3, 0.59, 0.11), F32)


def _mix(c1, c2, t):
    return c1 + (c2 - c1) * F32(t)


class Colours:
    """Identity colours after the age attribute is applied."""

    def __init__(self, ident: Identity, young: int, style: str):
        skin = P.SKIN[ident.skin] * F32(1.0 + ident.skin_jitter)
        lum = float(skin @ LUMA)
        age = AGE[young]
        glow = GLOW[young]
        skin = _mix(skin, np.full(3, lum, F32), 0.22 * age) * F32(1.0 - 0.05 * age)
        skin = skin * F32(1.0 + glow) + F32(120.0 * glow)
        self.skin = clamp(skin, 0, 255)
        hair = clamp(P.HAIR[ident.hair_colour] * F32(1.0 + ident.hair_jitter), 0, 255)
        hair = clamp(hair * F32(1.0 + 2.0 * glow) + F32(150.0 * glow), 0, 255)
        grey = np.full(3, GREY_TONE[young], F32)
        self.hair = _mix(hair, grey, GREY[young])
        self.brow = _mix(_mix(hair, P.HAIR[1], 0.35) * F32(0.85), grey * F32(0.85), GREY[young] * 0.8)
        # stubble reads as a dark shadow whatever the hair colour
        self.stubble = _mix(self.hair * F32(0.6), np.array((40, 32, 30), F32), 0.6)
        self.lip = _mix(self.skin, P.LIP_TINT[ident.lip_colour], 0.55 + 0.1 * (young >= 4))
        self.iris = P.EYES[ident.eye_colour]
        bgs = P.BACKGROUND_ART if style == "art" else P.BACKGROUND_PHOTO
        self.background = bgs[ident.background]
        cloth = P.CLOTHING[ident.clothing]
        if style == "art":  # period clothing: darker, warmer
            cloth = _mix(cloth * F32(0.6), np.array((70, 50, 36), F32), 0.35)
        self.cloth = cloth
        dark = lum < 130  # frames that stand out against the skin
        self.frame = (P.FRAME_LIGHT if dark else P.FRAME)[ident.frame_colour]
        self.wire = (P.WIRE_LIGHT if dark else P.WIRE)[ident.frame_colour]


class FaceRenderer:
    def __init__(self, canvas: Canvas, ident: Identity, g: Geometry, attrs, style: str):
        self.c = canvas
        self.i = ident
        self.g = g
        self.bangs, self.glasses, self.beard, self.smile, self.young = attrs
        self.col = Colours(ident, self.young, style)
        lx, ly = ident.light_x, ident.light_y
        lz = math.sqrt(max(0.05, 1.0 - lx * lx - ly * ly))
        self.light = (lx, ly, lz)
        self.gain = ident.light_gain

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
        """Strands (straight styles) or curls; band-limited so it never aliases."""
        g, hs, pw = self.g, self.g.hair, self.c.pw
        if hs.curl:
            f = min(55.0, 2 * math.pi / (3.5 * pw))
            return F32(1.0) + F32(0.08) * np.sin(f * x + 2.5 * np.sin(13.0 * y)) * np.sin(f * y + 2.5 * np.sin(11.0 * x))
        x0, y0 = g.side * 0.066, g.hy - g.b - hs.v_top * 0.4
        dx, dy = x - x0, y - y0
        r = np.sqrt(dx * dx + dy * dy) + F32(1e-3)
        k = 56.0
        att = clamp((2 * math.pi / k) * r / F32(3.5 * pw) - F32(1.0), 0.0, 1.0)
        ang = np.arctan2(dx, dy)
        t = np.sin(k * ang + 2.5 * np.sin(5.0 * r)) * F32(0.5) + np.sin(2.7 * k * ang + 1.3) * F32(0.5)
        return F32(1.0) + F32(0.07) * att * t

    def hair_colour(self, x, y, base_shade=1.0):
        g, hs = self.g, self.g.hair
        sh = self.shade(x, y, 0.0, g.hy - 0.1, g.a + 0.15, g.b + 0.2, amb=0.55, dif=0.55)
        # glossy sheen: a soft highlight band around the crown
        k = np.sqrt((x * (1.0 / (g.a + hs.v_side))) ** 2 + ((y - g.hy) * (1.0 / (g.b + hs.v_top))) ** 2)
        sheen = clamp(1.0 - np.abs(k - 0.8) * 9.0, 0.0, 1.0) * (y < g.hy - 0.15)
        sh = sh * self.hair_texture(x, y) * (F32(base_shade) + F32(0.15) * sheen)
        return self.col.hair * sh[..., None] + (F32(34.0 * base_shade) * sheen)[..., None]

    # ---------------------------------------------------------------- layers
    def background(self):
        c = self.c
        bg = self.col.background
        t = (c.py + 1.0) * 0.5  # 0 at top
        lx = self.light[0]
        grad = F32(1.10) - F32(0.20) * t + F32(0.07 * lx) * c.px
        r2 = c.px * c.px + c.py * c.py
        vign = F32(1.0) - F32(0.10) * r2
        c.img[:] = bg * (grad * vign)[..., None]

    def hair_outer(self, x, y):
        g, hs = self.g, self.g.hair
        cx = 0.03 * g.side * (hs.tilt > 0.1)
        d = ellipse(x, y, cx, g.hy - 0.015, g.a + hs.v_side, g.b + hs.v_top)
        if g.hair_bottom > g.hy:
            bot = g.hair_bottom
            d = np.minimum(d, rounded_box(x, y, cx, 0.5 * (g.hy + bot), g.a + hs.v_side,
                                          0.5 * (bot - g.hy), 0.08))
        if hs.curl:
            ang = np.arctan2(y - g.hy, x)
            d = d + F32(hs.curl) * np.sin(14.0 * ang + 0.7 * self.g.side)
        return d

    def back_hair(self):
        g, hs, c = self.g, self.g.hair, self.c
        if hs.bun:
            cy = g.hy - g.b - 0.07
            sl = c.box(-0.16, cy - 0.16, 0.16, cy + 0.16)
            x, y = c.coords(sl)
            d = circle(x, y, 0.0, cy, 0.125)
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
        d = rounded_box(x, y, 0.0, 0.5 * (top + hs.back), w, 0.5 * (hs.back - top), 0.09)
        if hs.curl:
            d = d + F32(hs.curl) * np.sin(23.0 * y + 9.0 * x)
        c.paint(sl, c.cov(d), self.hair_colour(x, y, 0.70))

    def body(self):
        g, c, col = self.g, self.c, self.col
        # neck
        nw = g.a * 0.50
        top = g.hy + 0.2 * g.b
        sl = c.box(-nw - 0.02, top, nw + 0.02, 1.6)
        if sl is not None:
            x, y = c.coords(sl)
            d = rounded_box(x, y, 0.0, (top + 1.6) * 0.5, nw, (1.6 - top) * 0.5, 0.04)
            sh = self.shade(x, y, 0.0, 0.6, nw * 1.6, 1.2, amb=0.6, dif=0.32)
            # shadow cast by the jaw onto the neck
            dj = head_sdf(x, y - 0.07, g)
            sh = sh * (F32(1.0) - F32(0.35) * clamp(0.5 - dj * 12.0, 0.0, 1.0))
            c.paint(sl, c.cov(d), col.skin * sh[..., None])
        # clothing: shoulders minus a neckline opening
        sl = c.box(-1.25, 0.62, 1.25, 1.7)
        if sl is None:
            return
        x, y = c.coords(sl)
        ds = ellipse(x, y, 0.0, 1.30, 1.08, 0.62)
        dn = ellipse(x, y, 0.0, 0.69, nw * 0.9, 0.13)
        d = np.maximum(ds, -dn)
        sh = self.shade(x, y, 0.0, 1.30, 1.15, 0.8, amb=0.55, dif=0.5)
        c.paint(sl, c.cov(d), col.cloth * sh[..., None])
        # collar seam
        seam = np.maximum(np.abs(dn) - 0.008, ds)
        c.darken(sl, c.cov(seam), 0.7)

    def ears(self):
        g, c = self.g, self.c
        rx, ry = 0.055 * g.ear_s, 0.10 * g.ear_s
        cx, cy = g.a * 0.97, g.ey + 0.055
        sl = c.box(-cx - rx - 0.02, cy - ry - 0.02, cx + rx + 0.02, cy + ry + 0.02)
        x, y = c.coords(sl)
        xa = np.abs(x)
        d = ellipse(xa, y, cx, cy, rx, ry)
        sh = self.shade(x, y, np.sign(x) * cx, cy, rx * 1.4, ry * 1.4, amb=0.55, dif=0.4)
        c.paint(sl, c.cov(d), self.col.skin * sh[..., None])
        di = ellipse(xa, y, cx + 0.012, cy + 0.005, rx * 0.45, ry * 0.6)
        c.darken(sl, c.cov(di, soft=0.02), 0.72)

    def head(self):
        g, c, col = self.g, self.c, self.col
        sl = c.box(-g.a - 0.02, g.hy - g.b - 0.02, g.a + 0.02, g.hy + g.b + 0.02)
        x, y = c.coords(sl)
        d = head_sdf(x, y, g)
        sh = self.shade(x, y, 0.0, g.hy, g.a * 1.12, g.b * 1.12)
        # soft darkening of the eye sockets
        ds = ellipse(np.abs(x), y, g.ex, g.ey - 0.005, g.erx + 0.04, g.ery + 0.045)
        sh = sh * (F32(1.0) - F32(0.13) * c.cov(ds, soft=0.05))
        c.paint(sl, c.cov(d), col.skin * sh[..., None])

    def youth(self):
        """Young: rosy cheeks (young) or wrinkles (old)."""
        g, c = self.g, self.c
        rosy = ROSY[self.young]
        if rosy:
            cx, cy = g.ex + 0.03, g.nose_y - 0.01
            sl = c.box(-cx - 0.11, cy - 0.09, cx + 0.11, cy + 0.09)
            x, y = c.coords(sl)
            d = ellipse(np.abs(x), y, cx, cy, 0.075, 0.055)
            c.paint(sl, c.cov(d, soft=0.06) * F32(rosy), np.array((232, 96, 104), F32))
        age = AGE[self.young]
        if not age:
            return
        darkf = 0.55
        th = 0.004 + 0.006 * age
        alpha = F32(0.35 + 0.6 * age)
        # forehead lines
        n_lines = 3 if age > 0.5 else (2 if age > 0.3 else 1)
        y0 = g.brow_y - 0.055 - 0.035 * (n_lines - 1)
        sl = c.box(-0.17, y0 - 0.05, 0.17, g.brow_y - 0.01)
        x, y = c.coords(sl)
        d = None
        for k in range(n_lines):
            yk = g.brow_y - 0.055 - 0.035 * k
            dk = parabola_stroke(x, y, 0.0, yk, 0.15 - 0.02 * k, 0.9, th, taper=0.8)
            d = dk if d is None else np.minimum(d, dk)
        c.darken(sl, c.cov(d) * alpha, darkf)
        # nasolabial folds (mirrored: |x|)
        ax, ay = g.nose_w + 0.03, g.nose_y - 0.02
        bx, by = g.mw + 0.04, g.my + 0.035
        sl = c.box(-bx - 0.03, ay - 0.03, bx + 0.03, by + 0.03)
        x, y = c.coords(sl)
        d = segment(np.abs(x), y, ax, ay, bx, by, th * 0.9)
        c.darken(sl, c.cov(d, soft=0.012) * alpha, darkf)
        if age < 0.3:
            return
        # crow's feet and under-eye bags
        ox, oy = g.ex + g.erx + 0.018, g.ey
        sl = c.box(-ox - 0.07, oy - 0.07, ox + 0.07, oy + 0.07)
        x, y = c.coords(sl)
        xa = np.abs(x)
        d = parabola_stroke(xa, y, g.ex, g.ey + g.ery + 0.022, g.erx * 0.85, -1.6, th * 0.8, taper=0.7)
        for ang in (-0.5, 0.0, 0.5):
            d = np.minimum(d, segment(xa, y, ox, oy, ox + 0.05 * math.cos(ang), oy + 0.05 * math.sin(ang), th * 0.7))
        c.darken(sl, c.cov(d) * alpha, darkf)
        if age > 0.8:  # marionette lines
            mx = g.mw + 0.02
            sl = c.box(-mx - 0.05, g.my - 0.02, mx + 0.05, g.my + 0.12)
            x, y = c.coords(sl)
            d = segment(np.abs(x), y, mx, g.my + 0.015, mx + 0.012, g.my + 0.095, th * 0.8)
            c.darken(sl, c.cov(d) * alpha, darkf)

    def nose(self):
        g, c = self.g, self.c
        lx = self.light[0]
        shadow_side = -1.0 if lx > 0 else 1.0
        # side shading of the nose bridge
        sl = c.box(-0.12, g.ey - 0.02, 0.12, g.nose_y + 0.06)
        x, y = c.coords(sl)
        ax, ay = shadow_side * 0.035, g.ey + 0.03
        bx, by = shadow_side * (g.nose_w * 0.85), g.nose_y - 0.02
        d = segment(x, y, ax, ay, bx, by, 0.006)
        c.darken(sl, c.cov(d, soft=0.035) * F32(0.8), 0.8)
        # shadow under the tip, then a highlight on the tip
        d = ellipse(x, y, 0.0, g.nose_y + 0.012, g.nose_w * 0.95, 0.022)
        c.darken(sl, c.cov(d, soft=0.03) * F32(0.65), 0.78)
        d = ellipse(x, y, 0.0, g.nose_y - 0.028, g.nose_w * 0.45, 0.022)
        c.paint(sl, c.cov(d, soft=0.03) * F32(0.22), np.minimum(self.col.skin * F32(1.25), 255))
        # nostrils
        xa = np.abs(x)
        d = ellipse(xa, y, g.nose_w * 0.52, g.nose_y, g.nose_w * 0.36, 0.011)
        c.darken(sl, c.cov(d) * F32(0.85), 0.45)
        d = ellipse(xa, y, g.nose_w * 0.82, g.nose_y - 0.012, 0.014, 0.026)
        c.darken(sl, c.cov(d, soft=0.02) * F32(0.5), 0.75)

    # ---------------------------------------------------------------- beard
    def _beard_top(self, x, cheek_raise):
        g = self.g
        ax = np.abs(x)
        cheek = (g.my - 0.035 - cheek_raise
                 - clamp((ax - g.mw) / (g.a - g.mw), 0.0, 1.0) * (g.my - 0.035 - g.ey - 0.07))
        must = np.where(ax < g.mw + 0.035, np.float32(g.nose_y + 0.028), np.float32(9.0))
        return np.minimum(cheek, must)

    def beard_layer(self):
        deg = self.beard
        if deg == 0:
            return
        g, c = self.g, self.c
        grow = (0.0, 0.004, 0.006, 0.010, 0.028, 0.045)[deg]
        ext = (0.0, 0.0, 0.0, 0.012, 0.07, 0.19)[deg]
        raise_ = (0.0, 0.0, 0.0, 0.0, 0.035, 0.06)[deg]
        sl = c.box(-g.a - 0.07, g.ey, g.a + 0.07, g.chin + 0.24)
        x, y = c.coords(sl)
        d = np.maximum(head_sdf(x, y, g, grow=grow, extra_chin=ext), self._beard_top(x, raise_) - y)
        # no hair grows on the lips: keep a clearing around the (smiling) mouth
        mw = g.mw * WIDEN[self.smile]
        hole = ellipse(x, y, 0.0, g.my + 0.5 * OPEN[self.smile], mw + 0.01, 0.036 + 0.5 * OPEN[self.smile])
        d = np.maximum(d, -hole)
        if deg >= 4:  # tufty outline
            d = d + F32(0.005 * (deg - 2)) * np.sin(36.0 * x + 2.0 * np.sin(21.0 * y))
        colour = self.col.hair * F32(0.82)
        noise = hash_noise(x, y, 1.7)
        if deg <= 2:
            # stubble: speckled shadow over the whole beard area
            a = c.cov(d, soft=0.02) * (F32(0.45 + 0.15 * (deg - 1)) + F32(0.3) * noise)
            c.paint(sl, a, self.col.stubble)
        if deg >= 2:
            if deg == 2:  # moustache joined to a chin goatee ("circle beard")
                xa = np.abs(x)
                dm = np.maximum(xa - (g.mw + 0.025), np.maximum(g.nose_y + 0.03 - y, y - g.my + 0.004))
                dg = ellipse(x, y, 0.0, 0.5 * (g.my + g.chin) + 0.015, g.mw * 0.8, 0.5 * (g.chin - g.my) + 0.02)
                dg = np.maximum(np.maximum(dg, g.my + 0.03 - y), head_sdf(x, y, g, grow=0.008))
                dside = segment(xa, y, g.mw + 0.012, g.my - 0.01, g.mw * 0.72, g.my + 0.07, 0.014)
                d = np.minimum(np.minimum(dm, dg), dside)
            sh = self.shade(x, y, 0.0, g.my, g.a * 1.3, 0.5, amb=0.6, dif=0.45)
            c.paint(sl, c.cov(d) * F32(0.96), colour * (sh * self.beard_texture(x, y, noise))[..., None]
                    + (F32(26.0) * noise * noise * sh)[..., None])

    def beard_texture(self, x, y, noise):
        f = min(90.0, 2 * math.pi / (3.2 * self.c.pw))
        return F32(0.86) + F32(0.16) * noise + F32(0.05) * np.sin(f * x + 2.0 * np.sin(17.0 * y + 5.0 * x))

    # ---------------------------------------------------------------- mouth
    def smile_folds(self):
        s = self.smile
        if not s:
            return
        g, c = self.g, self.c
        mw = g.mw * WIDEN[s]
        # apples of the cheeks lift and catch the light
        cx, cy = g.ex + 0.01, g.nose_y + 0.005
        sl = c.box(-cx - 0.09, cy - 0.06, cx + 0.09, cy + 0.06)
        x, y = c.coords(sl)
        d = ellipse(np.abs(x), y, cx, cy, 0.065, 0.035)
        c.paint(sl, c.cov(d, soft=0.045) * F32(0.6 * FOLD[s]), np.minimum(self.col.skin * F32(1.15) + F32(30.0), 255))
        # smile folds from the nose wings around the mouth corners, dimples
        ax, ay = g.nose_w + 0.025, g.nose_y - 0.005
        bx, by = mw + 0.03, g.my + 0.01 - LIFT[s] * 0.5
        sl = c.box(-bx - 0.04, ay - 0.03, bx + 0.04, by + 0.04)
        x, y = c.coords(sl)
        xa = np.abs(x)
        d = segment(xa, y, ax, ay, bx, by, 0.004)
        c.darken(sl, c.cov(d, soft=max(0.03, 2.0 * c.pw)) * F32(FOLD[s]), 0.5)
        d = circle(xa, y, mw + 0.012, g.my - LIFT[s] + 0.004, 0.006)
        c.darken(sl, c.cov(d, soft=0.015) * F32(FOLD[s]), 0.6)

    def mouth(self):
        g, c, col = self.g, self.c, self.col
        s = self.smile
        mw = g.mw * WIDEN[s]
        lift = LIFT[s]
        op = OPEN[s]
        tu, tl = 0.019, 0.028 * (1.0 - 0.25 * (s / 5.0))
        sl = c.box(-mw - 0.03, g.my - lift - 0.06, mw + 0.03, g.my + op + tl + 0.04)
        x, y = c.coords(sl)
        u = clamp(x * (1.0 / mw), -1.0, 1.0)
        gx = np.sqrt(clamp(1.0 - u * u, 0.0, 1.0))
        f = g.my - lift * u * u
        side = np.abs(x) - mw
        bow = F32(0.35) * np.exp(-(x * x) * (1.0 / 0.0009))  # cupid's bow dip
        top = f - tu * gx * (1.0 - bow) - 0.002
        bottom = f + op * gx ** 0.8
        lips = np.maximum(np.maximum(top - y, y - (bottom + tl * gx + 0.002)), side)
        sh = self.shade(x, y, 0.0, g.my, mw * 1.4, 0.12, amb=0.7, dif=0.38)
        # the lower lip is lit a bit more
        sh = sh * np.where(y > bottom, F32(1.08), F32(0.94))
        c.paint(sl, c.cov(lips), col.lip * sh[..., None])
        if op:
            dopen = np.maximum(np.maximum(f - y, y - bottom), side + 0.004)
            c.paint(sl, c.cov(dopen), MOUTH_INSIDE)
            teeth_h = TEETH_H[s]
            dt = np.maximum(dopen, y - (f + teeth_h * gx ** 0.5))
            c.paint(sl, c.cov(dt), TEETH * (F32(0.92) + F32(0.08) * gx)[..., None])
            if s == 5:  # lower teeth
                dl = np.maximum(dopen, (bottom - 0.012 * gx) - y)
                c.paint(sl, c.cov(dl) * F32(0.9), TEETH * F32(0.85))
        else:
            d = np.maximum(np.abs(y - f) - 0.0045, side + 0.01)
            c.darken(sl, c.cov(d), 0.45)
        if s:  # shadowed, upturned mouth corners
            dc = circle(np.abs(x), y, mw - 0.004, g.my - lift + 0.002, 0.011)
            c.darken(sl, c.cov(dc, soft=0.012) * F32(0.8), 0.5)

    def moustache(self):
        if self.beard < 3:
            return
        g, c = self.g, self.c
        s = self.smile
        mw = g.mw * WIDEN[s]
        sl = c.box(-mw - 0.06, g.nose_y, mw + 0.06, g.my + 0.05)
        x, y = c.coords(sl)
        u = clamp(x * (1.0 / mw), -1.0, 1.0)
        lipt = g.my - LIFT[s] * u * u - 0.016 * np.sqrt(clamp(1.0 - u * u, 0.0, 1.0))
        d = np.maximum(np.maximum(g.nose_y + 0.022 - y, y - (lipt + 0.006 + 0.02 * u * u)),
                       np.abs(x) - (mw + 0.035))
        noise = hash_noise(x, y, 1.7)
        sh = self.shade(x, y, 0.0, g.my, g.a * 1.3, 0.5, amb=0.6, dif=0.45)
        c.paint(sl, c.cov(d) * F32(0.96), self.col.hair * F32(0.82) * (sh * self.beard_texture(x, y, noise))[..., None]
                + (F32(26.0) * noise * noise * sh)[..., None])

    # ---------------------------------------------------------------- eyes & brows
    def eyes(self):
        g, c, col = self.g, self.c, self.col
        grow = EYE_GROW[self.young]
        erx, ery = g.erx * (1 + (grow - 1) * 0.5), g.ery * grow
        ir = min(0.036 * grow, erx * 0.55)
        cx, cy = g.ex, g.ey
        sl = c.box(-cx - erx - 0.03, cy - ery - 0.04, cx + erx + 0.03, cy + ery + 0.03)
        x, y = c.coords(sl)
        xa = np.abs(x)
        xr = xa - cx                 # towards the outer corner > 0
        xs = x - np.sign(x) * cx     # image-left/right (catch-lights agree in both eyes)
        dsc = ellipse(xa, y, cx, cy, erx, ery)
        # lid crease
        d = parabola_stroke(xa, y, cx, cy - ery - 0.014, erx * 0.8, 1.1, 0.004, taper=0.8)
        c.darken(sl, c.cov(d, soft=0.012) * F32(0.6), 0.7)
        c.paint(sl, c.cov(dsc), SCLERA * self.shade(xs, y, 0.0, cy, erx * 1.5, ery * 2.5, 0.7, 0.3)[..., None])
        ri = circle(xr, y, 0.0, cy + 0.003, ir)
        di = np.maximum(ri, dsc)
        c.paint(sl, c.cov(di), col.iris * (F32(0.75) + F32(0.45) * clamp((y - cy + ir) * (1.0 / (2 * ir)), 0, 1))[..., None])
        dp = np.maximum(ri + F32(ir * 0.55), dsc)
        c.paint(sl, c.cov(dp), np.array((12, 10, 10), F32))
        dh = circle(xs, y, 0.011, cy - 0.008, ir * 0.28)
        c.paint(sl, c.cov(dh) * F32(0.9), np.array((255, 255, 255), F32))
        # upper lid / lashes (thicker at the outer corner), faint lower lid
        lid = np.maximum(np.abs(dsc + 0.002) - (0.0055 + 0.004 * clamp(xr * (1.0 / erx), 0, 1)), y - cy + ery * 0.15)
        c.paint(sl, c.cov(lid), np.array((34, 24, 22), F32))
        low = np.maximum(np.abs(dsc) - 0.003, cy + ery * 0.3 - y)
        c.darken(sl, c.cov(low) * F32(0.5), 0.6)

    def brows(self):
        g, c = self.g, self.c
        hl = g.erx + 0.02
        curv = g.brow_arch / (hl * hl)
        cx = g.ex + 0.008
        sl = c.box(-cx - hl - 0.02, g.brow_y - 0.06, cx + hl + 0.02, g.brow_y + 0.05)
        x, y = c.coords(sl)
        d = parabola_stroke(np.abs(x), y, cx, g.brow_y - g.brow_arch, hl, curv, g.brow_th,
                            slope=0.06, taper=0.55)
        c.paint(sl, c.cov(d) * F32(0.95), self.col.brow)

    # ---------------------------------------------------------------- hair
    def front_hair(self):
        g, c, hs = self.g, self.c, self.g.hair
        w = g.a + hs.v_side + hs.curl + 0.04
        sl = c.box(-w, g.hy - g.b - hs.v_top - 0.06, w, g.hair_bottom + 0.04)
        x, y = c.coords(sl)
        dout = self.hair_outer(x, y)
        win_face = np.maximum(ellipse(x, y, 0.0, g.hy + 0.05, g.a * 0.9, g.b * 1.05), g.hairline(x) - y)
        win_neck = np.maximum(np.abs(x) - g.a * 0.86, g.hy + 0.12 - y)
        win = np.minimum(win_face, win_neck)
        d = np.maximum(np.maximum(dout, -win), y - g.hair_bottom)
        c.paint(sl, c.cov(d), self.hair_colour(x, y))
        if not hs.curl:  # parting line
            xp = g.side * 0.11
            dp = segment(x, y, xp * 0.6, g.hy - g.b - hs.v_top * 0.5, xp, g.hairline(xp) - 0.01, 0.003)
            dp = np.maximum(dp, d)
            c.darken(sl, c.cov(dp, soft=0.01) * F32(0.8), 0.6)

    def bangs_layer(self):
        deg = self.bangs
        if deg == 0:
            return
        g, c = self.g, self.c
        hs = g.hair
        brow_top = g.brow_y - g.brow_arch - g.brow_th - 0.008
        if deg == 5:
            yb = bangs_bottom(g)
        else:
            yb = g.hl0 + FRINGE[deg] * (brow_top - g.hl0)
        sl = c.box(-g.a - 0.03, g.hy - g.b - hs.v_top - 0.03, g.a + 0.03, yb + 0.07)
        x, y = c.coords(sl)
        jag = F32(0.012 + 0.004 * deg) * np.abs(np.sin(x * 38.0 + 0.5 * g.side))
        edge = yb + 0.30 * x * x + 0.05 * g.side * x * (hs.tilt > 0.1) - jag
        dhead = head_sdf(x, y, g, grow=0.012)
        d = np.maximum(np.maximum(self.hair_outer(x, y), y - edge), dhead)
        # soft shadow the fringe casts on the forehead
        dsh = np.maximum(np.maximum(y - edge - 0.018, dhead), self.hair_outer(x, y))
        c.darken(sl, c.cov(dsh, soft=0.03) * F32(0.7), 0.72)
        strand = np.abs(np.sin(x * 38.0 + 0.5 * g.side))
        colour = self.hair_colour(x, y) + (F32(16.0) * strand - F32(10.0))[..., None]
        c.paint(sl, c.cov(d), colour)

    # ---------------------------------------------------------------- eyeglasses
    def eyeglasses(self):
        deg = self.glasses
        if deg == 0:
            return
        g, c, col = self.g, self.c, self.col
        fw, tint = GLASSES[deg]
        lw, lh = g.lens_w, g.lens_h * (0.84 if deg <= 2 else 1.0)
        if deg == 5:
            lw, lh = lw + 0.006, lh + 0.01
        cy = g.ey + 0.008
        frame = col.wire if deg == 1 else col.frame
        sl = c.box(-g.a - 0.03, cy - lh - 0.04, g.a + 0.03, cy + lh + 0.04)
        x, y = c.coords(sl)
        dl = np.minimum(rounded_box(x, y, -g.ex, cy, lw, lh, 0.04 + 0.02 * (deg == 5)),
                        rounded_box(x, y, g.ex, cy, lw, lh, 0.04 + 0.02 * (deg == 5)))
        if tint:
            shade = np.array((20, 18, 20), F32) if deg == 5 else np.array((70, 52, 40), F32)
            c.paint(sl, c.cov(dl) * F32(tint), shade)
        # glare on the lenses
        glare = np.maximum(dl, np.abs((x - np.sign(x) * g.ex) + (y - cy) * 0.9 + 0.02) - 0.012)
        c.paint(sl, c.cov(glare, soft=0.01) * F32(0.18 if deg < 5 else 0.35), np.array((255, 255, 255), F32))
        rim = np.abs(dl) - fw
        inner = g.ex - lw
        bridge = parabola_stroke(x, y, 0.0, cy - lh * 0.35, inner + 0.01, 1.4, fw * 0.9)
        temples = np.minimum(
            segment(x, y, -(g.ex + lw), cy - lh * 0.5, -(g.a + 0.01), cy - lh * 0.45, fw * 0.85),
            segment(x, y, g.ex + lw, cy - lh * 0.5, g.a + 0.01, cy - lh * 0.45, fw * 0.85))
        d = np.minimum(np.minimum(rim, bridge), temples)
        sh = F32(0.85) + F32(0.3) * clamp(cy - y + lh, 0.0, 2 * lh) / F32(2 * lh)
        c.paint(sl, c.cov(d), frame * sh[..., None])

    # ---------------------------------------------------------------- all
    def draw(self):
        self.background()
        self.back_hair()
        self.body()
        self.ears()
        self.head()
        self.youth()
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
