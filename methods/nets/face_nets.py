"""Small conv building blocks and evaluation helpers shared by the face zoo components.

(Their training utilities - augmentation, lr schedule, resumable state, progress - are in
``methods.training.face_nets``.)

Image convention for every face network here (attribute predictor, identity embedder,
official ArcFace): float tensors (N, 3, H, W) in [-1, 1] (``x / 127.5 - 1`` of uint8 RGB, the
range StyleGAN outputs and LPIPS/ArcFace expect). `to_tensor` converts uint8 arrays; any
H x W is accepted and resized (antialiased) to the network's input size inside the module.
"""
from __future__ import annotations

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
    arr = np.ascontiguousarray(arr)
    if not arr.flags.writeable:  # e.g. a broadcast reference: torch wants writable memory
        arr = arr.copy()
    x = torch.from_numpy(arr).to(device).permute(0, 3, 1, 2).float()
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


# ----------------------------------------------------------------------------- evaluation

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
