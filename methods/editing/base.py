"""The editor contract: (image, instruction) -> edited image with an outcome.

Editors are registered in ``bench.registry.EDITORS`` and used wherever an edit happens: at the
receiver of a send-then-edit scheme (M1), at the transmitter of an edit-then-send scheme (M2),
or inside a semantic method. An editor never sees ground truth, only the image and the text.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np


class Outcome:
    """What happened to a request (stored in result rows as these strings)."""

    EDITED = "edited"
    NOT_UNDERSTOOD = "not-understood"  # the parser could not read a facial-edit request
    AT_LIMIT = "at-limit"  # the attribute is already at the requested end of its scale
    GAVE_UP = "gave-up"  # attribute matching hit max_trials without reaching the degree
    NO_EDIT = "no-edit"  # the editor does not edit (the `identity` editor)
    UNDECODABLE = "undecodable"  # a send-then-edit receiver got no image to edit (the codec's decode failed)
    ALL = (EDITED, NOT_UNDERSTOOD, AT_LIMIT, GAVE_UP, NO_EDIT, UNDECODABLE)


@dataclass
class EditResult:
    image: np.ndarray  # uint8 (H, W, 3)
    outcome: str
    parsed: dict[str, Any] | None = None  # the parsed request (attribute, direction, delta/target, mode, ...)
    trials: int = 0  # editing steps / matching trials used
    stage_times: dict[str, float] = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "parsed": self.parsed, "trials": int(self.trials)}


class Editor(ABC):
    """Subclasses are registered with ``@EDITORS.register(name, summary)``."""

    spec: str = ""

    def setup(self, size: int) -> None:
        """Called once with the image resolution before any edit()."""

    def weights(self) -> dict[str, str]:
        """Trained weight files this editor uses: role -> path (after setup)."""
        return {}

    @abstractmethod
    def edit(self, image: np.ndarray, instruction: str | None) -> EditResult: ...

    def edit_batch(self, images: list[np.ndarray], instructions: list[str | None]) -> list[EditResult]:
        """Several edits in one call (editors that invert images batch them); default: one by one."""
        return [self.edit(im, ins) for im, ins in zip(images, instructions)]
