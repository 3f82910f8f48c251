"""Image-quality metrics: per-image PSNR / SSIM / LPIPS and set-level FD / KD, with bootstrap CIs.

Importing this package is cheap (numpy only) and registers the per-image metrics
("psnr", "ssim", "lpips-alex", "lpips-vgg") in ``bench.registry.METRICS``. The functions
below are loaded lazily, so torch/lpips/clean-fid are imported only when used:

=============================  ==========================================================
``psnr(a, b, cap=100)``        per-image PSNR (dB), :mod:`bench.metrics.pixel`
``ssim(a, b)``                 per-image SSIM (skimage-equivalent), :mod:`~.pixel`
``lpips_distance(a, b, net)``  per-image LPIPS v0.1, ImageNet trunk, :mod:`~.perceptual`
``distribution_distance``      FID/KID or FD-VGG16/KD-VGG16 of two sets, :mod:`~.distribution`
``folder_distribution_distance``  same for two folders
``bootstrap_ci(values)``       (mean, lo, hi) percentile bootstrap, :mod:`~.bootstrap`
``bootstrap_set_ci``           two-set bootstrap for FD/KD
=============================  ==========================================================
"""
from __future__ import annotations

import importlib

from bench.metrics import registered  # noqa: F401  (registers METRICS entries)

_LAZY = {
    "psnr": "pixel", "ssim": "pixel", "PSNR_CAP_DB": "pixel",
    "lpips_distance": "perceptual", "lpips_model": "perceptual",
    "distribution_distance": "distribution", "folder_distribution_distance": "distribution",
    "frechet_distance": "distribution", "kernel_distance": "distribution",
    "distances_from_features": "distribution",
    "feature_space": "features", "inception_available": "features",
    "bootstrap_ci": "bootstrap", "bootstrap_set_ci": "bootstrap",
    "load_backbone": "backbones",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"bench.metrics.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'bench.metrics' has no attribute '{name}'")
