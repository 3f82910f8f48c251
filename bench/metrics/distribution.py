"""Set-level distances between two image sets: Fréchet distance (FD) and kernel distance (KD).

Features come from :func:`bench.metrics.features.feature_space`: clean-fid's Inception when its
weights are present locally (names ``FID``/``KID``), else ImageNet VGG16 pooled relu5_3 features
(names ``FD-VGG16``/``KD-VGG16`` - not comparable with published FID). The distances themselves
are clean-fid's ``frechet_distance`` (on the features' mean and covariance; an exact low-rank
form when a set has fewer images than feature dimensions, see :func:`frechet_distance`) and
``kernel_distance`` (unbiased MMD^2 with the cubic polynomial kernel, averaged over random
subsets of at most 1000 images). clean-fid draws those subsets from numpy's global RNG; we seed
it for the call and restore it afterwards, so results are reproducible. When both sets have the
same size <= max_subset_size every subset is the whole set, so one subset suffices.

Both need at least 2 images per set (a covariance / unbiased estimate needs 2), but values from
a few images are dominated by estimator noise. FD is biased upward at small n (the mean term
alone adds tr(cov_a)/n_a + tr(cov_b)/n_b), so only compare FDs computed from equal n; report n
with every value. KD is unbiased: its expectation is 0 for two independent samples of one
distribution, and it can be negative. Note that a set compared with *itself* is not two
independent samples: KD(X, X) = -(2/m)(mean k(x_i, x_i) - mean k(x_i, x_j)) = O(1/m) < 0,
while FD(X, X) = 0.
"""
from __future__ import annotations

import contextlib
import warnings

import numpy as np
from scipy.linalg import LinAlgWarning

from bench.errors import UserError
from bench.metrics.bootstrap import bootstrap_set_ci

MIN_IMAGES = 2


def _check_counts(n_a: int, n_b: int, name: str) -> None:
    if min(n_a, n_b) < MIN_IMAGES:
        raise UserError(f"{name} needs at least {MIN_IMAGES} images in each set (got {n_a} and {n_b}); "
                        "set-level distances are only meaningful with hundreds of images or more")


def _as_feats(f, what: str) -> np.ndarray:
    f = np.asarray(f, dtype=np.float64)
    if f.ndim != 2:
        raise UserError(f"{what}: expected a (N, D) feature matrix, got shape {f.shape}")
    return f


def _check_pair(feats_a, feats_b, name: str) -> tuple[np.ndarray, np.ndarray]:
    fa, fb = _as_feats(feats_a, name), _as_feats(feats_b, name)
    _check_counts(len(fa), len(fb), name)
    if fa.shape[1] != fb.shape[1]:
        raise UserError(f"{name}: feature dimensions differ ({fa.shape[1]} vs {fb.shape[1]})")
    return fa, fb


@contextlib.contextmanager
def _seeded_global_numpy(seed: int):
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def frechet_distance_cleanfid(feats_a, feats_b, name: str = "FD") -> float:
    """clean-fid's ``frechet_distance`` on the two sets' means and covariances (>= 0)."""
    import bench.torchvision_compat  # noqa: F401
    from cleanfid.fid import frechet_distance as cf_frechet

    fa, fb = _check_pair(feats_a, feats_b, name)
    with warnings.catch_warnings(), contextlib.redirect_stdout(None):
        warnings.simplefilter("ignore", DeprecationWarning)  # scipy's sqrtm(disp=...) notice
        warnings.simplefilter("ignore", LinAlgWarning)  # singular product with n <= d: clean-fid retries
        value = cf_frechet(fa.mean(0), np.cov(fa, rowvar=False), fb.mean(0), np.cov(fb, rowvar=False))
    return max(0.0, float(value))


