"""Instruction encoder: the paper's LSTM Text Semantic Encoder SE_T (Sec. IV-B), zoo component
``instruction-encoder``.

A sentence is tokenized (``methods.text_vocab``: lower-case, punctuation split, digits ->
number words), embedded, read by a bidirectional LSTM, and mean+max pooled into the sentence
embedding E_T (``encode``). Heads on E_T predict the attribute (5 + a *reject* class for
"not a facial-edit request"), the mode (definite / indefinite / target), the direction
(+1/-1), Δ (1-5) and the target degree (0-5).

``parse(text)`` turns that into a `Parsed` result and refuses to guess: it returns
``understood=False`` with a reason for

* an empty / whitespace / punctuation-only request,
* mostly unknown words (OOV ratio >= ``oov_max``, 0.6: non-English text, gibberish),
* the reject class (requests about no known attribute: "make the sky bluer", "change her
  shoes", chit-chat, word salad, other languages), and
* low confidence: the product of the probabilities of the heads that matter is below
  ``conf_min`` (0.5), or below ``oov_conf_min`` (0.9) when the request contains any word
  outside the vocabulary (unknown wording is where a wrong-but-confident parse is likely).

Generalisation (measured, see the card): sentences from fresh TRAIN-template draws parse
~100% exactly; sentences from the HELD-OUT template families (new wordings never seen in
training, e.g. "wipe the grin off her face", "lighten the lenses") parse exactly only ~50%
of the time, the rest being rejected or wrong. An LSTM trained from scratch on the train
templates has no knowledge of unseen words or constructions; the held-out bar of 98% is NOT met.

Training (``bench train instruction-encoder``): sentences generated on the fly from the
instruction language's TRAIN templates (``datasets.instructions.generate(split="train")``)
mixed with 20% generated negatives (``methods.text_vocab.negative_sentence``); 10% of the
positive tokens are replaced by <unk> (word dropout) so unseen wordings still parse;
cross-entropy on every head (masked to the heads that apply), Adam lr 2e-3, batch 128. The
vocabulary (train templates + negative corpus) is stored in the checkpoint config. The card
reports exact accuracy on HELD-OUT templates (never trained on) and reject rates.
"""
from __future__ import annotations

import math
import time
import zlib
from dataclasses import dataclass, field

import numpy as np

from methods.text_vocab import PAD, SPECIALS, UNK, is_word, negative_corpus_words, negative_sentence, tokenize
from methods.zoo import Component, register_component

NAME = "instruction-encoder"
ATTRIBUTES = ("Bangs", "Eyeglasses", "Beard", "Smiling", "Young")
REJECT = len(ATTRIBUTES)  # attribute-head class meaning "no known attribute / not a facial edit"
MODES = ("definite", "indefinite", "target")
MAX_TOKENS = 48
DEFAULT_STEPS = 1500
BATCH = 128
LR = 2e-3
NEG_FRACTION = 0.2
WORD_DROPOUT = 0.1

DEFAULT_HYPER = {"emb": 64, "hidden": 128, "dim": 128, "oov_max": 0.6, "conf_min": 0.5, "oov_conf_min": 0.9,
                 "subword_buckets": 0}
ARCH_KEYS = ("emb", "hidden", "dim", "subword_buckets")
# Optional fastText-style character n-gram features (config "subword_buckets" > 0). Tried with 4096
# buckets: held-out exact accuracy fell from 0.52 to 0.48, so `bench train` leaves them off.
SUBWORD_BUCKETS = 0
MAX_GRAMS = 24


def char_grams(tok: str, buckets: int) -> list[int]:
    """Hashed character 3-5-grams of a word (fastText style; crc32, so stable across runs)."""
    if not buckets or not tok[:1].isalpha():
        return []
    w = f"<{tok}>"
    grams = [w[i:i + n] for n in (3, 4, 5) for i in range(len(w) - n + 1)]
    return [zlib.crc32(g.encode()) % (buckets - 1) + 1 for g in grams[:MAX_GRAMS]]


def _torch():
    import torch

    return torch


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


