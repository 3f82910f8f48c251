"""Trainer of the instruction encoder (``bench train instruction-encoder``; the networks are
``methods.nets.instruction_encoder``).

Sentences generated on the fly from the instruction language's TRAIN templates mixed with 20%
generated negatives (``methods.nets.text_vocab.negative_sentence``, and for 15% of them questions or
remarks about the attributes that ask for no edit, ``FACE_REMARKS``), with label-preserving augmentation that pushes the
model to read content words rather than memorise template structure: word dropout (0.2 ->
<unk>), insertion of label-neutral filler words (the language's own openers, interjections,
suffixes, person words), moving the amount phrase to the start/end, swapping sentence halves,
random word order (30%), joining two sentences with the same label (30%), and hiding the LSTM
or the word-level path for 30% of the sentences each (so each path must parse alone).
The word embeddings start from static all-MiniLM-L6-v2 vectors of the vocabulary words
(``methods/weights/word_vectors_minilm.npz``, made by ``scripts/make_word_vectors.py``; PCA to
the embedding width): outside lexical knowledge ("whiskers" near "beard") that the training
templates alone cannot give; +4 points exact on validation over a random init (seed 0).
Cross-entropy on every head (masked to the heads that apply), Adam lr 2e-3 cosine, batch 128
per member, 700 steps.

Model selection (honest measurement): architecture and training options were chosen on a
VALIDATION split carved out of the TRAIN templates by family
(``datasets.instructions.templates.validation_split``: ~15% of the train families, same
"every word still covered" rule as the held-out split), training on the remaining families.
The HELD-OUT templates were evaluated once per final candidate only. Generalisation
(measured, see the card): fresh TRAIN-template sentences parse ~100% exactly; new template
families (validation and held-out) parse exactly only ~70-75% of the time, most of the rest
being rejected (low confidence) rather than wrong. Many of the misses need knowledge that the
training templates do not contain (e.g. "show more of her forehead" = shorter bangs, "no smile
at all" = target 0): the held-out bar of 98% is NOT met. A pretrained sentence model does
not close the gap either: all-MiniLM-L6-v2 fine-tuned on the same sentences reaches 79.5%
exact on validation (the LSTM: 73%); its misses need world knowledge the templates never state
("make the bangs cover the eyebrows" = target 5, "show more of her forehead" = shorter bangs).

Issue 9 (the 986-template language): the parser's thresholds go into the checkpoint config
(``PARSE_THRESHOLDS``): conf_min 0.5 and the direction rule sign_max 0.1 (refuse when more than 10%
of the way mass points the other way, or an ensemble member would edit the other way), chosen on
the validation split by ``choose_thresholds`` (scripts/experiments/instruction_encoder_validation.py).
The card also scores the hand-written independent request set
(``datasets/instructions/independent_requests.jsonl``, never tuned on): 80.7% exact, 1
opposite-direction edit, 16.6% of valid requests rejected, 69/70 non-requests rejected (the
encoder before issue 9: 68.5%, 6, 22.7%, 69/70) - below the issue's targets (85%, 0, 10%, 70/70).
"""
from __future__ import annotations

import math
import time
from functools import lru_cache

import numpy as np
import torch

from datasets.instructions.independent import BLIND_PATHS
from methods.nets.instruction_encoder.evaluation import heldout_accuracy, independent_accuracy, reject_rates
from methods.nets.instruction_encoder.model import ARCH_KEYS, DEFAULT_HYPER, MAX_TOKENS, MODES, REJECT, build
from methods.nets.text_vocab import SPECIALS, is_word, negative_corpus_words, negative_sentence, tokenize

DEFAULT_STEPS = 700
BATCH = 128
LR = 2e-3
NEG_FRACTION = 0.2
WORD_DROPOUT = 0.2
# Optional fastText-style character n-gram features (config "subword_buckets" > 0). Tried with 4096
# buckets: held-out exact accuracy fell from 0.52 to 0.48, so `bench train` leaves them off.
SUBWORD_BUCKETS = 0


