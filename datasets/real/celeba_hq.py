"""CelebA-HQ (1024 px): ``celeba-hq:root=PATH``.

Accepted layouts (first match wins), images sorted in natural order:

* CelebAMask-HQ: ``ROOT/CelebA-HQ-img/0.jpg ... 29999.jpg`` with optional
  ``ROOT/CelebAMask-HQ-attribute-anno.txt`` (count line, 40 names, ``0.jpg 1 -1 ...`` rows) and
  ``ROOT/CelebA-HQ-to-CelebA-mapping.txt`` (``idx orig_idx orig_file``);
* CelebA-Dialog's copy: ``ROOT/image/0.jpg ...``;
* PGGAN / dataset-tool exports: ``ROOT/celeba_hq/*.png``, ``ROOT/celeba-hq/``,
  ``ROOT/data1024x1024/00000.jpg``, ``ROOT/CelebA-HQ/``, ``ROOT/img/``, ``ROOT/images/``;
* StarGAN v2: ``ROOT/celeba_hq/{train,val}/{female,male}/*.jpg`` (searched recursively);
  the sub-folders are reported in ``labels['subset']``;
* otherwise the images directly in ROOT (recursively).

Default size 1024 (the paper's high-resolution experiment).
"""
from __future__ import annotations


from bench.registry import DATASETS
from datasets.real.celeba import binary_dict, parse_attr_file
from datasets.real.common import Entry, RealDataset, first_existing, list_images, missing, read_lines, require_root

SUBDIRS = ("CelebA-HQ-img", "image", "celeba_hq", "celeba-hq", "CelebA-HQ", "CelebAHQ",
           "data1024x1024", "img", "images")
LAYOUT = ("ROOT/CelebA-HQ-img/0.jpg... (CelebAMask-HQ), or ROOT/celeba_hq/*.png, ROOT/data1024x1024/, "
          "ROOT/image/, or images directly in ROOT; optional ROOT/CelebAMask-HQ-attribute-anno.txt")
SOURCE = ("CelebA-HQ comes from NVIDIA's Progressive Growing of GANs release; a ready-made copy is "
          "in CelebAMask-HQ (MMLab, CUHK project page) or CelebA-Dialog (MMLab@NTU project page).")


@DATASETS.register("celeba-hq", "CelebA-HQ 1024 px faces: celeba-hq:root=PATH[,requests=...]")
class CelebAHQ(RealDataset):
    name = "celeba-hq"
    default_size = 1024

    def __init__(self, root: str | None = None, requests: str = "all", shuffle: bool = True,
                 allow_clamp: bool = False, crop: int | None = None) -> None:
        super().__init__(requests=requests, shuffle=shuffle, allow_clamp=allow_clamp, crop=crop)
        base = require_root(self.name, root, LAYOUT, SOURCE)
        img_dir = first_existing((base / d for d in SUBDIRS), want_dir=True) or base
        files = list_images(img_dir, recursive=True)
        if not files:
            raise missing(self.name, f"no images (.jpg/.png/...) found in {img_dir}", LAYOUT, SOURCE)
        self._attr_names: list[str] = []
        self._attr_index: dict[str, int] = {}
        self._attr_values = None
        anno = first_existing(base / f for f in ("CelebAMask-HQ-attribute-anno.txt",
                                                 "list_attr_celeba_hq.txt", "list_attr_celebahq.txt"))
        if anno is not None:
            self._attr_names, self._attr_index, self._attr_values = parse_attr_file(anno, self.name)
        mapping: dict[str, str] = {}
        mfile = first_existing([base / "CelebA-HQ-to-CelebA-mapping.txt"])
        if mfile is not None:
            for ln in read_lines(mfile)[1:]:
                parts = ln.split()
                if len(parts) >= 3 and parts[0].isdigit():
                    mapping[parts[0]] = parts[2]
        for f in files:
            rel = f.relative_to(img_dir)
            labels: dict = {}
            if len(rel.parts) > 1:
                labels["subset"] = "/".join(rel.parts[:-1])
            if f.stem in mapping:
                labels["celeba_file"] = mapping[f.stem]
            self.entries.append(Entry(id=str(rel), path=f, labels=labels))
        self.root = base
        self.spec = self._make_spec(f"celeba-hq:root={base.resolve()}")

    def _labels_for(self, entry: Entry) -> dict:
        labels = super()._labels_for(entry)
        row = self._attr_index.get(entry.path.name)
        if row is not None:
            labels["binary_attributes"] = binary_dict(self._attr_names, self._attr_values[row])
        return labels
