"""Throughput of the learned metrics on CPU (skipped by default; run with --benchmark-only).

Each round processes a batch of BATCH images; images/s = BATCH / mean time.
"""
import numpy as np
import pytest

from bench.metrics.features import feature_space
from bench.metrics.perceptual import lpips_distance, lpips_model

BATCH = 16


def _images(size, seed):
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    base = np.stack([xx, yy, (xx + yy) / 2], -1)[None] * 200
    return np.clip(base + rng.normal(0, 20, (BATCH, size, size, 3)), 0, 255).astype(np.uint8)


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("size", [64, 128])
def test_lpips_alex_throughput(benchmark, size):
    a, b = _images(size, 0), _images(size, 1)
    lpips_model("alex", "cpu")  # build outside the timing
    out = benchmark.pedantic(lpips_distance, args=(a, b), kwargs={"net": "alex", "device": "cpu"},
                             rounds=5, warmup_rounds=1)
    benchmark.extra_info["images_per_s"] = BATCH / benchmark.stats.stats.mean
    assert out.shape == (BATCH,)


@pytest.mark.parametrize("size", [64, 128])
def test_fd_vgg16_feature_throughput(benchmark, size):
    a = _images(size, 2)
    space = feature_space("vgg16", device="cpu", batch_size=BATCH)
    out = benchmark.pedantic(space.features, args=(a,), rounds=3, warmup_rounds=1)
    benchmark.extra_info["images_per_s"] = BATCH / benchmark.stats.stats.mean
    assert out.shape == (BATCH, 512)