#: Questions and remarks ABOUT the five attributes that ask for no edit (label: reject), drawn for
#: FACE_REMARK_FRACTION of the generated negatives (issue 9): the broadened language has
#: question-form requests ("what would he look like with sunglasses"); these teach the contrast.
FACE_REMARKS = (
    "is {obj} wearing [glasses|sunglasses|specs|spectacles|eyeglasses]",
    "does {obj} have [a beard|bangs|a fringe|stubble|glasses|a moustache]",
    "why is {obj} [smiling|laughing|grinning|so serious]", "how old does {obj} look",
    "how old is {obj} in this photo", "what kind of [glasses|beard|fringe|smile] is that",
    "i like {poss} [beard|glasses|smile|bangs|fringe]", "[nice|great|lovely] [smile|beard|glasses|bangs]",
    "is that a [beard|goatee|moustache]", "when did {obj} grow a beard", "are those sunglasses or glasses",
    "who is the [smiling|bearded|older|younger] [man|woman] in the picture",
    "{obj} [looks|seems] [tired|relaxed|nice|great] today", "do you think {obj} looks [older|younger] than me",
)
FACE_REMARK_FRACTION = 0.15


def _face_remarks() -> list[str]:
    from datasets.instructions.templates import expand

    return [v for pattern in FACE_REMARKS for v in expand(pattern)]


def face_remark(rng) -> str:
    from datasets.instructions.generator import _casing
    from datasets.instructions.lexicon import PEOPLE

    remarks = _face_remarks()
    obj, poss, _ = PEOPLE[int(rng.integers(len(PEOPLE)))]
    text = remarks[int(rng.integers(len(remarks)))].format(obj=obj, poss=poss)
    q = text.split(" ", 1)[0] in ("is", "does", "why", "how", "what", "are", "who", "when", "do")
    return _casing(rng, text + (("?", "?", "") if q else (".", "", "!"))[int(rng.integers(3))])


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
    for remark in _face_remarks():
        words.update(tokenize(remark.replace("{obj}", " ").replace("{poss}", " ")))
    words -= set(SPECIALS)
    return list(SPECIALS) + sorted(words)


#: training options (the defaults produced the shipped checkpoint; `fit` takes overrides)
TRAIN_DEFAULTS = {
    "steps": DEFAULT_STEPS, "batch": BATCH, "lr": LR, "neg_fraction": NEG_FRACTION,
    "word_dropout": WORD_DROPOUT,   # positive tokens -> <unk>
    "filler": 0.08,                 # per-gap chance of inserting a label-neutral filler word
    "move_amount": 0.4,             # chance of moving a definite request's amount phrase to the start/end
    "rotate": 0.15,                 # chance of swapping the two halves of a sentence ("B , A")
    "shuffle": 0.3,                 # chance of a full random word order
    "concat": 0.3,                  # chance of joining two sentences with the same label
    "label_smoothing": 0.0,
    "path_drop": 0.3,               # chance (each) of hiding the LSTM / the word-level path of a sentence
    "word_init": "minilm",          # "minilm": word embeddings start from WORD_VECTORS; "random": N(0, 1)
}

#: static MiniLM word vectors of the vocabulary (scripts/make_word_vectors.py makes them)
WORD_VECTORS = "word_vectors_minilm.npz"


