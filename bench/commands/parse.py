"""``bench parse TEXT [TEXT ...] [--json]``: what the shipped instruction encoder makes of a request.

Each sentence is parsed by the shipped ``instruction-encoder`` (``methods.nets.instruction_encoder``,
the same parser the editors use) and reported on one line: attribute, direction and Δ
(definite / indefinite requests) or the target degree (target requests), the mode and the
confidence, or the reason it is not understood. The exit code is 0 when every sentence is
understood and 2 when any is not.

Text output: understood sentences go to stdout, one line each::

    "make her smile a bit more": attribute=Smiling direction=+1 delta=1 mode=definite confidence=0.67

and a sentence that is not understood is one line on stderr (``bench: error: "...": not
understood: REASON``). With ``--json`` every sentence, understood or not, is one JSON object per
line on stdout (`parsed_dict`; ``"understood": false`` with ``"reason"``) and stderr stays empty.
"""
from __future__ import annotations

import json
import sys

from bench.errors import UserError


def parsed_dict(parsed) -> dict:
    """A `Parsed` as plain JSON types. ``attribute`` is the index (0 Bangs, 1 Eyeglasses, 2 Beard,
    3 Smiling, 4 Young, as in the instruction language's labels) and ``attribute_name`` its name;
    for a target request ``direction``/``delta`` are null (they depend on the current degree)
    and ``target_meaning`` says what the degree looks like."""
    from datasets.instructions import DEGREE_MEANING

    out = {"text": parsed.text, "understood": bool(parsed.understood), "reason": parsed.reason,
           "attribute": parsed.attribute, "attribute_name": parsed.attribute_name,
           "direction": parsed.direction, "delta": parsed.delta, "mode": parsed.mode, "target": parsed.target,
           "confidence": round(float(parsed.confidence), 4), "reader": getattr(parsed, "reader", "encoder")}
    if parsed.understood and parsed.mode == "target" and parsed.target is not None:
        out["target_meaning"] = DEGREE_MEANING[parsed.attribute_name][int(parsed.target)]
    return out


def describe(parsed) -> str:
    """One line for an understood request: ``attribute=... direction=... delta=... mode=... confidence=...
    reader=...`` (reader: 'both' when the encoder and the grammar agreed, else the one that read it)."""
    parts = [f"attribute={parsed.attribute_name}"]
    if parsed.mode == "target":
        d = parsed_dict(parsed)
        parts.append(f"target={parsed.target} ({d['target_meaning']})")
    else:
        parts += [f"direction={parsed.direction:+d}", f"delta={parsed.delta}"]
    parts += [f"mode={parsed.mode}", f"confidence={parsed.confidence:.2f}",
              f"reader={getattr(parsed, 'reader', 'encoder')}"]
    return " ".join(parts)


def parse_texts(texts: list[str]) -> list:
    """`Parsed` for each text, with the shipped encoder (loaded once; UserError when its weights are
    missing or broken)."""
    from methods.nets.instruction_encoder import load_encoder

    return load_encoder().parse_many(list(texts))


def cmd_parse(args) -> int:
    texts = list(args.text)
    if not texts:
        raise UserError("no request given; e.g. bench parse \"make her smile a bit more\"")
    results = parse_texts(texts)
    for parsed in results:
        if args.json:
            print(json.dumps(parsed_dict(parsed), ensure_ascii=False), flush=True)
        elif parsed.understood:
            print(f"{json.dumps(parsed.text, ensure_ascii=False)}: {describe(parsed)}", flush=True)
        else:
            reason = " ".join(str(parsed.reason).split())  # one line, whatever the reason holds
            print(f"bench: error: {json.dumps(parsed.text, ensure_ascii=False)}: not understood: {reason}",
                  file=sys.stderr, flush=True)
    return 0 if all(p.understood for p in results) else 2


def add_parser(sub) -> None:
    """Register ``bench parse`` on the CLI's subparsers."""
    s = sub.add_parser("parse", help="show how the shipped instruction encoder parses editing requests "
                                     "(exit 2 if one is not understood)")
    s.add_argument("text", nargs="+", metavar="TEXT", help="one or more requests, e.g. \"make her smile a bit more\"")
    s.add_argument("--json", action="store_true",
                   help="one JSON object per request on stdout (also for requests not understood)")
    s.set_defaults(fn=cmd_parse)
