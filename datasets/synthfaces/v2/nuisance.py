"""World-2 nuisance: everything about a photograph that is not the person or an attribute.

A `Nuisance` holds the backdrop, the clothing, the pose (yaw, roll, scale, shift) and the
lighting of one image. It is drawn independently per image (`sample_nuisance`), so one
identity can be photographed under any number of nuisances; an edit keeps the nuisance
(the ground-truth edit is the same person, same photograph, one degree changed).
The art style draws from wider pose ranges and its own backdrop palette.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from bench.errors import UserError

N_BACKGROUNDS = 14
N_BACKGROUND_PATTERNS = 3   # smooth gradient, out-of-focus blobs, wall + floor/horizon
N_CLOTHING = 12
N_NECKLINES = 3             # crew, V, shirt collar

# sampling ranges per style: yaw, roll (radians), scale, shift x, shift y
POSE_RANGES = {
    "photo": dict(yaw=math.radians(16.0), roll=math.radians(6.0), scale=(0.92, 1.05), sx=0.05, sy=0.04),
    "art": dict(yaw=math.radians(26.0), roll=math.radians(11.0), scale=(0.84, 1.04), sx=0.09, sy=0.07),
}


@dataclass(frozen=True)
class Nuisance:
    """Photograph parameters of one image (all JSON-friendly)."""

    background: int = 0          # backdrop colour index (palette of the style)
    bg_pattern: int = 0          # 0 gradient, 1 out-of-focus blobs, 2 wall + floor
    bg_angle: float = 0.0        # direction of the backdrop gradient (radians)
    bg_seed: int = 0             # placement of the blobs / horizon
    clothing: int = 0            # clothing colour index
    neckline: int = 0            # 0 crew, 1 V, 2 collar
    yaw: float = 0.0             # head turn (radians, + = towards image right)
    roll: float = 0.0            # in-plane rotation (radians)
    scale: float = 1.0
    shift_x: float = 0.0         # image units (the image spans [-1, 1])
    shift_y: float = 0.0
    light_az: float = 0.6        # key light azimuth (radians, 0 = from image right)
    light_reach: float = 0.5     # how far off-axis the key light is (0 frontal .. 0.9 grazing)
    light_gain: float = 1.0
    warmth: float = 0.0          # colour temperature: + warm, - cool
    medium: int = 0              # art only: 0 oil on canvas, 1 watercolour and ink, 2 chalk drawing

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Nuisance":
        return cls(**d)

    @property
    def light(self) -> tuple[float, float, float]:
        lx = self.light_reach * math.cos(self.light_az)
        ly = -abs(self.light_reach * math.sin(self.light_az)) * 0.8  # mostly from above
        lz = math.sqrt(max(0.05, 1.0 - lx * lx - ly * ly))
        return lx, ly, lz


FRONTAL = Nuisance()


def sample_nuisance(rng, style: str = "photo") -> Nuisance:
    """A random nuisance for `style` ("photo" or "art") from a NumPy Generator (or a seed)."""
    if style not in POSE_RANGES:
        raise UserError(f"unknown SynthFaces style {style!r}: valid styles are photo, art")
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    r = POSE_RANGES[style]
    u = rng.random(12)
    return Nuisance(
        background=int(u[0] * N_BACKGROUNDS) % N_BACKGROUNDS,
        bg_pattern=int(u[1] * N_BACKGROUND_PATTERNS) % N_BACKGROUND_PATTERNS,
        bg_angle=float(2 * math.pi * u[2]),
        bg_seed=int(rng.integers(1 << 30)),
        clothing=int(u[3] * N_CLOTHING) % N_CLOTHING,
        neckline=int(u[4] * N_NECKLINES) % N_NECKLINES,
        yaw=float(r["yaw"] * (2 * u[5] - 1)),
        roll=float(r["roll"] * (2 * u[6] - 1)),
        scale=float(r["scale"][0] + (r["scale"][1] - r["scale"][0]) * u[7]),
        shift_x=float(r["sx"] * (2 * u[8] - 1)),
        shift_y=float(r["sy"] * (2 * u[9] - 1)),
        light_az=float(2 * math.pi * u[10]),
        light_reach=float(0.25 + 0.55 * u[11]),
        light_gain=float(0.88 + 0.22 * rng.random()),
        warmth=float(0.16 * rng.random() - 0.08),
        medium=_draw_medium(rng) if style == "art" else 0,
    )


MEDIA = ("oil", "watercolour", "chalk")
MEDIUM_PRIOR = (0.6, 0.2, 0.2)  # MetFaces is mostly oil paintings, some drawings and watercolours


def _draw_medium(rng: np.random.Generator) -> int:
    u = rng.random()
    return 0 if u < MEDIUM_PRIOR[0] else 1 if u < MEDIUM_PRIOR[0] + MEDIUM_PRIOR[1] else 2


def as_nuisance(nuisance) -> Nuisance:
    if nuisance is None:
        return FRONTAL
    if isinstance(nuisance, Nuisance):
        return nuisance
    if isinstance(nuisance, dict):
        try:
            return Nuisance.from_dict(nuisance)
        except TypeError as exc:
            raise UserError(f"bad nuisance {nuisance!r}: {exc}") from None
    raise UserError(f"nuisance must be a Nuisance, a dict of its fields or None, got {nuisance!r}")
