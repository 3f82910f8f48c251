"""Editable-DeepSC's channel map for the latent and its SNR-aware adapters (journal eq. 4, 16-17).

The semantic method sends one edited latent w (``w_dim`` reals) as ``w_dim / 2`` complex channel
uses. Both ends know the generator, so both know W's per-dimension mean and spread
(:func:`latent_stats`, computed from the mapping network with a fixed seed):

* transmitter: ``s = (w - mean) / std`` -> ``A_CE(s)`` (eq. 16) -> power normalisation so the
  complex symbols have mean |x|^2 = 1 (eq. 4 with equality);
* receiver: ``r = c * Y'`` with ``c`` the typical RMS of a standardised latent per complex symbol
  (the per-vector power normalisation removes the norm, which for standardised latents is nearly
  constant; the decoder adapter learns what is left) -> ``A_CD(r)`` (eq. 17) -> ``w = mean + std * s``.

``norm=sent`` (an option of the method, not the paper's) adds one complex symbol that carries the
standardised latent's norm relative to the typical one (``1 + a`` with ``a`` in [-1, 1] sent as
``(a + ja) / sqrt 2``, so the block's mean power stays <= 1): ``w_dim / 2 + 1`` channel uses, and a
noiseless channel then returns the latent exactly.

The adapters (zoo component ``channel-adapters``, trainer ``methods.training.channel_adapters``)
are small residual fully connected blocks that keep the shape (``x + W2 leaky(W1 x)``, ``W2``
zero-initialised: an untrained adapter is the identity, which is exactly ``adapters=false``).
One pair per SNR; a row at another SNR uses the nearest trained SNR and says so.
"""
from __future__ import annotations

import math

import torch
import torch.nn as nn

from bench.errors import UserError

NAME = "channel-adapters"
DEFAULT_CONFIG = {"w_dim": 128, "hidden": 128, "snrs": [-6.0, 0.0, 6.0, 12.0, 18.0], "generator_sha256": "",
                  "norm": "implicit"}
NORMS = ("implicit", "sent")
STATS_SEED = 20240101
STATS_N = 10000


