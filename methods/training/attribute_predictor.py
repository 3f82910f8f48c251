"""Trainer of the attribute predictor P (``bench train attribute-predictor``; the network is
``methods.nets.attribute_predictor``).

SynthFaces train identities at 64 px (photo style plus 10% painted 'art' images), light JPEG /
blur / noise / colour / shift augmentation (``methods.training.face_nets.augment``), cross-entropy
per attribute (Smiling counted double, label smoothing 0.05) plus 0.1 x the L1 error of the
expected degrees, AdamW 2e-3 with warm-up and cosine decay, batch 64, 1300 steps. The card holds
the per-attribute exact / within-one accuracy on held-out test identities (photo and art).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from datasets.synthfaces import ATTRIBUTES
from methods.nets.attribute_predictor import DEFAULT_CONFIG, NUM_DEGREES, build, evaluate
from methods.nets.face_nets import param_count
from methods.training.face_nets import TrainProgress, augment, cosine_lr, resume_training, set_threads
from methods.zoo import TrainContext


def _data(ctx: TrainContext) -> dict:
    """Training and held-out arrays (photo train + art train; photo test + art test)."""
    from datasets.synthfaces.cache import build_split_cache, load_split_cache, render_split

    if ctx.quick:
        tr = render_split("train", 96, 64, "photo")
        te = render_split("test", 48, 64, "photo", seed=3)
        ta = render_split("test", 16, 64, "art", seed=3)
        return {"train": tr[0], "train_y": tr[2], "art": tr[0][:0], "art_y": tr[2][:0],
                "test": te[0], "test_y": te[2], "test_art": ta[0], "test_art_y": ta[2],
                "desc": "quick smoke data (96 train / 48 test renders)"}
    n_train, n_art, n_test, n_test_art = 30000, 6000, 3000, 1000
    ctx.log(event="data", msg="building/reading SynthFaces caches")
    tr = load_split_cache(build_split_cache("train", n_train, 64, "photo"))
    ar = load_split_cache(build_split_cache("train", n_art, 64, "art"))
    te = load_split_cache(build_split_cache("test", n_test, 64, "photo"))
    ta = load_split_cache(build_split_cache("test", n_test_art, 64, "art"))
    return {"train": tr["images"], "train_y": tr["attributes"], "art": ar["images"], "art_y": ar["attributes"],
            "test": te["images"], "test_y": te["attributes"], "test_art": ta["images"], "test_art_y": ta["attributes"],
            "desc": (f"SynthFaces train split images 0..{n_train - 1} (photo) + 0..{n_art - 1} (art), 64 px, seed 0; "
                     f"held-out: test split 0..{n_test - 1} (photo) and 0..{n_test_art - 1} (art)")}


def train(ctx: TrainContext) -> None:
    set_threads()
    config = dict(DEFAULT_CONFIG)
    steps = ctx.steps or (6 if ctx.quick else 1300)
    batch = 16 if ctx.quick else 64
    art_frac = 0.1
    # light augmentation: degree differences (a mouth corner, faint wrinkles) are a pixel or
    # two at 64 px, and strong blur / JPEG would erase the label
    aug = {"strength": 0.5, "jpeg_p": 0.2, "jpeg_min_quality": 50, "soft_min_frac": 0.75}
    base_lr = 2e-3
    dev = torch.device(ctx.device)
    torch.manual_seed(ctx.seed)
    model = build(config).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=base_lr, weight_decay=5e-4)
    start = resume_training(ctx, model, opt, steps)
    data = _data(ctx)
    ctx.log(event="start", params=param_count(model), steps=steps, batch=batch, n_train=len(data["train"]),
            n_art=len(data["art"]))
    degrees = torch.arange(NUM_DEGREES, dtype=torch.float32, device=dev)
    # Smiling is the subtlest attribute: its loss counts double
    attr_w = torch.tensor([1.0, 1.0, 1.0, 2.0, 1.0], device=dev)
    model.train()
    progress = TrainProgress(ctx, model, opt, steps, "train_acc")
    for step in range(start, steps):
        rng = np.random.default_rng([ctx.seed, step, 0xA77])
        torch.manual_seed(ctx.seed * 1_000_003 + step)
        n_art = int(rng.binomial(batch, art_frac)) if len(data["art"]) else 0
        i = rng.integers(0, len(data["train"]), batch - n_art)
        j = rng.integers(0, len(data["art"]), n_art) if n_art else np.zeros(0, np.int64)
        imgs = np.concatenate([data["train"][i], data["art"][j]])
        y = torch.from_numpy(np.concatenate([data["train_y"][i], data["art_y"][j]]).astype(np.int64)).to(dev)
        x = augment(imgs, rng, **aug).to(dev)
        for g in opt.param_groups:
            g["lr"] = cosine_lr(step, steps, base_lr, warmup=min(100, steps // 10))
        logits = model(x)
        ce = F.cross_entropy(logits.reshape(-1, NUM_DEGREES), y.reshape(-1), label_smoothing=0.05,
                             reduction="none").view(-1, len(ATTRIBUTES))
        ce = (ce * attr_w).sum(1).mean() / attr_w.sum()
        expd = logits.softmax(-1) @ degrees
        l1 = ((expd - y.float()).abs() * attr_w).sum(1).mean() / attr_w.sum()
        loss = ce + 0.1 * l1
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        progress.update(step + 1, loss.detach(), (logits.argmax(-1) == y).float().mean())
    model.eval()
    quality = evaluate(model, data["test"], data["test_y"])
    quality.update(evaluate(model, data["test_art"], data["test_art_y"], prefix="art_"))
    quality["params"] = param_count(model)
    ctx.log(event="eval", **quality)
    path = ctx.export(config, model.state_dict(), quality, steps, data["desc"])
    ctx.log(event="export", path=str(path), size_bytes=path.stat().st_size)
