"""Gray-mapped 4-QAM (QPSK) with exact soft demapping.

Mapping (unit average symbol energy, Es = 1): a bit pair (b0, b1) becomes
    x = ((1 - 2·b0) + j·(1 - 2·b1)) / √2,
so bit 0 -> +1/√2 and bit 1 -> -1/√2, the first bit on I, the second on Q.

With complex noise CN(0, N0) (N0/2 per real component) the I and Q components are
independent, so the exact bit LLR  log P(b=0|y)/P(b=1|y)  (equal priors) reduces to
    LLR_I = 2·√2·Re(y) / N0,   LLR_Q = 2·√2·Im(y) / N0
(the two-Gaussian-mixture log-ratio: the other component's terms cancel). N0 may be a
scalar or one value per symbol (e.g. N0/|h|² after zero-forcing equalisation).
"""
from __future__ import annotations

import numpy as np

AMPLITUDE = 1.0 / np.sqrt(2.0)


def _as_bits(bits) -> np.ndarray:
    b = np.asarray(bits)
    if b.ndim != 1:
        b = b.ravel()
    if b.size and not np.issubdtype(b.dtype, np.integer) and b.dtype != np.bool_:
        raise ValueError(f"bits must be an integer or bool array of 0/1, got dtype {b.dtype}")
    if b.size and (b.min() < 0 or b.max() > 1):
        raise ValueError("bits must contain only 0 and 1")
    return b.astype(np.uint8, copy=False)


def qam4_map(bits) -> np.ndarray:
    """Map an even number of bits to Gray 4-QAM symbols (complex128, Es = 1)."""
    b = _as_bits(bits)
    if b.size % 2:
        raise ValueError(f"qam4_map needs an even number of bits, got {b.size}")
    levels = AMPLITUDE * (1.0 - 2.0 * b.astype(np.float64))
    return levels[0::2] + 1j * levels[1::2]


def _noise_var(noise_var, n: int) -> np.ndarray:
    nv = np.asarray(noise_var, dtype=np.float64)
    if nv.ndim == 0:
        nv = np.full(n, float(nv))
    else:
        nv = nv.ravel()
        if nv.size != n:
            raise ValueError(f"noise_var has {nv.size} values for {n} symbols (give a scalar or one per symbol)")
    return nv


def qam4_llr(y, noise_var) -> np.ndarray:
    """Exact per-bit LLRs log P(b=0|y)/P(b=1|y), interleaved (I, Q) per symbol; length 2·len(y).

    Non-finite inputs (NaN symbols, zero/NaN/inf variances) give finite LLRs: a zero or
    non-finite variance is treated as "no information" (LLR 0) rather than raising.
    """
    y = np.asarray(y).ravel().astype(np.complex128, copy=False)
    nv = _noise_var(noise_var, y.size)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        scale = 2.0 * np.sqrt(2.0) / nv
        llr = np.empty(2 * y.size, dtype=np.float64)
        llr[0::2] = scale * y.real
        llr[1::2] = scale * y.imag
    bad = ~np.isfinite(llr)
    if bad.any():
        # +-inf from a vanishing variance keeps its sign (a certain bit); NaN carries nothing
        llr[bad] = np.where(np.isnan(llr[bad]), 0.0, np.sign(llr[bad]) * 1e3)
    return llr


def qam4_hard(y) -> np.ndarray:
    """Hard decisions (minimum distance), uint8 bits, interleaved (I, Q) per symbol."""
    y = np.asarray(y).ravel().astype(np.complex128, copy=False)
    bits = np.empty(2 * y.size, dtype=np.uint8)
    bits[0::2] = y.real < 0
    bits[1::2] = y.imag < 0
    return bits
