"""Shared machinery of the official-dataset loaders: root checks, file discovery, the
deterministic item stream with skipping, and optional generated editing requests."""
from __future__ import annotations

import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from bench.errors import UserError
from bench.options import bool_option, int_option
from datasets.base import Dataset, Item
from datasets.image_io import is_image_file, load_rgb

REQUEST_CHOICES = ("all", "train", "heldout", "none")


@dataclass
class Entry:
    id: str
    path: Path
    labels: dict[str, Any] = field(default_factory=dict)
    degrees: list[int] | None = None  # our order: Bangs, Eyeglasses, Beard, Smiling, Young


def natural_key(text: str):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]


def missing(dataset: str, what: str, layout: str, source: str) -> UserError:
    return UserError(f"{dataset}: {what}. Expected layout: {layout}. {source}")


def require_root(dataset: str, root: str | None, layout: str, source: str) -> Path:
    if root is None or str(root).strip() == "":
        raise missing(dataset, f"no dataset folder given; use '{dataset}:root=PATH'", layout, source)
    path = Path(str(root)).expanduser()
    if not path.is_dir():
        raise missing(dataset, f"dataset folder {path} does not exist or is not a directory",
                      layout, source)
    return path


def first_existing(candidates: Iterable[Path], want_dir: bool = False) -> Path | None:
    for c in candidates:
        if (c.is_dir() if want_dir else c.is_file()):
            return c
    return None


def list_images(folder: Path, recursive: bool = False) -> list[Path]:
    it = folder.rglob("*") if recursive else folder.iterdir()
    files = [p for p in it if p.is_file() and is_image_file(p)]
    return sorted(files, key=lambda p: natural_key(str(p.relative_to(folder))))


def read_lines(path: Path) -> list[str]:
    with open(path, "r", encoding="utf-8-sig", errors="replace") as fh:
        return [ln.rstrip("\r\n") for ln in fh]


class RealDataset(Dataset):
    """Base: subclasses fill ``self.entries`` (sorted, stable) in ``__init__``.

    ``items(n, size, seed)``: ``n=None`` yields every entry in order; otherwise a seeded
    random subset of ``n`` usable entries (unreadable files are skipped, recorded in
    ``self.skipped`` and replaced by the next candidate) unless ``shuffle=False``, which takes
    the first ``n`` usable entries. Each item's editing request depends only on ``seed`` and
    the entry's position, not on ``n``.
    """

    name = "real"

    def __init__(self, requests: str = "all", shuffle: bool = True, allow_clamp: bool = False,
                 crop: int | None = None) -> None:
        super().__init__()
        if requests not in REQUEST_CHOICES:
            raise UserError(f"{self.name}: requests={requests!r} is not one of {', '.join(REQUEST_CHOICES)}")
        self.requests = requests
        self.shuffle = bool_option(shuffle, f"{self.name} shuffle")
        self.allow_clamp = bool_option(allow_clamp, f"{self.name} allow_clamp")
        crop = None if crop is None else int_option(crop, f"{self.name} crop", 0,
                                                     note=" (side of the centred square cut first, in pixels; 0 = none)")
        self.crop = crop or None
        self.entries: list[Entry] = []
        self.label_problems: list[str] = []  # bad annotation rows found while indexing

    def _make_spec(self, head: str, **extra) -> str:
        """``head`` plus every option that differs from its default (so the spec recreates us)."""
        opts = dict(extra)
        if self.requests != "all":
            opts["requests"] = self.requests
        if not self.shuffle:
            opts["shuffle"] = "false"
        if self.allow_clamp:
            opts["allow_clamp"] = "true"
        if self.crop:
            opts["crop"] = self.crop
        return head + "".join(f",{k}={v}" for k, v in opts.items() if v is not None)

    def __len__(self) -> int:
        return len(self.entries)

    def _skip(self, entry_id: str, path: Path, reason: str) -> None:
        msg = f"{path}: {reason}"
        self.skipped.append(msg)
        warnings.warn(f"{self.name}: skipped {msg}", UserWarning, stacklevel=3)

    def _labels_for(self, entry: Entry) -> dict:
        """The labels of one item (subclasses add bulky ones lazily here)."""
        labels = dict(entry.labels)
        labels.setdefault("file", str(entry.path))
        return labels

    def _request(self, seed: int, index: int, degrees: Sequence[int] | None):
        if self.requests == "none":
            return None
        from datasets.instructions import sample_request

        rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, index, 0x5EED])
        return sample_request(rng, degrees, split=self.requests, allow_clamp=self.allow_clamp)

    def _item(self, index: int, size: int, seed: int) -> Item | None:
        """Entry `index` as an Item (None, and counted as skipped, when its image is unusable)."""
        from datasets.instructions import expected_degree

        entry = self.entries[int(index)]
        image, reason = load_rgb(entry.path, size, center_box=self.crop)
        if image is None:
            self._skip(entry.id, entry.path, reason or "unreadable")
            return None
        labels = self._labels_for(entry)
        if entry.degrees is not None:
            labels["attributes"] = list(entry.degrees)
        instruction = self._request(seed, int(index), entry.degrees)
        text = None
        if instruction is not None:
            text = instruction.text
            labels["request"] = instruction.to_dict()
            if entry.degrees is not None:
                labels["expected_degree"] = expected_degree(entry.degrees, instruction)
        return Item(id=entry.id, image=image, instruction=text, labels=labels)

    def get(self, item_id: str, size: int, seed: int = 0) -> Item:
        if not hasattr(self, "_index"):
            self._index = {e.id: i for i, e in enumerate(self.entries)}
        if item_id not in self._index:
            raise KeyError(f"dataset '{self.spec}' has no item '{item_id}'")
        item = self._item(self._index[item_id], int(size or self.default_size), seed)
        if item is None:
            raise KeyError(f"dataset '{self.spec}' item '{item_id}' is unreadable")
        return item

    def items(self, n: int | None, size: int, seed: int = 0) -> Iterator[Item]:
        self.skipped = list(self.label_problems)
        size = int(size or self.default_size)
        order: Sequence[int] = range(len(self.entries))
        if n is not None and self.shuffle:
            order = np.random.default_rng(int(seed)).permutation(len(self.entries))
        produced = 0
        for index in order:
            if n is not None and produced >= n:
                return
            item = self._item(int(index), size, seed)
            if item is None:
                continue
            produced += 1
            yield item
