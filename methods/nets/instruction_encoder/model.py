"""The instruction encoder's networks: the paper's LSTM Text Semantic Encoder SE_T (Sec. IV-B),
zoo component ``instruction-encoder``.

A sentence is tokenized (``methods.nets.text_vocab``: lower-case, punctuation split, digits ->
number words) and read by ``members`` (2) independently trained `Member` encoders. Each member
embeds the words, reads them with a bidirectional LSTM and pools the LSTM states (mean, max and 4
learned attention queries: keyword-sensitive pooling); a context-free word-level path (a per-word
tanh layer, pooled the same way) joins the pool, and a projection gives the member's sentence
embedding. E_T (`InstructionEncoder.encode`) is the members' embeddings concatenated (fixed size,
``dim`` = 2 x 128). Heads on each member's embedding predict the attribute (5 + a *reject* class
for "not a facial-edit request"), the mode (definite / indefinite / target), the direction
(+1/-1), Δ (1-5) and the target degree (0-5); the encoder averages the members' probabilities.
What those probabilities mean as an edit request is the parser's business (``parser.py``).
"""
from __future__ import annotations

import zlib

import torch
import torch.nn as nn

from methods.nets.text_vocab import PAD, UNK, tokenize

NAME = "instruction-encoder"
ATTRIBUTES = ("Bangs", "Eyeglasses", "Beard", "Smiling", "Young")
REJECT = len(ATTRIBUTES)  # attribute-head class meaning "no known attribute / not a facial edit"
MODES = ("definite", "indefinite", "target")
MAX_TOKENS = 48

DEFAULT_HYPER = {"emb": 64, "hidden": 128, "dim": 128, "oov_max": 0.6, "conf_min": 0.6, "oov_conf_min": 0.9,
                 "sign_max": 1.0,
                 "subword_buckets": 0, "pool": "attn", "attn_heads": 4, "bow": 128, "members": 2}
ARCH_KEYS = ("emb", "hidden", "dim", "subword_buckets", "pool", "attn_heads", "bow", "members")
# Optional fastText-style character n-gram features (config "subword_buckets" > 0); see the trainer.
MAX_GRAMS = 24


def char_grams(tok: str, buckets: int) -> list[int]:
    """Hashed character 3-5-grams of a word (fastText style; crc32, so stable across runs)."""
    if not buckets or not tok[:1].isalpha():
        return []
    w = f"<{tok}>"
    grams = [w[i:i + n] for n in (3, 4, 5) for i in range(len(w) - n + 1)]
    return [zlib.crc32(g.encode()) % (buckets - 1) + 1 for g in grams[:MAX_GRAMS]]


class Member(nn.Module):
    """One BiLSTM encoder + heads; the shipped model averages the heads of `members` of them."""

    def __init__(self, vocab_size: int, emb: int, hidden: int, dim: int, buckets: int = 0, n_att: int = 0,
                 bow: int = 0):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, emb, padding_idx=0)
        self.buckets = buckets
        if buckets:
            self.sub_embed = nn.Embedding(buckets, emb, padding_idx=0)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True, bidirectional=True)
        self.n_att = n_att
        if n_att:
            self.att_key = nn.Linear(2 * hidden, hidden)
            self.att_score = nn.Linear(hidden, n_att)
        self.bow = bow
        if bow:
            self.bow_word = nn.Linear(emb, bow)
            if n_att:
                self.bow_key = nn.Linear(bow, hidden)
                self.bow_score = nn.Linear(hidden, n_att)
        self.path_drop = 0.0  # training only: chance of hiding one path (LSTM or word-level) per sentence
        self.proj = nn.Linear((4 + 2 * n_att) * hidden + (2 + n_att) * bow, dim)
        self.attr_head = nn.Linear(dim, len(ATTRIBUTES) + 1)
        self.mode_head = nn.Linear(dim, len(MODES))
        self.dir_head = nn.Linear(dim, 2)
        self.delta_head = nn.Linear(dim, 5)
        self.target_head = nn.Linear(dim, 6)

    def embed_ids(self, batch):
        """A `batch()` -> this member's sentence embedding (B, dim)."""
        ids = batch["ids"]
        mask = (ids != 0).unsqueeze(-1)
        x = self.embed(ids)
        if self.buckets:
            sub = batch["sub"]
            cnt = (sub != 0).sum(-1, keepdim=True).clamp_min(1)
            x = x + self.sub_embed(sub).sum(2) / cnt
        h, _ = self.lstm(x)
        parts = self._pool(h, mask, getattr(self, "att_key", None), getattr(self, "att_score", None))
        if self.bow:
            w = torch.tanh(self.bow_word(x))
            bparts = self._pool(w, mask, getattr(self, "bow_key", None), getattr(self, "bow_score", None))
            if self.training and self.path_drop > 0:
                # hide the LSTM path or the word path for some sentences, so each path alone
                # must parse (the word path cannot lean on sentence structure)
                r = torch.rand(ids.shape[0], 1)
                keep_l = (r >= self.path_drop).float()
                keep_b = (r < 1 - self.path_drop).float()
                parts, bparts = parts * keep_l, bparts * keep_b
            parts = torch.cat([parts, bparts], dim=1)
        return torch.tanh(self.proj(parts))

    def _pool(self, h, mask, key, scorer):
        """mean, max and (if `key`) attention pools of token features h (B, T, F)."""
        mean = (h * mask).sum(1) / mask.sum(1).clamp_min(1)
        mx = h.masked_fill(~mask, -1e4).max(1).values
        parts = [mean, mx]
        if key is not None:  # keyword-sensitive attention pooling: n_att learned queries over the tokens
            score = scorer(torch.tanh(key(h))).masked_fill(~mask, -1e4)  # (B, T, A)
            wts = torch.softmax(score, dim=1)
            parts.append(torch.einsum("bta,bth->bah", wts, h).flatten(1))
        return torch.cat(parts, dim=1)

    def forward(self, batch):
        """Head logits."""
        e = self.embed_ids(batch)
        return {"attribute": self.attr_head(e), "mode": self.mode_head(e), "direction": self.dir_head(e),
                "delta": self.delta_head(e), "target": self.target_head(e)}


