"""Training utilities shared by the face zoo trainers (attribute predictor, identity embedder):
label-preserving augmentation, the warm-up + cosine lr, one-thread training, resumable state and
the logging/saving tail of a training step."""
from __future__ import annotations

import io
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from methods.nets.face_nets import to_tensor


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
            soft_min_frac: float = 0.5, shift_px: float = 3.0, return_affine: bool = False,
            soft_p: float = 0.3, blur_max: float = 1.0):
    """Light, label-preserving augmentation of a uint8 NHWC batch -> NCHW float in [-1, 1].

    JPEG re-encoding (quality jpeg_min_quality-90), small affine jitter (shift +-shift_px px, scale +-4 %,
    rotation +-4 deg), colour jitter (brightness, contrast, saturation, per-channel gain),
    then blur (sigma 0.4-blur_max px) or down/up-sampling (to soft_min_frac of the side at least;
    GAN/channel softness) on a soft_p share, and Gaussian noise, each on a random subset.
    Deterministic in `rng`.

    return_affine: also return the jitter as ``(angle, scale, shift)`` tensors ((N,), (N,), (N, 2)):
    output point p_out shows input point ``R(angle) p_out / scale + shift`` (image units), so a
    face posed ``(t, roll, s)`` in the input is posed ``(scale * R(-angle)(t - shift), roll - angle,
    s * scale)`` in the output (``methods.nets.identity_embedder.compose_pose``).
    """
    n = len(images_u8)
    imgs = images_u8
    if jpeg_p > 0:
        pick = rng.random(n) < jpeg_p * strength
        if pick.any():
            imgs = imgs.copy()
            imgs[pick] = _jpeg(imgs[pick], rng.integers(jpeg_min_quality, 91, int(pick.sum())))
    x = to_tensor(imgs)
    ang = torch.zeros(n)
    sc = torch.ones(n)
    sh = torch.zeros(n, 2)
    if geometric:
        ang = torch.from_numpy(rng.uniform(-4, 4, n) * strength * math.pi / 180).float()
        sc = torch.from_numpy(1 + rng.uniform(-0.04, 0.04, n) * strength).float()
        sh = torch.from_numpy(rng.uniform(-shift_px, shift_px, (n, 2)) * strength * 2 / 64).float()
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
    soft = rng.random(n) < soft_p * strength
    if soft.any():
        idx = torch.from_numpy(np.flatnonzero(soft))
        sub = x[idx]
        if rng.random() < 0.5:
            sigma = float(rng.uniform(0.4, blur_max))
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
    if return_affine:
        return x.clamp(-1, 1), (ang, sc, sh)
    return x.clamp(-1, 1)


# ----------------------------------------------------------------------------- training helpers

def photo_art_batch(data: dict, batch: int, art_frac: float, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray]:
    """A training batch of attribute-labelled faces: a Binomial(batch, art_frac) share drawn from
    ``data["art"]`` (none when there is no art), the rest from ``data["train"]``, with replacement.
    Returns the uint8 images and their int64 degree labels (``train_y`` / ``art_y``)."""
    n_art = int(rng.binomial(batch, art_frac)) if len(data["art"]) else 0
    i = rng.integers(0, len(data["train"]), batch - n_art)
    j = rng.integers(0, len(data["art"]), n_art) if n_art else np.zeros(0, np.int64)
    imgs = np.concatenate([data["train"][i], data["art"][j]])
    return imgs, np.concatenate([data["train_y"][i], data["art_y"][j]]).astype(np.int64)


def cosine_lr(step: int, total: int, base: float, warmup: int = 100) -> float:
    if step < warmup:
        return base * (step + 1) / warmup
    t = (step - warmup) / max(1, total - warmup)
    return base * (0.02 + 0.98 * 0.5 * (1 + math.cos(math.pi * min(1.0, t))))


def set_threads() -> None:
    """Training and evaluation here run on one CPU thread (the machine is shared)."""
    torch.set_num_threads(1)


def threads_from_env() -> None:
    """An explicit OMP_NUM_THREADS wins (a dedicated machine): use that many torch threads."""
    if "OMP_NUM_THREADS" in os.environ:
        torch.set_num_threads(max(1, int(os.environ["OMP_NUM_THREADS"])))


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