def frechet_distance(feats_a, feats_b, name: str = "FD") -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (>= 0).

    With more images than feature dimensions in both sets this is clean-fid's
    ``frechet_distance``. With fewer (the usual case for small benchmark sets: rank-deficient
    covariances) clean-fid's ``scipy.linalg.sqrtm`` of a singular product is slow (seconds) and
    falls back to adding 1e-6 to the diagonals, so the exact low-rank form
    :func:`frechet_distance_fast` is used instead; the two agree to ~1e-7 relative (tested).
    """
    fa, fb = _check_pair(feats_a, feats_b, name)
    if min(len(fa), len(fb)) > fa.shape[1]:
        return frechet_distance_cleanfid(fa, fb, name)
    return frechet_distance_fast(fa, fb, name)


def frechet_distance_fast(feats_a, feats_b, name: str = "FD") -> float:
    """Same value as :func:`frechet_distance`, computed exactly without a d x d matrix sqrt.

    tr sqrt(S_a S_b) equals the nuclear norm of A B^T (A, B the centred features scaled by
    1/sqrt(n-1)), an n_a x n_b matrix; when both sets exceed the feature dimension the
    equivalent d x d form ||S_a^1/2 S_b^1/2||_* is used. Used for bootstrap resamples.
    """
    fa, fb = _check_pair(feats_a, feats_b, name)
    a = (fa - fa.mean(0)) / np.sqrt(len(fa) - 1)
    b = (fb - fb.mean(0)) / np.sqrt(len(fb) - 1)
    diff = fa.mean(0) - fb.mean(0)
    if min(len(fa), len(fb)) <= fa.shape[1]:
        m = a @ b.T
    else:
        def psd_sqrt(s):
            w, v = np.linalg.eigh(s)
            return (v * np.sqrt(np.clip(w, 0, None))) @ v.T
        m = psd_sqrt(a.T @ a) @ psd_sqrt(b.T @ b)
    tr_covmean = np.linalg.svd(m, compute_uv=False).sum()
    value = diff @ diff + np.sum(a * a) + np.sum(b * b) - 2.0 * tr_covmean
    return max(0.0, float(value))


def kernel_distance(feats_a, feats_b, num_subsets: int = 100, max_subset_size: int = 1000, seed: int = 0,
                    name: str = "KD") -> float:
    """clean-fid's KID estimator (unbiased MMD^2, cubic polynomial kernel), reproducibly seeded."""
    import bench.torchvision_compat  # noqa: F401
    from cleanfid.fid import kernel_distance as cf_kernel

    fa, fb = _check_pair(feats_a, feats_b, name)
    if len(fa) == len(fb) <= max_subset_size:
        num_subsets = 1  # every subset would be the full set, reordered: same value
    with _seeded_global_numpy(seed):
        return float(cf_kernel(fa, fb, num_subsets=num_subsets, max_subset_size=max_subset_size))


def distances_from_features(feats_a, feats_b, fd_name: str = "FD", kd_name: str = "KD", n_boot: int = 0,
                            seed: int = 0, paired: bool = False) -> dict[str, tuple[float, float, float] | float]:
    """{fd_name: FD, kd_name: KD}; with n_boot > 0 each value is (value, lo, hi) (95% percentile CI,
    resampling images with replacement; ``paired=True`` resamples row i of both sets together)."""
    fa, fb = _as_feats(feats_a, fd_name), _as_feats(feats_b, fd_name)
    _check_counts(len(fa), len(fb), fd_name)
    fd = frechet_distance(fa, fb, fd_name)
    kd = kernel_distance(fa, fb, seed=seed, name=kd_name)
    if n_boot <= 0:
        return {fd_name: fd, kd_name: kd}
    _, fd_lo, fd_hi = bootstrap_set_ci(fa, fb, frechet_distance_fast, n_boot=n_boot, seed=seed,
                                     paired=paired)
    kd_stat = lambda x, y: kernel_distance(x, y, num_subsets=10, seed=seed, name=kd_name)  # noqa: E731
    _, kd_lo, kd_hi = bootstrap_set_ci(fa, fb, kd_stat, n_boot=n_boot, seed=seed + 1, paired=paired)
    return {fd_name: (fd, fd_lo, fd_hi), kd_name: (kd, kd_lo, kd_hi)}


def distribution_distance(images_a, images_b, backend: str = "auto", device: str | None = None,
                          batch_size: int = 32, size: int | None = None, n_boot: int = 0, seed: int = 0,
                          paired: bool = False) -> dict:
    """FD and KD between two sets of uint8 images ((N, H, W, 3) arrays or lists of (H, W, 3)).

    Returns ``{"FID": .., "KID": ..}`` (clean-fid Inception present) or ``{"FD-VGG16": ..,
    "KD-VGG16": ..}``; with ``n_boot > 0`` each value is a (value, lo, hi) tuple (``paired=True``:
    image i of both sets is resampled together, e.g. received image i and its reference).
    """
    from bench.metrics.checks import as_image_batch
    from bench.metrics.features import feature_space

    a = as_image_batch(images_a, "first image set")
    b = as_image_batch(images_b, "second image set")
    space = feature_space(backend, device, batch_size, size)
    _check_counts(len(a), len(b), space.fd_name)
    return distances_from_features(space.features(a), space.features(b), space.fd_name, space.kd_name,
                                   n_boot=n_boot, seed=seed, paired=paired)


def folder_distribution_distance(folder_a: str, folder_b: str, backend: str = "auto", device: str | None = None,
                                 batch_size: int = 32, size: int | None = None, n_boot: int = 0,
                                 seed: int = 0) -> dict:
    """As :func:`distribution_distance` for two folders of image files (read by clean-fid)."""
    from bench.metrics.features import feature_space

    space = feature_space(backend, device, batch_size, size)
    fa = space.folder_features(folder_a)
    fb = space.folder_features(folder_b)
    return distances_from_features(fa, fb, space.fd_name, space.kd_name, n_boot=n_boot, seed=seed)
