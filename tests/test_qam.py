"""Gray 4-QAM: mapping, hard decisions, exact LLRs and uncoded BER against theory."""
import numpy as np
import pytest
from scipy.special import logsumexp
from scipy.stats import norm

from channels.analog import AWGN, Rayleigh
from channels.base import noise_variance
from channels.channel_coding.qam import qam4_hard, qam4_llr, qam4_map

ALL_PAIRS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.int64)
CONSTELLATION = qam4_map(ALL_PAIRS.ravel())


def test_constellation_is_gray_unit_energy():
    assert np.mean(np.abs(CONSTELLATION) ** 2) == pytest.approx(1.0)
    # bit 0 -> positive component; first bit on I, second on Q
    for (b0, b1), s in zip(ALL_PAIRS, CONSTELLATION):
        assert np.sign(s.real) == (1 - 2 * b0) and np.sign(s.imag) == (1 - 2 * b1)
        assert abs(abs(s.real) - 2 ** -0.5) < 1e-15 and abs(abs(s.imag) - 2 ** -0.5) < 1e-15
    # Gray: nearest neighbours (distance sqrt 2) differ in exactly one bit
    for i in range(4):
        for j in range(i + 1, 4):
            if abs(abs(CONSTELLATION[i] - CONSTELLATION[j]) - np.sqrt(2)) < 1e-12:
                assert np.sum(ALL_PAIRS[i] != ALL_PAIRS[j]) == 1


def test_map_hard_roundtrip_and_bad_input():
    bits = np.random.default_rng(0).integers(0, 2, 1000).astype(np.uint8)
    assert np.array_equal(qam4_hard(qam4_map(bits)), bits)
    with pytest.raises(ValueError, match="even"):
        qam4_map(bits[:999])
    with pytest.raises(ValueError):
        qam4_map(np.array([0, 2]))
    with pytest.raises(ValueError):
        qam4_map(np.array([0.0, 1.0]))


@pytest.mark.parametrize("snr_db", [0.0, 3.0, 6.0, 9.0])
def test_uncoded_ber_matches_q_function(snr_db):
    rng = np.random.default_rng(int(snr_db * 10) + 1)
    n_bits = 1_000_000
    bits = rng.integers(0, 2, n_bits).astype(np.uint8)
    rx = AWGN()(qam4_map(bits), snr_db, rng)
    errors = int(np.sum(qam4_hard(rx.y) != bits))
    p = norm.sf(np.sqrt(10 ** (snr_db / 10)))  # Q(sqrt(Es/N0)) per bit for Gray 4-QAM
    sigma = np.sqrt(n_bits * p * (1 - p))
    assert abs(errors - n_bits * p) < 5 * sigma, (errors, n_bits * p, sigma)


def test_llr_sign_agrees_with_hard_decisions():
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, 20000).astype(np.uint8)
    rx = AWGN()(qam4_map(bits), 2.0, rng)
    llr = qam4_llr(rx.y, rx.noise_var)
    assert llr.shape == (bits.size,) and llr.dtype == np.float64
    assert np.array_equal((llr < 0).astype(np.uint8), qam4_hard(rx.y))


def _brute_force_llr(y, n0):
    """log P(b=0|y)/P(b=1|y) from the four-point Gaussian likelihoods, equal priors."""
    metric = -np.abs(y[:, None] - CONSTELLATION[None, :]) ** 2 / n0[:, None]  # (k, 4)
    out = np.empty(2 * y.size)
    for bit in range(2):
        zero = ALL_PAIRS[:, bit] == 0
        out[bit::2] = logsumexp(metric[:, zero], axis=1) - logsumexp(metric[:, ~zero], axis=1)
    return out


def test_llr_matches_brute_force_with_per_symbol_variance():
    rng = np.random.default_rng(2)
    k = 5000
    y = 1.5 * (rng.standard_normal(k) + 1j * rng.standard_normal(k))
    n0 = 10 ** rng.uniform(-1.5, 1.0, k)
    np.testing.assert_allclose(qam4_llr(y, n0), _brute_force_llr(y, n0), rtol=1e-9, atol=1e-9)
    # a scalar variance is the same as a constant array
    np.testing.assert_allclose(qam4_llr(y, 0.3), qam4_llr(y, np.full(k, 0.3)))


def test_llr_uses_equalised_rayleigh_variance():
    rng = np.random.default_rng(3)
    bits = rng.integers(0, 2, 2000).astype(np.uint8)
    rx = Rayleigh("fast", csi="perfect")(qam4_map(bits), 5.0, rng)
    n0 = np.broadcast_to(rx.noise_var, rx.y.shape)
    np.testing.assert_allclose(qam4_llr(rx.y, rx.noise_var), _brute_force_llr(rx.y, n0), rtol=1e-9, atol=1e-9)
    assert np.allclose(rx.noise_var * np.abs(rx.h) ** 2, noise_variance(5.0))


def test_llr_never_raises_on_degenerate_values():
    y = np.array([1 + 1j, np.nan + 0j, 1e300 - 1e300j, 0j])
    llr = qam4_llr(y, np.array([0.0, 1.0, 1e-300, np.inf]))
    assert np.all(np.isfinite(llr))
    with pytest.raises(ValueError, match="noise_var"):
        qam4_llr(y, np.ones(3))
