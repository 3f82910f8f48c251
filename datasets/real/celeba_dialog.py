"""CelebA-Dialog (fine-grained degrees + captions): ``celeba-dialog:root=PATH``.

Published folders (CelebA-Dialog README, MMLab@NTU): ``image/`` (30,000 CelebA-HQ JPGs,
``0.jpg`` ...), ``classification_label/`` (two txt files: the 40 binary attributes and the
5 fine-grained ones), ``text/`` (captions and editing requests, txt and json), ``mask/``.
What this loader reads — the exact label file name could not be verified offline, so it
searches (``labels=PATH`` overrides)::

    ROOT/image/0.jpg ...                         (also images/, CelebA-HQ-img/)
    fine-grained labels, first found of
        ROOT/classification_label/fine_grained_attribute.txt, ROOT/fine_grained_attribute.txt,
        then any *.txt in ROOT/classification_label/ or ROOT whose header names the five
        attributes. Format: optional count line, a names line containing
        Bangs Eyeglasses No_Beard Smiling Young (any order, extra columns ignored), then
        "0.jpg 2 0 0 3 1" rows of degrees 0-5.
    ROOT/text/captions_hq.json                   optional (also ROOT/captions_hq.json,
        captions.json): {"0.jpg": {"overall_caption": str,
                                    "attribute_wise_captions": {"Bangs": str, ...}}}
        or {"0.jpg": [str, ...]} or {"0.jpg": str}
    ROOT/text/request_hq.json (or .txt "0.jpg<TAB>text") and request_annotated_hq.json,
        optional: the dataset's own editing request per image.

Degree mapping to our order (Bangs, Eyeglasses, Beard, Smiling, Young): the column named
``No_Beard`` (a name inherited from CelebA's binary attribute) is a *beard* degree in
CelebA-Dialog — 0 = no beard ... 5 = very long/full beard, as the dataset's own per-degree
caption templates show — so it is used as Beard unchanged (``invert_beard=true`` flips it to
5 - v for a file that counts the other way). The file's ``Young`` column counts *age*
(0 = child ... 5 = very old, per the same caption templates) while this project's Young scale
counts youth (0 = very old ... 5 = child, as SynthFaces renders it), so it is converted to
5 - v (``young=youth`` keeps a file that already counts youth as is). A header may name the column ``Beard``/``Age`` instead.

Labels: ``attributes`` [5 ints], ``captions`` [str] (overall caption first, then the
non-empty per-attribute ones), ``attribute_captions`` {name: str}, ``dataset_request`` {text,
annotation} when present, plus ``request``/``expected_degree`` from our generator.
Default size 1024 (CelebA-HQ images); 128 for the low-resolution setting.
"""
from __future__ import annotations

import json
import warnings
from pathlib import Path

from bench.errors import UserError
from bench.options import bool_option
from bench.registry import DATASETS
from datasets.instructions.lexicon import ATTRIBUTES, MAX_DEGREE
from datasets.real.common import (Entry, RealDataset, first_existing, missing, natural_key, read_lines,
                                  require_root)

LAYOUT = ("ROOT/image/0.jpg..., ROOT/classification_label/fine_grained_attribute.txt "
          "(count line, 'Bangs Eyeglasses No_Beard Smiling Young' line, '0.jpg 2 0 0 3 1' rows), "
          "optional ROOT/text/captions_hq.json")
SOURCE = ("Get it from the CelebA-Dialog project (MMLab@NTU, the Talk-to-Edit project page): "
          "folders 'image', 'classification_label' and 'text'.")
#: header names accepted for each of our attributes
ALIASES = {"Bangs": ("Bangs",), "Eyeglasses": ("Eyeglasses", "Glasses"),
           "Beard": ("No_Beard", "Beard"), "Smiling": ("Smiling", "Smile"), "Young": ("Young", "Age")}