class InstructionEncoder(nn.Module):
    """`members` Members over one vocabulary: E_T is their embeddings concatenated, the head
    probabilities their average. `build(config)` makes one from a checkpoint config."""

    def __init__(self, vocab: list[str], emb: int, hidden: int, dim: int, buckets: int = 0, n_att: int = 0,
                 bow: int = 0, members: int = 1, oov_max: float = 0.6, conf_min: float = 0.6,
                 oov_conf_min: float = 0.9, sign_max: float = 1.0):
        super().__init__()
        self.vocab = vocab
        self.index = {w: i for i, w in enumerate(vocab)}
        self.oov_max = float(oov_max)
        self.conf_min = float(conf_min)
        self.oov_conf_min = float(oov_conf_min)
        self.sign_max = float(sign_max)
        self.readers = "both"  # 'both': the encoder with the rule-based grammar (parser.combine); 'encoder': alone
        self.buckets = buckets
        self.members = nn.ModuleList(Member(len(vocab), emb, hidden, dim, buckets, n_att, bow)
                                     for _ in range(members))
        self.dim = dim * members  # E_T: the members' sentence embeddings, concatenated

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
        return torch.cat([m.embed_ids(batch) for m in self.members], dim=1)

    def forward(self, batch):
        """Head probabilities (softmax), averaged over the members."""
        return self.average(self.member_probs(batch))

    def member_probs(self, batch) -> list[dict]:
        """Each member's head probabilities (softmax)."""
        return [{k: torch.softmax(v, dim=1) for k, v in m(batch).items()} for m in self.members]

    @staticmethod
    def average(member_probs: list[dict]) -> dict:
        return {k: torch.stack([o[k] for o in member_probs]).mean(0) for k in member_probs[0]}

    # --- public API
    def parse(self, text):
        """`Parsed` for one request (``methods.nets.instruction_encoder.parser``)."""
        return self.parse_many([text])[0]

    def parse_many(self, texts) -> list:
        """`Parsed` for each request: the parser's checks and decisions on this model's heads."""
        from .parser import parse_many

        return parse_many(self, texts)

    def encode(self, texts):
        """Sentence embeddings E_T, float32 numpy (N, dim), for a string or list of strings."""
        if isinstance(texts, str):
            texts = [texts]
        with torch.no_grad():
            return self.embed_ids(self.batch([tokenize(t) for t in texts])).numpy()


def build(config: dict) -> InstructionEncoder:
    """An InstructionEncoder for a checkpoint config: ``vocab`` plus DEFAULT_HYPER's keys."""
    vocab = list(config["vocab"])
    hp = dict(DEFAULT_HYPER)
    hp.update({k: config[k] for k in DEFAULT_HYPER if k in config})
    # checkpoints written before attention pooling existed carry no "pool" key: mean+max
    pool = str(config.get("pool", "meanmax"))
    if pool not in ("meanmax", "attn"):
        raise ValueError(f"unknown pooling {pool!r}")
    if not vocab or vocab[0] != PAD or vocab[1] != UNK:
        raise ValueError("instruction-encoder vocab must start with <pad>, <unk>")
    return InstructionEncoder(
        vocab, emb=int(hp["emb"]), hidden=int(hp["hidden"]), dim=int(hp["dim"]), buckets=int(hp["subword_buckets"]),
        n_att=int(hp["attn_heads"]) if pool == "attn" else 0,
        bow=int(config.get("bow", 0)),  # width of the word-level (context-free) feature path; 0 = none
        members=int(config.get("members", 1)), oov_max=hp["oov_max"], conf_min=hp["conf_min"],
        oov_conf_min=hp["oov_conf_min"], sign_max=hp["sign_max"])


def build_checked(config: dict) -> InstructionEncoder:
    """`build` for the zoo: a config without a vocabulary is a KeyError (the zoo reports it)."""
    if "vocab" not in config:
        raise KeyError("vocab")
    return build(config)


def load_encoder(path=None, device: str = "cpu") -> InstructionEncoder:
    """The shipped (or given) instruction encoder, eval mode (UserError if missing/corrupt)."""
    from methods.zoo import load_model

    return load_model(NAME, path=path, device=device)
