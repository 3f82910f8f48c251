"""CelebA (aligned & cropped): ``celeba:root=PATH[,split=all|train|val|test][,crop=178]``.

Published layout (any of the common unpackings is found)::

    ROOT/img_align_celeba/000001.jpg ...   (also ROOT/img_align_celeba/img_align_celeba/,
                                            ROOT/Img/img_align_celeba/, ROOT/celeba/...)
    ROOT/list_attr_celeba.txt              (also ROOT/Anno/; Kaggle's list_attr_celeba.csv)
        line 1: number of images; line 2: the 40 attribute names;
        then  "000001.jpg -1  1  1 ..."  (one 1/-1 per attribute)
    ROOT/list_eval_partition.txt           optional (also ROOT/Eval/, .csv): "000001.jpg 0"
                                            0 = train, 1 = val, 2 = test

Images (178x218) are centre-cropped to a square (``crop=N`` first cuts a centred N-px box,
e.g. 178 or the tighter 140 used by some GAN works) and resized to the requested size
(default 128). Labels: ``binary_attributes`` {name: bool}, ``partition``.
"""
from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from bench.errors import UserError
from bench.registry import DATASETS
from datasets.real.common import Entry, RealDataset, first_existing, missing, read_lines, require_root

LAYOUT = ("ROOT/img_align_celeba/000001.jpg..., ROOT/list_attr_celeba.txt "
          "(count line, 40 names line, 'file 1 -1 ...' rows), optional ROOT/list_eval_partition.txt")
SOURCE = ("Get it from the CelebA project page of the Multimedia Laboratory, The Chinese University "
          "of Hong Kong (files 'img_align_celeba.zip', 'list_attr_celeba.txt', 'list_eval_partition.txt').")
PARTITIONS = {"train": 0, "val": 1, "test": 2}
PARTITION_NAMES = {v: k for k, v in PARTITIONS.items()}


def _dirs(root: Path) -> list[Path]:
    return [root, root / "celeba", root / "CelebA", root / "Anno", root / "Eval", root / "Img"]


def parse_attr_file(path: Path, dataset: str = "celeba") -> tuple[list[str], dict[str, int], np.ndarray]:
    """CelebA-style attribute list (txt with count + names header, or the Kaggle CSV).

    Returns (names, {file: row}, int8 array rows x names); streamed, compact for 200k images.
    """
    is_csv = path.suffix.lower() == ".csv"
    with open(path, "r", encoding="utf-8-sig", errors="replace") as fh:
        lines = (ln for ln in fh if ln.strip())
        if is_csv:
            header = next(csv.reader([next(lines, "")]), [])
            names = [c.strip() for c in header[1:]]
            count = None
        else:
            first = next(lines, "").split()
            count = int(first[0]) if len(first) == 1 and first[0].isdigit() else None
            names = next(lines, "").split() if count is not None else first
        if not names:
            raise UserError(f"{dataset}: attribute file {path} has no attribute-name line: expected a "
                            "count line, a line of attribute names, then one row per image")
        index: dict[str, int] = {}
        rows: list[bytes] = []
        bad = 0
        for ln in lines:
            parts = ln.replace(",", " ").split() if is_csv else ln.split()
            if len(parts) != len(names) + 1:
                bad += 1
                continue
            try:
                vals = np.array([int(v) for v in parts[1:]], np.int8)
            except ValueError:
                bad += 1
                continue
            if parts[0] not in index:
                index[parts[0]] = len(rows)
                rows.append(vals.tobytes())
    if not index:
        raise UserError(f"{dataset}: no valid rows in {path} (each row must be a file name followed by "
                        f"{len(names)} values)")
    if bad:
        import warnings
        warnings.warn(f"{dataset}: ignored {bad} malformed row(s) in {path}", UserWarning, stacklevel=2)
    values = np.frombuffer(b"".join(rows), np.int8).reshape(len(rows), len(names))
    return names, index, values


def binary_dict(names: list[str], row: np.ndarray) -> dict[str, bool]:
    return {n: bool(v > 0) for n, v in zip(names, row.tolist())}


def parse_partition_file(path: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for ln in read_lines(path):
        parts = ln.replace(",", " ").split()
        if len(parts) == 2 and parts[1].isdigit():
            out[parts[0]] = int(parts[1])
    return out


def find_image_dir(root: Path, names: tuple[str, ...]) -> Path | None:
    for base in [root, root / "celeba", root / "CelebA", root / "Img"]:
        for name in names:
            d = base / name
            if d.is_dir():
                nested = d / name  # Kaggle zip: img_align_celeba/img_align_celeba/
                return nested if nested.is_dir() else d
    return None


@DATASETS.register("celeba", "CelebA aligned faces + 40 binary attributes: "
                   "celeba:root=PATH[,split=all|train|val|test,crop=N,requests=all|train|heldout|none]")
class CelebA(RealDataset):
    name = "celeba"
    default_size = 128

    def __init__(self, root: str | None = None, split: str = "all", crop: int | None = None,
                 requests: str = "all", shuffle: bool = True, allow_clamp: bool = False) -> None:
        super().__init__(requests=requests, shuffle=shuffle, allow_clamp=allow_clamp, crop=crop)
        base = require_root(self.name, root, LAYOUT, SOURCE)
        if split not in ("all", *PARTITIONS):
            raise UserError(f"celeba: split={split!r}; use all, train, val or test")
        img_dir = find_image_dir(base, ("img_align_celeba",))
        if img_dir is None:
            raise missing(self.name, f"image folder 'img_align_celeba/' not found under {base}",
                          LAYOUT, SOURCE)
        attr = first_existing(d / f for d in _dirs(base)
                              for f in ("list_attr_celeba.txt", "list_attr_celeba.csv"))
        if attr is None:
            raise missing(self.name, f"attribute file 'list_attr_celeba.txt' not found under {base}",
                          LAYOUT, SOURCE)
        names, index, values = parse_attr_file(attr)
        self._attr_names, self._attr_index, self._attr_values = names, index, values
        part_file = first_existing(d / f for d in _dirs(base)
                                   for f in ("list_eval_partition.txt", "list_eval_partition.csv"))
        parts = parse_partition_file(part_file) if part_file else {}
        if split != "all" and not parts:
            raise missing(self.name, f"split={split} needs 'list_eval_partition.txt', not found under "
                          f"{base} (or use split=all)", LAYOUT, SOURCE)
        for fname in sorted(index):
            p = parts.get(fname)
            if split != "all" and p != PARTITIONS[split]:
                continue
            labels = {"partition": PARTITION_NAMES.get(p) if p is not None else None}
            self.entries.append(Entry(id=fname, path=img_dir / fname, labels=labels))
        if not self.entries:
            raise UserError(f"celeba: no images listed for split={split} in {attr}")
        self.root = base
        self.spec = self._make_spec(f"celeba:root={base.resolve()}", split=split if split != "all" else None)

    def _labels_for(self, entry: Entry) -> dict:
        labels = super()._labels_for(entry)
        row = self._attr_index.get(entry.id)
        if row is not None:
            labels["binary_attributes"] = binary_dict(self._attr_names, self._attr_values[row])
        return labels
