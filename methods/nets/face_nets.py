"""Small conv building blocks and training utilities shared by the face zoo components.

Image convention for every face network here (attribute predictor, identity embedder,
official ArcFace): float tensors (N, 3, H, W) in [-1, 1] (``x / 127.5 - 1`` of uint8 RGB, the
range StyleGAN outputs and LPIPS/ArcFace expect). `to_tensor` converts uint8 arrays; any
H x W is accepted and resized (antialiased) to the network's input size inside the module.
"""
from __future__ import annotations

import io
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from bench.errors import UserError


# ----------------------------------------------------------------------------- inputs

def to_tensor(images, device: str | torch.device = "cpu") -> torch.Tensor:
    """uint8 (H, W, 3) / (N, H, W, 3) array (or float tensor NCHW in [-1, 1]) -> float32 NCHW in [-1, 1]."""
    if isinstance(images, torch.Tensor) and images.is_floating_point():
        x = images if images.dim() == 4 else images.unsqueeze(0)
        if x.shape[1] != 3:
            raise UserError(f"float image tensors must be (N, 3, H, W) in [-1, 1], got shape {tuple(images.shape)}")
        return x.to(device)
    arr = images.cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] != 3:
        raise UserError(f"images must be uint8 (H, W, 3) or (N, H, W, 3) RGB, got shape {arr.shape}")
    if arr.dtype != np.uint8:
        raise UserError(f"image arrays must be uint8 RGB (0..255), got dtype {arr.dtype}; "
                        "pass float tensors as (N, 3, H, W) in [-1, 1]")
    x = torch.from_numpy(np.ascontiguousarray(arr)).to(device).permute(0, 3, 1, 2).float()
    return x / 127.5 - 1.0


def fit_size(x: torch.Tensor, size: int) -> torch.Tensor:
    """Resize NCHW to size x size (antialiased bilinear; differentiable); no-op at that size."""
    if x.dim() != 4 or x.shape[1] != 3:
        raise UserError(f"expected images (N, 3, H, W), got shape {tuple(x.shape)}")
    if x.shape[-2:] == (size, size):
        return x
    down = x.shape[-1] > size or x.shape[-2] > size
    return F.interpolate(x, size=(size, size), mode="bilinear", align_corners=False, antialias=down)


# ----------------------------------------------------------------------------- blocks

def conv_bn(cin: int, cout: int, stride: int = 1, k: int = 3) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout))


class ResBlock(nn.Module):
    """conv-bn-relu-conv-bn + (1x1 strided) shortcut, relu."""

    def __init__(self, cin: int, cout: int, stride: int = 1):
        super().__init__()
        self.a = conv_bn(cin, cout, stride)
        self.b = conv_bn(cout, cout)
        self.skip = conv_bn(cin, cout, stride, k=1) if (stride != 1 or cin != cout) else nn.Identity()

    def forward(self, x):
        return F.relu(self.b(F.relu(self.a(x))) + self.skip(x))


class Backbone(nn.Module):
    """64x64 RGB -> (N, widths[-1], 4, 4) features.

    A stride-2 3x3 stem (overlapping windows, so one-pixel detail such as wire rims and
    stubble still reaches the features) to 32x32, one residual block at 32x32, then one
    residual block per stage halving the resolution: 32 -> 16 -> 8 -> 4.
    """

    def __init__(self, widths=(24, 24, 48, 96, 160)):
        super().__init__()
        widths = tuple(int(w) for w in widths)
        if len(widths) != 5:
            raise ValueError(f"Backbone wants 5 widths, got {widths}")
        self.stem = nn.Sequential(conv_bn(3, widths[0], 2), nn.ReLU())
        stages = [ResBlock(widths[0], widths[1], 1)]
        for cin, cout in zip(widths[1:-1], widths[2:]):
            stages.append(ResBlock(cin, cout, stride=2))
        self.stages = nn.Sequential(*stages)
        self.out_channels = widths[-1]

    def forward(self, x):
        return self.stages(self.stem(x))


def param_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


# ----------------------------------------------------------------------------- augmentation

def _jpeg(batch_u8: np.ndarray, quality: np.ndarray) -> np.ndarray:
    from PIL import Image

    out = np.empty_like(batch_u8)
    for i, (img, q) in enumerate(zip(batch_u8, quality)):
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, format="JPEG", quality=int(q))
        buf.seek(0)
        out[i] = np.asarray(Image.open(buf).convert("RGB"))
    return out


