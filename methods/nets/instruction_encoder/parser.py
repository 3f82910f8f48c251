"""Parsing edit requests with the instruction encoder: what its head probabilities mean.

``parse(text)`` (the shipped model) or ``model.parse(text)`` turns a sentence into a `Parsed`
result and refuses to guess: it returns ``understood=False`` with a reason for

* an empty / whitespace / punctuation-only request,
* mostly unknown words (OOV ratio >= ``oov_max``, 0.6: non-English text, gibberish),
* the reject class (requests about no known attribute: "make the sky bluer", "change her
  shoes", chit-chat, word salad, other languages), and
* low confidence: the product of the (member-averaged) probabilities of the heads that matter
  is below ``conf_min`` (chosen on the validation split), or below ``oov_conf_min`` (0.9)
  when the request contains any word outside the vocabulary (an ensemble disagreement lowers
  the confidence), and
* an unsure direction (``sign_max`` < 1, issue 9: never guess which way an edit goes): the
  edit's way (+1 for more / younger, -1 for less / older; target 0 is -1 and target 5 is +1,
  other targets depend on the face and are not checked) disagrees with the probability mass of
  the other way - that mass, over both ways', is above ``sign_max`` - or with the way some
  ensemble member would edit on its own. ``sign_max`` is chosen on the validation split of the
  templates (``methods.training.instruction_encoder``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from methods.nets.text_vocab import is_word, tokenize

from .model import ATTRIBUTES, MODES, REJECT, load_encoder


@dataclass
class Parsed:
    """What `parse` understood. When ``understood`` is False every edit field is None.

    direction/delta: +1/-1 and 1-5 for definite requests, delta 1 for indefinite ones; for
    target requests both are None until the current degree is known (``resolve``).
    confidence: product of the probabilities of the heads that decide the edit.
    """

    understood: bool
    reason: str | None
    attribute: int | None = None
    direction: int | None = None
    delta: int | None = None
    mode: str | None = None
    target: int | None = None
    confidence: float = 0.0
    text: str = ""
    probabilities: dict = field(default_factory=dict, repr=False)

    @property
    def attribute_name(self) -> str | None:
        return None if self.attribute is None else ATTRIBUTES[self.attribute]

    def expected_degree(self, current: int) -> int | None:
        """Eq. (10): min(max(a + Δ·d, 0), 5); a target request gives its target."""
        if not self.understood:
            return None
        if self.mode == "target":
            return int(self.target)
        return int(min(max(int(current) + self.delta * self.direction, 0), 5))

    def resolve(self, current: int) -> tuple[int, int] | None:
        """(direction, delta) that reach the expected degree from `current`."""
        goal = self.expected_degree(current)
        if goal is None:
            return None
        diff = goal - int(current)
        return (1 if diff >= 0 else -1, abs(diff))


def parse_many(model, texts) -> list[Parsed]:
    """`Parsed` for each request, by `model` (an InstructionEncoder): the checks that need no
    network first (not text, empty, no words, mostly unknown words), then one batched forward
    pass over the rest and `decide` on its member-averaged head probabilities."""
    results: list[Parsed | None] = [None] * len(texts)
    run, run_tokens = [], []
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            results[i] = Parsed(False, f"not text ({type(text).__name__})", text=repr(text))
            continue
        if not text.strip():
            results[i] = Parsed(False, "empty request", text=text)
            continue
        toks = tokenize(text)
        words = [t for t in toks if is_word(t)]
        if not words:
            results[i] = Parsed(False, "no words (only punctuation or symbols)", text=text)
            continue
        unknown = [w for w in words if w not in model.index]
        ratio = len(unknown) / len(words)
        if ratio >= model.oov_max:
            foreign = any(ord(c) > 127 for c in text)
            why = ("mostly unknown words" + (" (looks like non-English text)" if foreign else "")
                   + f": {len(unknown)} of {len(words)} words not in the vocabulary, e.g. "
                   + ", ".join(repr(u) for u in unknown[:3]))
            results[i] = Parsed(False, why, text=text, probabilities={"oov_ratio": ratio})
            continue
        run.append((i, bool(unknown)))
        run_tokens.append(toks)
    if run:
        with torch.no_grad():
            members = model.member_probs(model.batch(run_tokens))
            out = {k: v.numpy() for k, v in model.average(members).items()}
            members = [{k: v.numpy() for k, v in m.items()} for m in members]
        for r, (i, has_unknown) in enumerate(run):
            results[i] = decide(texts[i], {k: v[r] for k, v in out.items()}, has_unknown,
                                conf_min=model.conf_min, oov_conf_min=model.oov_conf_min,
                                sign_max=getattr(model, "sign_max", 1.0),
                                members=[{k: v[r] for k, v in m.items()} for m in members])
    return results


def way(mode: str, direction, target) -> int | None:
    """Which way an edit moves the degree whatever the current one: +1 / -1, or None for a target
    strictly inside 0..5."""
    if mode != "target":
        return int(direction)
    return -1 if int(target) == 0 else 1 if int(target) == 5 else None


def way_mass(p: dict) -> tuple[float, float]:
    """(mass of 'up', mass of 'down') in head probabilities `p`: the non-target modes' direction
    probabilities plus the target mode's probability of degree 5 (up) or 0 (down)."""
    nt = float(p["mode"][0] + p["mode"][1])
    tg = float(p["mode"][2])
    return (nt * float(p["direction"][1]) + tg * float(p["target"][5]),
            nt * float(p["direction"][0]) + tg * float(p["target"][0]))


