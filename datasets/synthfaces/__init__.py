"""SynthFaces: a procedural, fully labelled face world for text-driven facial edits.

In the spirit of dSprites / CLEVR: every image is rendered from an *identity* (everything
that is not edited: head shape, skin, hair, eyes, brows, nose, mouth, ears, background,
clothing, small pose and lighting; ``identity_from_id``) and five CelebA-Dialog
attributes with degrees 0..5 (Bangs, Eyeglasses, Beard, Smiling, Young). Rendering is
deterministic, so the ground-truth edit of any image is a re-render with one degree
changed (``edited_target``).

Modules: ``identity`` (parameter space, id -> identity), ``attributes`` (names, degrees,
validation), ``palette`` / ``geometry`` (levels, face layout, attribute regions), ``sdf``
(anti-aliased SDF canvas), ``face`` (the painter), ``render`` (entry point), ``art``
(painted-portrait OOD style), ``splits`` (disjoint identity ranges, attribute sampling),
``cache`` (.npz split cache), ``dataset`` (registered datasets), ``contact`` / ``sheet``
(contact sheets; ``python -m datasets.synthfaces.sheet OUT.png``).

Importing this package registers the datasets "synthfaces" and "synthfaces-art".

World 2 (``datasets.synthfaces.v2``, opt-in with the dataset option ``world=2`` or
``render(..., world=2, nuisance=...)``): identity apart from per-image nuisance, legible and
balanced attributes, a CelebA-like population and a painted out-of-distribution medium.
"""
from .attributes import ATTRIBUTES, DEGREE_DESCRIPTIONS, MAX_DEGREE, attribute_index, validate_attributes
from .cache import build_split_cache, cache_path, default_cache_root, load_split_cache
from .dataset import SynthFaces, synthfaces_art
from .identity import CONSERVATIVE_COUNT, FACTORS, IDENTITY_COUNT, Identity, identity_from_id
from .render import STYLES, attribute_mask, edited_target, render
from .contact import contact_sheet
from .splits import SPLITS, sample_attributes, split_identity

__all__ = [
    "ATTRIBUTES", "CONSERVATIVE_COUNT", "DEGREE_DESCRIPTIONS", "FACTORS", "IDENTITY_COUNT", "MAX_DEGREE",
    "SPLITS", "STYLES", "Identity", "SynthFaces", "attribute_index", "attribute_mask", "build_split_cache",
    "cache_path", "contact_sheet", "default_cache_root", "edited_target", "identity_from_id",
    "load_split_cache", "render", "sample_attributes", "split_identity", "synthfaces_art",
    "validate_attributes",
]
