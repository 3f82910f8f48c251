"""The ideal-separate bound: JPEG at the rate a capacity-achieving code delivers (checked against
the AWGN capacity formula and the JPEG encoder itself)."""
import math

import numpy as np
import pytest

from bench.errors import UserError
from bench.registry import METHODS, load_builtin
from channels.analog import AWGN
from channels.source_coding import jpeg
from methods.schemes.base import Request
from methods.schemes.ideal_separate import capacity_bits, jpeg_ladder
from synthetic_images import natural_image

load_builtin()


def run(method, img, snr_db, seed=0):
    method.setup(img.shape[0])
    prepared = method.prepare(Request("x", img))
    rng = np.random.default_rng(seed)
    rx = {k: AWGN()(x, snr_db, rng) for k, x in method.transmit(prepared, snr_db).items()}
    return prepared, method.receive(rx, prepared.side_info, snr_db)


def test_capacity_formula():
    assert capacity_bits(1, 0.0) == pytest.approx(1.0)  # log2(1 + 1)
    assert capacity_bits(10, 10 * math.log10(3)) == pytest.approx(20.0)  # log2(1 + 3) = 2 per use
    assert capacity_bits(100, -100.0) == pytest.approx(100 * 1e-10 / math.log(2), rel=1e-3)


def test_ladder_is_every_useful_stream_in_order():
    img = natural_image(64, 3)
    ladder = jpeg_ladder(img)
    bits = [s[0] for s in ladder]
    qualities = [s[1] for s in ladder]
    assert bits == sorted(bits) and qualities == sorted(qualities) and len(set(qualities)) == len(qualities)
    assert qualities[-1] == jpeg.MAX_QUALITY
    # each rung is the smallest stream (full or abbreviated) at its quality
    for b, q, ab, data in ladder[:: max(1, len(ladder) // 8)]:
        sizes = [8 * len(jpeg.encode_full(img, q)), 8 * len(jpeg.encode_abbreviated(img, q))]
        assert b == min(sizes) and 8 * len(data) == b


def test_receiver_gets_the_best_stream_that_capacity_allows():
    img = natural_image(64, 5)
    m = METHODS.create("ideal-separate:uses=400")
    ladder = jpeg_ladder(img)
    for snr in (0.0, 6.0, 12.0, 18.0, 30.0):
        prepared, dec = run(m, img, snr)
        assert prepared.streams["ideal"].size == 400  # the channel uses are spent like anyone else's
        budget = capacity_bits(400, snr)
        fits = [s for s in ladder if s[0] <= budget]
        if not fits:
            assert dec.decode_failures == 1 and dec.info["outcome"] == "below-capacity"
            assert (dec.image == jpeg.placeholder((64, 64))).all()
            continue
        bits, q, ab, data = fits[-1]
        assert dec.decode_failures == 0 and dec.info["jpeg_quality"] == q
        np.testing.assert_array_equal(dec.image, jpeg.decode(data, q, (64, 64), ab))
        assert dec.info["delivered_bpp"] == pytest.approx(bits / 4096, abs=1e-4)
    # quality never falls as the SNR rises
    qs = [run(m, img, s)[1].info.get("jpeg_quality", 0) for s in (6.0, 12.0, 18.0, 30.0)]
    assert qs == sorted(qs) and qs[-1] > qs[0]


def test_budgets():
    hw = (64, 64)
    assert METHODS.create("ideal-separate:cbr=0.0104").budget(hw) == 64  # one 128-real W latent
    assert METHODS.create("ideal-separate:cbr=0.0833").budget(hw) == 512  # DeepSC's 1/12
    assert METHODS.create("ideal-separate").budget(hw) == math.ceil(0.7 * 4096)  # JPEG+LDPC's (rate 1/2, 4-QAM)
    assert METHODS.create("ideal-separate").budget((128, 128)) == math.ceil(0.7 * 128 * 128)
    with pytest.raises(UserError, match="not both"):
        METHODS.create("ideal-separate:uses=10,cbr=0.1")
    with pytest.raises(UserError, match="ideal-separate uses"):
        METHODS.create("ideal-separate:uses=0")
    with pytest.raises(UserError, match="ideal-separate cbr"):
        METHODS.create("ideal-separate:cbr=-1")


def test_the_bound_beats_the_real_separate_scheme_at_its_budget():
    """JPEG+LDPC spends about the same channel uses as ideal-separate:uses=auto; with a perfect code
    the same budget never does worse, and below the LDPC cliff it still delivers."""
    img = natural_image(64, 7)
    real = METHODS.create("jpeg-ldpc")
    ideal = METHODS.create("ideal-separate")
    for snr in (0.0, 12.0):
        _, a = run(real, img, snr)
        _, b = run(ideal, img, snr)
        err = lambda d: float(np.mean((d.image.astype(float) - img.astype(float)) ** 2))  # noqa: E731
        assert err(b) <= err(a) + 1e-9, snr
    assert run(real, img, 0.0)[1].decode_failures >= 1 and run(ideal, img, 0.0)[1].decode_failures == 0
