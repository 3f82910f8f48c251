"""Trainer of the attribute judge J (``bench train attribute-judge``; network in
``methods.nets.attribute_judge``), the evaluation-only second attribute predictor.

What differs from P's recipe (``methods.training.attribute_predictor``), on purpose:

* data: SynthFaces train identities P never saw (40000..75999), with their own degree and nuisance
  draw, photo plus 10% art; held-out: the same test identities as P's card (photo and art);
* augmentation: stronger colour/geometric jitter (strength 0.8), no JPEG, and random erasing of
  up to two 10-16 px patches in the image corners (background, clothing), so J cannot lean on
  the same shortcuts as P;
* optimisation: plain cross-entropy with label smoothing 0.1 (no expected-degree term), AdamW 1.5e-3,
  batch 64, 2400 steps, cosine decay, seed 1.

The card records J's per-attribute exact / within-one accuracy on held-out test identities (photo
and art) and its agreement with the shipped P on the same images.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from datasets.synthfaces import ATTRIBUTES
from methods.nets.attribute_judge import DEFAULT_CONFIG, NUM_DEGREES, build
from methods.nets.attribute_predictor import evaluate
from methods.nets.face_nets import param_count
from methods.training.face_nets import (TrainProgress, augment, cosine_lr, photo_art_batch, resume_training,
                                        set_threads)
from methods.zoo import TrainContext

DATA_SEED = 7  # J's degree/nuisance draw (P's is 0)
JUDGE_START = 40000  # J learns from train identities P never saw (P uses 0..35999)
DEFAULT_STEPS = 2400


def _data(ctx: TrainContext) -> dict:
    """World ``WORLD`` arrays like P's, but from other train identities (P: 0..35999) and draws."""
    from methods.training.world_data import WORLD, uniform_faces

    def get(split, n, style, seed=DATA_SEED, start=0):
        d = uniform_faces(split, n, 64, style, seed, start, cache=not ctx.quick)
        return d["images"], d["attributes"]

    if ctx.quick:
        (tr, tr_y), (te, te_y) = get("train", 96, "photo", start=JUDGE_START), get("test", 48, "photo", 3)
        return {"train": tr, "train_y": tr_y, "art": tr[:0], "art_y": tr_y[:0], "test": te, "test_y": te_y,
                "test_art": te[:8], "test_art_y": te_y[:8], "desc": "quick smoke data (96 train / 48 test renders)"}
    n_train, n_art, n_test, n_test_art = 30000, 6000, 3000, 1000
    ctx.log(event="data", msg=f"building/reading SynthFaces world-{WORLD} training arrays")
    (tr, tr_y) = get("train", n_train, "photo", start=JUDGE_START)
    (ar, ar_y) = get("train", n_art, "art", start=JUDGE_START + n_train)
    # the same held-out faces as P's card, so the two read the same images
    (te, te_y), (ta, ta_y) = get("test", n_test, "photo", seed=1), get("test", n_test_art, "art", seed=1,
                                                                         start=n_test)
    return {"train": tr, "train_y": tr_y, "art": ar, "art_y": ar_y, "test": te, "test_y": te_y,
            "test_art": ta, "test_art_y": ta_y,
            "desc": (f"SynthFaces world {WORLD}, 64 px, degrees uniform and independent (draw seed {DATA_SEED}), a "
                     f"random nuisance per image: train identities {JUDGE_START}..{JUDGE_START + n_train - 1} "
                     f"(photo) and {JUDGE_START + n_train}..{JUDGE_START + n_train + n_art - 1} (art), disjoint from "
                     f"P's; held-out: test identities 0..{n_test - 1} (photo) and {n_test}..{n_test + n_test_art - 1} "
                     "(art)")}


def erase_corners(x: torch.Tensor, rng: np.random.Generator, p: float = 0.5) -> torch.Tensor:
    """Random erasing of up to two 10-16 px patches in the image corners (background/clothing)."""
    n, _, h, w = x.shape
    x = x.clone()
    for i in np.flatnonzero(rng.random(n) < p):
        for _ in range(int(rng.integers(1, 3))):
            s = int(rng.integers(10, 17) * h / 64)
            y0 = 0 if rng.random() < 0.5 else h - s
            x0 = 0 if rng.random() < 0.5 else w - s
            x[i, :, y0:y0 + s, x0:x0 + s] = torch.from_numpy(rng.uniform(-1, 1, (3, 1, 1))).float()
    return x


def agreement(judge, predictor, images: np.ndarray) -> dict:
    """Share of images on which J and P read the same degree, per attribute and overall."""
    a, b = judge.predict(images), predictor.predict(images)
    q = {f"agree_p_{name.lower()}": round(float((a[:, i] == b[:, i]).mean()), 4) for i, name in enumerate(ATTRIBUTES)}
    q["agree_p_min"] = min(q.values())
    return q


def train(ctx: TrainContext) -> None:
    set_threads()
    config = dict(DEFAULT_CONFIG)
    steps = ctx.steps or (6 if ctx.quick else DEFAULT_STEPS)
    batch = 16 if ctx.quick else 64
    art_frac, base_lr = 0.1, 1.5e-3
    aug = {"strength": 0.8, "jpeg_p": 0.0, "soft_min_frac": 0.7}
    dev = torch.device(ctx.device)
    torch.manual_seed(ctx.seed)
    model = build(config).to(dev)
    opt = torch.optim.AdamW(model.parameters(), lr=base_lr, weight_decay=1e-3)
    start = resume_training(ctx, model, opt, steps)
    data = _data(ctx)
    ctx.log(event="start", params=param_count(model), steps=steps, batch=batch, n_train=len(data["train"]))
    model.train()
    progress = TrainProgress(ctx, model, opt, steps, "train_acc")
    for step in range(start, steps):
        rng = np.random.default_rng([ctx.seed, step, 0x1D6E])
        torch.manual_seed(ctx.seed * 1_000_033 + step)
        imgs, y = photo_art_batch(data, batch, art_frac, rng)
        y = torch.from_numpy(y).to(dev)
        x = erase_corners(augment(imgs, rng, **aug), rng).to(dev)
        for g in opt.param_groups:
            g["lr"] = cosine_lr(step, steps, base_lr, warmup=min(100, steps // 10))
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, NUM_DEGREES), y.reshape(-1), label_smoothing=0.1)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        progress.update(step + 1, loss.detach(), (logits.argmax(-1) == y).float().mean())
    model.eval()
    quality = evaluate(model, data["test"], data["test_y"])
    quality.update(evaluate(model, data["test_art"], data["test_art_y"], prefix="art_"))
    try:
        from methods.nets.attribute_predictor import load_predictor

        quality.update(agreement(model, load_predictor(), data["test"]))
    except Exception as exc:  # noqa: BLE001 - no shipped P: the card says so instead
        quality["agree_p"] = f"not measured ({type(exc).__name__})"
    quality["params"] = param_count(model)
    ctx.log(event="eval", **quality)
    path = ctx.export(config, model.state_dict(), quality, steps, data["desc"])
    ctx.log(event="export", path=str(path), size_bytes=path.stat().st_size)
