"""World-2 colour tables that are not shared with world 1 (nuisance backdrops and clothing).

Skin, hair, eye, lip and frame colours are world 1's (``datasets.synthfaces.palette``).
"""
from __future__ import annotations

from ..palette import _rgb

# photo backdrops: studio greys, blues, greens, warm walls, dark studio, outdoor-ish tones
BACKGROUND_PHOTO = _rgb([
    (206, 206, 212), (150, 154, 162), (112, 150, 202), (170, 196, 222), (86, 150, 146), (138, 176, 114),
    (220, 204, 170), (226, 176, 168), (170, 160, 210), (232, 176, 110), (64, 70, 84), (40, 42, 46),
    (198, 218, 204), (246, 236, 214),
])
# art backdrops: umber, olive, oxblood, slate, ochre, parchment (paintings, drawings)
BACKGROUND_ART = _rgb([
    (72, 56, 38), (74, 76, 48), (42, 58, 48), (38, 44, 66), (92, 38, 32), (138, 104, 58),
    (88, 94, 78), (34, 30, 26), (62, 66, 74), (104, 70, 42), (170, 140, 96), (214, 196, 160),
    (120, 96, 70), (56, 40, 44),
])
CLOTHING = _rgb([
    (40, 52, 96), (34, 34, 38), (236, 236, 232), (172, 40, 46), (48, 112, 72), (124, 124, 130),
    (204, 160, 58), (102, 60, 134), (88, 132, 180), (222, 140, 150), (92, 70, 52), (30, 96, 104),
])
