"""Trainer of the attribute judge J (``bench train attribute-judge``; network in
``methods.nets.attribute_judge``), the evaluation-only second attribute predictor.

What differs from P's recipe (``methods.training.attribute_predictor``), on purpose:

* data: SynthFaces train identities 0..29999 with their own attribute draw (dataset seed 7, P uses
  seed 0), photo plus 10% art; held-out: the test split (photo and art), as for P;
* augmentation: stronger colour/geometric jitter (strength 0.8), no JPEG, and random erasing of
  up to two 10-16 px patches in the image corners (background, clothing), so J cannot lean on
  the same shortcuts as P;
* optimisation: plain cross-entropy with label smoothing 0.1 (no expected-degree term), AdamW 1.5e-3,
  batch 64, 1200 steps, cosine decay, seed 1.

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
from methods.training.face_nets import TrainProgress, augment, cosine_lr, resume_training, set_threads
from methods.zoo import TrainContext

DATA_SEED = 7  # J's attribute draw of the train identities (P's is 0)
DEFAULT_STEPS = 1200


def _data(ctx: TrainContext) -> dict:
    from datasets.synthfaces.cache import build_split_cache, load_split_cache, render_split

    if ctx.quick:
        tr = render_split("train", 96, 64, "photo", seed=DATA_SEED)
        te = render_split("test", 48, 64, "photo", seed=3)
        return {"train": tr[0], "train_y": tr[2], "art": tr[0][:0], "art_y": tr[2][:0],
                "test": te[0], "test_y": te[2], "test_art": te[0][:8], "test_art_y": te[2][:8],
                "desc": "quick smoke data (96 train / 48 test renders)"}
    n_train, n_art, n_test, n_test_art = 30000, 6000, 3000, 1000
    ctx.log(event="data", msg="building/reading SynthFaces caches")
    tr = load_split_cache(build_split_cache("train", n_train, 64, "photo", seed=DATA_SEED))
    ar = load_split_cache(build_split_cache("train", n_art, 64, "art", seed=DATA_SEED))
    te = load_split_cache(build_split_cache("test", n_test, 64, "photo"))
    ta = load_split_cache(build_split_cache("test", n_test_art, 64, "art"))
    return {"train": tr["images"], "train_y": tr["attributes"], "art": ar["images"], "art_y": ar["attributes"],
            "test": te["images"], "test_y": te["attributes"], "test_art": ta["images"], "test_art_y": ta["attributes"],
            "desc": (f"SynthFaces train split images 0..{n_train - 1} (photo) + 0..{n_art - 1} (art), 64 px, "
                     f"dataset seed {DATA_SEED} (P: seed 0); held-out: test split 0..{n_test - 1} (photo) and "
                     f"0..{n_test_art - 1} (art)")}


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
        n_art = int(rng.binomial(batch, art_frac)) if len(data["art"]) else 0
        i = rng.integers(0, len(data["train"]), batch - n_art)
        j = rng.integers(0, len(data["art"]), n_art) if n_art else np.zeros(0, np.int64)
        imgs = np.concatenate([data["train"][i], data["art"][j]])
        y = torch.from_numpy(np.concatenate([data["train_y"][i], data["art_y"][j]]).astype(np.int64)).to(dev)
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
