"""Differentiable augmentation for GAN training (Zhao et al., "Differentiable Augmentation for
Data-Efficient GAN Training", NeurIPS 2020): the same random colour / translation / cutout is
applied to real and generated images before the discriminator, and gradients flow through it to
the generator. Implemented here from the paper's description (torch only).

``diff_augment(x, policy="color,translation,cutout", generator=g)``: x (B, 3, H, W) in [-1, 1].
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

POLICIES = ("color", "translation", "cutout")


def _rand(shape, generator, device):
    return torch.rand(shape, generator=generator).to(device)


def color(x: torch.Tensor, generator=None) -> torch.Tensor:
    b, dev = x.shape[0], x.device
    x = x + (_rand((b, 1, 1, 1), generator, dev) - 0.5)  # brightness (+-0.5 on [-1, 1], as in the paper's [0,1]x2)
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_rand((b, 1, 1, 1), generator, dev) * 2) + mean  # saturation 0..2
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_rand((b, 1, 1, 1), generator, dev) + 0.5) + mean  # contrast 0.5..1.5


def translation(x: torch.Tensor, ratio: float = 0.125, generator=None) -> torch.Tensor:
    """Shift each image by up to ratio x size pixels (integer), zero-padded."""
    b, _, h, w = x.shape
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty = torch.randint(-sy, sy + 1, (b,), generator=generator)
    tx = torch.randint(-sx, sx + 1, (b,), generator=generator)
    padded = F.pad(x, (sx, sx, sy, sy))
    rows = (torch.arange(h).view(1, h) + sy - ty.view(b, 1)).to(x.device)  # (b, h)
    cols = (torch.arange(w).view(1, w) + sx - tx.view(b, 1)).to(x.device)  # (b, w)
    idx_b = torch.arange(b, device=x.device).view(b, 1, 1)
    return padded.permute(0, 2, 3, 1)[idx_b, rows.view(b, h, 1), cols.view(b, 1, w)].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, ratio: float = 0.5, generator=None) -> torch.Tensor:
    """Zero one random square of side ratio x size per image (clipped at the border)."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    y0 = torch.randint(0, h, (b, 1, 1), generator=generator) - ch // 2  # centre anywhere in the image
    x0 = torch.randint(0, w, (b, 1, 1), generator=generator) - cw // 2
    ys = torch.arange(h).view(1, h, 1)
    xs = torch.arange(w).view(1, 1, w)
    inside = (ys >= y0) & (ys < y0 + ch) & (xs >= x0) & (xs < x0 + cw)
    return x * (~inside).unsqueeze(1).to(x.device, x.dtype)


def diff_augment(x: torch.Tensor, policy: str = "color,translation,cutout", generator=None) -> torch.Tensor:
    for name in [p for p in policy.split(",") if p]:
        if name not in POLICIES:
            raise ValueError(f"unknown DiffAugment policy {name!r}; known: {', '.join(POLICIES)}")
        x = {"color": color, "translation": translation, "cutout": cutout}[name](x, generator=generator)
    return x
