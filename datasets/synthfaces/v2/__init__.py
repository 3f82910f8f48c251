"""SynthFaces world 2 (issue 9): identity apart from nuisance, legible attributes, a
CelebA-like population and a painted out-of-distribution medium. Opt-in as
``synthfaces:world=2`` / ``synthfaces-art:world=2``; world 1 stays the default.
"""
from .identity import GEOMETRY_FACTORS, HAIR_STYLES, IDENTITY_COUNT, Identity, identity_from_id, lookalike
from .nuisance import FRONTAL, Nuisance, sample_nuisance
from .render import attribute_mask, edited_target, render

__all__ = [
    "FRONTAL", "GEOMETRY_FACTORS", "HAIR_STYLES", "IDENTITY_COUNT", "Identity", "Nuisance", "attribute_mask",
    "edited_target", "identity_from_id", "lookalike", "render", "sample_nuisance",
]
