"""Timings of the digital chain (skipped by default; run with
``pytest --benchmark-only -p no:cacheprovider tests/benchmarks/test_bench_digital.py``)."""
import numpy as np
import pytest

from channels.source_coding import jpeg
from channels.analog import AWGN
from channels.channel_coding.digital_link import DigitalLink
from channels.channel_coding.ldpc import LDPCCode
from channels.channel_coding.qam import qam4_llr, qam4_map
from synthetic_images import natural_image


def test_bench_qam4_map_demap_1e6_bits(benchmark):
    bits = np.random.default_rng(0).integers(0, 2, 1_000_000).astype(np.uint8)

    def run():
        x = qam4_map(bits)
        return qam4_llr(x, 0.5)

    llr = benchmark(run)
    assert llr.size == bits.size


@pytest.mark.parametrize("snr_db", [-6.0, 6.0])
def test_bench_ldpc_128px_jpeg(benchmark, snr_db):
    payload = jpeg.encode_to_bpp(natural_image(128), 0.7)
    bits = np.unpackbits(np.frombuffer(payload.data, dtype=np.uint8))
    link = DigitalLink(LDPCCode())
    channel = AWGN()

    def run():
        rng = np.random.default_rng(0)
        return link.from_received(channel(link.to_symbols(bits), snr_db, rng), bits.size)

    out, failed = benchmark.pedantic(run, rounds=3, iterations=1, warmup_rounds=1)
    benchmark.extra_info.update(n_bits=int(bits.size), codewords=link.code.n_codewords(bits.size), failed=failed)
    if snr_db > 0:
        assert failed == 0 and np.array_equal(out, bits)


@pytest.mark.parametrize("size", [128, 1024])
def test_bench_jpeg_target_bpp_search(benchmark, size):
    img = natural_image(size)
    target = jpeg.default_target_bpp(size)
    p = benchmark.pedantic(jpeg.encode_to_bpp, args=(img, target), rounds=5 if size > 128 else 20, iterations=1)
    benchmark.extra_info.update(quality=p.quality, bpp=p.bpp, abbreviated=p.abbreviated)
    assert p.bpp <= target
