"""Face-identity embedding (the role ArcFace plays in L_id and FaceNet in the identity score).

Zoo component ``identity-embedder`` (``bench train identity-embedder``): a small CNN mapping a
face to an L2-normalised 128-d vector, trained on SynthFaces train identities so that the same
identity under *different attribute degrees* (bangs, glasses, beard, smile, age) stays close
and different identities stay apart: every training identity is rendered with K independent
random attribute vectors; a batch holds B identities x 2 of their renders (plus light
augmentation) and the loss is a symmetric InfoNCE over the batch (the other identities are the
negatives). Verification on held-out test identities (independent random attributes per image)
gives the ROC AUC, the equal-error threshold and the threshold at 1 % false-accept rate; both
thresholds are stored in the checkpoint's config (and in the card's quality).

Use::

    from methods.nets.identity_embedder import load_embedder
    E = load_embedder()
    e = E.embed(uint8_images)          # (N, 128) unit vectors (no grad)
    z = E(x)                           # x: (N, 3, H, W) in [-1, 1], differentiable, any H x W
    E.cosine(a, b)                     # a, b: images or embeddings -> cosine similarity (N,)
    E.same_person(a, b)                # bool (or bool array for batches): cosine >= threshold
    E.threshold                        # the equal-error-rate threshold ("eer"); E.threshold_far1

The identity loss of eq. (12) is then ``1 - E.cosine(E(original), E(edited)).mean()``.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from bench.errors import UserError
from datasets.synthfaces import ATTRIBUTES, MAX_DEGREE
from methods.nets.face_nets import (Backbone, augment, cosine_lr, fit_size, param_count, resume_training, roc_auc,
                               TrainProgress, set_threads, to_tensor, verification_thresholds)
from methods.zoo import Component, TrainContext, load_model, register_component

NAME = "identity-embedder"
DEFAULT_CONFIG = {"widths": [24, 32, 64, 128, 192], "dim": 128, "reduce": 64, "input_size": 64,
                  "threshold_eer": 0.5, "threshold_far1": 0.5}


class IdentityEmbedder(nn.Module):
    """Images (N, 3, H, W) in [-1, 1] -> (N, dim) L2-normalised identity embeddings."""

    def __init__(self, widths=DEFAULT_CONFIG["widths"], dim=128, reduce=64, input_size=64,
                 threshold_eer=0.5, threshold_far1=0.5):
        super().__init__()
        self.input_size = int(input_size)
        self.dim = int(dim)
        self.threshold = float(threshold_eer)
        self.threshold_far1 = float(threshold_far1)
        self.backbone = Backbone(widths)
        c = self.backbone.out_channels
        side = self.input_size // 16
        # keep the 4x4 layout (face width / length / jaw live in where things are)
        self.reduce = nn.Sequential(nn.Conv2d(c, reduce, 1, bias=False), nn.BatchNorm2d(reduce), nn.ReLU())
        self.fc = nn.Linear(reduce * side * side, self.dim)
        self.bn = nn.BatchNorm1d(self.dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        f = self.reduce(self.backbone(fit_size(x, self.input_size)))
        return F.normalize(self.bn(self.fc(f.flatten(1))), dim=1)

    def _as_embedding(self, a) -> torch.Tensor:
        if isinstance(a, np.ndarray) and a.dtype != np.uint8 and a.shape[-1] == self.dim and a.ndim <= 2:
            a = torch.from_numpy(a)
        if isinstance(a, torch.Tensor) and a.is_floating_point() and a.dim() <= 2 and a.shape[-1] == self.dim:
            return F.normalize(a.reshape(-1, self.dim).float(), dim=1)
        return self.embed(a)

    @torch.no_grad()
    def embed(self, images, batch: int = 256) -> torch.Tensor:
        """uint8 (N, H, W, 3) / (H, W, 3) or float NCHW in [-1, 1] -> (N, dim) embeddings (no grad)."""
        dev = self.fc.weight.device
        x = to_tensor(images, dev)
        return torch.cat([self.forward(x[i:i + batch]) for i in range(0, len(x), batch)])

    def cosine(self, a, b) -> torch.Tensor:
        """Cosine similarity (N,) of images or embeddings a and b (broadcast over a batch of one)."""
        ea, eb = self._as_embedding(a), self._as_embedding(b)
        if ea.shape[0] != eb.shape[0] and 1 not in (ea.shape[0], eb.shape[0]):
            raise UserError(f"cosine: batch sizes differ ({ea.shape[0]} vs {eb.shape[0]})")
        return (ea.to(eb.device) * eb).sum(dim=1)

    def same_person(self, a, b, threshold: str | float = "eer"):
        """True where a and b show the same identity: cosine >= the calibrated threshold.

        threshold: "eer" (the equal-error-rate threshold, default), "far1" (the lowest threshold
        whose false-accept rate on the held-out calibration pairs is <= 1 %; when the EER is
        below 1 % this one is the more lenient) or a number. Returns a bool for a single pair,
        else a bool array.
        """
        t = {"eer": self.threshold, "far1": self.threshold_far1}.get(threshold, threshold)
        if isinstance(t, str):
            raise UserError(f"threshold must be 'eer', 'far1' or a number, got {threshold!r}")
        same = (self.cosine(a, b) >= float(t)).cpu().numpy()
        return bool(same[0]) if same.size == 1 else same


def build(config: dict) -> IdentityEmbedder:
    return IdentityEmbedder(**config)


def load_embedder(path=None, device: str = "cpu") -> IdentityEmbedder:
    """The shipped (or given) identity embedder, eval mode."""
    return load_model(NAME, path, device=device)


def cosine(a, b, model: IdentityEmbedder | None = None) -> torch.Tensor:
    return (model or _shipped()).cosine(a, b)


def same_person(a, b, model: IdentityEmbedder | None = None, threshold: str | float = "eer"):
    return (model or _shipped()).same_person(a, b, threshold)


_SHIPPED: IdentityEmbedder | None = None


def _shipped() -> IdentityEmbedder:
    global _SHIPPED
    if _SHIPPED is None:
        _SHIPPED = load_embedder()
    return _SHIPPED


# ----------------------------------------------------------------------------- data

def variant_attributes(split: str, index: int, k: int, seed: int) -> np.ndarray:
    """(k, 5) independent uniform attribute vectors for the k renders of image `index`."""
    rng = np.random.default_rng([seed, index, 0x1D])
    return rng.integers(0, MAX_DEGREE + 1, (k, len(ATTRIBUTES))).astype(np.uint8)


def render_variants(split: str, n: int, k: int, size: int = 64, seed: int = 0, start: int = 0):
    """Identities start..start+n-1 of `split`, each rendered k times with independent random
    attributes: images uint8 (n, k, size, size, 3), identity ids (n,), attributes (n, k, 5)."""
    from datasets.synthfaces import render, split_identity

    images = np.empty((n, k, size, size, 3), np.uint8)
    ids = np.empty(n, np.int64)
    attrs = np.empty((n, k, len(ATTRIBUTES)), np.uint8)
    for i in range(n):
        ids[i] = split_identity(split, start + i)
        attrs[i] = variant_attributes(split, start + i, k, seed)
        for v in range(k):
            images[i, v] = render(int(ids[i]), attrs[i, v].tolist(), size)
    return images, ids, attrs


def variant_cache(split: str, n: int, k: int, size: int = 64, seed: int = 0, root=None) -> dict:
    """render_variants, cached as .npz beside the SynthFaces split caches (atomic write, reused)."""
    from datasets.synthfaces.cache import CACHE_VERSION, default_cache_root

    root = Path(root) if root else default_cache_root()
    path = root / f"identity_variants_{split}_n{n}_k{k}_s{size}_seed{seed}_v{CACHE_VERSION}.npz"
    if path.exists():
        try:
            with np.load(path, allow_pickle=False) as z:
                if z["images"].shape == (n, k, size, size, 3):
                    return {key: z[key] for key in z.files}
        except Exception:
            pass
    images, ids, attrs = render_variants(split, n, k, size, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".tmp{os.getpid()}.npz")
    np.savez_compressed(tmp, images=images, identity=ids, attributes=attrs)
    os.replace(tmp, path)
    return {"images": images, "identity": ids, "attributes": attrs}


# ----------------------------------------------------------------------------- evaluation

def verification_scores(model: IdentityEmbedder, views: np.ndarray, max_neg: int = 200_000, seed: int = 0):
    """views: uint8 (n, 2, H, W, 3), two independent-attribute renders per identity.

    Positives: the n same-identity pairs (view 0, view 1). Negatives: (view 0 of i, view 1 of j),
    i != j (all of them, or a random `max_neg` of them)."""
    was = model.training
    model.eval()
    a = model.embed(views[:, 0])
    b = model.embed(views[:, 1])
    model.train(was)
    sim = (a @ b.T).cpu().numpy().astype(np.float64)
    n = len(sim)
    pos = np.diag(sim).copy()
    off = ~np.eye(n, dtype=bool)
    neg = sim[off]
    if len(neg) > max_neg:
        neg = np.random.default_rng(seed).choice(neg, max_neg, replace=False)
    return pos, neg


def evaluate(model: IdentityEmbedder, views: np.ndarray) -> dict:
    pos, neg = verification_scores(model, views)
    q = {"auc": round(roc_auc(pos, neg), 5)}
    th = verification_thresholds(pos, neg, far=0.01)
    q.update({k: round(v, 5) for k, v in th.items()})
    q.update({"pos_cos_mean": round(float(pos.mean()), 4), "neg_cos_mean": round(float(neg.mean()), 4),
              "n_identities": int(len(pos)), "n_negative_pairs": int(len(neg))})
    return q


# ----------------------------------------------------------------------------- training

def _data(ctx: TrainContext) -> dict:
    if ctx.quick:
        tr = render_variants("train", 24, 2, 64, seed=ctx.seed)
        te = render_variants("test", 24, 2, 64, seed=1, start=0)
        return {"train": tr[0], "test": te[0], "desc": "quick smoke data (24 train / 24 test identities x 2)"}
    n_id, k, n_test = 8000, 4, 1500
    ctx.log(event="data", msg=f"rendering/reading {n_id} train identities x {k} attribute variants")
    tr = variant_cache("train", n_id, k, 64, seed=0)
    te = variant_cache("test", n_test, 2, 64, seed=1)
    return {"train": tr["images"], "test": te["images"],
            "desc": (f"SynthFaces train identities 0..{n_id - 1} (ids 101000+), each rendered {k}x with independent "
                     f"uniform random attributes (photo, 64 px, seed 0); held-out: test identities 0..{n_test - 1} "
                     "x 2 independent-attribute renders (seed 1), all cross-identity pairs as negatives")}


def train(ctx: TrainContext) -> None:
    set_threads()
    config = dict(DEFAULT_CONFIG)
    steps = ctx.steps or (6 if ctx.quick else 800)
    n_ids = 8 if ctx.quick else 48  # identities per batch (2 renders each)
    tau = 0.07
    base_lr = 2e-3
    dev = torch.device(ctx.device)
    torch.manual_seed(ctx.seed)
    model = build(config).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=base_lr, weight_decay=5e-4)
    start = resume_training(ctx, model, opt, steps)
    data = _data(ctx)
    train_views = data["train"]
    n_train, k = train_views.shape[:2]
    ctx.log(event="start", params=param_count(model), steps=steps, ids_per_batch=n_ids, n_identities=n_train,
            variants=k)
    model.train()
    progress = TrainProgress(ctx, model, opt, steps, "top1")
    for step in range(start, steps):
        rng = np.random.default_rng([ctx.seed, step, 0x1DE])
        torch.manual_seed(ctx.seed * 1_000_003 + step)
        ids = rng.choice(n_train, n_ids, replace=False)
        va = rng.integers(0, k, n_ids)
        vb = (va + rng.integers(1, k, n_ids)) % k if k > 1 else va
        imgs = np.concatenate([train_views[ids, va], train_views[ids, vb]])
        x = augment(imgs, rng, strength=0.7).to(dev)
        for g in opt.param_groups:
            g["lr"] = cosine_lr(step, steps, base_lr, warmup=min(100, steps // 10))
        z = model(x)
        za, zb = z[:n_ids], z[n_ids:]
        # symmetric InfoNCE over all 2B renders: each render's positive is its partner
        sim = z @ z.T / tau
        sim = sim.masked_fill(torch.eye(2 * n_ids, dtype=torch.bool, device=dev), float("-inf"))
        target = torch.cat([torch.arange(n_ids, 2 * n_ids), torch.arange(0, n_ids)]).to(dev)
        loss = F.cross_entropy(sim, target)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        progress.update(step + 1, loss.detach(),
                        ((za @ zb.T).argmax(1) == torch.arange(n_ids, device=dev)).float().mean())
    model.eval()
    quality = evaluate(model, data["test"])
    quality["params"] = param_count(model)
    config["threshold_eer"] = quality["threshold_eer"]
    config["threshold_far1"] = quality["threshold_far1"]
    ctx.log(event="eval", **quality)
    path = ctx.export(config, model.state_dict(), quality, steps, data["desc"])
    ctx.log(event="export", path=str(path), size_bytes=path.stat().st_size)


COMPONENT = register_component(Component(
    name=NAME,
    summary="identity embedder (ArcFace/FaceNet role): attribute-invariant 128-d face embedding, same_person()",
    build=build, train=train, default_config=dict(DEFAULT_CONFIG), fp16=True))
