"""Hand-written request patterns, one module per attribute.

Pattern syntax: ``{obj}``/``{poss}`` person slots (him/his, her/her, them/their, the
person/the person's, ...); ``{pre}`` an amount before a comparative ("slightly longer",
"two levels longer"); ``{by}`` an amount after a verb phrase ("trim it by two levels").
``[a|b|c]`` expands into variants of one family (variants share a family for the held-out
split). A leading ``@0`` means "only when the current degree is 0" (e.g. "add glasses"),
``@+`` "only when it is above 0".

Keys: ``("definite", +1|-1)``, ``("indefinite", +1|-1)``, ``("target", degree)``.
"""
from datasets.instructions.phrasebook import bangs, beard, eyeglasses, smiling, young

BOOKS = {"Bangs": bangs.PATTERNS, "Eyeglasses": eyeglasses.PATTERNS, "Beard": beard.PATTERNS,
         "Smiling": smiling.PATTERNS, "Young": young.PATTERNS}