def _header_columns(names: list[str]) -> dict[str, int] | None:
    lower = {n.lower(): i for i, n in enumerate(names)}
    cols = {}
    for ours, aliases in ALIASES.items():
        hit = next((lower[a.lower()] for a in aliases if a.lower() in lower), None)
        if hit is None:
            return None
        cols[ours] = hit
    return cols


def parse_fine_grained(path: Path, invert_beard: bool = False, young_is_age: bool = True
                       ) -> tuple[dict[str, list[int]], list[str]]:
    """-> ({file: [5 degrees in our order]}, [problems]). Raises UserError on a bad header."""
    lines = [ln for ln in read_lines(path) if ln.strip()]
    start = 1 if lines and len(lines[0].split()) == 1 and lines[0].strip().isdigit() else 0
    if len(lines) <= start:
        raise UserError(f"celeba-dialog: label file {path} is empty")
    names = lines[start].split()
    if names and names[0].lower() in ("file", "filename", "image", "image_id", "name"):
        names = names[1:]
    cols = _header_columns(names)
    if cols is None:
        raise UserError(f"celeba-dialog: {path} does not name the five attributes on its header line "
                        f"(found {' '.join(names[:8])}); expected {' '.join(a[0] for a in ALIASES.values())}")
    table: dict[str, list[int]] = {}
    problems: list[str] = []
    for ln in lines[start + 1:]:
        parts = ln.split()
        if len(parts) != len(names) + 1:
            problems.append(f"{path.name}: malformed row {ln[:60]!r}")
            continue
        try:
            vals = [int(float(parts[1 + cols[a]])) for a in ATTRIBUTES]
        except ValueError:
            problems.append(f"{path.name}: non-numeric degree in row {ln[:60]!r}")
            continue
        if any(v < 0 or v > MAX_DEGREE for v in vals):
            problems.append(f"{path.name}: degree outside 0-{MAX_DEGREE} in row {ln[:60]!r}")
            continue
        if invert_beard:
            vals[2] = MAX_DEGREE - vals[2]
        if young_is_age:
            vals[4] = MAX_DEGREE - vals[4]
        table[parts[0]] = vals
    return table, problems


def find_label_file(base: Path) -> Path | None:
    named = first_existing([base / "classification_label" / "fine_grained_attribute.txt",
                            base / "fine_grained_attribute.txt",
                            base / "classification_label" / "fine_grained_attributes.txt"])
    if named is not None:
        return named
    for folder in (base / "classification_label", base):
        if not folder.is_dir():
            continue
        for cand in sorted(folder.glob("*.txt")):
            try:
                head = [ln for ln in read_lines(cand)[:3] if ln.strip()]
            except OSError:
                continue
            for ln in head[:2]:
                toks = ln.split()
                if len(toks) < 40 and _header_columns(toks[1:] if toks and toks[0].lower()
                                                      in ("file", "filename", "image") else toks):
                    return cand
    return None


def _load_json(path: Path, what: str):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        warnings.warn(f"celeba-dialog: ignoring unreadable {what} file {path} ({exc})", UserWarning,
                      stacklevel=3)
        return None


def _captions(value) -> tuple[list[str], dict[str, str]]:
    if isinstance(value, str):
        return [value], {}
    if isinstance(value, list):
        return [str(v) for v in value if str(v).strip()], {}
    if isinstance(value, dict):
        overall = value.get("overall_caption") or value.get("caption") or ""
        per = value.get("attribute_wise_captions") or {}
        per = {("Beard" if k == "No_Beard" else k): str(v) for k, v in per.items()} if isinstance(per, dict) else {}
        caps = ([str(overall)] if str(overall).strip() else []) + [v for v in per.values() if v.strip()]
        return caps, per
    return [], {}


@DATASETS.register("celeba-dialog", "CelebA-Dialog faces with 0-5 degrees and captions: "
                   "celeba-dialog:root=PATH[,labels=FILE,invert_beard=false,young=age|youth,requests=...]")