def augment(images_u8: np.ndarray, rng: np.random.Generator, strength: float = 1.0,
            jpeg_p: float = 0.2, geometric: bool = True, jpeg_min_quality: int = 25,
            soft_min_frac: float = 0.5) -> torch.Tensor:
    """Light, label-preserving augmentation of a uint8 NHWC batch -> NCHW float in [-1, 1].

    JPEG re-encoding (quality jpeg_min_quality-90), small affine jitter (shift +-3 px, scale +-4 %,
    rotation +-4 deg), colour jitter (brightness, contrast, saturation, per-channel gain),
    then blur or down/up-sampling (GAN/channel softness) and Gaussian noise, each on a
    random subset. Deterministic in `rng`.
    """
    n = len(images_u8)
    imgs = images_u8
    if jpeg_p > 0:
        pick = rng.random(n) < jpeg_p * strength
        if pick.any():
            imgs = imgs.copy()
            imgs[pick] = _jpeg(imgs[pick], rng.integers(jpeg_min_quality, 91, int(pick.sum())))
    x = to_tensor(imgs)
    if geometric:
        ang = torch.from_numpy(rng.uniform(-4, 4, n) * strength * math.pi / 180).float()
        sc = torch.from_numpy(1 + rng.uniform(-0.04, 0.04, n) * strength).float()
        sh = torch.from_numpy(rng.uniform(-3, 3, (n, 2)) * strength * 2 / 64).float()
        cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
        theta = torch.stack([torch.stack([cos, -sin, sh[:, 0]], 1), torch.stack([sin, cos, sh[:, 1]], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)
    # colour jitter (in [0, 1] space)
    y = (x + 1) / 2
    b = torch.from_numpy(rng.uniform(-0.08, 0.08, (n, 1, 1, 1)) * strength).float()
    c = torch.from_numpy(1 + rng.uniform(-0.15, 0.15, (n, 1, 1, 1)) * strength).float()
    s = torch.from_numpy(1 + rng.uniform(-0.2, 0.2, (n, 1, 1, 1)) * strength).float()
    g = torch.from_numpy(1 + rng.uniform(-0.04, 0.04, (n, 3, 1, 1)) * strength).float()
    mean = y.mean(dim=(1, 2, 3), keepdim=True)
    y = (y - mean) * c + mean + b
    grey = y.mean(dim=1, keepdim=True)
    y = ((y - grey) * s + grey) * g
    x = y.clamp(0, 1) * 2 - 1
    # softness: blur or down/up-sampling on a subset
    soft = rng.random(n) < 0.3 * strength
    if soft.any():
        idx = torch.from_numpy(np.flatnonzero(soft))
        sub = x[idx]
        if rng.random() < 0.5:
            sigma = float(rng.uniform(0.4, 1.0))
            k = torch.exp(-torch.arange(-2, 3).float() ** 2 / (2 * sigma ** 2))
            k = (k / k.sum())
            sub = F.conv2d(F.pad(sub, (2, 2, 0, 0), mode="replicate"), k.view(1, 1, 1, 5).repeat(3, 1, 1, 1), groups=3)
            sub = F.conv2d(F.pad(sub, (0, 0, 2, 2), mode="replicate"), k.view(1, 1, 5, 1).repeat(3, 1, 1, 1), groups=3)
        else:
            h = x.shape[-1]
            small = int(rng.integers(max(8, int(h * soft_min_frac)), h - 7))
            sub = F.interpolate(F.interpolate(sub, size=(small, small), mode="bilinear", antialias=True,
                                              align_corners=False),
                                size=(h, h), mode="bilinear", align_corners=False)
        x = x.clone()
        x[idx] = sub
    noisy = torch.from_numpy((rng.random(n) < 0.4 * strength).astype(np.float32)).view(n, 1, 1, 1)
    sig = torch.from_numpy(rng.uniform(0.0, 0.08, (n, 1, 1, 1))).float()
    x = x + noisy * sig * torch.from_numpy(rng.standard_normal(x.shape).astype(np.float32))
    return x.clamp(-1, 1)


# ----------------------------------------------------------------------------- training helpers

def cosine_lr(step: int, total: int, base: float, warmup: int = 100) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return base * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def set_threads() -> None:
    """Training and evaluation here run on one CPU thread (the machine is shared)."""
    torch.set_num_threads(1)


def roc_auc(pos: np.ndarray, neg: np.ndarray) -> float:
    """ROC AUC of scores (higher = positive) via the Mann-Whitney U statistic, ties counted half."""
    pos = np.asarray(pos, np.float64)
    neg = np.asarray(neg, np.float64)
    allv = np.concatenate([pos, neg])
    order = np.argsort(allv, kind="mergesort")
    ranks = np.empty(len(allv), np.float64)
    sorted_v = allv[order]
    # average ranks over ties
    i = 0
    r = np.arange(1, len(allv) + 1, dtype=np.float64)
    boundaries = np.flatnonzero(np.diff(sorted_v)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(allv)]])
    for s, e in zip(starts, ends):
        ranks[order[s:e]] = r[s:e].mean()
    del i
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))