def build_vocab(seed: int = 0, n_sentences: int = 30000) -> list[str]:
    """Specials + every token of TRAIN-template sentences + the negative corpus words (sorted)."""
    from datasets.instructions import generate
    from datasets.instructions.lexicon import (INTERJECTIONS, PEOPLE, POST_AMOUNTS, PRE_AMOUNTS,
                                               REQUEST_OPENERS, SUFFIXES)
    from datasets.instructions.templates import templates

    words: set[str] = set()
    for t in templates("train"):
        words.update(tokenize(t.pattern.replace("{obj}", " ").replace("{poss}", " ").replace("{pre}", " ")
                              .replace("{by}", " ")))
    for group in (INTERJECTIONS, REQUEST_OPENERS, SUFFIXES):
        for s in group:
            words.update(tokenize(s))
    for obj, poss, _ in PEOPLE:
        words.update(tokenize(obj + " " + poss))
    for table in (PRE_AMOUNTS, POST_AMOUNTS):
        for phrases in table.values():
            for p in phrases:
                words.update(tokenize(p))
    rng = np.random.default_rng(seed)
    for _ in range(n_sentences):
        words.update(tokenize(generate(rng, None, split="train").text))
    words.update(negative_corpus_words())
    words -= set(SPECIALS)
    return list(SPECIALS) + sorted(words)


def build(config: dict):
    torch = _torch()
    nn = torch.nn

    vocab = list(config["vocab"])
    hp = dict(DEFAULT_HYPER)
    hp.update({k: config[k] for k in DEFAULT_HYPER if k in config})
    emb, hidden, dim = int(hp["emb"]), int(hp["hidden"]), int(hp["dim"])
    buckets = int(hp["subword_buckets"])
    if not vocab or vocab[0] != PAD or vocab[1] != UNK:
        raise ValueError("instruction-encoder vocab must start with <pad>, <unk>")

    class InstructionEncoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.vocab = vocab
            self.index = {w: i for i, w in enumerate(vocab)}
            self.oov_max = float(hp["oov_max"])
            self.conf_min = float(hp["conf_min"])
            self.oov_conf_min = float(hp["oov_conf_min"])
            self.embed = nn.Embedding(len(vocab), emb, padding_idx=0)
            self.buckets = buckets
            if buckets:
                self.sub_embed = nn.Embedding(buckets, emb, padding_idx=0)
            self.lstm = nn.LSTM(emb, hidden, batch_first=True, bidirectional=True)
            self.proj = nn.Linear(4 * hidden, dim)
            self.attr_head = nn.Linear(dim, len(ATTRIBUTES) + 1)
            self.mode_head = nn.Linear(dim, len(MODES))
            self.dir_head = nn.Linear(dim, 2)
            self.delta_head = nn.Linear(dim, 5)
            self.target_head = nn.Linear(dim, 6)
            self.dim = dim

        # --- tokens
        def ids(self, tokens: list[str]) -> list[int]:
            return [self.index.get(t, 1) for t in tokens[:MAX_TOKENS]] or [1]

        def batch(self, token_lists: list[list[str]], drop=None):
            """Token lists -> {"ids": (B, T), "sub": (B, T, K) hashed char n-grams or None}.

            drop[r][j] (training only): 1 = word id -> <unk> keeping its n-grams, 2 = both dropped.
            """
            idx = [self.ids(t) for t in token_lists]
            n = max(len(i) for i in idx)
            out = torch.zeros(len(idx), n, dtype=torch.long)
            sub = torch.zeros(len(idx), n, MAX_GRAMS, dtype=torch.long) if self.buckets else None
            for r, (i, toks) in enumerate(zip(idx, token_lists)):
                i = list(i)
                for j, tok in enumerate(toks[:len(i)]):
                    d = drop[r][j] if drop is not None else 0
                    if d:
                        i[j] = 1
                    if sub is not None and d < 2:
                        g = char_grams(tok, self.buckets)
                        if g:
                            sub[r, j, :len(g)] = torch.tensor(g)
                out[r, :len(i)] = torch.tensor(i)
            return {"ids": out, "sub": sub}

        # --- network
        def embed_ids(self, batch):
            """A `batch()` -> E_T (B, dim)."""
            ids = batch["ids"]
            mask = (ids != 0).unsqueeze(-1)
            x = self.embed(ids)
            if self.buckets:
                sub = batch["sub"]
                cnt = (sub != 0).sum(-1, keepdim=True).clamp_min(1)
                x = x + self.sub_embed(sub).sum(2) / cnt
            h, _ = self.lstm(x)
            mean = (h * mask).sum(1) / mask.sum(1).clamp_min(1)
            mx = h.masked_fill(~mask, -1e4).max(1).values
            return torch.tanh(self.proj(torch.cat([mean, mx], dim=1)))

        def heads(self, e):
            return {"attribute": self.attr_head(e), "mode": self.mode_head(e), "direction": self.dir_head(e),
                    "delta": self.delta_head(e), "target": self.target_head(e)}

        def forward(self, batch):
            return self.heads(self.embed_ids(batch))

        # --- public API
        def encode(self, texts):
            """Sentence embeddings E_T, float32 numpy (N, dim), for a string or list of strings."""
            if isinstance(texts, str):
                texts = [texts]
            with torch.no_grad():
                return self.embed_ids(self.batch([tokenize(t) for t in texts])).numpy()

        def parse(self, text) -> Parsed:
            return self.parse_many([text])[0]

        def parse_many(self, texts) -> list[Parsed]:
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
                unknown = [w for w in words if w not in self.index]
                ratio = len(unknown) / len(words)
                if ratio >= self.oov_max:
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
                    out = {k: torch.softmax(v, dim=1).numpy() for k, v in self(self.batch(run_tokens)).items()}
                for r, (i, has_unknown) in enumerate(run):
                    results[i] = self._decide(texts[i], {k: v[r] for k, v in out.items()}, has_unknown)
            return results

        def _decide(self, text: str, p: dict, has_unknown: bool = False) -> Parsed:
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
            need = self.oov_conf_min if has_unknown else self.conf_min
            if conf < need:
                return Parsed(False, f"low confidence ({conf:.2f} < {need:.2f}"
                                     + (", the request has unknown words" if has_unknown else "")
                                     + "): the request is ambiguous "
                                     f"(best guess: {ATTRIBUTES[attr]}, {MODES[mode]})",
                              confidence=conf, text=text, probabilities=probs)
            return Parsed(True, None, attribute=attr, direction=direction, delta=delta, mode=MODES[mode],
                          target=target, confidence=conf, text=text, probabilities=probs)

    return InstructionEncoder()


