"""Trainer of the attribute predictor P (``bench train attribute-predictor``; the network is
``methods.nets.attribute_predictor``).

SynthFaces train identities of world ``methods.training.world_data.WORLD`` at 64 px, uniform
degrees and a random nuisance per image (photo style plus 10% painted 'art' images), light JPEG /
blur / noise / colour / shift augmentation (``methods.training.face_nets.augment``), cross-entropy
per attribute (Smiling counted double, label smoothing 0.05) plus 0.1 x the L1 error of the
expected degrees, AdamW 2e-3 with warm-up and cosine decay, batch 64, 3000 steps. The card holds
the per-attribute exact / within-one accuracy on held-out test identities (photo and art).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from datasets.synthfaces import ATTRIBUTES
from methods.nets.attribute_predictor import DEFAULT_CONFIG, NUM_DEGREES, build, evaluate
from methods.nets.face_nets import param_count
from methods.training.face_nets import (TrainProgress, augment, cosine_lr, photo_art_batch, resume_training,
                                        set_threads)
from methods.zoo import TrainContext


def _data(ctx: TrainContext) -> dict:
    """Training and held-out arrays of world ``WORLD``: uniform degrees, random nuisance (photo train
    + art train; photo test + art test identities)."""
    from methods.training.world_data import WORLD, uniform_faces

    def get(split, n, style, seed=0, start=0):
        d = uniform_faces(split, n, 64, style, seed, start, cache=not ctx.quick)
        return d["images"], d["attributes"]

    if ctx.quick:
        (tr, tr_y), (te, te_y), (ta, ta_y) = get("train", 96, "photo"), get("test", 48, "photo", 3), \
            get("test", 16, "art", 3)
        return {"train": tr, "train_y": tr_y, "art": tr[:0], "art_y": tr_y[:0], "test": te, "test_y": te_y,
                "test_art": ta, "test_art_y": ta_y, "desc": "quick smoke data (96 train / 48 test renders)"}
    n_train, n_art, n_test, n_test_art = 30000, 6000, 3000, 1000
    ctx.log(event="data", msg=f"building/reading SynthFaces world-{WORLD} training arrays")
    (tr, tr_y), (ar, ar_y) = get("train", n_train, "photo"), get("train", n_art, "art", start=n_train)
    (te, te_y), (ta, ta_y) = get("test", n_test, "photo", seed=1), get("test", n_test_art, "art", seed=1,
                                                                         start=n_test)
    return {"train": tr, "train_y": tr_y, "art": ar, "art_y": ar_y, "test": te, "test_y": te_y,
            "test_art": ta, "test_art_y": ta_y,
            "desc": (f"SynthFaces world {WORLD}, 64 px, degrees uniform and independent, a random nuisance per "
                     f"image: train identities 0..{n_train - 1} (photo) and {n_train}..{n_train + n_art - 1} "
                     f"(art); held-out: test identities 0..{n_test - 1} (photo) and "
                     f"{n_test}..{n_test + n_test_art - 1} (art)")}


def train(ctx: TrainContext) -> None:
    set_threads()
    config = dict(DEFAULT_CONFIG)
    steps = ctx.steps or (6 if ctx.quick else 3000)
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
        imgs, y = photo_art_batch(data, batch, art_frac, rng)
        y = torch.from_numpy(y).to(dev)
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