@torch.no_grad()
def latent_stats(G, n: int = STATS_N, seed: int = STATS_SEED) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(mean (w_dim,), std (w_dim,), c): W's statistics from ``n`` seeded mapping samples, and the RMS
    of a standardised latent per complex symbol (the receiver's rescaling constant)."""
    gen = torch.Generator().manual_seed(seed)
    ws = torch.cat([G.mapping(torch.randn(min(2000, n - i), G.z_dim, generator=gen)).float()
                    for i in range(0, n, 2000)])
    mean, std = ws.mean(0), ws.std(0).clamp_min(1e-6)
    s = (ws - mean) / std
    k = (s.shape[-1] + 1) // 2
    c = float(torch.sqrt(s.pow(2).sum(-1).mean() / k))
    return mean, std, c


class Adapter(nn.Module):
    """Shape-preserving residual FC block: x + W2 LeakyReLU(W1 x); the identity at initialisation."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.fc2 = nn.Linear(hidden, dim)
        nn.init.zeros_(self.fc2.weight)
        nn.init.zeros_(self.fc2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(torch.nn.functional.leaky_relu(self.fc1(x), 0.2))


def snr_key(snr: float) -> str:
    v = float(snr)
    return ("m" if v < 0 else "p") + f"{abs(v):g}".replace(".", "_")


class ChannelAdapters(nn.Module):
    """A_CE / A_CD pairs, one per trained SNR (``snrs``)."""

    def __init__(self, w_dim: int = 128, hidden: int = 128, snrs=(-6, 0, 6, 12, 18), generator_sha256: str = "",
                 norm: str = "implicit"):
        super().__init__()
        if norm not in NORMS:
            raise ValueError(f"channel adapters norm must be one of {NORMS}, got {norm!r}")
        self.norm = norm
        self.w_dim, self.hidden = int(w_dim), int(hidden)
        self.snrs = [float(s) for s in snrs]
        if not self.snrs or len(set(self.snrs)) != len(self.snrs):
            raise ValueError(f"channel adapters need distinct SNRs, got {self.snrs}")
        self.generator_sha256 = str(generator_sha256)
        self.ce = nn.ModuleDict({snr_key(s): Adapter(self.w_dim, self.hidden) for s in self.snrs})
        self.cd = nn.ModuleDict({snr_key(s): Adapter(self.w_dim, self.hidden) for s in self.snrs})

    def nearest(self, snr_db: float) -> float:
        """The trained SNR closest to ``snr_db`` (ties: the lower, the more cautious one)."""
        return min(self.snrs, key=lambda s: (abs(s - float(snr_db)), s))

    def pair(self, snr_db: float) -> tuple[Adapter, Adapter]:
        k = snr_key(self.nearest(snr_db))
        return self.ce[k], self.cd[k]

    def parameters_per_snr(self) -> int:
        ce, cd = self.pair(self.snrs[0])
        return sum(p.numel() for p in ce.parameters()) + sum(p.numel() for p in cd.parameters())


class LatentLink(nn.Module):
    """The differentiable latent <-> channel-symbol map of the module doc (numbers as paired reals)."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor, c: float):
        super().__init__()
        self.register_buffer("mean", mean.detach().float().clone())
        self.register_buffer("std", std.detach().float().clone())
        self.c = float(c)

    @classmethod
    def for_generator(cls, G) -> "LatentLink":
        return cls(*latent_stats(G))

    def encode(self, w: torch.Tensor, ce: nn.Module | None = None, send_norm: bool = False) -> torch.Tensor:
        """(B, w_dim) latents, or (B, L, w_dim) for W+ (one block of L latents; the adapter acts on each),
        -> (B, n) paired reals with mean |x|^2 = 1 per complex symbol (n + 2 with ``send_norm``: the norm
        symbol last, mean power of the whole block <= 1)."""
        from channels.analog.torch_view import power_normalize_reals

        s = (w - self.mean) / self.std
        if ce is not None:
            s = ce(s)
        s = s.reshape(s.shape[0], -1)
        x = power_normalize_reals(s)
        if not send_norm:
            return x
        k = (s.shape[-1] + 1) // 2
        a = (s.norm(dim=-1, keepdim=True) / (self.c * k ** 0.5) - 1.0).clamp(-1.0, 1.0) / 2 ** 0.5
        return torch.cat([x, a, a], dim=-1)

    def decode(self, y: torch.Tensor, cd: nn.Module | None = None, send_norm: bool = False,
               layers: int = 0) -> torch.Tensor:
        """(B, n) received paired reals (n + 2 with ``send_norm``) -> (B, w_dim) latents, or (B, layers,
        w_dim) with ``layers`` > 0 (W+)."""
        if send_norm:
            a = (y[..., -2:-1] + y[..., -1:]) / 2 ** 0.5
            y = y[..., :-2] * (1.0 + a.clamp(-1.0, 1.0)).clamp_min(0.05)
        r = (y * self.c).reshape(y.shape[0], -1, self.mean.shape[-1])
        if cd is not None:
            r = cd(r)
        w = self.mean + self.std * r
        return w if layers else w.reshape(y.shape[0], -1)


def build(config: dict) -> ChannelAdapters:
    return ChannelAdapters(**config)


def load_adapters(path=None, device: str = "cpu") -> ChannelAdapters:
    from methods.zoo import load_model

    return load_model(NAME, path, device=device)


def load_adapters_for(generator_path=None, path=None, device: str = "cpu") -> ChannelAdapters:
    """The adapters (shipped or given), refused unless trained against the generator in use."""
    from methods.nets.latent_encoder import load_pinned

    return load_pinned(NAME, generator_path, path, device, what="channel adapters",
                       hint=" (or run the method with adapters=false)")


def check_snr(snr_db) -> float:
    v = float(snr_db)
    if not math.isfinite(v):
        raise UserError(f"SNR must be a finite number of dB, got {snr_db!r}")
    return v
