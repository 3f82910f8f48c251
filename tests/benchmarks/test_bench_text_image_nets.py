"""Throughput of the instruction encoder and the DeepSC codec on the CPU (skipped by default; run with
``pytest --benchmark-only -p no:cacheprovider tests/benchmarks/test_bench_text_image_nets.py``)."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def sentences():
    from datasets.instructions import generate

    rng = np.random.default_rng(0)
    return [generate(rng, None, split="heldout").text for _ in range(256)]


@pytest.mark.zoo_component("instruction-encoder")
def test_bench_instruction_encoder_parse_256(benchmark, sentences):
    from methods.nets.instruction_encoder import load_encoder

    enc = load_encoder()
    out = benchmark.pedantic(enc.parse_many, args=(sentences,), rounds=5, iterations=1, warmup_rounds=1)
    benchmark.extra_info["sentences_per_s"] = round(len(sentences) / benchmark.stats.stats.mean, 1)
    assert len(out) == len(sentences)


@pytest.mark.zoo_component("instruction-encoder")
def test_bench_instruction_encoder_encode_1(benchmark):
    from methods.nets.instruction_encoder import load_encoder

    enc = load_encoder()
    e = benchmark(enc.encode, ["make his bangs two levels longer, please"])
    assert e.shape == (1, enc.dim)


@pytest.fixture(scope="module")
def codec():
    from methods.nets.deepsc import load_codec

    return load_codec()


@pytest.mark.zoo_component("deepsc")
@pytest.mark.parametrize("batch", [1, 16])
def test_bench_deepsc_encode(benchmark, codec, batch):
    x = torch.rand(batch, 3, 64, 64)

    def run():
        with torch.no_grad():
            return codec.encode(x, 6.0)

    z = benchmark.pedantic(run, rounds=10, iterations=1, warmup_rounds=2)
    benchmark.extra_info["images_per_s"] = round(batch / benchmark.stats.stats.mean, 1)
    assert z.shape == (batch, 1024)


@pytest.mark.zoo_component("deepsc")
@pytest.mark.parametrize("batch", [1, 16])
def test_bench_deepsc_decode(benchmark, codec, batch):
    z = torch.randn(batch, 1024) * 0.7

    def run():
        with torch.no_grad():
            return codec.decode(z, 6.0)

    y = benchmark.pedantic(run, rounds=10, iterations=1, warmup_rounds=2)
    benchmark.extra_info["images_per_s"] = round(batch / benchmark.stats.stats.mean, 1)
    assert y.shape == (batch, 3, 64, 64)
