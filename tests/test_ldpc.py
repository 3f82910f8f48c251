"""LDPC code + digital link: structure, round trips, BER against uncoded theory, fading with/without CSI."""
import warnings

import numpy as np
import pyldpc
import pytest
from scipy.stats import norm

from channels.analog import AWGN, Rayleigh
from channels.base import Received
from channels.channel_coding.digital_link import DigitalLink
from channels.channel_coding.ldpc import DEFAULT_N, LDPCCode
from channels.channel_coding.qam import qam4_llr, qam4_map


@pytest.fixture(scope="module")
def code():
    return LDPCCode()


def _bits(rng, n):
    return rng.integers(0, 2, n).astype(np.uint8)


def test_code_structure(code):
    assert code.n == DEFAULT_N and code.n % code.d_c == 0
    assert code.rate == code.k / code.n and abs(code.rate - 0.5) < 0.01
    rng = np.random.default_rng(0)
    msg = _bits(rng, 3 * code.k)
    cw = code.encode(msg).reshape(3, code.n).T
    assert cw.dtype == np.uint8
    assert not ((code.H @ cw) % 2).any()  # every codeword satisfies H x = 0
    assert np.array_equal(cw[: code.k].T.ravel(), msg)  # systematic: message = x[:k]
    # construction is cached and deterministic for the same parameters
    assert LDPCCode()._data is code._data
    assert np.array_equal(LDPCCode(n=96, seed=1).H, LDPCCode(n=96, seed=1).H)


def test_noiseless_roundtrip_with_padding(code):
    rng = np.random.default_rng(1)
    for n_bits in (1, code.k - 1, code.k, 2 * code.k + 17):
        msg = _bits(rng, n_bits)
        coded = code.encode(msg)
        assert coded.size == code.coded_length(n_bits)
        llr = 20.0 * (1.0 - 2.0 * coded)
        out, failed = code.decode(llr, n_bits)
        assert failed == 0 and out.dtype == np.uint8 and np.array_equal(out, msg)
    out, failed = code.decode(np.zeros(0), 0)
    assert out.size == 0 and failed == 0


def test_decoder_equals_pyldpc_decode(code):
    """Uncapped, our decoder is pyldpc.decode fed y = LLR/2 at snr = 0 dB (var = 1, Lc = 2y)."""
    rng = np.random.default_rng(2)
    msg = _bits(rng, 6 * code.k)
    rx = AWGN()(qam4_map(code.encode(msg)), 2.5, rng)
    llr = qam4_llr(rx.y, rx.noise_var)
    ours, failed = code.decode(llr, msg.size, clip=None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = pyldpc.decode(code.H, llr.reshape(6, code.n).T / 2.0, 0.0, maxiter=code.maxiter)
    theirs = x[: code.k].T.ravel()
    assert failed == 0 and not ((code.H @ x) % 2).any()
    assert np.array_equal(ours, theirs) and np.array_equal(ours, msg)


@pytest.mark.parametrize("snr_db", [0.0, 3.0, 6.0])
def test_coded_ber_below_uncoded(code, snr_db):
    rng = np.random.default_rng(10 + int(snr_db))
    link = DigitalLink(code)
    msg = _bits(rng, 12 * code.k)
    out, failed = link.from_received(AWGN()(link.to_symbols(msg), snr_db, rng), msg.size)
    coded_ber = np.mean(out != msg)
    uncoded_ber = norm.sf(np.sqrt(10 ** (snr_db / 10)))  # Gray 4-QAM, same Es/N0
    assert coded_ber < uncoded_ber, (coded_ber, uncoded_ber)
    if snr_db >= 3.0:  # Eb/N0 = Es/N0 here (rate 1/2, 2 bits/symbol): above the (3,6) BP threshold ~1.1 dB
        assert coded_ber == 0 and failed == 0


def test_error_free_at_6db_on_1e5_bits(code):
    rng = np.random.default_rng(20)
    link = DigitalLink(code)
    msg = _bits(rng, 100_000)
    out, failed = link.from_received(AWGN()(link.to_symbols(msg), 6.0, rng), msg.size)
    assert failed == 0 and int(np.sum(out != msg)) == 0


def test_fast_rayleigh_csi_beats_no_csi(code):
    rng = np.random.default_rng(30)
    link = DigitalLink(code)
    msg = _bits(rng, 8 * code.k)
    x = link.to_symbols(msg)
    out_csi, failed_csi = link.from_received(Rayleigh("fast", csi="perfect")(x, 6.0, rng), msg.size)
    out_none, failed_none = link.from_received(Rayleigh("fast", csi="none")(x, 6.0, rng), msg.size)
    ber_csi, ber_none = np.mean(out_csi != msg), np.mean(out_none != msg)
    assert ber_csi < ber_none and failed_csi < failed_none
    assert ber_none > 0.3  # unknown phase: the decoder gets nothing useful


def test_high_snr_fading_decodes(code):
    """Confident LLRs (|LLR| ~ 100 at 18 dB) must not weaken BP (pyldpc's saturation is capped)."""
    rng = np.random.default_rng(5)  # without the cap, 2 of these 200 codewords fail
    link = DigitalLink(code)
    msg = _bits(rng, 200 * code.k)
    out, failed = link.from_received(Rayleigh("fast", csi="perfect")(link.to_symbols(msg), 18.0, rng), msg.size)
    assert failed == 0 and np.array_equal(out, msg)


def test_odd_coded_length_and_other_rates():
    rng = np.random.default_rng(40)
    small = LDPCCode(n=15, rate=0.6, d_v=2)  # d_c = 5, odd n -> padded QAM
    link = DigitalLink(small)
    msg = _bits(rng, 3 * small.k + 1)
    x = link.to_symbols(msg)
    assert x.size == link.n_symbols(msg.size) == (small.coded_length(msg.size) + 1) // 2
    out, failed = link.from_received(Received(y=x, noise_var=1e-3), msg.size)
    assert failed == 0 and np.array_equal(out, msg)
    c = LDPCCode(n=100, rate=0.75)  # d_c = 12: n rounded up to a multiple
    assert c.n == 108 and c.d_c == 12


def test_decode_never_raises_on_bad_values(code):
    n = code.coded_length(2 * code.k)
    llr = np.random.default_rng(5).standard_normal(n)
    llr[::7] = np.nan
    llr[::11] = np.inf
    for arr in (llr, llr[: n // 3], np.concatenate([llr, llr]), np.zeros(0)):
        out, failed = code.decode(arr, 2 * code.k)
        assert out.shape == (2 * code.k,) and 0 <= failed <= 2
    y = np.full(code.n // 2, np.nan + 0j)
    out, failed = DigitalLink(code).from_received(Received(y=y, noise_var=np.ones(3)), code.k)
    assert out.shape == (code.k,)


def test_bad_arguments_raise_value_error(code):
    with pytest.raises(ValueError):
        code.encode(np.array([0, 1, 2]))
    with pytest.raises(ValueError):
        code.encode(np.zeros((2, 2), dtype=np.uint8))
    with pytest.raises(ValueError):
        code.encode(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="rate"):
        LDPCCode(rate=1.2)
    with pytest.raises(ValueError, match="non-integral"):
        LDPCCode(rate=1 / 3)
    with pytest.raises(ValueError):
        code.decode(np.zeros(10), -1)
