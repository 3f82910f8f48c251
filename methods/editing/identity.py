"""The `identity` editor: returns the image unchanged (a scheme with it is the plain codec)."""
from __future__ import annotations

import numpy as np

from bench.registry import EDITORS
from methods.editing.base import Editor, EditResult, Outcome


@EDITORS.register("identity", "no edit: returns the image unchanged (outcome 'no-edit'); composes M1/M2 into "
                              "the plain codec")
class IdentityEditor(Editor):
    def __init__(self) -> None:
        self.spec = "identity"

    def edit(self, image, instruction):
        return EditResult(image=np.asarray(image, dtype=np.uint8), outcome=Outcome.NO_EDIT)
