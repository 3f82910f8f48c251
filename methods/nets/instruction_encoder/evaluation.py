"""Measuring the instruction encoder: exact / rejected / wrong rates on generated requests.

``independent_accuracy`` (the hand-written ``datasets/instructions/independent_requests.jsonl``: a
test set only, never tuned on), ``heldout_accuracy`` (sentences of a template split, default the HELD-OUT templates),
``reject_rates`` (generated negatives, per kind) and ``pool_accuracy`` (sentences from any list of
templates, e.g. the validation split) are what the trainer writes on the card and what model
selection used. A parse counts as exact when ``is_exact``.
"""
from __future__ import annotations

import numpy as np

from methods.nets.text_vocab import negative_sentence

from .model import MODES
from .parser import Parsed


def is_exact(parsed: Parsed, ins) -> bool:
    """(attribute, direction, Δ) for definite/indefinite, (attribute, target) for target requests."""
    if not parsed.understood or parsed.attribute != ins.attribute:
        return False
    if ins.mode == "target":
        return parsed.mode == "target" and parsed.target == ins.target
    return parsed.mode != "target" and parsed.direction == ins.direction and parsed.delta == ins.delta


def heldout_accuracy(model, n: int = 2000, seed: int = 12345, split: str = "heldout") -> dict:
    from datasets.instructions import generate

    rng = np.random.default_rng(seed)
    ins = [generate(rng, None, split=split) for _ in range(n)]
    parsed = model.parse_many([i.text for i in ins])
    exact = [is_exact(p, i) for p, i in zip(parsed, ins)]
    rejected = sum(not p.understood for p in parsed)
    return {"accuracy": float(np.mean(exact)), "rejected": rejected / n, "n": n,
            "wrong": float(np.mean([p.understood and not ok for p, ok in zip(parsed, exact)])),
            "errors": [(i.text, p.reason or f"{p.attribute_name} {p.mode} d={p.direction} D={p.delta} t={p.target}")
                       for p, i, ok in zip(parsed, ins, exact) if not ok][:20]}


def reject_rates(model, n: int = 1000, seed: int = 777) -> dict:
    rng = np.random.default_rng(seed)
    by_kind: dict[str, list[bool]] = {}
    for _ in range(n):
        text, kind = negative_sentence(rng)
        by_kind.setdefault(kind, []).append(not model.parse(text).understood)
    return {k: float(np.mean(v)) for k, v in sorted(by_kind.items())}


def pool_accuracy(model, pool, n: int = 2000, seed: int = 4242) -> dict:
    """Exact / rejected / wrong rates on `n` sentences drawn from a template list (e.g. validation),
    drawn by the trainer's labelled-sentence sampler."""
    from methods.training.instruction_encoder import _Sampler

    sampler = _Sampler(pool)
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for _ in range(n):
        toks, _span, lab, _key, _delta = sampler.draw(rng)
        texts.append(" ".join(toks))
        labels.append(lab)
    parsed = model.parse_many(texts)
    exact, understood = [], []
    for p, (attr, mode, d, delta, target) in zip(parsed, labels):
        ok = p.understood and p.attribute == attr and p.mode == MODES[mode]
        if ok and MODES[mode] == "target":
            ok = p.target == target
        elif ok:
            ok = p.direction == (1 if d == 1 else -1) and p.delta == (delta + 1 if MODES[mode] == "definite" else 1)
        exact.append(ok)
        understood.append(p.understood)
    exact, understood = np.array(exact), np.array(understood)
    return {"accuracy": float(exact.mean()), "rejected": float((~understood).mean()),
            "wrong": float((understood & ~exact).mean()), "n": n,
            "errors": [(t, p.reason or f"{p.attribute_name} {p.mode} d={p.direction} D={p.delta} t={p.target}")
                       for t, p, ok in zip(texts, parsed, exact) if not ok][:30]}


def independent_accuracy(model, path=None) -> dict:
    """Rates on the hand-written independent set (``datasets.instructions.independent``; ``path``:
    another file in its format, e.g. ``DEV_PATH``, the development set):

    * ``exact``: (attribute, direction, Δ) for definite/indefinite, (attribute, target) for target;
    * ``opposite``: the number of valid requests parsed as an edit of the right attribute that
      moves the degree the other way (an edit's way is its direction, or -1 / +1 for target 0 / 5;
      a target strictly inside 0..5 has no fixed way and never counts);
    * ``valid_rejected``: valid requests answered "not understood";
    * ``nonrequests_rejected``: non-requests answered "not understood" (should be 1.0).
    """
    from datasets.instructions.independent import edit_sign, load

    valid, invalid = load(path)
    parsed = model.parse_many([r.text for r in valid])
    exact, opposite, rejected, errors = [], [], [], []
    for r, p in zip(valid, parsed):
        ok = is_exact(p, r)
        psign = edit_sign(p.mode, p.direction, p.target) if p.understood else None
        opp = (p.understood and p.attribute == r.attribute and psign is not None and r.sign is not None
               and psign == -r.sign)
        exact.append(ok)
        opposite.append(opp)
        rejected.append(not p.understood)
        if not ok:
            errors.append((r.text, ("OPPOSITE " if opp else "")
                           + (p.reason or f"{p.attribute_name} {p.mode} d={p.direction} D={p.delta} t={p.target}")))
    neg = model.parse_many([r.text for r in invalid])
    accepted = [(r.text, r.kind, f"{p.attribute_name} {p.mode}") for r, p in zip(invalid, neg) if p.understood]
    return {"exact": float(np.mean(exact)), "opposite": int(sum(opposite)),
            "valid_rejected": float(np.mean(rejected)), "n_valid": len(valid),
            "wrong": float(np.mean([not o and not rj for o, rj in zip(exact, rejected)])),
            "nonrequests_rejected": 1.0 - len(accepted) / len(invalid), "n_nonrequests": len(invalid),
            "errors": errors, "accepted_nonrequests": accepted}
