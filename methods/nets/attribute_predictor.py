"""The attribute predictor P (Editable-DeepSC Sec. IV-B / Talk2Edit): degrees 0..5 of Bangs,
Eyeglasses, Beard, Smiling, Young from a face image.

Zoo component ``attribute-predictor`` (``bench train attribute-predictor``), trained on
SynthFaces train identities (photo style plus a share of painted 'art' images, with light
JPEG / blur / noise / colour / shift augmentation so it holds up on channel-degraded and
generated images) and evaluated on held-out test identities.

Use::

    from methods.nets.attribute_predictor import load_predictor
    P = load_predictor()                      # eval-mode module, shipped checkpoint
    P.predict(uint8_images)                   # np.int64 (N, 5) degrees (argmax)
    logits = P(x)                             # x: (N, 3, H, W) float in [-1, 1], any H x W
    P.expected_degrees(x)                     # (N, 5) softmax . [0..5], differentiable
    P.probabilities(x)                        # (N, 5, 6)

``logits`` are (N, 5, 6): per attribute a 6-way classification over degrees, so the
editing loss of eq. (11) is ``cross_entropy(logits[:, i], target_degree)``.
"""
from __future__ import annotations


import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from datasets.synthfaces import ATTRIBUTES, MAX_DEGREE
from methods.nets.face_nets import (Backbone, ResBlock, augment, cosine_lr, fit_size, param_count, resume_training,
                               TrainProgress, set_threads, to_tensor)
from methods.zoo import Component, TrainContext, load_model, register_component

NAME = "attribute-predictor"
NUM_DEGREES = MAX_DEGREE + 1
DEFAULT_CONFIG = {"widths": [24, 32, 64, 128, 192], "hidden": 192, "input_size": 64,
                  "num_attributes": len(ATTRIBUTES), "num_degrees": NUM_DEGREES,
                  "mouth_widths": [24, 48, 96], "mouth_box": [32, 56, 16, 48]}
# Smiling degrees differ by under a pixel at 64 px (mouth opening 0.4 -> 0.9 px, teeth height),
# so a second, full-resolution branch looks at a fixed mouth crop (rows 32-56, cols 16-48 of
# the 64 px face: every SynthFaces mouth and smile fold lies in rows 36-50, cols 20-43).


class AttributePredictor(nn.Module):
    """Images (N, 3, H, W) in [-1, 1] -> logits (N, 5, 6) over degrees 0..5 per attribute."""

    def __init__(self, widths=DEFAULT_CONFIG["widths"], hidden=192, input_size=64,
                 num_attributes=len(ATTRIBUTES), num_degrees=NUM_DEGREES, mouth_widths=(24, 48, 96),
                 mouth_box=(32, 56, 16, 48)):
        super().__init__()
        self.input_size = int(input_size)
        self.num_attributes = int(num_attributes)
        self.num_degrees = int(num_degrees)
        self.mouth_box = tuple(int(v) for v in mouth_box)
        y0, y1, x0, x1 = self.mouth_box
        if not (0 <= y0 < y1 <= self.input_size and 0 <= x0 < x1 <= self.input_size):
            raise ValueError(f"mouth_box {self.mouth_box} is outside the {self.input_size} px input")
        self.backbone = Backbone(widths)
        m0, m1, m2 = (int(w) for w in mouth_widths)
        # full-resolution mouth branch: stride-1 stem, then two stride-2 residual blocks
        self.mouth = nn.Sequential(nn.Conv2d(3, m0, 3, 1, 1, bias=False), nn.BatchNorm2d(m0), nn.ReLU(),
                                   ResBlock(m0, m1, 2), ResBlock(m1, m2, 2))
        c = self.backbone.out_channels
        self.head = nn.Sequential(nn.Linear(2 * c + 2 * m2, hidden), nn.ReLU(), nn.Dropout(0.1),
                                  nn.Linear(hidden, self.num_attributes * self.num_degrees))
        self.register_buffer("degree_values", torch.arange(self.num_degrees, dtype=torch.float32),
                             persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = fit_size(x, self.input_size)
        y0, y1, x0, x1 = self.mouth_box
        f = self.backbone(x)
        m = self.mouth(x[:, :, y0:y1, x0:x1])
        f = torch.cat([f.mean(dim=(2, 3)), f.amax(dim=(2, 3)), m.mean(dim=(2, 3)), m.amax(dim=(2, 3))], dim=1)
        return self.head(f).view(-1, self.num_attributes, self.num_degrees)

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward(x).softmax(dim=-1)

    def expected_degrees(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 5) expected degree softmax(logits) . [0..5] (differentiable w.r.t. x)."""
        return self.probabilities(x) @ self.degree_values

    @torch.no_grad()
    def predict(self, images, batch: int = 256) -> np.ndarray:
        """uint8 (N, H, W, 3) / (H, W, 3) images or float NCHW in [-1, 1] -> int64 (N, 5) degrees."""
        x = to_tensor(images, self.degree_values.device)
        out = [self.forward(x[i:i + batch]).argmax(-1) for i in range(0, len(x), batch)]
        return torch.cat(out).cpu().numpy().astype(np.int64)


def build(config: dict) -> AttributePredictor:
    return AttributePredictor(**config)


def load_predictor(path=None, device: str = "cpu") -> AttributePredictor:
    """The shipped (or given) attribute predictor, eval mode."""
    return load_model(NAME, path, device=device)


def evaluate(model: AttributePredictor, images: np.ndarray, attributes: np.ndarray, prefix: str = "") -> dict:
    """Per-attribute exact and within-one accuracy on uint8 images with true degrees."""
    was = model.training
    model.eval()
    pred = model.predict(images)
    model.train(was)
    true = np.asarray(attributes, np.int64)
    err = np.abs(pred - true)
    q = {}
    for i, name in enumerate(ATTRIBUTES):
        q[f"{prefix}{name.lower()}_exact"] = round(float((err[:, i] == 0).mean()), 4)
        q[f"{prefix}{name.lower()}_within1"] = round(float((err[:, i] <= 1).mean()), 4)
    q[f"{prefix}min_exact"] = min(q[f"{prefix}{n.lower()}_exact"] for n in ATTRIBUTES)
    q[f"{prefix}min_within1"] = min(q[f"{prefix}{n.lower()}_within1"] for n in ATTRIBUTES)
    q[f"{prefix}n"] = int(len(true))
    return q


# ----------------------------------------------------------------------------- training

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


COMPONENT = register_component(Component(
    name=NAME,
    summary="attribute predictor P: degrees 0-5 of Bangs/Eyeglasses/Beard/Smiling/Young (64 px CNN)",
    build=build, train=train, default_config=dict(DEFAULT_CONFIG), fp16=True))
