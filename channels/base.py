"""The channel contract.

A channel takes complex baseband symbols x (one per complex channel use) whose average
power (1/k)·Σ|x|² is at most P = 1, and returns what the receiver sees. SNR is Es/N0 per
complex symbol with Es = P = 1, so the complex noise n ~ CN(0, N0) has variance
N0 = 10^(-SNR/10), i.e. N0/2 per real component.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

POWER = 1.0


def noise_variance(snr_db: float) -> float:
    """Complex noise variance N0 = E|n|^2 for Es = POWER at the given Es/N0 in dB."""
    return POWER / 10.0 ** (snr_db / 10.0)


@dataclass
class Received:
    """What the receiver gets.

    y:          received symbols; equalised (y/h) when `csi` is True.
    noise_var:  per-symbol complex noise variance of `y` (scalar or array): N0, or N0/|h|^2
                after equalisation. Soft demappers use it for exact LLRs.
    h:          the channel coefficients the receiver knows (None without CSI or on AWGN).
    csi:        whether the receiver knows h.
    """

    y: np.ndarray
    noise_var: np.ndarray | float
    h: np.ndarray | None = None
    csi: bool = True


class Channel(ABC):
    spec: str = ""

    @abstractmethod
    def __call__(self, x: np.ndarray, snr_db: float, rng: np.random.Generator) -> Received:
        """Pass complex symbols `x` through the channel at `snr_db` (Es/N0, dB)."""
