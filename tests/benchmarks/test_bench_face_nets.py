"""CPU throughput of the attribute predictor, the attribute judge and the identity embedder (skipped by default; run
``pytest --benchmark-only -p no:cacheprovider tests/benchmarks/test_bench_face_nets.py``).

One thread; each round runs one batch of 64 px uint8 images end to end (to tensor, resize
no-op, forward); images/s = batch / mean time. Uses the shipped checkpoints when present
(the architecture, not the weights, sets the speed).
"""
import numpy as np
import pytest
import torch

from methods.nets import attribute_judge as aj
from methods.nets import attribute_predictor as ap
from methods.nets import identity_embedder as ie
from methods.zoo import weights_path


pytestmark = pytest.mark.usefixtures("one_thread")


def _model(mod, name):
    if weights_path(name).exists():
        return {ap: ap.load_predictor, aj: aj.load_judge, ie: ie.load_embedder}[mod]()
    return mod.build(dict(mod.DEFAULT_CONFIG)).eval()


def _images(n, size=64):
    return np.random.default_rng(0).integers(0, 256, (n, size, size, 3), dtype=np.uint8)


@pytest.mark.zoo_component("attribute-predictor")
@pytest.mark.parametrize("batch", [1, 64])
def test_bench_attribute_predictor(benchmark, batch):
    model = _model(ap, ap.NAME)
    imgs = _images(batch)
    out = benchmark(model.predict, imgs)
    assert out.shape == (batch, 5)
    benchmark.extra_info["images_per_s"] = batch / benchmark.stats.stats.mean


@pytest.mark.zoo_component("attribute-judge")
@pytest.mark.parametrize("batch", [1, 64])
def test_bench_attribute_judge(benchmark, batch):
    model = _model(aj, aj.NAME)
    imgs = _images(batch)
    out = benchmark(model.predict, imgs)
    assert out.shape == (batch, 5)
    benchmark.extra_info["images_per_s"] = batch / benchmark.stats.stats.mean


@pytest.mark.zoo_component("identity-embedder")
@pytest.mark.parametrize("batch", [1, 64])
def test_bench_identity_embedder(benchmark, batch):
    model = _model(ie, ie.NAME)
    imgs = _images(batch)
    out = benchmark(model.embed, imgs)
    assert out.shape == (batch, 128)
    benchmark.extra_info["images_per_s"] = batch / benchmark.stats.stats.mean


@pytest.mark.zoo_component("attribute-predictor")
def test_bench_expected_degrees_backward_64(benchmark):
    """Editing-loss use: expected degrees of 64 images and the gradient back to the pixels."""
    model = _model(ap, ap.NAME)
    x0 = torch.rand(64, 3, 64, 64) * 2 - 1

    def run():
        x = x0.clone().requires_grad_(True)
        model.expected_degrees(x).sum().backward()
        return x.grad

    g = benchmark(run)
    assert g.shape == x0.shape
    benchmark.extra_info["images_per_s"] = 64 / benchmark.stats.stats.mean
