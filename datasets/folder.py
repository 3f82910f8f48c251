"""`folder:PATH` — any directory of images, resized and centre-cropped to the requested size."""
from __future__ import annotations

import warnings
from pathlib import Path

from bench.errors import UserError
from bench.registry import DATASETS
from datasets.base import Dataset, Item
from datasets.image_io import IMAGE_SUFFIXES, is_image_file, load_rgb

@DATASETS.register("folder", "any directory of PNG/JPEG images: folder:PATH (sorted by name, recursive)",
                   raw_arg=True)
class ImageFolder(Dataset):
    default_size = 128

    def __init__(self, path: str = ""):
        super().__init__()
        if not path:
            raise UserError("dataset 'folder' needs a path: --dataset folder:PATH")
        self.root = Path(path).expanduser()
        self.spec = f"folder:{self.root.resolve()}"
        if not self.root.is_dir():
            raise UserError(f"image folder {self.root} does not exist or is not a directory")
        self.files = sorted(p for p in self.root.rglob("*") if p.is_file() and is_image_file(p))
        if not self.files:
            raise UserError(f"image folder {self.root} holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")

    def get(self, item_id, size, seed=0):
        path = self.root / item_id
        if path not in set(self.files):
            raise KeyError(f"dataset '{self.spec}' has no item '{item_id}'")
        image, reason = load_rgb(path, size)
        if image is None:
            raise KeyError(f"dataset '{self.spec}' item '{item_id}' is unreadable: {reason}")
        return Item(id=item_id, image=image)

    def items(self, n, size, seed=0):
        produced = 0
        for path in self.files:
            if n is not None and produced >= n:
                return
            image, reason = load_rgb(path, size)
            if image is None:
                msg = f"{path}: {reason}"
                self.skipped.append(msg)
                warnings.warn(f"skipped {msg}", stacklevel=2)
                continue
            produced += 1
            yield Item(id=str(path.relative_to(self.root)), image=image)
