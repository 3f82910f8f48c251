"""`render(identity, attributes, size, style)`: the SynthFaces image of a face.

Rendering is a pure function of its arguments (NumPy float32 arithmetic, no global
state), so the ground-truth edit of any image is just a re-render with one degree
changed; see `edited_target`.
"""
from __future__ import annotations

import numpy as np

from bench.errors import UserError

from .attributes import attribute_index, validate_attributes, with_degree
from .face import FaceRenderer
from .geometry import attribute_box, geometry
from .identity import Identity, identity_from_id
from .sdf import Canvas

STYLES: tuple[str, ...] = ("photo", "art")
MAX_SIZE = 4096
ZOOM = 1.2      # canonical face units -> image: the face fills the frame like a CelebA crop
LIFT_Y = 0.06   # and sits a little above the image centre


def check_size(size) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)):
        raise UserError(f"image size must be an integer number of pixels (1..{MAX_SIZE}), got {size!r}")
    size = int(size)
    if not 1 <= size <= MAX_SIZE:
        raise UserError(f"image size {size} is out of range: use 1..{MAX_SIZE} pixels (e.g. 64, 128, 256, 1024)")
    return size


def check_style(style) -> str:
    if style not in STYLES:
        raise UserError(f"unknown SynthFaces style {style!r}: valid styles are {', '.join(STYLES)}")
    return style


def _world2(world):
    if world != 2 or isinstance(world, bool):
        raise UserError(f"unknown SynthFaces world {world!r}: valid worlds are 1, 2")
    from . import v2

    return v2


def as_identity(identity) -> Identity:
    if isinstance(identity, Identity):
        return identity
    return identity_from_id(identity)


def make_canvas(ident: Identity, size: int) -> Canvas:
    return Canvas(size, (ident.shift_x, ident.shift_y + LIFT_Y), ident.rotation, ident.scale * ZOOM)


def render(identity, attributes, size: int = 64, style: str = "photo", *, world: int = 1,
           nuisance=None) -> np.ndarray:
    """Render a face as a (size, size, 3) uint8 array.

    identity:   an `Identity` or an identity id (int).
    attributes: 5 degrees 0..5 in the order Bangs, Eyeglasses, Beard, Smiling, Young
                (or a {name: degree} mapping).
    size:       output side in pixels (any size 1..4096); anti-aliased at every size.
    style:      "photo" (the in-distribution look) or "art" (painted portrait, OOD).
    world:      1 (default) or 2 (`datasets.synthfaces.v2.render`; identity is then a world-2
                identity or id, and `nuisance` a `v2.Nuisance`, default frontal).
    """
    if world != 1:
        return _world2(world).render(identity, attributes, size, style, nuisance)
    if nuisance is not None:
        raise UserError("world 1 has no nuisance: pose, lighting, backdrop and clothing belong to the identity "
                        "(use world=2)")
    ident = as_identity(identity)
    attrs = validate_attributes(attributes)
    size = check_size(size)
    style = check_style(style)
    canvas = make_canvas(ident, size)
    FaceRenderer(canvas, ident, geometry(ident), attrs, style).draw()
    if style == "art":
        from .art import stylize

        return stylize(canvas, ident)
    return canvas.to_uint8()


def edited_target(identity, attributes, attr_index, new_degree, size: int = 64, style: str = "photo", *,
                  world: int = 1, nuisance=None) -> np.ndarray:
    """The ground-truth edit: the same face with attribute `attr_index` set to `new_degree`.

    attr_index may be 0..4 or an attribute name ("Bangs", "Eyeglasses", ...).
    """
    return render(identity, with_degree(attributes, attr_index, new_degree), size, style, world=world,
                  nuisance=nuisance)


def attribute_mask(identity, attr, size: int = 64, *, world: int = 1, attributes=None, nuisance=None) -> np.ndarray:
    """Boolean (size, size) mask of the pixels attribute `attr` may change for this face.

    Outside the mask, images of the same identity that differ only in `attr` are identical
    (up to a one-pixel anti-aliasing margin at the mask border). World 2 regions also depend
    on the current degrees (Young changes proportions) and on the nuisance (pose).
    """
    if world != 1:
        return _world2(world).attribute_mask(identity, attr, size, attributes, nuisance)
    ident = as_identity(identity)
    canvas = make_canvas(ident, check_size(size))
    return canvas.mask_box(*attribute_box(geometry(ident), attribute_index(attr)))
