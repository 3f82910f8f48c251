"""The instruction language: labelled, natural-sounding facial-edit requests.

Five attributes (CelebA-Dialog's fine-grained set, degrees 0-5), in this order:
0 Bangs, 1 Eyeglasses, 2 Beard, 3 Smiling, 4 Young (a youth degree: higher = younger).

    >>> import numpy as np
    >>> from datasets.instructions import sample_request, expected_degree
    >>> ins = sample_request(np.random.default_rng(0), degrees=[0, 0, 3, 1, 2])
    >>> ins.text, ins.attribute, ins.direction, ins.delta, ins.mode   # doctest: +SKIP
    >>> expected_degree([0, 0, 3, 1, 2], ins)                          # doctest: +SKIP

``templates(split)`` gives the fixed template list of ``"train"``, ``"heldout"`` (about 15%
of the families, kept out of training for a generalisation test) or ``"all"``.
"""
from datasets.instructions.generator import (Instruction, clamp_degree, expected_degree, generate,
                                             render, sample_request)
from datasets.instructions.lexicon import (ATTRIBUTE_INDEX, ATTRIBUTES, DEGREE_MEANING, MAX_DEGREE,
                                           MODES, amount_lexicon)
from datasets.instructions.templates import Template, all_templates, counts, template_by_id, templates

__all__ = [
    "ATTRIBUTES", "ATTRIBUTE_INDEX", "DEGREE_MEANING", "MAX_DEGREE", "MODES", "Instruction",
    "Template", "all_templates", "amount_lexicon", "clamp_degree", "counts", "expected_degree",
    "generate", "render", "sample_request", "template_by_id", "templates",
]