@lru_cache(maxsize=4)
def _word_vector_projection(dim: int) -> tuple[dict, np.ndarray]:
    """({word: row}, (V, dim) array): WORD_VECTORS centred, projected on their top `dim`
    principal axes and scaled to unit std (read and decomposed once per width)."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "weights" / WORD_VECTORS
    if not path.exists():
        from bench.errors import UserError

        raise UserError(f"{path} is missing; it ships with the repository - restore it (git checkout {path.name}) "
                        "or regenerate it with scripts/make_word_vectors.py")
    with np.load(path) as f:
        words, vecs = f["words"].tolist(), f["vectors"].astype(np.float64)
    vecs = vecs - vecs.mean(0)
    _u, _s, vt = np.linalg.svd(vecs, full_matrices=False)
    proj = vecs @ vt[:dim].T
    return {w: i for i, w in enumerate(words)}, proj / proj.std()


def pretrained_word_embeddings(vocab: list[str], dim: int) -> tuple[torch.Tensor, int]:
    """(len(vocab), dim) float tensor: the MiniLM vectors of WORD_VECTORS, centred and projected
    on their top `dim` principal axes, scaled to unit std (nn.Embedding's N(0, 1) scale); rows of
    words without a vector are N(0, 1) (seeded by the caller). Returns (tensor, words covered)."""
    row, proj = _word_vector_projection(dim)
    out = torch.randn(len(vocab), dim)
    out[0] = 0.0  # <pad>
    covered = 0
    for i, w in enumerate(vocab):
        if w in row:
            out[i] = torch.from_numpy(proj[row[w]]).float()
            covered += 1
    return out, covered


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


def filler_words() -> list[str]:
    """Label-neutral words for insertion: the instruction language's own noise (openers,
    interjections, suffixes) and person words -- words that never decide an edit."""
    from datasets.instructions.lexicon import INTERJECTIONS, PEOPLE, REQUEST_OPENERS, SUFFIXES

    words: set[str] = set()
    for s in (*INTERJECTIONS, *REQUEST_OPENERS, *SUFFIXES, *(p[0] + " " + p[1] for p in PEOPLE)):
        words.update(t for t in tokenize(s) if is_word(t))
    return sorted(words)


class _Sampler:
    """Labelled sentences from a list of templates, drawn like ``datasets.instructions.generate``
    (attribute, then mode, then direction / target degree, then template), with the amount
    phrase of a definite request marked so augmentation can move it."""

    _BEG, _END = "qqamountbegqq", "qqamountendqq"

    def __init__(self, pool):
        from dataclasses import replace

        self.groups: dict[int, dict[str, dict[int, list]]] = {}
        for t in pool:
            value = t.target if t.mode == "target" else t.direction
            if t.mode == "definite":
                t = replace(t, pattern=t.pattern.replace("{pre}", f"{self._BEG} {{pre}} {self._END}")
                            .replace("{by}", f"{self._BEG} {{by}} {self._END}"))
            self.groups.setdefault(t.attribute, {}).setdefault(t.mode, {}).setdefault(value, []).append(t)
        self.attrs = sorted(self.groups)

    def draw(self, rng):
        """(tokens, amount span (start, end) or None, labels, group key, delta)."""
        from datasets.instructions.generator import _choose_mode

        attr = self.attrs[int(rng.integers(len(self.attrs)))]
        modes = [m for m in MODES if m in self.groups[attr]]
        mode = _choose_mode(rng, modes)
        values = sorted(self.groups[attr][mode])
        value = values[int(rng.integers(len(values)))]
        delta = int(rng.integers(1, 6)) if mode == "definite" else None
        return self.render(rng, (attr, mode, value), delta)

    def render(self, rng, key, delta):
        from types import SimpleNamespace

        from datasets.instructions.generator import render

        attr, mode, value = key
        pool = self.groups[attr][mode][value]
        t = pool[int(rng.integers(len(pool)))]
        toks = tokenize(render(t, rng, delta))
        span = None
        if self._BEG in toks:
            i, j = toks.index(self._BEG), toks.index(self._END)
            toks = toks[:i] + toks[i + 1:j] + toks[j + 1:]
            span = (i, j - 1)
        ins = SimpleNamespace(attribute=attr, mode=mode, direction=value if mode != "target" else 0,
                              delta=delta if mode == "definite" else (1 if mode == "indefinite" else 0),
                              target=value if mode == "target" else None)
        return toks, span, _labels(ins), key, delta


def _augment(rng, sampler: _Sampler, sample, opts: dict, fillers: list[str]) -> list[str]:
    """Label-preserving rewrites of one positive sentence (tokens)."""
    toks, span, _lab, key, delta = sample
    toks = list(toks)
    if span is not None and rng.random() < opts["move_amount"]:
        amount = toks[span[0]:span[1]]
        rest = toks[:span[0]] + toks[span[1]:]
        while rest and not is_word(rest[-1]):
            rest = rest[:-1]
        toks = amount + [","] + rest if rng.random() < 0.5 else rest + amount
    if rng.random() < opts["concat"]:
        other = sampler.render(rng, key, delta)[0]
        sep = [[","], ["and"], ["."], [",", "and"]][int(rng.integers(4))]
        toks = toks + sep + other if rng.random() < 0.5 else other + sep + toks
    if len(toks) > 2 and rng.random() < opts["rotate"]:
        k = int(rng.integers(1, len(toks)))
        toks = toks[k:] + [","] + toks[:k]
    if rng.random() < opts["shuffle"]:
        toks = [toks[i] for i in rng.permutation(len(toks))]
    if opts["filler"] > 0:
        out = []
        for t in toks + [None]:
            if rng.random() < opts["filler"]:
                out.append(fillers[int(rng.integers(len(fillers)))])
            if t is not None:
                out.append(t)
        toks = out
    return toks[:MAX_TOKENS]


def _batch(rng, sampler, model, opts, fillers):
    batch = int(opts["batch"])
    n_neg = int(round(opts["neg_fraction"] * batch))
    tokens, labels, drops = [], [], []
    for _ in range(batch - n_neg):
        sample = sampler.draw(rng)
        toks = _augment(rng, sampler, sample, opts, fillers)
        tokens.append(toks)
        drops.append([_drop(rng, t, opts["word_dropout"], bool(model.buckets)) for t in toks])
        labels.append(sample[2])
    for _ in range(n_neg):
        text = face_remark(rng) if rng.random() < FACE_REMARK_FRACTION else negative_sentence(rng)[0]
        toks = tokenize(text)
        tokens.append(toks)
        drops.append([_drop(rng, t, 0.15, bool(model.buckets)) for t in toks])
        labels.append((REJECT, -100, -100, -100, -100))
    return tokens, drops, labels


def fit(config: dict, opts: dict, pool, seed: int, log=None, state: dict | None = None, save=None):
    """Train a fresh encoder on sentences from the templates ``pool``; returns (model, optimizer).

    state: resume state from ``save`` (model, opt, step). save(model, opt, step): called every 500 steps.
    """
    opts = {**TRAIN_DEFAULTS, **opts}
    torch.manual_seed(seed)
    model = build(config)
    if opts.get("word_init", "random") == "minilm" and state is None:
        for m in model.members:
            init, covered = pretrained_word_embeddings(model.vocab, m.embed.embedding_dim)
            with torch.no_grad():
                m.embed.weight.copy_(init)
        if log:
            log(event="word_init", source=WORD_VECTORS, covered=covered, vocab=len(model.vocab))
    elif opts.get("word_init", "random") not in ("minilm", "random"):
        raise ValueError(f"word_init must be 'minilm' or 'random', got {opts['word_init']!r}")
    opt = torch.optim.Adam(model.parameters(), lr=opts["lr"])
    step = 0
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step = int(state["step"])
    for m in model.members:
        m.path_drop = float(opts["path_drop"])
    sampler, fillers = _Sampler(pool), filler_words()
    ce = torch.nn.CrossEntropyLoss(ignore_index=-100, label_smoothing=float(opts["label_smoothing"]))
    steps, lr0 = int(opts["steps"]), float(opts["lr"])
    t_log, acc_loss, n_acc = time.time(), 0.0, 0
    model.train()
    while step < steps:
        loss = 0.0
        for k, member in enumerate(model.members):  # independent members, each on its own batch
            rng = np.random.default_rng([seed, step, 0x1E] + ([k] if k else []))
            tokens, drops, labels = _batch(rng, sampler, model, opts, fillers)
            lab = torch.tensor(labels)
            out = member(model.batch(tokens, drops))
            loss = loss + (ce(out["attribute"], lab[:, 0]) + ce(out["mode"], lab[:, 1])
                           + ce(out["direction"], lab[:, 2]) + ce(out["delta"], lab[:, 3])
                           + ce(out["target"], lab[:, 4]))
        lr = lr0 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / steps)))
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss.backward()
        for member in model.members:
            torch.nn.utils.clip_grad_norm_(member.parameters(), 5.0)
        opt.step()
        step += 1
        acc_loss += loss.item() / len(model.members)
        n_acc += 1
        if log and (step % 100 == 0 or step == steps):
            log(step=step, loss=round(acc_loss / n_acc, 4), lr=round(lr, 6),
                sent_per_s=round(n_acc * opts["batch"] / (time.time() - t_log), 1))
            t_log, acc_loss, n_acc = time.time(), 0.0, 0
        if save and (step % 500 == 0 or step == steps):
            save(model, opt, step)
    model.eval()
    return model, opt


#: the parser's thresholds (checkpoint config), chosen on the validation split by
#: `choose_thresholds` (fit -> validation run: scripts/experiments/instruction_encoder_validation.py)
PARSE_THRESHOLDS = {"conf_min": 0.5, "sign_max": 0.1}
CONF_GRID = (0.4, 0.5, 0.6, 0.7, 0.8)
SIGN_GRID = (0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0)
#: how many lost exact parses one opposite-way edit weighs in `choose_thresholds`
OPPOSITE_WEIGHT = 10.0


def threshold_table(model, pool, n: int = 3000, seed: int = 4242, conf_grid=CONF_GRID, sign_grid=SIGN_GRID):
    """Exact / rejected / wrong rates and opposite-way edits on `n` sentences drawn from the
    templates `pool` (e.g. the validation split) for each (conf_min, sign_max) of the grids: one
    forward pass, then the parser's `decide` at every setting."""
    from methods.nets.instruction_encoder.parser import decide, way

    sampler = _Sampler(pool)
    rng = np.random.default_rng(seed)
    toks, labels = [], []
    for _ in range(n):
        t, _span, lab, _key, _delta = sampler.draw(rng)
        toks.append(t)
        labels.append(lab)
    with torch.no_grad():
        members = model.member_probs(model.batch(toks))
        avg = {k: v.numpy() for k, v in model.average(members).items()}
        members = [{k: v.numpy() for k, v in m.items()} for m in members]
    rows = []
    for conf_min in conf_grid:
        for sign_max in sign_grid:
            exact = rejected = opposite = 0
            for r, (attr, mode, d, delta, target) in enumerate(labels):
                p = decide("", {k: v[r] for k, v in avg.items()}, conf_min=conf_min, sign_max=sign_max,
                           members=[{k: v[r] for k, v in m.items()} for m in members])
                if not p.understood:
                    rejected += 1
                    continue
                gold_mode = MODES[mode]
                if gold_mode == "target":
                    ok = p.mode == "target" and p.target == target
                    gold_way = way("target", None, target)
                else:
                    gold_dir = 1 if d == 1 else -1
                    ok = (p.mode != "target" and p.direction == gold_dir
                          and p.delta == (delta + 1 if gold_mode == "definite" else 1))
                    gold_way = gold_dir
                ok = ok and p.attribute == attr
                exact += ok
                got_way = way(p.mode, p.direction, p.target)
                opposite += (p.attribute == attr and gold_way is not None and got_way == -gold_way)
            rows.append({"conf_min": conf_min, "sign_max": sign_max, "exact": exact / n, "rejected": rejected / n,
                         "wrong": (n - exact - rejected) / n, "opposite": opposite, "n": n})
    return rows