class CelebADialog(RealDataset):
    name = "celeba-dialog"
    default_size = 1024

    def __init__(self, root: str | None = None, labels: str | None = None, invert_beard: bool = False,
                 young: str = "age", requests: str = "all", shuffle: bool = True, allow_clamp: bool = False,
                 crop: int | None = None) -> None:
        super().__init__(requests=requests, shuffle=shuffle, allow_clamp=allow_clamp, crop=crop)
        invert_beard = bool_option(invert_beard, f"{self.name} invert_beard")
        base = require_root(self.name, root, LAYOUT, SOURCE)
        img_dir = first_existing((base / d for d in ("image", "images", "CelebA-HQ-img")), want_dir=True)
        if img_dir is None:
            raise missing(self.name, f"image folder 'image/' not found under {base}", LAYOUT, SOURCE)
        if labels:
            label_file = Path(str(labels)).expanduser()
            if not label_file.is_file():
                raise missing(self.name, f"label file {label_file} (labels=) does not exist", LAYOUT, SOURCE)
        else:
            label_file = find_label_file(base)
            if label_file is None:
                raise missing(self.name, "fine-grained label file 'classification_label/"
                              f"fine_grained_attribute.txt' not found under {base}", LAYOUT, SOURCE)
        if young not in ("age", "youth"):
            raise UserError(f"celeba-dialog: young='{young}' is not known; use young=age (the file counts "
                            "age, converted to our youth scale) or young=youth (kept as is)")
        table, problems = parse_fine_grained(label_file, invert_beard, young_is_age=(young == "age"))
        self.label_problems.extend(problems)
        self.skipped = list(problems)
        if problems:
            warnings.warn(f"celeba-dialog: ignored {len(problems)} bad row(s) in {label_file} "
                          f"(first: {problems[0]})", UserWarning, stacklevel=2)
        if not table:
            raise UserError(f"celeba-dialog: no usable rows in {label_file}")

        captions = {}
        cap_file = first_existing([base / "text" / "captions_hq.json", base / "captions_hq.json",
                                   base / "text" / "captions.json", base / "captions.json"])
        if cap_file is not None:
            captions = _load_json(cap_file, "captions") or {}
        else:
            warnings.warn(f"celeba-dialog: no captions file (text/captions_hq.json) under {base}; "
                          "items carry no captions", UserWarning, stacklevel=2)
        requests_text = self._dataset_requests(base)
        req_ann = {}
        ann_file = first_existing([base / "text" / "request_annotated_hq.json",
                                   base / "request_annotated_hq.json"])
        if ann_file is not None:
            req_ann = _load_json(ann_file, "request annotation") or {}

        for fname in sorted(table, key=natural_key):
            caps, per = _captions(captions.get(fname)) if isinstance(captions, dict) else ([], {})
            lab = {"captions": caps, "attribute_captions": per, "label_file": str(label_file)}
            if fname in requests_text or fname in req_ann:
                lab["dataset_request"] = {"text": requests_text.get(fname),
                                          "annotation": req_ann.get(fname)}
            self.entries.append(Entry(id=fname, path=img_dir / fname, labels=lab, degrees=table[fname]))
        self.root = base
        self.spec = self._make_spec(f"celeba-dialog:root={base.resolve()}",
                                    labels=str(label_file.resolve()) if labels else None,
                                    invert_beard="true" if invert_beard else None,
                                    young=None if young == "age" else young)

    @staticmethod
    def _dataset_requests(base: Path) -> dict[str, str]:
        jf = first_existing([base / "text" / "request_hq.json", base / "request_hq.json"])
        if jf is not None:
            data = _load_json(jf, "request")
            if isinstance(data, dict):
                return {k: (v if isinstance(v, str) else json.dumps(v)) for k, v in data.items()}
        tf = first_existing([base / "text" / "request_hq.txt", base / "request_hq.txt"])
        out: dict[str, str] = {}
        if tf is not None:
            for ln in read_lines(tf):
                key, sep, text = ln.partition("\t") if "\t" in ln else ln.partition(" ")
                if sep and key.strip():
                    out[key.strip()] = text.strip()
        return out
