"""Small stand-ins shared by the editing tests: a tiny seeded StyleGAN2, a predictor stuck at one
degree, and a parsed request without the instruction encoder."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import torch

ATTRIBUTE_NAMES = ["Bangs", "Eyeglasses", "Beard", "Smiling", "Young"]


def tiny_generator(config: dict):
    """A 32-px generator of `config`, seeded, with w_avg set to its mean latent."""
    from methods.nets.stylegan2 import Generator

    torch.manual_seed(0)
    G = Generator(config).eval()
    G.w_avg.copy_(G.mean_latent(256)[0])
    return G


class StuckP:
    """Reads degree 2 for every attribute of every image."""

    def predict(self, x):
        return np.full((len(x), 5), 2, np.int64)


def parsed(understood=True, attribute=3, direction=1, delta=1, mode="definite", target=None):
    """What the parser would return for a request (attribute 3 = Smiling by default)."""
    return SimpleNamespace(understood=understood, attribute=attribute if understood else None,
                           attribute_name=ATTRIBUTE_NAMES[attribute] if understood else None, direction=direction,
                           delta=delta, mode=mode, target=target, reason=None if understood else "chit-chat")
