"""Analog channel chain: power normalisation, real<->complex pairing, AWGN and Rayleigh fading.

Conventions (see channels/base.py): Es = P = 1 per complex symbol, SNR = Es/N0, complex
noise CN(0, N0) i.e. N0/2 per real component. Rayleigh coefficients h ~ CN(0, 1), so the
average received SNR equals the nominal one.
"""
from __future__ import annotations

import numpy as np

from bench.errors import UserError
from bench.options import int_option
from channels.base import POWER, Channel, Received, noise_variance


def power_normalize(x: np.ndarray, power: float = POWER) -> np.ndarray:
    """Scale complex symbols so that (1/k)·Σ|x|² = power (eq. 4 met with equality)."""
    x = np.asarray(x)
    energy = np.mean(np.abs(x) ** 2)
    if energy == 0:
        return x.astype(np.complex128)
    return x * np.sqrt(power / energy)


def reals_to_complex(v: np.ndarray) -> np.ndarray:
    """Pair consecutive reals (v0, v1), (v2, v3), ... into I/Q symbols v0 + j·v1; pads an odd tail with 0."""
    v = np.asarray(v, dtype=np.float64).ravel()
    if v.size % 2:
        v = np.concatenate([v, [0.0]])
    return v[0::2] + 1j * v[1::2]


def complex_to_reals(x: np.ndarray, n: int | None = None) -> np.ndarray:
    """Inverse of `reals_to_complex`; `n` drops the padding."""
    x = np.asarray(x).ravel()
    out = np.empty(2 * x.size, dtype=np.float64)
    out[0::2] = x.real
    out[1::2] = x.imag
    return out if n is None else out[:n]


def complex_noise(shape, n0: float, rng: np.random.Generator) -> np.ndarray:
    return np.sqrt(n0 / 2.0) * (rng.standard_normal(shape) + 1j * rng.standard_normal(shape))


class AWGN(Channel):
    """Additive white Gaussian noise, y = x + n."""

    def __init__(self) -> None:
        self.spec = "awgn"

    def __call__(self, x, snr_db, rng):
        n0 = noise_variance(snr_db)
        x = np.asarray(x, dtype=np.complex128)
        return Received(y=x + complex_noise(x.shape, n0, rng), noise_var=n0, h=None, csi=True)


class Rayleigh(Channel):
    """Rayleigh fading y = h·x + n, h ~ CN(0, 1).

    fading="fast": a new h per symbol; fading="block": one h per `block` symbols
    (block=0: one h for the whole transmission). csi="perfect": the receiver knows h and
    gets the zero-forcing equalised y/h with noise variance N0/|h|²; csi="none": it gets the
    raw y and only knows N0.
    """

    def __init__(self, fading: str = "fast", block: int = 0, csi: str = "perfect") -> None:
        if fading not in ("fast", "block"):
            raise UserError(f"rayleigh fading='{fading}' is not known: use fading=fast or fading=block")
        if csi not in ("perfect", "none"):
            raise UserError(f"rayleigh csi='{csi}' is not known: use csi=perfect or csi=none")
        block = int_option(block, "rayleigh block", 0, note=" (symbols per fading block; 0 = one coefficient per "
                                                          "transmission)")
        self.fading, self.block, self.csi = fading, block, csi
        opts = [f"fading={fading}"] + ([f"block={self.block}"] if fading == "block" else []) + [f"csi={csi}"]
        self.spec = "rayleigh:" + ",".join(opts)

    def coefficients(self, k: int, rng: np.random.Generator) -> np.ndarray:
        if self.fading == "fast":
            return complex_noise(k, 1.0, rng)
        # A block longer than the transmission is one coefficient for it all, as block=0 (same draws);
        # clamping keeps np.repeat from allocating block (not k) symbols.
        span = max(1, min(self.block or k, k))
        n_blocks = -(-k // span)
        return np.repeat(complex_noise(n_blocks, 1.0, rng), span)[:k]

    def __call__(self, x, snr_db, rng):
        x = np.asarray(x, dtype=np.complex128)
        n0 = noise_variance(snr_db)
        h = self.coefficients(x.size, rng).reshape(x.shape)
        y = h * x + complex_noise(x.shape, n0, rng)
        if self.csi == "none":
            return Received(y=y, noise_var=n0, h=None, csi=False)
        gain = np.maximum(np.abs(h) ** 2, 1e-300)
        return Received(y=y / h, noise_var=n0 / gain, h=h, csi=True)
