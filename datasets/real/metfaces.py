"""MetFaces (NVlabs metfaces-dataset): ``metfaces:root=PATH``.

Layout: ``ROOT/images/*.png`` (1024x1024 aligned faces) plus optional ``ROOT/metfaces.json``
(a list of records; each record's ``image_path`` such as ``images/00000-00.png`` links it to
an image, other fields — ``title``, ``artist_display_name``, ``obj_id``, ... — are kept as
``labels['metadata']``). ROOT may also be the ``images`` folder itself. Default size 128 (the
paper's out-of-distribution experiment).
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

from bench.registry import DATASETS
from datasets.real.common import Entry, RealDataset, list_images, missing, require_root

LAYOUT = "ROOT/images/*.png (1024 px aligned faces), optional ROOT/metfaces.json"
SOURCE = ("Get it from NVIDIA Research's 'MetFaces dataset' project (the NVlabs metfaces-dataset "
          "repository, which links the download of the 'images' folder and metfaces.json).")
KEEP = ("obj_id", "title", "artist_display_name", "object_date", "department", "source_url",
        "meta_url", "face_idx")


@DATASETS.register("metfaces", "MetFaces artwork faces (OOD test): metfaces:root=PATH[,requests=...]")
class MetFaces(RealDataset):
    name = "metfaces"
    default_size = 128

    def __init__(self, root: str | None = None, requests: str = "all", shuffle: bool = True,
                 allow_clamp: bool = False, crop: int | None = None) -> None:
        super().__init__(requests=requests, shuffle=shuffle, allow_clamp=allow_clamp, crop=crop)
        base = require_root(self.name, root, LAYOUT, SOURCE)
        img_dir = base / "images"
        if not img_dir.is_dir():
            if base.name == "images" or any(p.suffix.lower() == ".png" for p in base.iterdir()):
                img_dir, base = base, base.parent if base.name == "images" else base
            else:
                raise missing(self.name, f"folder 'images/' not found under {base}", LAYOUT, SOURCE)
        files = list_images(img_dir)
        if not files:
            raise missing(self.name, f"no images found in {img_dir}", LAYOUT, SOURCE)
        meta: dict[str, dict] = {}
        mfile = base / "metfaces.json"
        if mfile.is_file():
            try:
                records = json.loads(mfile.read_text(encoding="utf-8"))
                if isinstance(records, dict):
                    records = list(records.values())
                for rec in records:
                    if isinstance(rec, dict) and rec.get("image_path"):
                        meta[Path(str(rec["image_path"])).name] = {k: rec[k] for k in KEEP if k in rec}
            except (ValueError, OSError) as exc:
                warnings.warn(f"metfaces: ignoring unreadable {mfile} ({exc})", UserWarning, stacklevel=2)
        for f in files:
            labels = {"metadata": meta[f.name]} if f.name in meta else {}
            self.entries.append(Entry(id=f.name, path=f, labels=labels))
        self.root = base
        self.spec = self._make_spec(f"metfaces:root={base.resolve()}")
