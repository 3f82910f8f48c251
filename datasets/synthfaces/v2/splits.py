"""World-2 splits: disjoint identity ranges (same layout as world 1, world-2 id space)."""
from __future__ import annotations

from bench.errors import UserError

from ..splits import check_split
from .identity import IDENTITY_COUNT

SPLITS: dict[str, tuple[int, int]] = {
    "finetune": (0, 16),
    "test": (1_000, 101_000),
    "train": (101_000, IDENTITY_COUNT),
}
SPLIT_CODES = {"finetune": 1, "test": 2, "train": 3}


def split_len(split: str) -> int:
    lo, hi = SPLITS[check_split(split)]
    return hi - lo


def split_identity(split: str, index: int) -> int:
    """World-2 identity id shown by image `index` of `split`."""
    lo, hi = SPLITS[check_split(split)]
    if not 0 <= index < hi - lo:
        raise UserError(f"index {index} is outside split '{split}' (0 .. {hi - lo - 1})")
    return lo + index