def choose_thresholds(rows, reference=(0.6, 1.0), opposite_weight: float = OPPOSITE_WEIGHT) -> dict:
    """The setting with the best exact rate minus `opposite_weight` x opposite-way rate (an edit the
    wrong way weighs as much as `opposite_weight` lost exact parses) among those with no more wrong
    answers than the `reference` (conf_min, sign_max), the rule before issue 9."""
    ref = next(r for r in rows if (r["conf_min"], r["sign_max"]) == reference)
    ok = [r for r in rows if r["wrong"] <= ref["wrong"] + 1e-12]
    return max(ok, key=lambda r: (round(r["exact"] - opposite_weight * r["opposite"] / r["n"], 6), -r["rejected"]))


def as_shipped(model, config: dict):
    """A copy of `model` with fp16-rounded weights, as the exported checkpoint will load."""
    ev = build(config)
    ev.load_state_dict({k: v.half().float() if v.is_floating_point() else v for k, v in model.state_dict().items()})
    return ev.eval()


def train(ctx) -> None:
    """`bench train instruction-encoder` (ctx: methods.zoo.TrainContext)."""
    from datasets.instructions.templates import templates

    torch.set_num_threads(1)
    quick = ctx.quick
    opts = dict(TRAIN_DEFAULTS)
    opts["steps"] = int(ctx.steps or (20 if quick else DEFAULT_STEPS))
    steps = opts["steps"]
    vocab = build_vocab(ctx.seed, 2000 if quick else 30000)
    config = dict(DEFAULT_HYPER)
    config.update(PARSE_THRESHOLDS)
    config["subword_buckets"] = SUBWORD_BUCKETS
    if quick:
        config.update(emb=16, hidden=16, dim=16, bow=16)
    config["vocab"] = vocab
    state = ctx.load_state()
    if not (state is not None and state.get("vocab") == vocab and int(state.get("steps", -1)) == steps
            and state.get("opts") == opts
            and {k: (state.get("hyper") or {}).get(k) for k in ARCH_KEYS} == {k: config[k] for k in ARCH_KEYS}):
        state = None
    else:
        ctx.prior_wall_s = float(state.get("wall_s", 0.0))
        ctx.log(event="resume", step=int(state["step"]))
    ctx.log(event="start", steps=steps, vocab=len(vocab), **{k: v for k, v in opts.items() if k != "steps"})

    def save(model, opt, step):
        ctx.save_state({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "steps": steps,
                        "vocab": vocab, "hyper": {k: config[k] for k in ARCH_KEYS}, "opts": opts,
                        "wall_s": ctx.wall_s()})

    model, _opt = fit(config, opts, templates("train"), ctx.seed,
                      log=lambda **kw: ctx.log(wall_s=round(ctx.wall_s(), 1), **kw), state=state, save=save)
    ev = as_shipped(model, config)  # evaluate the weights as shipped (fp16-rounded)
    quality = {**VALIDATION_QUALITY, **parser_quality(ev, quick), "vocab_size": len(vocab)}
    held = {"errors": quality.pop("_heldout_errors")}
    ctx.log(event="eval", **{k: v for k, v in quality.items() if not isinstance(v, (str, dict))})
    for text, why in held["errors"][:10]:
        ctx.log(event="heldout_error", text=text, got=why)
    aug = ", ".join(f"{k} {opts[k]}" for k in ("word_dropout", "filler", "move_amount", "rotate", "shuffle",
                                                 "concat", "label_smoothing"))
    path = ctx.export(config, model.state_dict(), quality, steps,
                      data=f"sentences generated from the instruction language's TRAIN templates ({opts['batch']} per "
                           f"step, {int(opts['neg_fraction'] * 100)}% generated negatives: other-domain requests, "
                           f"chit-chat, word salad, hand-written non-English); label-preserving augmentation: {aug}"
                           + (f"; word embeddings initialised from {WORD_VECTORS} (static all-MiniLM-L6-v2 vectors, "
                              "PCA to the embedding width)" if opts.get("word_init") == "minilm" else ""))
    ctx.log(event="exported", path=str(path))