def verification_thresholds(pos: np.ndarray, neg: np.ndarray, far: float = 0.01) -> dict:
    """Threshold at the equal-error rate and at a false-accept rate of `far` ("same" iff score >= t)."""
    pos = np.sort(np.asarray(pos, np.float64))
    neg = np.sort(np.asarray(neg, np.float64))
    cands = np.unique(np.concatenate([pos, neg]))
    frr = np.searchsorted(pos, cands, side="left") / len(pos)            # pos below t are rejected
    far_ = 1 - np.searchsorted(neg, cands, side="left") / len(neg)       # neg at/above t are accepted
    i = int(np.argmin(np.abs(frr - far_)))
    eer = float((frr[i] + far_[i]) / 2)
    t_eer = float(cands[i])
    # smallest threshold whose FAR <= far: just above the (1-far) quantile of negatives
    ok = np.flatnonzero(far_ <= far)
    j = int(ok[0]) if len(ok) else len(cands) - 1
    t_far = float(cands[j])
    return {"eer": eer, "threshold_eer": t_eer, "threshold_far1": t_far,
            "tar_at_far1": float(1 - frr[j]), "far_at_far1": float(far_[j])}


def save_training(ctx, model, opt, step: int, steps: int) -> None:
    """Save the resumable state `resume_training` reads back."""
    ctx.save_state({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "steps": steps,
                    "seed": ctx.seed, "wall_s": ctx.wall_s()})


def resume_training(ctx, model, opt, steps: int) -> int:
    """Restore model/optimizer/wall time from `ctx`'s saved state if it was made with the same
    --steps and --seed; returns the step to continue from (0 for a fresh start)."""
    state = ctx.load_state()
    if state is not None and state.get("steps") == steps and state.get("seed") == ctx.seed:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        start = int(state["step"])
        ctx.prior_wall_s = float(state["wall_s"])
        ctx.log(event="resume", step=start, prior_wall_s=round(ctx.prior_wall_s, 1))
        return start
    if state is not None:
        ctx.log(event="resume-skipped", msg="state is for another --steps/--seed; starting fresh")
    return 0


class TrainProgress:
    """The bookkeeping tail of a face-net training step: running means of the loss and of one
    accuracy figure (logged as ``acc_name``), logged every 50 steps and at the last step, and
    the resumable state saved (``save_training``) every 200 steps and at the last step."""

    def __init__(self, ctx, model, opt, steps: int, acc_name: str):
        self.ctx, self.model, self.opt = ctx, model, opt
        self.steps, self.acc_name = steps, acc_name
        self.t_log, self.loss, self.acc, self.n = time.time(), 0.0, 0.0, 0

    def update(self, done: int, loss: float, acc: float) -> None:
        """After step `done` (1-based) with this step's loss and accuracy."""
        self.loss += float(loss)
        self.acc += float(acc)
        self.n += 1
        if done % 50 == 0 or done == self.steps:
            k = self.n  # steps since the last log (fewer than 50 after a resume or at the end)
            self.ctx.log(step=done, loss=round(self.loss / k, 4), **{self.acc_name: round(self.acc / k, 4)},
                         lr=round(self.opt.param_groups[0]["lr"], 6),
                         s_per_step=round((time.time() - self.t_log) / k, 3), wall_s=round(self.ctx.wall_s(), 1))
            self.t_log, self.loss, self.acc, self.n = time.time(), 0.0, 0.0, 0
        if done % 200 == 0 or done == self.steps:
            save_training(self.ctx, self.model, self.opt, done, self.steps)
