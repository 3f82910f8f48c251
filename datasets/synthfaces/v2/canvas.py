"""The world-2 canvas: the SDF canvas of world 1 plus a head turn (yaw).

Roll, scale and shift are the canvas's similarity transform (as in world 1). Yaw is a
2.5-D warp: canonical x = x' - sin(yaw) * Z(x', y), where Z is a paraboloid depth bump
over the head (deepest at the nose, zero beyond the hair). Features near the face centre
move sideways more than the outline, which reads as a turned head; the warp is monotonic
(|dZ/dx| * |sin(yaw)| < 1) so no pixel folds over.
"""
from __future__ import annotations

import math

import numpy as np

from ..sdf import F32, Canvas

DEPTH = 0.30           # depth of the head bump (canonical units)
RX, RY, CY = 0.78, 1.0, -0.05


class PoseCanvas(Canvas):
    def __init__(self, size: int, shift=(0.0, 0.0), rotation: float = 0.0, scale: float = 1.0, yaw: float = 0.0):
        super().__init__(size, shift, rotation, scale)
        self.yaw_s = math.sin(float(yaw))
        self.pad = abs(self.yaw_s) * DEPTH
        if self.yaw_s:
            u = self.X * F32(1.0 / RX)
            v = (self.Y - F32(CY)) * F32(1.0 / RY)
            z = np.maximum(F32(1.0) - u * u - v * v, F32(0.0))
            self.X = (self.X - F32(self.yaw_s * DEPTH) * z).astype(F32)

    def box(self, x0, y0, x1, y1):
        return super().box(x0 - self.pad, y0, x1 + self.pad, y1)
