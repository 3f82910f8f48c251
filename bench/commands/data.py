"""``bench data export SPEC --n N --size S --out DIR [--seed K] [--force]``: a dataset as files.

Writes exactly the items ``DATASETS.create(SPEC).items(N, S, K)`` yields (what ``bench run
--dataset SPEC --n N --size S --seed K`` computes on), so other tools can use them::

    DIR/dataset.json       what this is: spec (as given and canonical), n, size, seed, bench version, layout
    DIR/labels.jsonl       one JSON object per item, in the dataset's order:
                           {"id", "file", "instruction", "target", "labels"}
    DIR/images/NAME.png    the original image (RGB, 8 bit; lossless)
    DIR/targets/NAME.png   the ground-truth edit, for items that have one (``Item.target``)

``id`` is the dataset's item id, unchanged; ``NAME`` is a file-system-safe form of it (ids of
folder datasets hold '/', and any character may occur): ``file``/``target`` give the paths relative
to DIR (``target`` is null when the item has no ground-truth edit). ``labels`` is ``Item.labels``
as JSON (SynthFaces: identity, attributes, split, style, request, expected_degree,
target_attributes).

Safety: nothing is written before every argument is checked; the export is built in a hidden
sibling folder (``.DIR.partial-XXXX``) and renamed into place only when complete, so an error or
Ctrl-C leaves no half-written DIR. An existing non-empty DIR is refused unless ``--force``, and
``--force`` only ever replaces a previous export (a folder holding this command's dataset.json),
never any other folder.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shlex
import shutil
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from bench.errors import UserError

FORMAT = "bench-data-export"
FORMAT_VERSION = 1
MAX_SIZE = 8192
MAX_NAME = 100  # characters of a file name stem
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_IMAGE_SUFFIX = re.compile(r"\.(png|jpe?g|bmp|webp|tiff?|gif)$", re.IGNORECASE)


def bench_version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version

        return version("editsc-bench")
    except (ImportError, PackageNotFoundError):
        return "unknown"


def safe_name(item_id: str, taken: set[str]) -> str:
    """A file name stem for `item_id` that is safe on any file system and unique among `taken`
    (compared case-insensitively; the chosen stem is added to it): characters other than letters,
    digits, '.', '_' and '-' become '_', an image suffix is dropped, no leading dot, at most
    MAX_NAME characters (a long id keeps a hash of itself), '-2', '-3', ... on a clash."""
    text = str(item_id)
    stem = _UNSAFE.sub("_", _IMAGE_SUFFIX.sub("", text)).strip("._") or "item"
    if len(stem) > MAX_NAME:
        stem = stem[:MAX_NAME - 9] + "-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    name, k = stem, 1
    while name.lower() in taken:
        k += 1
        name = f"{stem}-{k}"
    taken.add(name.lower())
    return name


def to_json(value):
    """Labels as plain JSON: numpy scalars/arrays to numbers/lists, tuples to lists, paths to
    strings, non-finite floats to null; anything else by its str()."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.ndarray):
        return to_json(value.tolist())
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, (set, frozenset)):
        return [to_json(v) for v in sorted(value, key=str)]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return str(value)


def _write_png(array, path: Path, what: str) -> None:
    from PIL import Image

    arr = np.asarray(array)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[2] != 3:
        raise UserError(f"{what} is not an RGB uint8 (H, W, 3) image (got {arr.dtype} {arr.shape}); "
                        f"the dataset breaks the Item contract (datasets/base.py)")
    Image.fromarray(np.ascontiguousarray(arr), "RGB").save(path, format="PNG")


