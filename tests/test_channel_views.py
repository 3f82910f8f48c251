"""The numpy (channels/analog/__init__.py) and torch (channels/analog/torch_view.py) views of the analog
channel convention against each other: I/Q pairing, power normalisation, N0 and AWGN."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from channels import analog as npv  # noqa: E402
from channels.analog import torch_view as tv  # noqa: E402
from channels.base import noise_variance  # noqa: E402

SNRS = [-6.0, 0.0, 7.5, 18.0]


def _t(a):
    return torch.from_numpy(np.ascontiguousarray(a))


# ----------------------------------------------------------------------------- pairing

@pytest.mark.parametrize("n", [1, 2, 7, 8, 1023, 1024])
def test_pairing_and_unpairing_equal(n):
    rng = np.random.default_rng(n)
    v = rng.standard_normal((3, n))
    x = tv.reals_to_complex(_t(v))
    assert x.shape == (3, (n + 1) // 2) and x.dtype == torch.complex128
    for r in range(3):
        ref = npv.reals_to_complex(v[r])  # odd tail padded with 0
        np.testing.assert_array_equal(x[r].numpy(), ref)
        np.testing.assert_array_equal(tv.complex_to_reals(x[r]).numpy(), npv.complex_to_reals(ref))
        np.testing.assert_array_equal(tv.complex_to_reals(x[r], n).numpy(), npv.complex_to_reals(ref, n))
    np.testing.assert_array_equal(tv.complex_to_reals(x, n).numpy(), v)  # round trip drops the padding
    assert tv.reals_to_complex(_t(v).float()).dtype == torch.complex64


# ----------------------------------------------------------------------------- power normalisation

@pytest.mark.parametrize("power", [1.0, 2.0])
def test_power_normalize_complex_equal(power):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((4, 301)) + 1j * rng.standard_normal((4, 301))) * np.array([[0.01], [1], [3], [100]])
    out = tv.power_normalize(_t(x), power).numpy()
    for r in range(4):
        np.testing.assert_allclose(out[r], npv.power_normalize(x[r], power), rtol=1e-12, atol=0)
        assert np.mean(np.abs(out[r]) ** 2) == pytest.approx(power, rel=1e-12)


@pytest.mark.parametrize("n", [1, 7, 1024])
@pytest.mark.parametrize("power", [1.0, 0.5])
def test_power_normalize_reals_equal(n, power):
    rng = np.random.default_rng(n)
    v = rng.standard_normal((4, n)) * np.array([[0.1], [1], [10], [1000]])
    out = tv.power_normalize_reals(_t(v), power).numpy()
    for r in range(4):
        ref = npv.complex_to_reals(npv.power_normalize(npv.reals_to_complex(v[r]), power), n)
        np.testing.assert_allclose(out[r], ref, rtol=1e-12, atol=0)


def test_power_normalize_float32_and_zero_rows():
    z = torch.randn(5, 1024) * torch.tensor([0.1, 1, 3, 10, 100])[:, None]
    p = tv.power_normalize_reals(z)
    for row in p:
        x = npv.reals_to_complex(row.numpy())
        assert x.size == 512 and np.mean(np.abs(x) ** 2) == pytest.approx(1.0, abs=1e-5)
    assert torch.equal(tv.power_normalize_reals(torch.zeros(2, 6)), torch.zeros(2, 6))
    zero = torch.zeros(2, 3, dtype=torch.complex64)
    assert torch.equal(tv.power_normalize(zero), zero)
    np.testing.assert_array_equal(npv.power_normalize(np.zeros(3)), np.zeros(3))


# ----------------------------------------------------------------------------- noise

@pytest.mark.parametrize("snr", SNRS)
def test_noise_variance_equal(snr):
    assert float(tv.noise_variance(torch.tensor(snr, dtype=torch.float64))) == pytest.approx(noise_variance(snr),
                                                                                              rel=1e-14)
    assert tv.noise_variance(snr) == pytest.approx(noise_variance(snr), rel=1e-14)


@pytest.mark.parametrize("snr", SNRS)
def test_awgn_with_the_same_standard_normals_equal(snr):
    """numpy draws the I parts, then the Q parts; the torch view reads its normals as I, Q, I, Q, ...
    Fed the same standard-normal numbers, both give the same received symbols."""
    k = 257
    rng = np.random.default_rng(3)
    x = npv.power_normalize(rng.standard_normal(k) + 1j * rng.standard_normal(k))
    y_np = npv.AWGN()(x, snr, np.random.default_rng(11)).y
    draws = np.random.default_rng(11)
    i_part, q_part = draws.standard_normal(k), draws.standard_normal(k)
    normals = _t(np.stack([i_part, q_part], axis=1).ravel())  # interleaved I, Q
    y_reals = tv.awgn(tv.complex_to_reals(_t(x)), snr, normals=normals)
    np.testing.assert_allclose(tv.reals_to_complex(y_reals).numpy(), y_np, rtol=0, atol=1e-12)
    y_complex = tv.awgn(_t(x), snr, normals=normals)
    np.testing.assert_allclose(y_complex.numpy(), y_np, rtol=0, atol=1e-12)


def test_awgn_per_row_snr_equal_to_numpy_rows():
    k = 64
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, k)) + 1j * rng.standard_normal((3, k))
    snr = np.array([-6.0, 3.0, 20.0])
    normals = rng.standard_normal((3, k, 2))
    out = tv.awgn(_t(x), _t(snr), normals=_t(normals)).numpy()
    out_reals = tv.awgn(tv.complex_to_reals(_t(x)), _t(snr), normals=_t(normals.reshape(3, 2 * k))).numpy()
    for r in range(3):
        ref = x[r] + np.sqrt(noise_variance(snr[r]) / 2.0) * (normals[r, :, 0] + 1j * normals[r, :, 1])
        np.testing.assert_allclose(out[r], ref, rtol=0, atol=1e-12)
        np.testing.assert_allclose(npv.reals_to_complex(out_reals[r]), ref, rtol=0, atol=1e-12)


def test_awgn_complex_and_reals_draw_the_same_noise():
    x = torch.randn(2, 100, dtype=torch.complex64)
    a = tv.awgn(x, 5.0, torch.Generator().manual_seed(7))
    b = tv.reals_to_complex(tv.awgn(tv.complex_to_reals(x), 5.0, torch.Generator().manual_seed(7)))
    assert torch.equal(a, b)


# Statistical tolerance: the sample variance of N independent N(0, s^2) values has standard error
# s^2 * sqrt(2 / N); with N = 400,000 reals per check that is 0.22 % of s^2, and the checks allow 5
# standard errors (1.1 %). The sample correlation of independent I and Q has standard error
# 1 / sqrt(N / 2); the checks allow 5 of them.
N_REALS = 400_000
REL_TOL = 5 * np.sqrt(2 / N_REALS)
CORR_TOL = 5 / np.sqrt(N_REALS / 2)


@pytest.mark.parametrize("snr", SNRS)
def test_torch_awgn_noise_is_n0_over_2_per_real(snr):
    n0 = noise_variance(snr)
    z = torch.zeros(1, N_REALS, dtype=torch.float64)
    noise = tv.awgn(z, snr, torch.Generator().manual_seed(int(snr * 10) + 100))[0].numpy()
    assert np.var(noise) == pytest.approx(n0 / 2, rel=REL_TOL)
    i_part, q_part = noise[0::2], noise[1::2]
    assert np.var(i_part) == pytest.approx(n0 / 2, rel=REL_TOL * np.sqrt(2))  # half the samples each
    assert np.var(q_part) == pytest.approx(n0 / 2, rel=REL_TOL * np.sqrt(2))
    assert abs(np.corrcoef(i_part, q_part)[0, 1]) < CORR_TOL
    assert abs(np.mean(noise)) < 5 * np.sqrt(n0 / 2 / N_REALS)


@pytest.mark.parametrize("snr", SNRS)
def test_numpy_awgn_noise_is_n0_over_2_per_real(snr):
    n0 = noise_variance(snr)
    k = N_REALS // 2
    noise = npv.AWGN()(np.zeros(k, complex), snr, np.random.default_rng(int(snr * 10) + 200)).y
    reals = npv.complex_to_reals(noise)
    assert np.var(reals) == pytest.approx(n0 / 2, rel=REL_TOL)
    assert np.var(noise.real) == pytest.approx(n0 / 2, rel=REL_TOL * np.sqrt(2))
    assert np.var(noise.imag) == pytest.approx(n0 / 2, rel=REL_TOL * np.sqrt(2))
    assert abs(np.corrcoef(noise.real, noise.imag)[0, 1]) < CORR_TOL


def test_torch_awgn_per_row_snr_variance():
    z = torch.zeros(2, N_REALS, dtype=torch.float64)
    out = tv.awgn(z, torch.tensor([0.0, 20.0], dtype=torch.float64), torch.Generator().manual_seed(0))
    per_real = out.pow(2).mean(1).numpy()
    assert per_real == pytest.approx([0.5, 0.005], rel=REL_TOL)


@pytest.mark.parametrize("snr", [-6.0, 0.0, 12.0, 18.0])
def test_torch_and_numpy_awgn_give_the_same_empirical_snr(snr):
    k = N_REALS // 2  # complex symbols
    rng = np.random.default_rng(1)
    x = npv.power_normalize(rng.standard_normal(k) + 1j * rng.standard_normal(k))
    ref = npv.AWGN()(x, snr, np.random.default_rng(2)).y - x
    z = tv.complex_to_reals(_t(x))[None]
    noise = tv.reals_to_complex(tv.awgn(z, snr, torch.Generator().manual_seed(3)) - z)[0].numpy()
    emp_torch = 10 * np.log10(1.0 / np.mean(np.abs(noise) ** 2))
    emp_numpy = 10 * np.log10(1.0 / np.mean(np.abs(ref) ** 2))
    tol_db = 10 * np.log10(1 + REL_TOL)  # the variance tolerance in dB
    assert abs(emp_torch - snr) < tol_db and abs(emp_numpy - snr) < tol_db
