"""The analog channel convention of ``channels.analog`` as differentiable torch operations.

Exactly the numpy view's convention (``channels/analog/__init__.py``, ``channels/base.py``):

* consecutive reals (v0, v1), (v2, v3), ... pair into I/Q symbols v0 + j·v1, an odd tail is
  padded with one 0 (`reals_to_complex`); `complex_to_reals` undoes it, ``n`` drops the padding;
* power normalisation makes the mean |x|² of the complex symbols equal ``power`` (P = 1):
  `power_normalize` over complex symbols, `power_normalize_reals` over paired reals (the same
  scale as ``power_normalize(reals_to_complex(v))``, computed without forming complex numbers);
* SNR is Es/N0 per complex symbol: N0 = 10^(-SNR/10) (`noise_variance`), the noise is
  CN(0, N0), i.e. N0/2 per real component (`awgn`).

Unlike the numpy view, everything works row-wise on batches: the last dimension holds one
transmission (reals or complex symbols), leading dimensions are independent rows, and an SNR
may be a number or a tensor with one value per row. Noise comes from ``torch.randn`` (optionally
on a given ``torch.Generator``), so its draws differ from numpy's ``default_rng``; `awgn` takes
``normals`` to inject given standard-normal draws instead (tests compare the two views that way).
"""
from __future__ import annotations

import torch

from channels.base import POWER

__all__ = ["noise_variance", "power_normalize", "power_normalize_reals", "reals_to_complex", "complex_to_reals",
           "awgn"]


def noise_variance(snr_db):
    """N0 = 10^(-SNR/10) for Es = P = 1 (``channels.base.noise_variance``); numbers or tensors."""
    return 10.0 ** (-snr_db / 10.0)


def _rows(value, like: torch.Tensor) -> torch.Tensor:
    """A number or per-row tensor as a tensor broadcasting over `like`'s last dimension."""
    t = torch.as_tensor(value, dtype=like.real.dtype if like.is_complex() else like.dtype, device=like.device)
    if 0 < t.ndim < like.ndim:
        t = t.reshape(t.shape + (1,) * (like.ndim - t.ndim))
    return t


def power_normalize(x: torch.Tensor, power: float = POWER) -> torch.Tensor:
    """Scale complex symbols (..., k) so that each row has (1/k)·Σ|x|² = power (eq. 4 with equality).

    A row of zeros stays zero (the numpy view returns it unchanged too)."""
    energy = (x.real.pow(2) + x.imag.pow(2)).mean(dim=-1, keepdim=True)
    scale = torch.rsqrt(energy.clamp_min(1e-12))
    return x * (scale if power == 1.0 else scale * power ** 0.5)


def power_normalize_reals(z: torch.Tensor, power: float = POWER) -> torch.Tensor:
    """Scale reals (..., n), read as ceil(n/2) I/Q symbols (odd tail padded with 0), so that each
    row's symbols have mean |x|² = power; the same as pairing, `power_normalize` and unpairing."""
    k = float((z.shape[-1] + 1) // 2)
    energy = z.pow(2).sum(dim=-1, keepdim=True) / k
    scale = torch.rsqrt(energy.clamp_min(1e-12))
    return z * (scale if power == 1.0 else scale * power ** 0.5)


def reals_to_complex(v: torch.Tensor) -> torch.Tensor:
    """Reals (..., n) -> complex (..., ceil(n/2)): v0 + j·v1, v2 + j·v3, ...; pads an odd tail with 0."""
    if v.shape[-1] % 2:
        v = torch.nn.functional.pad(v, (0, 1))
    return torch.complex(v[..., 0::2], v[..., 1::2])


def complex_to_reals(x: torch.Tensor, n: int | None = None) -> torch.Tensor:
    """Inverse of `reals_to_complex`: complex (..., k) -> reals (..., 2k) as I, Q, I, Q, ...; `n` drops padding."""
    out = torch.view_as_real(x).flatten(-2)
    return out if n is None else out[..., :n]


def awgn(z: torch.Tensor, snr_db, generator: torch.Generator | None = None,
         normals: torch.Tensor | None = None) -> torch.Tensor:
    """z + noise, with noise CN(0, N0) per complex symbol, i.e. N0/2 per real component.

    z: paired reals (..., n) or complex symbols (..., k); snr_db: a number or one value per row.
    The noise is sqrt(N0/2) times standard normals of z's real shape (for complex z: (..., k, 2),
    I then Q of each symbol, the same draws as awgn(complex_to_reals(z)) uses), drawn with
    ``torch.randn(..., generator=generator)`` or taken from ``normals``.
    """
    std = torch.sqrt(noise_variance(_rows(snr_db, z)) / 2.0)
    shape = z.shape + (2,) if z.is_complex() else z.shape
    real_dtype = z.real.dtype if z.is_complex() else z.dtype
    if normals is None:
        normals = torch.randn(shape, generator=generator, dtype=real_dtype, device=z.device)
    else:
        normals = normals.to(dtype=real_dtype, device=z.device).reshape(shape)
    if z.is_complex():
        return z + torch.view_as_complex((std.unsqueeze(-1) * normals).contiguous())
    return z + std * normals