def parser_quality(ev, quick: bool = False) -> dict:
    """The card's parser figures for encoder `ev`: the parser as shipped (encoder + grammar,
    ``readers='both'``) under the plain keys, the encoder alone under ``encoder_alone_*``."""
    out: dict = {}
    for readers, prefix in (("encoder", "encoder_alone_"), ("both", "")):
        ev.readers = readers
        held = heldout_accuracy(ev, n=200 if quick else 3000)
        fresh = heldout_accuracy(ev, n=100 if quick else 2000, seed=54321, split="train")
        rej = reject_rates(ev, n=100 if quick else 2000)
        ind = independent_accuracy(ev)
        blind = {name: independent_accuracy(ev, path) for name, path in BLIND_PATHS.items()}
        probes = ["make the sky bluer", "change her shoes", "", "mach ihn jünger", "asdf qwer zxcv"]
        q = {"heldout_exact_accuracy": round(held["accuracy"], 4), "heldout_rejected": round(held["rejected"], 4),
             "heldout_wrong": round(held["wrong"], 4), "heldout_n": held["n"],
             "train_templates_fresh_exact_accuracy": round(fresh["accuracy"], 4),
             **{f"reject_rate_{k}": round(v, 4) for k, v in rej.items()},
             "independent_exact": round(ind["exact"], 4), "independent_opposite_direction": ind["opposite"],
             "independent_valid_rejected": round(ind["valid_rejected"], 4),
             "independent_wrong": round(ind["wrong"], 4), "independent_n_valid": ind["n_valid"],
             "independent_nonrequests_rejected": round(ind["nonrequests_rejected"], 4),
             "independent_n_nonrequests": ind["n_nonrequests"],
             **{f"{name}_{k}": v for name, fr in blind.items() for k, v in (
                 ("exact", round(fr["exact"], 4)), ("opposite_direction", fr["opposite"]),
                 ("valid_rejected", round(fr["valid_rejected"], 4)), ("wrong", round(fr["wrong"], 4)),
                 ("n_valid", fr["n_valid"]), ("nonrequests_rejected", round(fr["nonrequests_rejected"], 4)),
                 ("n_nonrequests", fr["n_nonrequests"]))},
             "probes_rejected": int(sum(not ev.parse(t).understood for t in probes)), "probes_n": len(probes)}
        out.update({prefix + k: v for k, v in q.items()})
        if readers == "both":
            out["_heldout_errors"] = held["errors"]
    ev.readers = "both"
    out["heldout_templates"] = "datasets.instructions templates('heldout')"
    out["independent_set"] = ("datasets/instructions/independent_requests.jsonl (hand-written apart from the "
                              "templates before tuning; test only)")
    out["fresh_set"] = ("datasets/instructions/fresh_requests.jsonl (written blind to the project; scored once "
                        "at 84.7 %, then a development set: see datasets.instructions.independent.FRESH_PATH)")
    out["fresh2_set"] = ("datasets/instructions/fresh2_requests.jsonl (written blind; scored once at 90.7 %, then a "
                         "development set: FRESH2_PATH)")
    out["fresh3_set"] = ("datasets/instructions/fresh3_requests.jsonl (written blind, unseen until scored with the "
                         "grammar of 454c7d2: the clean measure; FRESH3_PATH)")
    out["readers"] = ("encoder + rule-based grammar (methods.nets.instruction_encoder.grammar, parser.combine); "
                      "encoder_alone_*: the encoder without the grammar")
    return out