def _is_previous_export(path: Path) -> bool:
    try:
        meta = json.loads((path / "dataset.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("format") == FORMAT


def check_out(out: Path, force: bool) -> bool:
    """UserError unless `out` may be written; True when it exists and will be replaced."""
    if out.is_symlink():
        raise UserError(f"--out {out} is a symbolic link; give the real folder or a new one")
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} exists and is not a directory; choose a new folder")
    if not out.exists():
        return False
    try:
        empty = not any(out.iterdir())
    except OSError as exc:
        raise UserError(f"--out {out} cannot be read ({exc.strerror}); choose another folder") from None
    if empty:
        return True
    if not force:
        raise UserError(f"--out {out} exists and is not empty; choose a new folder, or add --force to replace "
                        f"a previous export there")
    if not _is_previous_export(out):
        raise UserError(f"--out {out} is not empty and is not a previous 'bench data export' (no dataset.json of "
                        f"one); --force only replaces exports, so choose a new folder or empty this one yourself")
    cwd = Path.cwd().resolve()
    if out.resolve() == cwd or out.resolve() in cwd.parents:
        raise UserError(f"--out {out} holds the current directory; --force will not replace it")
    return True


def export_dataset(spec: str, n: int, size: int | None, out, seed: int = 0, force: bool = False) -> dict:
    """Write items of dataset `spec` to `out` (layout in this module's docstring); returns the
    dataset.json contents. UserError for bad arguments, an unusable `out` or a dataset that
    yields nothing; `out` is untouched unless the whole export succeeded."""
    from bench.registry import DATASETS, load_builtin

    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise UserError(f"--n must be a whole number of at least 1 (got {n!r})")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise UserError(f"--seed must be >= 0 and < 2^32 (got {seed!r})")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= MAX_SIZE):
        raise UserError(f"--size must be a number of pixels in 1..{MAX_SIZE} (got {size!r}); leave it out for the "
                        f"dataset's own size")
    out = Path(out).expanduser()
    replace = check_out(out, force)
    load_builtin()
    dataset = DATASETS.create(spec)
    size = int(size or dataset.default_size)

    parent = out.absolute().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=parent))
    except OSError as exc:
        raise UserError(f"cannot write the export next to {out} ({exc.strerror or exc}); choose a writable --out") \
            from None
    try:
        (tmp / "images").mkdir()
        taken: set[str] = set()
        count = targets = 0
        with open(tmp / "labels.jsonl", "w", encoding="utf-8") as labels:
            for item in dataset.items(n, size, seed):
                name = safe_name(item.id, taken)
                file = f"images/{name}.png"
                _write_png(item.image, tmp / file, f"item '{item.id}' image")
                target = None
                if item.target is not None:
                    if not targets:
                        (tmp / "targets").mkdir()
                    target = f"targets/{name}.png"
                    _write_png(item.target, tmp / target, f"item '{item.id}' target")
                    targets += 1
                line = {"id": str(item.id), "file": file, "instruction": item.instruction, "target": target,
                        "labels": to_json(item.labels)}
                labels.write(json.dumps(line, ensure_ascii=False, allow_nan=False) + "\n")
                count += 1
        if not count:
            raise UserError(f"dataset '{dataset.spec}' yielded no usable image"
                            + (f" ({len(dataset.skipped)} skipped)" if dataset.skipped else "") + "; nothing exported")
        meta = {"format": FORMAT, "format_version": FORMAT_VERSION, "spec": spec, "dataset": dataset.spec,
                "n": n, "items": count, "targets": targets, "size": size, "seed": seed,
                "bench_version": bench_version(), "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "command": shlex.join(["bench", "data", "export", spec, "--n", str(n), "--size", str(size),
                                       "--seed", str(seed), "--out", str(out)]),
                "skipped": list(dataset.skipped),
                "layout": {"labels": "labels.jsonl: one JSON object per item: id, file, instruction, target, labels",
                           "images": "images/NAME.png: the original images (RGB, 8 bit)",
                           "targets": "targets/NAME.png: ground-truth edits, for items whose 'target' is not null"},
                "reproduce": f"DATASETS.create({spec!r}).items({n}, {size}, {seed})"}
        (tmp / "dataset.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it 0700; give the export ordinary permissions
        _move_into_place(tmp, out, replace)
    except OSError as exc:
        raise UserError(f"cannot write the export to {out}: {exc.strerror or exc}"
                        + (f" ({exc.filename})" if getattr(exc, "filename", None) else "")) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return meta


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _move_into_place(tmp: Path, out: Path, replace: bool) -> None:
    """Rename the finished export to `out`; an existing (empty or previous-export) `out` is moved
    aside first and removed only after the new one is in place."""
    if not replace:
        os.rename(tmp, out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=tmp.parent))
    os.rename(out, old / "export")
    try:
        os.rename(tmp, out)
    except OSError:
        os.rename(old / "export", out)  # put the previous export back
        shutil.rmtree(old, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)


def cmd_data_export(args) -> int:
    out = Path(args.out)
    try:
        meta = export_dataset(args.spec, args.n, args.size, out, seed=args.seed, force=args.force)
    except KeyboardInterrupt:
        print(f"bench: interrupted; nothing was written to {out}", file=sys.stderr)
        return 130
    if meta["skipped"]:
        print(f"warning: {len(meta['skipped'])} dataset file(s) skipped:", file=sys.stderr)
        for reason in meta["skipped"][:10]:
            print(f"  {reason}", file=sys.stderr)
    short = "" if meta["items"] == meta["n"] else f" (the dataset has only {meta['items']} usable)"
    print(f"exported {meta['items']} item(s){short} of {meta['dataset']} at {meta['size']} px, seed {meta['seed']}, "
          f"with {meta['targets']} ground-truth edit(s) -> {out}/ (labels.jsonl, dataset.json)")
    return 0


def add_parser(sub) -> None:
    """Register ``bench data export`` on the CLI's subparsers."""
    s = sub.add_parser("data", help="dataset tools: 'bench data export SPEC --out DIR' writes images, ground-truth "
                                    "edits and labels as files")
    data_sub = s.add_subparsers(dest="data_cmd", required=True, parser_class=type(s), metavar="COMMAND")
    e = data_sub.add_parser("export", help="write N items of a dataset as PNGs + labels.jsonl + dataset.json")
    e.add_argument("spec", metavar="SPEC", help="dataset spec, e.g. synthfaces, synthfaces-art:split=train, folder:PATH")
    e.add_argument("--out", required=True, metavar="DIR", help="folder to create (must be new or empty)")
    e.add_argument("--n", type=int, default=16, help="number of items (default 16, as 'bench run')")
    e.add_argument("--size", type=int, default=None, help="image resolution (default: the dataset's)")
    e.add_argument("--seed", type=int, default=0, help="dataset seed (default 0, as 'bench run')")
    e.add_argument("--force", action="store_true", help="replace a previous export in DIR")
    e.set_defaults(fn=cmd_data_export)
