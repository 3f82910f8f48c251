"""Per-image metrics registered in ``bench.registry.METRICS`` (cheap to import: numpy only).

Each entry is a callable object with ``name``, ``higher_is_better``, ``min_size`` (smallest
image side it accepts, so a runner can reject a too-small --size before any work) and
``__call__(received_uint8, reference_uint8) -> float``; ``batch(received, reference)``
takes (N, H, W, 3) stacks and returns an (N,) array. torch / lpips load on first use.
"""
from __future__ import annotations

import numpy as np

from bench.registry import METRICS


class PerImageMetric:
    name = ""
    higher_is_better = True
    unit = ""
    min_size = 1

    def batch(self, received, reference) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, received, reference) -> float:
        return float(self.batch(received, reference)[0])

    def __repr__(self) -> str:
        return f"<metric {self.name}>"


@METRICS.register("psnr", summary="PSNR in dB, data range 255, capped at 100 dB for identical images (higher is better)")
class PSNR(PerImageMetric):
    name, higher_is_better, unit = "psnr", True, "dB"

    def __init__(self, cap: float = 100.0):
        self.cap = float(cap)

    def batch(self, received, reference) -> np.ndarray:
        from bench.metrics.pixel import psnr
        return psnr(received, reference, cap=self.cap)


@METRICS.register("ssim", summary="SSIM, 11x11 Gaussian window (sigma 1.5), channel-averaged (higher is better)")
class SSIM(PerImageMetric):
    name, higher_is_better, min_size = "ssim", True, 11  # the Gaussian window

    def batch(self, received, reference) -> np.ndarray:
        from bench.metrics.pixel import ssim
        return ssim(received, reference)


class _LPIPS(PerImageMetric):
    net = ""
    higher_is_better = False

    def __init__(self, device: str = "", upsample_small: bool = False, batch_size: int = 32):
        self.device = device or None
        self.upsample_small = bool(upsample_small)
        self.batch_size = int(batch_size)
        self.min_size = 1 if self.upsample_small else {"alex": 31, "vgg": 16}[self.net]

    def batch(self, received, reference) -> np.ndarray:
        from bench.metrics.perceptual import lpips_distance
        return lpips_distance(received, reference, net=self.net, device=self.device,
                              batch_size=self.batch_size, upsample_small=self.upsample_small)


@METRICS.register("lpips-alex", summary="LPIPS v0.1, ImageNet AlexNet trunk, images >= 31 px (lower is better)")
class LPIPSAlex(_LPIPS):
    name, net = "lpips-alex", "alex"


@METRICS.register("lpips-vgg", summary="LPIPS v0.1, ImageNet VGG16 trunk, images >= 16 px (lower is better)")
class LPIPSVGG(_LPIPS):
    name, net = "lpips-vgg", "vgg"
