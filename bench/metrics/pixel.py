"""PSNR and SSIM on uint8 RGB images (numpy only; cheap to import).

SSIM follows Wang et al. (2004) exactly as ``skimage.metrics.structural_similarity(...,
gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=255,
channel_axis=-1)``: 11x11 Gaussian window (sigma 1.5, truncated at 3.5 sigma), K1=0.01,
K2=0.03, computed per channel in float64 and averaged over the valid region (skimage crops
the 5-pixel border that its reflect-padded filter touches, which is the same as a 'valid'
filter) and then over channels. Images must be at least 11x11.

PSNR = 10 log10(255^2 / MSE), MSE over all pixels and channels of one image. Identical images
have infinite PSNR; :func:`psnr` caps every per-image value at ``PSNR_CAP_DB`` = 100 dB by
default so means, bootstrap CIs and JSON storage stay finite (pass ``cap=None`` for inf).
100 dB is above any uint8 difference that matters (one grey level in one pixel of a 256x256
image is ~101 dB); aggregate per-image values with their plain mean.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from bench.metrics.checks import as_image_pair, check_min_size

PSNR_CAP_DB = 100.0
SSIM_SIGMA = 1.5
SSIM_TRUNCATE = 3.5
SSIM_K1, SSIM_K2 = 0.01, 0.03
DATA_RANGE = 255.0


def psnr(a, b, cap: float | None = PSNR_CAP_DB) -> np.ndarray:
    """Per-image PSNR in dB between uint8 images (shape (N,) float64; higher is better)."""
    a, b = as_image_pair(a, b)
    diff = a.astype(np.float64) - b.astype(np.float64)
    mse = np.mean(diff * diff, axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        val = 10.0 * np.log10(DATA_RANGE ** 2 / mse)
    if cap is not None:
        val = np.minimum(val, float(cap))
    return val


def gaussian_window(sigma: float = SSIM_SIGMA, truncate: float = SSIM_TRUNCATE) -> np.ndarray:
    """Normalised 1-D Gaussian taps, as scipy.ndimage.gaussian_filter uses them (11 taps for 1.5)."""
    radius = int(truncate * sigma + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    g = np.exp(-0.5 * (x / sigma) ** 2)
    return g / g.sum()


def _filter_valid(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Separable 'valid' correlation of (N, H, W, C) with g along H then W."""
    x = sliding_window_view(x, len(g), axis=1) @ g          # (N, H-k+1, W, C)
    return sliding_window_view(x, len(g), axis=2) @ g       # (N, H-k+1, W-k+1, C)


def ssim(a, b) -> np.ndarray:
    """Per-image mean SSIM (channel-averaged) between uint8 images; shape (N,), higher is better."""
    a, b = as_image_pair(a, b)
    g = gaussian_window()
    check_min_size(a, len(g), "SSIM", "its Gaussian window is 11x11; use a larger --size")
    x = a.astype(np.float64)
    y = b.astype(np.float64)
    ux, uy = _filter_valid(x, g), _filter_valid(y, g)
    uxx, uyy, uxy = _filter_valid(x * x, g), _filter_valid(y * y, g), _filter_valid(x * y, g)
    vx = uxx - ux * ux
    vy = uyy - uy * uy
    vxy = uxy - ux * uy
    c1 = (SSIM_K1 * DATA_RANGE) ** 2
    c2 = (SSIM_K2 * DATA_RANGE) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    return s.mean(axis=(1, 2, 3))
