"""Lookup tables behind the identity factors: colours and shape levels.

Each table has exactly as many entries as the factor has levels in
``datasets.synthfaces.identity.FACTORS``; neighbouring levels are chosen to be visibly
different at 64x64.
"""
from __future__ import annotations

import numpy as np


def _rgb(rows) -> np.ndarray:
    return np.asarray(rows, dtype=np.float32)


# Skin tones, light -> deep (roughly Fitzpatrick I..VI, sampled from photo averages).
SKIN = _rgb([
    (255, 224, 202), (244, 206, 178), (236, 192, 156), (224, 176, 136), (204, 156, 114),
    (186, 136, 96), (160, 112, 76), (136, 92, 62), (114, 76, 50), (94, 62, 42),
])
HAIR = _rgb([
    (26, 22, 21),     # black
    (56, 38, 28),     # dark brown
    (94, 62, 38),     # brown
    (142, 102, 62),   # light brown
    (196, 158, 98),   # dark blonde
    (230, 204, 146),  # light blonde
    (126, 50, 28),    # auburn
    (186, 88, 40),    # ginger
])
EYES = _rgb([
    (62, 40, 26),     # dark brown
    (112, 70, 38),    # brown
    (120, 108, 52),   # hazel
    (64, 120, 74),    # green
    (60, 116, 182),   # blue
    (112, 128, 146),  # grey
])
BACKGROUND_PHOTO = _rgb([
    (204, 204, 210), (112, 152, 204), (88, 160, 158), (142, 182, 118), (218, 202, 168),
    (222, 168, 180), (168, 158, 212), (232, 170, 106), (70, 80, 96), (226, 216, 136),
])
# The "art" style paints on darker, museum-portrait backdrops (umber, olive, oxblood ...).
BACKGROUND_ART = _rgb([
    (72, 56, 38), (74, 76, 48), (42, 58, 48), (38, 44, 66), (92, 38, 32),
    (138, 104, 58), (88, 94, 78), (34, 30, 26), (62, 66, 74), (104, 70, 42),
])
CLOTHING = _rgb([
    (40, 52, 96), (34, 34, 38), (236, 236, 232), (172, 40, 46), (48, 112, 72),
    (124, 124, 130), (204, 160, 58), (102, 60, 134),
])
LIP_TINT = _rgb([(218, 110, 126), (200, 100, 98), (176, 76, 90)])  # mixed with the skin tone
FRAME = _rgb([(24, 24, 28), (70, 40, 26), (30, 38, 70), (86, 30, 34)])
WIRE = _rgb([(70, 70, 76), (150, 120, 60), (70, 70, 76), (110, 110, 118)])
# frames for darker skin tones, so the glasses contrast with the face like in photos
FRAME_LIGHT = _rgb([(206, 172, 92), (196, 196, 206), (184, 48, 44), (226, 226, 226)])
WIRE_LIGHT = _rgb([(214, 182, 104), (210, 210, 218), (214, 182, 104), (230, 230, 236)])

# shape levels (canonical units: the image spans [-1, 1] in x and y, y pointing down)
FACE_WIDTH = (0.39, 0.415, 0.44, 0.465, 0.49)    # head half-width
FACE_LENGTH = (0.53, 0.56, 0.59, 0.62)           # head half-height
JAW = (  # (taper of the lower half, superellipse exponent of the lower half)
    (0.0, 2.0),    # round
    (0.16, 2.0),   # oval
    (0.30, 2.0),   # pointed
    (0.05, 3.2),   # square
)
EYE_SHAPE = (0.50, 0.64, 0.80)                   # eye height / eye width
EYE_SPACING = (0.160, 0.178, 0.196)              # eye centre offset from the midline
BROW_THICKNESS = (0.011, 0.017, 0.024)
BROW_ARCH = (0.006, 0.026)
NOSE = (  # (length below the eye line, half-width)
    (0.160, 0.046), (0.200, 0.048), (0.168, 0.068), (0.208, 0.064),
)
MOUTH_WIDTH = (0.112, 0.130, 0.148)              # half-width
EAR_SIZE = (0.82, 1.0, 1.18)

HAIR_STYLE_NAMES = ("crop", "side-swept", "bob", "long", "curly", "bun")