#: model selection on the validation split (train templates split by family, see
#: datasets.instructions.templates.validation_split), copied into the card by `train`
VALIDATION_QUALITY: dict = {
    "validation_templates": "datasets.instructions.templates.validation_split() (train families only; "
                            "trained on the rest, 3000 sentences)",
    # issue 9 (986-template language, FACE_REMARKS negatives; scripts/experiments/instruction_encoder_validation.py,
    # seed 0, 3000 validation sentences): the parser's thresholds at the chosen (conf_min 0.5, sign_max 0.1)
    "validation_exact_accuracy": 0.6983, "validation_rejected": 0.2127, "validation_wrong": 0.089,
    "validation_opposite_direction": "66 / 3000",
    "validation_thresholds": {  # (conf_min, sign_max): exact / rejected / wrong / opposite-way edits of 3000
        "0.6, 1.0 (the rule before issue 9)": "0.735 / 0.173 / 0.092 / 100",
        "0.6, 0.2": "0.725 / 0.187 / 0.088 / 93", "0.6, 0.1": "0.675 / 0.258 / 0.067 / 60",
        "0.6, 0.05": "0.573 / 0.365 / 0.062 / 45", "0.6, 0.02": "0.428 / 0.513 / 0.059 / 43",
        "0.5, 1.0": "0.767 / 0.101 / 0.131 / 114", "0.5, 0.2": "0.751 / 0.135 / 0.114 / 102",
        "0.5, 0.1 (chosen: best exact - 10 x opposite rate with no more wrong than 0.6, 1.0)":
            "0.698 / 0.213 / 0.089 / 66",
        "0.5, 0.05": "0.595 / 0.323 / 0.081 / 46", "0.4, 0.1": "0.702 / 0.197 / 0.101 / 68",
        "0.7, 0.1": "0.650 / 0.284 / 0.066 / 58", "0.8, 0.1": "0.605 / 0.331 / 0.064 / 57",
        "note": "43 of the opposite-way edits at every sign_max <= 0.05 are one validation family, 'make {obj} "
                "look less [sad|serious|grumpy|glum]' (= more smile), read confidently as 'less smile' by a model "
                "that never saw 'less' + a negative emotion word; no threshold catches a confident error",
    },
    "validation_candidates_before_issue_9": {  # 556-template language: exact / wrong at conf_min 0.5 and 0.6
        "bilstm mean+max (previous), 1500 steps": "0.682/0.276, 0.658/0.224",
        "+ attention pooling + augmentation + label smoothing 0.05": "0.631/0.131, 0.532/0.104",
        "+ attention + word path (path dropout 0.3), no augmentation": "0.629/0.270, 0.610/0.225",
        "+ attention + word path + moderate augmentation, 1500 steps": "0.700/0.202, 0.667/0.155",
        "+ attention + word path + strong augmentation, 700 steps, seed 0 / 1": "0.690/0.199 and 0.743/0.152, "
                                                                               "0.660/0.158 and 0.710/0.106",
        "2-seed ensemble of the above (word path 256)": "0.731/0.104, 0.695/0.064",
        "2 members, word path 128, random word init (fit -> validation)": "0.709/0.150, 0.673/0.113",
        "the same + MiniLM word init, <unk>/specials rows 0 (fit -> validation)": "0.751/0.145, 0.731/0.119",
        "shipped config: the same, specials N(0,1) as `bench train` does (fit -> validation)":
            "0.733/0.140, 0.714/0.110",
        "shipped config, conf_min 0.7 / 0.8 / 0.9 (exact/wrong)": "0.688/0.095, 0.631/0.088, 0.525/0.061",
        "reference, not an LSTM: all-MiniLM-L6-v2 frozen, mean-pooled + linear heads (argmax, no reject)": "0.681-0.686",
        "reference, not an LSTM: all-MiniLM-L6-v2 fine-tuned 300 x 32 sentences, AdamW 5e-5 (argmax)": "0.795",
    },
}
