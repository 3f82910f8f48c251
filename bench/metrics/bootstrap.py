"""Percentile-bootstrap 95% confidence intervals.

* :func:`bootstrap_ci` - for the mean of per-image values (PSNR, SSIM, LPIPS, ...).
* :func:`bootstrap_set_ci` - for set-level statistics (FD/KD): both sets of per-image feature
  rows are resampled with replacement, independently, and the statistic recomputed. Resampling
  feature rows is resampling images (features are a deterministic function of each image).
  Note that FD and KD are biased upward under resampling (duplicated images shrink the effective
  sample), so the interval may sit above the point estimate; it describes sampling variability,
  not a bias-corrected estimate.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from bench.errors import UserError


def _percentiles(stats: np.ndarray, alpha: float) -> tuple[float, float]:
    lo, hi = np.quantile(stats, [alpha / 2, 1 - alpha / 2])
    return float(lo), float(hi)


def bootstrap_ci(values, n_boot: int = 1000, seed: int = 0, alpha: float = 0.05) -> tuple[float, float, float]:
    """(mean, lo, hi): the mean of ``values`` and its percentile-bootstrap (1 - alpha) CI.

    With a single value the interval is undefined and (v, nan, nan) is returned.
    """
    v = np.asarray(values, dtype=np.float64).reshape(-1)
    if v.size == 0:
        raise UserError("bootstrap_ci: no values given; need at least one per-image value")
    if not np.isfinite(v).all():
        raise UserError("bootstrap_ci: values contain inf/nan (e.g. uncapped PSNR of identical images); "
                        "cap or drop them first")
    if n_boot < 1:
        raise UserError(f"bootstrap_ci: n_boot must be at least 1 (got {n_boot})")
    mean = float(v.mean())
    if v.size == 1:
        return mean, float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    means = np.empty(n_boot)
    chunk = max(1, 4_000_000 // v.size)  # bound the index matrix to ~32 MB
    for i in range(0, n_boot, chunk):
        k = min(chunk, n_boot - i)
        means[i:i + k] = v[rng.integers(0, v.size, size=(k, v.size))].mean(axis=1)
    lo, hi = _percentiles(means, alpha)
    return mean, lo, hi


def bootstrap_set_ci(feats_a: np.ndarray, feats_b: np.ndarray, statistic: Callable[[np.ndarray, np.ndarray], float],
                     n_boot: int = 200, seed: int = 0, alpha: float = 0.05,
                     paired: bool = False) -> tuple[float, float, float]:
    """(value, lo, hi) for a two-set statistic, resampling rows of both sets with replacement.

    ``paired=False`` resamples the two sets independently (two independent samples).
    ``paired=True`` draws one index vector for both (row i of a belongs with row i of b, e.g.
    received image i and its reference), which keeps the pairing of a method's outputs with
    their own references.
    """
    feats_a = np.asarray(feats_a)
    feats_b = np.asarray(feats_b)
    if n_boot < 1:
        raise UserError(f"bootstrap_set_ci: n_boot must be at least 1 (got {n_boot})")
    if paired and len(feats_a) != len(feats_b):
        raise UserError(f"paired bootstrap needs equally many rows in both sets (got {len(feats_a)} and {len(feats_b)})")
    value = float(statistic(feats_a, feats_b))
    rng = np.random.default_rng(seed)
    stats = np.empty(n_boot)
    for i in range(n_boot):
        ia = rng.integers(0, len(feats_a), len(feats_a))
        ib = ia if paired else rng.integers(0, len(feats_b), len(feats_b))
        stats[i] = statistic(feats_a[ia], feats_b[ib])
    lo, hi = _percentiles(stats, alpha)
    return value, lo, hi
