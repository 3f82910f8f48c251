"""`render(identity, attributes, size, style, nuisance)`: a world-2 SynthFaces image.

Rendering is a pure function of its arguments, so the ground-truth edit of an image is a
re-render with the same identity and nuisance and one degree changed (`edited_target`).
"""
from __future__ import annotations

import numpy as np

from ..attributes import attribute_index, validate_attributes, with_degree
from ..render import check_size, check_style
from .canvas import PoseCanvas
from .face import FaceRenderer
from .geometry import attribute_boxes, geometry
from .identity import Identity, identity_from_id
from .nuisance import Nuisance, as_nuisance

ZOOM = 1.20    # canonical units -> image: the face fills the frame like a CelebA crop
LIFT_Y = 0.0   # vertical placement of the face


def as_identity(identity) -> Identity:
    if isinstance(identity, Identity):
        return identity
    return identity_from_id(identity)


def make_canvas(nuis: Nuisance, size: int) -> PoseCanvas:
    return PoseCanvas(size, (nuis.shift_x, nuis.shift_y - LIFT_Y), nuis.roll, nuis.scale * ZOOM, nuis.yaw)


def pose_vector(nuisance) -> np.ndarray:
    """The pose of a photograph as the face-alignment target: float32 ``[tx, ty, roll, log scale,
    sin yaw]``, where an image point is ``p = scale * R(roll) @ X + (tx, ty)`` for the face's
    canonical point ``X`` before the head turn (image spans [-1, 1], x right, y down), and the turn
    moves canonical x by ``-sin(yaw) * DEPTH * Z`` (``canvas.PoseCanvas``)."""
    nuis = as_nuisance(nuisance)
    return np.array([nuis.shift_x, nuis.shift_y - LIFT_Y, nuis.roll, np.log(nuis.scale * ZOOM),
                     np.sin(nuis.yaw)], np.float32)


def render(identity, attributes, size: int = 64, style: str = "photo", nuisance=None) -> np.ndarray:
    """Render a world-2 face as a (size, size, 3) uint8 array.

    identity:   a world-2 `Identity` (e.g. from `lookalike`) or a world-2 identity id.
    attributes: 5 degrees 0..5 (Bangs, Eyeglasses, Beard, Smiling, Young) or a {name: degree} mapping.
    size:       output side in pixels (1..4096), anti-aliased at every size.
    style:      "photo" or "art" (the painted out-of-distribution medium).
    nuisance:   a `Nuisance` (or a dict of its fields); None = frontal studio portrait.
    """
    ident = as_identity(identity)
    attrs = validate_attributes(attributes)
    size = check_size(size)
    style = check_style(style)
    nuis = as_nuisance(nuisance)
    canvas = make_canvas(nuis, size)
    FaceRenderer(canvas, ident, geometry(ident, attrs[4]), attrs, nuis, style).draw()
    if style == "art":
        from .art import paint

        return paint(canvas, ident, nuis)
    return canvas.to_uint8()


def edited_target(identity, attributes, attr_index, new_degree, size: int = 64, style: str = "photo",
                  nuisance=None) -> np.ndarray:
    """The ground-truth edit: the same face and photograph with one attribute set to `new_degree`."""
    return render(identity, with_degree(attributes, attr_index, new_degree), size, style, nuisance)


def region_boxes(identity, attr, attributes=None) -> tuple:
    """Canonical boxes whose union holds every pixel an edit of `attr` may change.

    Young changes the face's proportions, so its region is the union over all Young
    degrees; the others depend on the current Young degree (``attributes[4]``, default 3).
    """
    ident = as_identity(identity)
    a = attribute_index(attr)
    young = 3 if attributes is None else validate_attributes(attributes)[4]
    if a == 4:
        return tuple(box for y in range(6) for box in attribute_boxes(geometry(ident, y), 4))
    return attribute_boxes(geometry(ident, young), a)


def attribute_mask(identity, attr, size: int = 64, attributes=None, nuisance=None) -> np.ndarray:
    """Boolean (size, size) mask of the pixels an edit of `attr` may change.

    Outside the mask, two renders of the same identity and nuisance whose degrees differ only
    in `attr` are identical (up to a one-pixel anti-aliasing margin at the mask border).
    """
    canvas = make_canvas(as_nuisance(nuisance), check_size(size))
    mask = np.zeros((canvas.size, canvas.size), bool)
    for box in region_boxes(identity, attr, attributes):
        mask |= canvas.mask_box(*box)
    return mask
