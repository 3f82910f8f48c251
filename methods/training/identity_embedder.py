"""Trainer of the identity embedder (``bench train identity-embedder``; the network is
``methods.nets.identity_embedder``).

Every SynthFaces train identity is rendered K times with independent random attribute vectors
(``variant_cache``); a batch holds B identities x 2 of their renders (light augmentation) and the
loss is a symmetric InfoNCE over the batch (the other identities are the negatives). Held-out
verification (``methods.nets.identity_embedder.evaluate``) on test identities calibrates the
thresholds stored in the checkpoint's config.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from datasets.synthfaces import ATTRIBUTES, MAX_DEGREE
from methods.nets.face_nets import param_count
from methods.nets.identity_embedder import DEFAULT_CONFIG, build, evaluate
from methods.training.face_nets import TrainProgress, augment, cosine_lr, resume_training, set_threads
from methods.zoo import TrainContext


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