# ----------------------------------------------------------------------------- loading

_SHIPPED = None


def load_encoder(path=None, device: str = "cpu"):
    """The shipped (or given) instruction encoder, eval mode (UserError if missing/corrupt)."""
    from methods.zoo import load_model

    return load_model(NAME, path=path, device=device)


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


# ----------------------------------------------------------------------------- evaluation

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


# ----------------------------------------------------------------------------- training

def _labels(ins) -> tuple[int, int, int, int, int]:
    """(attribute, mode, direction class, delta class, target class); -100 = not applicable."""
    mode = MODES.index(ins.mode)
    d = (1 if ins.direction > 0 else 0) if ins.mode != "target" else -100
    delta = ins.delta - 1 if ins.mode == "definite" else -100
    target = int(ins.target) if ins.mode == "target" else -100
    return ins.attribute, mode, d, delta, target


def _drop(rng, tok: str, p: float, subwords: bool) -> int:
    """Word dropout: 0 keep, 1 word id -> <unk> (n-grams kept), 2 word and n-grams dropped."""
    if rng.random() < p and is_word(tok):
        return 1 if not subwords or rng.random() < 0.5 else 2
    return 0


def train(ctx) -> None:
    import torch

    from datasets.instructions import generate

    torch.set_num_threads(1)
    torch.manual_seed(ctx.seed)
    quick = ctx.quick
    steps = int(ctx.steps or (20 if quick else DEFAULT_STEPS))
    vocab = build_vocab(ctx.seed, 2000 if quick else 30000)
    config = dict(DEFAULT_HYPER)
    config["subword_buckets"] = SUBWORD_BUCKETS
    if quick:
        config.update(emb=16, hidden=16, dim=16)
    config["vocab"] = vocab
    model = build(config)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    step = 0
    state = ctx.load_state()
    if state is not None and state.get("vocab") == vocab and int(state.get("steps", -1)) == steps \
            and {k: (state.get("hyper") or {}).get(k) for k in ARCH_KEYS} == {k: config[k] for k in ARCH_KEYS}:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step = int(state["step"])
        ctx.prior_wall_s = float(state.get("wall_s", 0.0))
        ctx.log(event="resume", step=step)
    ctx.log(event="start", steps=steps, vocab=len(vocab), params=int(sum(p.numel() for p in model.parameters())))
    ce = torch.nn.CrossEntropyLoss(ignore_index=-100)
    t_log, acc_loss, n_acc = time.time(), 0.0, 0
    model.train()
    while step < steps:
        rng = np.random.default_rng([ctx.seed, step, 0x1E])
        n_neg = int(round(NEG_FRACTION * BATCH))
        tokens, labels, drops = [], [], []
        for _ in range(BATCH - n_neg):
            ins = generate(rng, None, split="train")
            toks = tokenize(ins.text)
            tokens.append(toks)
            drops.append([_drop(rng, t, WORD_DROPOUT, bool(model.buckets)) for t in toks])
            labels.append(_labels(ins))
        for _ in range(n_neg):
            text, _kind = negative_sentence(rng)
            toks = tokenize(text)
            tokens.append(toks)
            drops.append([_drop(rng, t, 0.15, bool(model.buckets)) for t in toks])
            labels.append((REJECT, -100, -100, -100, -100))
        lab = torch.tensor(labels)
        out = model(model.batch(tokens, drops))
        loss = (ce(out["attribute"], lab[:, 0]) + ce(out["mode"], lab[:, 1]) + ce(out["direction"], lab[:, 2])
                + ce(out["delta"], lab[:, 3]) + ce(out["target"], lab[:, 4]))
        lr = LR * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        step += 1
        acc_loss += loss.item()
        n_acc += 1
        if step % 100 == 0 or step == steps:
            ctx.log(step=step, loss=round(acc_loss / n_acc, 4), lr=round(lr, 6),
                    sent_per_s=round(n_acc * BATCH / (time.time() - t_log), 1), wall_s=round(ctx.wall_s(), 1))
            t_log, acc_loss, n_acc = time.time(), 0.0, 0
        if step % 500 == 0 or step == steps:
            ctx.save_state({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "steps": steps,
                            "vocab": vocab, "hyper": {k: config[k] for k in ARCH_KEYS}, "wall_s": ctx.wall_s()})
    model.eval()
    # evaluate the weights as shipped (fp16-rounded)
    ev = build(config)
    ev.load_state_dict({k: v.half().float() if v.is_floating_point() else v for k, v in model.state_dict().items()})
    ev.eval()
    held = heldout_accuracy(ev, n=200 if quick else 3000)
    fresh = heldout_accuracy(ev, n=100 if quick else 2000, seed=54321, split="train")
    rej = reject_rates(ev, n=100 if quick else 2000)
    probes = ["make the sky bluer", "change her shoes", "", "mach ihn jünger", "asdf qwer zxcv"]
    quality = {"heldout_exact_accuracy": round(held["accuracy"], 4), "heldout_rejected": round(held["rejected"], 4),
               "heldout_wrong": round(held["wrong"], 4),
               "heldout_n": held["n"], "heldout_templates": "datasets.instructions templates('heldout')",
               "train_templates_fresh_exact_accuracy": round(fresh["accuracy"], 4),
               **{f"reject_rate_{k}": round(v, 4) for k, v in rej.items()},
               "probes_rejected": int(sum(not ev.parse(t).understood for t in probes)), "probes_n": len(probes),
               "vocab_size": len(vocab)}
    ctx.log(event="eval", **{k: v for k, v in quality.items() if not isinstance(v, str)})
    for text, why in held["errors"][:10]:
        ctx.log(event="heldout_error", text=text, got=why)
    path = ctx.export(config, model.state_dict(), quality, steps,
                      data=f"sentences generated from the instruction language's TRAIN templates ({BATCH} per step, "
                           f"{int(NEG_FRACTION * 100)}% generated negatives: other-domain requests, chit-chat, word "
                           f"salad, hand-written non-English), word dropout {WORD_DROPOUT}")
    ctx.log(event="exported", path=str(path))


def _build_checked(config: dict):
    if "vocab" not in config:
        raise KeyError("vocab")
    return build(config)


register_component(Component(
    name=NAME,
    summary="instruction encoder (paper's LSTM SE_T): text -> E_T + attribute/direction/Δ/mode/target, with reject",
    build=_build_checked, train=train, default_config=dict(DEFAULT_HYPER), fp16=True))
