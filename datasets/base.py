"""The dataset contract: a sized, seeded stream of `Item`s at a requested resolution."""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np


@dataclass
class Item:
    """One test case.

    image:        uint8 array (H, W, 3), the transmitter's original S_I.
    instruction:  the editing request S_T, for edit tasks.
    target:       the ground-truth edited image (H, W, 3) uint8 when the dataset knows it.
    labels:       dataset-specific ground truth (attribute degrees, identity, ...).
    """

    id: str
    image: np.ndarray
    instruction: str | None = None
    target: np.ndarray | None = None
    labels: dict[str, Any] = field(default_factory=dict)


class Dataset(ABC):
    """Subclasses set `spec` (the string that recreates them) and `default_size`."""

    spec: str = ""
    default_size: int = 128

    def __init__(self) -> None:
        self.skipped: list[str] = []  # human-readable reasons for items that could not be used

    @abstractmethod
    def items(self, n: int | None, size: int, seed: int = 0) -> Iterator[Item]:
        """Yield up to `n` items (all when None) at `size`x`size`, deterministically for `seed`."""

    def get(self, item_id: str, size: int, seed: int = 0) -> Item:
        """The item with `item_id`, exactly as `items()` yields it (so a worker can fetch its own).

        The default scans `items()`; datasets that can address an item directly override it."""
        for item in self.items(None, size, seed):
            if item.id == item_id:
                return item
        raise KeyError(f"dataset '{self.spec}' has no item '{item_id}'")
