"""``bench edit IMAGE "make her smile a bit more" [--editor talk2edit] --out DIR [--json]``: edit a
user's own face image with a registered editor and show what happened.

Writes ``DIR/<stem>-edit.png`` (original | edited, enlarged 4x when small) and
``DIR/<stem>-edit.json``: the editor spec, the request as parsed, the outcome (``edited``,
``at-limit``, ``gave-up``, ...), matching trials, stage times and what the independent judge and the
identity embedder see: the judged degrees before and after and whether the person is still verified.
A file that cannot be read, an unknown editor and a request the editor does not understand are one
line on stderr with exit code 2, and nothing is written.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from bench.errors import UserError



def add_parser(sub) -> None:
    s = sub.add_parser("edit", help="edit a face image from a text request with a registered editor; write "
                                    "original | edited and what happened")
    s.add_argument("image", metavar="IMAGE")
    s.add_argument("request", metavar="TEXT", help='the request, e.g. "make her smile a bit more"')
    s.add_argument("--editor", default="talk2edit", help="editor spec (bench list shows them; default talk2edit)")
    s.add_argument("--out", required=True, metavar="DIR")
    s.add_argument("--size", type=int, default=64, help="working resolution the image is resized to (default 64)")
    s.add_argument("--json", action="store_true", help="print the JSON record instead of a line")
    s.set_defaults(fn=run)


def _square(path: Path, size: int) -> np.ndarray:
    from bench.commands.invert import load_image

    return load_image(path, size)


def run(args) -> int:
    from PIL import Image

    from bench.registry import EDITORS
    from methods.editing.base import Outcome

    if not args.request.strip():
        raise UserError("the request is empty: say what to change, e.g. \"make her smile\"")
    if not 8 <= args.size <= 1024:
        raise UserError(f"--size must be 8..1024 (got {args.size})")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} exists and is not a directory")
    img = _square(Path(args.image), args.size)
    editor = EDITORS.create(args.editor)
    editor.setup(args.size)
    result = editor.edit(img, args.request)
    if result.outcome == Outcome.NOT_UNDERSTOOD:
        reason = (result.parsed or {}).get("reason") or "not a facial-edit request"
        raise UserError(f"\"{args.request}\": not understood by {editor.spec} ({reason}); nothing was written. "
                        "Try e.g. \"make her smile a bit more\" or \"remove his glasses\"")
    edited = np.asarray(result.image, np.uint8)
    record = {"image": str(args.image), "request": args.request, "editor": editor.spec, "outcome": result.outcome,
              "parsed": result.parsed, "trials": int(result.trials),
              "stage_times_s": {k: round(v, 4) for k, v in result.stage_times.items()}}
    record.update(_judged(img, edited))
    out.mkdir(parents=True, exist_ok=True)
    stem = Path(args.image).stem
    side = np.concatenate([img, np.full((img.shape[0], 2, 3), 255, np.uint8), edited], 1)
    zoom = 4 if side.shape[0] <= 128 else 1
    sheet = out / f"{stem}-edit.png"
    tmp = sheet.with_name(f".{sheet.name}.tmp{os.getpid()}.png")
    Image.fromarray(side).resize((side.shape[1] * zoom, side.shape[0] * zoom), Image.NEAREST).save(tmp)
    os.replace(tmp, sheet)
    record["sheet"] = str(sheet)
    (out / f"{stem}-edit.json").write_text(json.dumps(record, indent=2) + "\n")
    if args.json:
        print(json.dumps(record))
    else:
        p = result.parsed or {}
        what = p.get("attribute_name") or "?"
        print(f"{args.image}: {what} {record['judged_before'].get(what, '?')} -> {record['judged_after'].get(what, '?')} "
              f"(judge), outcome {result.outcome} after {result.trials} trial(s), identity "
              f"{'verified' if record['identity_verified'] else 'NOT verified'} -> {sheet}")
    return 0


def _judged(original: np.ndarray, edited: np.ndarray) -> dict:
    """The judge's degrees and the embedder's verdict (64-px networks; they resize internally)."""
    from datasets.synthfaces import ATTRIBUTES
    from methods.nets.attribute_judge import load_judge
    from methods.nets.identity_embedder import load_embedder

    J, E = load_judge(), load_embedder()
    before, after = J.predict(original[None])[0], J.predict(edited[None])[0]
    return {"judged_before": dict(zip(ATTRIBUTES, map(int, before))),
            "judged_after": dict(zip(ATTRIBUTES, map(int, after))),
            "identity_cosine": round(float(E.cosine(original[None], edited[None])[0]), 4),
            "identity_verified": bool(E.same_person(original[None], edited[None]))}
