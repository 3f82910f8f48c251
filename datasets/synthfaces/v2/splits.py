"""World-2 splits: disjoint identity ranges (same layout as world 1, world-2 id space)."""
from __future__ import annotations

from ..splits import check_split  # noqa: F401  (re-exported)
from ..splits import split_identity as _split_identity
from ..splits import split_len as _split_len
from .identity import IDENTITY_COUNT

SPLITS: dict[str, tuple[int, int]] = {
    "finetune": (0, 16),
    "test": (1_000, 101_000),
    "train": (101_000, IDENTITY_COUNT),
}
SPLIT_CODES = {"finetune": 1, "test": 2, "train": 3}


def split_len(split: str) -> int:
    return _split_len(split, SPLITS)


def split_identity(split: str, index: int) -> int:
    """World-2 identity id shown by image `index` of `split`."""
    return _split_identity(split, index, SPLITS)
