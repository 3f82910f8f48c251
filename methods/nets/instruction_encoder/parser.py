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

Two readers (``model.readers == "both"``, the default): the learned encoder and the rule-based
grammar (``grammar.py``: the language's lexicon, amounts and the renderer's degree descriptions).
``combine`` decides, per request:

* both read an edit: they must name the same attribute and not point different ways, else the
  request is refused ("the two readers disagree"); when they agree, the encoder's reading stands if
  it is sure of it (confidence >= ``TRUST_ENCODER``; it knows the training language's conventions)
  and the grammar's reading of the mode, amount or target is taken otherwise;
* only the encoder reads an edit: its reading, unless the grammar found the request is about
  something else (eyebrows, hair colour, the background, ...) and names no attribute;
* only the grammar reads an edit: its reading, unless the encoder refused the request as not an
  edit request at all, or as mostly unknown words / empty (those refusals stand).

``readers="encoder"`` gives the encoder alone (the ablation on the card). How this was chosen: on
the development set (``datasets/instructions/dev_requests.jsonl``, written by another writer) and
the templates; the independent test set was scored once, after (see the instruction encoder card).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from methods.nets.text_vocab import is_word, tokenize

from . import grammar
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
    reader: str = "encoder"  # who read it: 'encoder', 'grammar' or 'both' (they agreed)

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
    if getattr(model, "readers", "encoder") == "both":
        results = [combine(p, grammar.read(t)) if isinstance(t, str) else p for p, t in zip(results, texts)]
    return results


# when both read the same edit, the encoder's own reading (mode, amount, target) is kept when it is this
# sure of it, else the grammar's (chosen on the development set and the train/validation templates)
TRUST_ENCODER = 0.9
# the encoder's "not a request" stands unless its reject probability is below this and the grammar read a
# named degree (a target); chosen on the development sets and the templates' reject pools (2026-11-30):
# valid requests it recovers sat at 0.56-0.60, the one template non-request the grammar reads as a target
# below 0.99 ("give the man white hair", other-domain) at 0.86
OVERRULE_REJECT_BELOW = 0.8
# refusals of the encoder that the grammar does not overrule
_FINAL_REFUSALS = ("not text", "empty request", "no words", "mostly unknown words", "not a request")


def combine(p: Parsed, r) -> Parsed:
    """The parse of one request from the encoder's `p` and the grammar's reading `r` (module doc)."""
    if p.understood:
        if r.read:
            pway, rway = way(p.mode, p.direction, p.target), r.way
            if r.attribute != p.attribute or (pway is not None and rway is not None and pway != rway):
                g = f"{ATTRIBUTES[r.attribute]} {r.mode}" + (f" {'up' if rway > 0 else 'down'}" if rway else "")
                e = f"{p.attribute_name} {p.mode}" + (f" {'up' if pway > 0 else 'down'}" if pway else "")
                return Parsed(False, f"the two readers disagree (encoder: {e}; grammar: {g}): the request is "
                                     "ambiguous", confidence=p.confidence, text=p.text,
                              probabilities=p.probabilities, reader="both")
            if p.mode == "definite" and r.mode == "indefinite":
                # the grammar knows every amount phrase of the language: with none in the request, a step
                # count the encoder reads comes from elsewhere ("she's grinning too much, dial it back")
                return _from_reading(r, p, "both")
            if p.confidence >= TRUST_ENCODER:
                return Parsed(**{**p.__dict__, "reader": "both"})
            return _from_reading(r, p, "both")
        if r.elsewhere is not None:
            return Parsed(False, f"not a request to edit a known attribute: it is {r.why}",
                          confidence=p.confidence, text=p.text, probabilities=p.probabilities, reader="grammar")
        return p
    if r.read and not (p.reason or "").startswith(_FINAL_REFUSALS):
        return _from_reading(r, p, "grammar")
    if r.read and r.mode == "target" and (p.reason or "").startswith("not a request") \
            and p.confidence < OVERRULE_REJECT_BELOW and grammar.asks(p.text):
        # "put sunglasses on her": the encoder doubts it is an edit at all, the grammar found a degree the
        # renderer describes, of one attribute, in a request; word salad never names one (issue 9's sets)
        return _from_reading(r, p, "grammar")
    return p


def _from_reading(r, p: Parsed, reader: str) -> Parsed:
    return Parsed(True, None, attribute=r.attribute, direction=r.direction, delta=r.delta, mode=r.mode,
                  target=r.target, confidence=p.confidence if reader == "both" else 1.0, text=p.text,
                  probabilities=p.probabilities, reader=reader)


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
