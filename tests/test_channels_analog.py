"""Analog channel chain checked against its definitions: SNR = Es/N0 per complex symbol."""
import numpy as np
import pytest

from bench.errors import UserError
from channels.analog import AWGN, Rayleigh, complex_to_reals, power_normalize, reals_to_complex
from channels.base import noise_variance

N = 1_000_000


def empirical_snr_db(x, y_minus_signal):
    return 10 * np.log10(np.mean(np.abs(x) ** 2) / np.mean(np.abs(y_minus_signal) ** 2))


@pytest.mark.parametrize("snr", [-6.0, 0.0, 6.0, 12.0, 18.0])
def test_awgn_empirical_snr_within_0_05_db(snr):
    rng = np.random.default_rng(1)
    x = power_normalize(rng.standard_normal(N) + 1j * rng.standard_normal(N))
    rx = AWGN()(x, snr, np.random.default_rng(2))
    assert abs(empirical_snr_db(x, rx.y - x) - snr) < 0.05
    # noise split evenly between I and Q: N0/2 each
    n = rx.y - x
    n0 = noise_variance(snr)
    assert np.var(n.real) == pytest.approx(n0 / 2, rel=0.01)
    assert np.var(n.imag) == pytest.approx(n0 / 2, rel=0.01)
    assert rx.noise_var == pytest.approx(n0)


def test_awgn_snr_holds_for_unit_power_real_pairs():
    # The classic 3 dB mistake: reals paired into complex symbols must be normalised per complex symbol.
    rng = np.random.default_rng(3)
    reals = rng.standard_normal(2 * N)
    x = power_normalize(reals_to_complex(reals))
    assert np.mean(np.abs(x) ** 2) == pytest.approx(1.0)
    rx = AWGN()(x, 6.0, np.random.default_rng(4))
    assert abs(empirical_snr_db(x, rx.y - x) - 6.0) < 0.05


@pytest.mark.parametrize("fading", ["fast", "block"])
def test_rayleigh_average_snr_and_equalisation(fading):
    rng = np.random.default_rng(5)
    x = power_normalize(rng.standard_normal(N) + 1j * rng.standard_normal(N))
    ch = Rayleigh(fading=fading, block=16)
    rx = ch(x, 6.0, np.random.default_rng(6))
    h = rx.h
    assert np.mean(np.abs(h) ** 2) == pytest.approx(1.0, abs=0.01)  # E|h|^2 = 1
    raw_noise = (rx.y - x) * h  # undo the equaliser: y_raw - h x
    assert abs(empirical_snr_db(h * x, raw_noise) - 6.0) < 0.05
    # equalised noise variance is N0/|h|^2 per symbol
    assert np.allclose(rx.noise_var, noise_variance(6.0) / np.abs(h) ** 2)
    if fading == "block":
        assert np.all(h.reshape(-1, 16) == h.reshape(-1, 16)[:, :1])


def test_rayleigh_fast_amplitude_is_rayleigh_distributed():
    h = Rayleigh().coefficients(200_000, np.random.default_rng(7))
    # |h|^2 ~ Exp(1): P(|h|^2 > 1) = e^-1
    assert np.mean(np.abs(h) ** 2 > 1.0) == pytest.approx(np.exp(-1), abs=0.005)


def test_rayleigh_without_csi_returns_raw_output():
    x = np.ones(1000, dtype=complex)
    rx = Rayleigh(csi="none")(x, 30.0, np.random.default_rng(8))
    assert rx.h is None and not rx.csi
    assert np.std(np.abs(rx.y)) > 0.3  # fading magnitudes vary, nothing equalised


def test_block_zero_means_one_coefficient():
    h = Rayleigh(fading="block", block=0).coefficients(100, np.random.default_rng(0))
    assert np.unique(h).size == 1


def test_real_complex_round_trip_and_power():
    v = np.arange(7, dtype=float)
    x = reals_to_complex(v)
    assert x.size == 4 and x[0] == 0 + 1j
    assert np.array_equal(complex_to_reals(x, 7), v)
    assert np.mean(np.abs(power_normalize(x * 5)) ** 2) == pytest.approx(1.0)


def test_bad_rayleigh_options():
    with pytest.raises(UserError, match="fading"):
        Rayleigh(fading="slow")
    with pytest.raises(UserError, match="csi"):
        Rayleigh(csi="maybe")