def _argmax_way(p: dict) -> int | None:
    mode = MODES[int(np.argmax(p["mode"]))]
    if mode == "target":
        return way(mode, None, int(np.argmax(p["target"])))
    return 1 if int(np.argmax(p["direction"])) == 1 else -1


def decide(text: str, p: dict, has_unknown: bool = False, conf_min: float = 0.6, oov_conf_min: float = 0.9,
           sign_max: float = 1.0, members: list[dict] | None = None) -> Parsed:
    """The edit request that head probabilities `p` (one sentence) state, or a refusal: the reject
    class wins, or the product of the deciding heads' probabilities is below `conf_min`
    (`oov_conf_min` when the sentence has words outside the vocabulary), or (``sign_max`` < 1)
    the edit's way is unsure: the other way's share of the way mass is above `sign_max`, or an
    ensemble member (`members`: each member's head probabilities) would edit the other way."""
    probs = {k: [round(float(x), 4) for x in v] for k, v in p.items()}
    attr = int(np.argmax(p["attribute"]))
    if attr == REJECT:
        return Parsed(False, "not a request to edit a known attribute (bangs, eyeglasses, beard, smile, "
                             f"age); reject probability {p['attribute'][REJECT]:.2f}",
                      confidence=float(p["attribute"][REJECT]), text=text, probabilities=probs)
    mode = int(np.argmax(p["mode"]))
    conf = float(p["attribute"][attr]) * float(p["mode"][mode])
    direction = delta = target = None
    if MODES[mode] == "target":
        target = int(np.argmax(p["target"]))
        conf *= float(p["target"][target])
    else:
        d = int(np.argmax(p["direction"]))
        direction = 1 if d == 1 else -1
        conf *= float(p["direction"][d])
        if MODES[mode] == "definite":
            k = int(np.argmax(p["delta"]))
            delta = k + 1
            conf *= float(p["delta"][k])
        else:
            delta = 1
    need = oov_conf_min if has_unknown else conf_min
    sign = way(MODES[mode], direction, target)
    if sign is not None and sign_max < 1.0:
        up, down = way_mass(p)
        other = (down if sign > 0 else up) / max(up + down, 1e-9)
        split = any(_argmax_way(m) == -sign for m in members or [])
        if other > sign_max or split:
            what = "the ensemble members disagree" if split else f"{other:.2f} of the way mass points the other way"
            return Parsed(False, f"unsure of the direction ({what}): the request is ambiguous "
                                 f"(best guess: {ATTRIBUTES[attr]}, {MODES[mode]}, "
                                 f"{'up' if sign > 0 else 'down'})",
                          confidence=conf, text=text, probabilities=probs)
    if conf < need:
        return Parsed(False, f"low confidence ({conf:.2f} < {need:.2f}"
                             + (", the request has unknown words" if has_unknown else "")
                             + "): the request is ambiguous "
                             f"(best guess: {ATTRIBUTES[attr]}, {MODES[mode]})",
                      confidence=conf, text=text, probabilities=probs)
    return Parsed(True, None, attribute=attr, direction=direction, delta=delta, mode=MODES[mode],
                  target=target, confidence=conf, text=text, probabilities=probs)


# ----------------------------------------------------------------------------- the shipped model

_SHIPPED = None


def _shipped():
    global _SHIPPED
    if _SHIPPED is None:
        _SHIPPED = load_encoder()
    return _SHIPPED


def encode(texts) -> np.ndarray:
    """E_T for each text with the shipped encoder."""
    return _shipped().encode(texts)


def parse(text) -> Parsed:
    """Parse one request with the shipped encoder."""
    return _shipped().parse(text)
