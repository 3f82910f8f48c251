"""Talk2Edit's published language encoder (official tier): ``language_encoder.pth.tar`` with its
``vocab.json`` and ``metadata_fsm.json``, run through safe loading and decoded into the project's
`Parsed` edit requests.

Format (official ``language/lstm.py``, loaded in ``language/run_encoder.py`` with
``load_state_dict(checkpoint['state_dict'], True)``; the checkpoint also holds ``epoch``,
``best_epoch_so_far``, ``best_val_acc`` and ``optimizer``):

* ``lstm.word2vec.weight`` (V, 300): word embeddings, V = ``len(vocab['text_token_to_idx'])``;
* ``lstm.rnn.{weight_ih,weight_hh,bias_ih,bias_hh}_l{0,1}``: a 2-layer unidirectional LSTM,
  1024 hidden, batch-first; the sentence embedding is the hidden state at the last token;
* one head per top-level key of ``metadata_fsm.json``, in file order (``start``, ``suggestion``,
  ``whether_enough``, ``whats_next``, ``attribute``, ``score_change_direction``,
  ``score_change_value``, ``target_score``, ``request_mode``): ``<head>.0.fc`` Linear(1024 -> 256),
  ``<head>.0.bn`` BatchNorm1d, ReLU, ``<head>.1`` Linear(256 -> number of labels of that key).

Sizes (embedding, hidden, layers, head width) are read from the tensor shapes; every key and shape
is checked; the file is read with ``torch.load(weights_only=True)`` (no code from it runs).

Text (official ``language_utils.tokenize`` / ``encode`` with ``allow_unknown: 1`` as in the
released configs): '?' and ';' are split off as tokens, '.', '!' and ',' are removed, the text is
lower-cased and split on single spaces; a token outside the vocabulary becomes ``<UNK>``. No
start/end tokens. Leading/trailing whitespace is stripped first (the official ``input()`` strips
only the newline).

Decoding (official ``run_encoder.encode_request`` + ``dialog_edit_utils.decide_next_edit``): the
argmax of every head, turned into its metadata label. The head named by the system mode (``start``
for a first request: its only label is ``start_pureRequest``) must be a ``...pureRequest`` user
mode; then ``request_mode`` picks ``change_definite`` (``score_change_direction`` +
``score_change_value`` 1-5), ``change_indefinite`` (direction, change 1) or ``target``
(``target_score`` 0-5); ``end`` asks for no edit. Labels are CelebA-Dialog degrees: ``No_Beard``
is the beard degree (our Beard, same direction), ``Young`` is the age degree (0 child .. 5 very
old, "Older." is positive), so for Young the direction is negated and a target t becomes 5 - t
(our Young: 0 very old .. 5 child). ``confidence`` is the product of the softmax probabilities of
the heads that decide the edit (the official code has no threshold; ``conf_min`` defaults to 0).
Project-side guard, not in the official code: a request none of whose words is in the vocabulary
(``oov_max`` = 1.0) is refused instead of decoded.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from bench.errors import UserError
from methods.nets.attribute_predictor_official import FcBlock, assign_state, read_official_state
from methods.nets.instruction_encoder.parser import Parsed

ATTRIBUTES = ("Bangs", "Eyeglasses", "Beard", "Smiling", "Young")
#: official attribute label -> (project index, degree scale reversed?)
OFFICIAL_ATTRIBUTES = {"Bangs": (0, False), "Eyeglasses": (1, False), "No_Beard": (2, False),
                       "Smiling": (3, False), "Young": (4, True)}
SPECIAL_TOKENS = ("<NULL>", "<START>", "<END>", "<UNK>")
PUNCTUATION_TO_KEEP = ("?", ";")
PUNCTUATION_TO_REMOVE = (".", "!", ",")
REQUIRED_HEADS = {"attribute": set(OFFICIAL_ATTRIBUTES), "score_change_direction": {"negative", "positive"},
                  "score_change_value": {"1", "2", "3", "4", "5"},
                  "target_score": {"0", "1", "2", "3", "4", "5"},
                  "request_mode": {"change_definite", "change_indefinite", "target", "end"}}
MODES = {"change_definite": "definite", "change_indefinite": "indefinite", "target": "target"}


def tokenize(text: str) -> list[str]:
    """The official tokenizer (see the module docstring)."""
    text = text.strip()
    for p in PUNCTUATION_TO_KEEP:
        text = text.replace(p, " " + p)
    for p in PUNCTUATION_TO_REMOVE:
        text = text.replace(p, "")
    return text.lower().split(" ")


# ----------------------------------------------------------------------------- the network

class _Trunk(nn.Module):
    """Embedding + multi-layer LSTM; keys ``word2vec.weight`` and ``rnn.*`` as in the official file."""

    def __init__(self, vocab_size: int, emb: int, hidden: int, layers: int):
        super().__init__()
        self.word2vec = nn.Embedding(vocab_size, emb)
        self.rnn = nn.LSTM(emb, hidden, num_layers=layers, batch_first=True)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        states, _ = self.rnn(self.word2vec(ids))
        return states[torch.arange(len(ids)), lengths - 1]


class OfficialLanguageEncoder(nn.Module):
    """The official Encoder: shared LSTM trunk (``lstm``) + one classifier per metadata key."""

    def __init__(self, vocab_size: int, head_sizes: dict, emb: int = 300, hidden: int = 1024, layers: int = 2,
                 linear_hidden: int = 256):
        super().__init__()
        self.lstm = _Trunk(vocab_size, emb, hidden, layers)
        self.head_names = tuple(head_sizes)
        for name, n in head_sizes.items():
            if not name.isidentifier() or hasattr(self, name):
                raise UserError(f"metadata key {name!r} cannot name a classifier head")
            self.add_module(name, nn.Sequential(FcBlock(hidden, linear_hidden), nn.Linear(linear_hidden, n)))

    def embed(self, ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """(B, T) token ids padded with <NULL> (0) and their lengths -> (B, hidden) last-token states."""
        return self.lstm(ids, lengths)

    def forward(self, ids: torch.Tensor, lengths: torch.Tensor) -> dict[str, torch.Tensor]:
        e = self.embed(ids, lengths)
        return {h: getattr(self, h)(e) for h in self.head_names}


# ----------------------------------------------------------------------------- the parser

class OfficialParser:
    """Callable: text -> `Parsed` with the official encoder, vocabulary and metadata."""

    def __init__(self, encoder: OfficialLanguageEncoder, token_to_idx: dict, metadata: dict,
                 system_mode: str = "start", oov_max: float | None = 1.0, conf_min: float = 0.0):
        self.encoder = encoder.eval()
        self.token_to_idx = token_to_idx
        self.metadata = metadata
        self.labels = {h: {i: lab for lab, i in v.items()} for h, v in metadata.items()}
        self.system_mode = system_mode
        self.oov_max = oov_max
        self.conf_min = float(conf_min)
        self.null = token_to_idx["<NULL>"]
        self.unk = token_to_idx["<UNK>"]

    def encode(self, text: str) -> list[int]:
        return [self.token_to_idx.get(t, self.unk) for t in tokenize(text)]

    def __call__(self, text, system_mode: str | None = None) -> Parsed:
        return self.parse_many([text], system_mode)[0]

    parse = __call__

    @torch.no_grad()
    def head_probabilities(self, texts) -> dict[str, np.ndarray]:
        """Softmax of every head, (B, labels) each, for a list of texts."""
        seqs = [self.encode(t) for t in texts]
        lengths = torch.tensor([len(s) for s in seqs])
        ids = torch.full((len(seqs), int(lengths.max())), self.null, dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, :len(s)] = torch.tensor(s)
        return {h: v.softmax(-1).numpy() for h, v in self.encoder(ids, lengths).items()}

    def parse_many(self, texts, system_mode: str | None = None) -> list[Parsed]:
        mode = system_mode or self.system_mode
        if mode not in self.metadata:
            raise UserError(f"unknown system mode {mode!r}; the metadata's heads are {', '.join(self.metadata)}")
        results: list[Parsed | None] = [None] * len(texts)
        run = []
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                results[i] = Parsed(False, f"not text ({type(text).__name__})", text=repr(text))
            elif not text.strip():
                results[i] = Parsed(False, "empty request", text=text)
            else:
                toks = [t for t in tokenize(text) if t]
                unknown = [t for t in toks if t not in self.token_to_idx]
                ratio = len(unknown) / max(len(toks), 1)
                if not toks or (self.oov_max is not None and ratio >= self.oov_max):
                    results[i] = Parsed(False, f"no word of the request is in the official vocabulary "
                                               f"({len(unknown)} of {len(toks)} unknown, e.g. "
                                               + ", ".join(repr(u) for u in unknown[:3]) + ")",
                                        text=text, probabilities={"oov_ratio": ratio})
                else:
                    run.append(i)
        if run:
            probs = self.head_probabilities([texts[i] for i in run])
            for r, i in enumerate(run):
                results[i] = self._decide(texts[i], {h: v[r] for h, v in probs.items()}, mode)
        return results

    def _decide(self, text: str, p: dict, system_mode: str) -> Parsed:
        probs = {h: [round(float(x), 4) for x in v] for h, v in p.items()}

        def read(head):
            k = int(np.argmax(p[head]))
            return self.labels[head][k], float(p[head][k])

        user_mode, conf = read(system_mode)
        if "pureRequest" not in user_mode:
            return Parsed(False, f"the official '{system_mode}' head reads user mode {user_mode!r}, not an "
                                 "edit request", confidence=conf, text=text, probabilities=probs)
        request_mode, c = read("request_mode")
        conf *= c
        if request_mode == "end":
            return Parsed(False, "the official request-mode head reads 'end' (the user ends the dialog): "
                                 "no edit requested", confidence=conf, text=text, probabilities=probs)
        name, c = read("attribute")
        conf *= c
        attr, reverse = OFFICIAL_ATTRIBUTES[name]
        direction = delta = target = None
        if request_mode == "target":
            t, c = read("target_score")
            conf *= c
            target = 5 - int(t) if reverse else int(t)
        else:
            way, c = read("score_change_direction")
            conf *= c
            direction = (1 if way == "positive" else -1) * (-1 if reverse else 1)
            if request_mode == "change_definite":
                v, c = read("score_change_value")
                conf *= c
                delta = int(v)
            else:
                delta = 1  # the official dialog edits an indefinite change by one degree
        mode = MODES[request_mode]
        if conf < self.conf_min:
            return Parsed(False, f"low confidence ({conf:.2f} < {self.conf_min:.2f}): the request is ambiguous "
                                 f"(best guess: {ATTRIBUTES[attr]}, {mode})",
                          confidence=conf, text=text, probabilities=probs)
        return Parsed(True, None, attribute=attr, direction=direction, delta=delta, mode=mode, target=target,
                      confidence=conf, text=text, probabilities=probs)


# ----------------------------------------------------------------------------- loading

def _read_json(path, what: str):
    p = Path(path)
    try:
        return json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"{p}: no such Talk2Edit {what} file") from None
    except (OSError, ValueError) as exc:
        raise UserError(f"{p}: not a JSON Talk2Edit {what} file ({type(exc).__name__})") from None


def _vocab(path) -> dict:
    v = _read_json(path, "vocabulary")
    tok = v.get("text_token_to_idx") if isinstance(v, dict) else None
    if not isinstance(tok, dict) or not tok:
        raise UserError(f"{path}: a Talk2Edit vocabulary is a JSON object with 'text_token_to_idx'")
    if not all(isinstance(k, str) and type(i) is int for k, i in tok.items()):
        raise UserError(f"{path}: 'text_token_to_idx' must map tokens to integer indices")
    if sorted(tok.values()) != list(range(len(tok))):
        raise UserError(f"{path}: token indices must be 0..{len(tok) - 1}, each used once")
    missing = [s for s in SPECIAL_TOKENS if s not in tok]
    if missing or tok["<NULL>"] != 0:
        raise UserError(f"{path}: the vocabulary needs the special tokens {', '.join(SPECIAL_TOKENS)} "
                        "with <NULL> = 0")
    return tok


def _metadata(path) -> dict:
    m = _read_json(path, "metadata")
    if not isinstance(m, dict) or not m:
        raise UserError(f"{path}: Talk2Edit metadata is a JSON object of heads -> {{label: index}}")
    for head, labels in m.items():
        if not isinstance(labels, dict) or not labels or not all(type(i) is int for i in labels.values()) \
                or sorted(labels.values()) != list(range(len(labels))):
            raise UserError(f"{path}: head {head!r} must map its labels to the indices 0..n-1")
    for head, want in REQUIRED_HEADS.items():
        if head not in m:
            raise UserError(f"{path}: the metadata has no {head!r} head")
        if set(m[head]) != want:
            raise UserError(f"{path}: head {head!r} has labels {sorted(m[head])}, expected {sorted(want)}")
    return m


def _sizes(state: dict, path, heads) -> dict:
    try:
        vocab_size, emb = state["lstm.word2vec.weight"].shape
        hidden = state["lstm.rnn.weight_hh_l0"].shape[1]
        linear_hidden = state[f"{heads[0]}.0.fc.weight"].shape[0]
    except (KeyError, ValueError) as exc:
        raise UserError(f"{path}: not a Talk2Edit language encoder (missing or odd {exc})") from None
    layers = sum(1 for k in state if k.startswith("lstm.rnn.weight_ih_l"))
    return {"vocab_size": int(vocab_size), "emb": int(emb), "hidden": int(hidden), "layers": max(layers, 1),
            "linear_hidden": int(linear_hidden)}


def load_official_encoder(weights_path, vocab_path, metadata_path) -> tuple[OfficialLanguageEncoder, dict, dict]:
    """(encoder, token_to_idx, metadata) from the three official files, all checked."""
    tok = _vocab(vocab_path)
    meta = _metadata(metadata_path)
    state = read_official_state(weights_path, "Talk2Edit language-encoder checkpoint")
    s = _sizes(state, Path(weights_path), list(meta))
    if s["vocab_size"] != len(tok):
        raise UserError(f"{weights_path}: the word embedding has {s['vocab_size']} rows but {vocab_path} "
                        f"has {len(tok)} tokens (vocabulary and weights do not belong together)")
    enc = OfficialLanguageEncoder(s["vocab_size"], {h: len(v) for h, v in meta.items()}, s["emb"], s["hidden"],
                                  s["layers"], s["linear_hidden"])
    assign_state(enc, state, Path(weights_path), "language encoder (with this metadata)")
    return enc.eval(), tok, meta


def load_official_parser(weights_path, vocab_path, metadata_path, system_mode: str = "start",
                         oov_max: float | None = 1.0, conf_min: float = 0.0) -> OfficialParser:
    """The official encoder as a callable text -> `Parsed` (see the module docstring)."""
    enc, tok, meta = load_official_encoder(weights_path, vocab_path, metadata_path)
    if system_mode not in meta:
        raise UserError(f"{metadata_path}: no head for system mode {system_mode!r}")
    return OfficialParser(enc, tok, meta, system_mode=system_mode, oov_max=oov_max, conf_min=conf_min)
