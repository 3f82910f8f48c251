"""Latent encoder: image -> the generator's W latent (the ``init='encoder'`` start of GAN inversion).

Zoo component ``stylegan2-encoder`` (``bench train stylegan2-encoder``, trainer in
``methods.training.latent_encoder``). A small CNN (the face nets' residual backbone) predicts an
offset from the generator's mean latent: ``w = w_avg + head(features(x))``. It is trained against
one generator and is only meaningful for it: the card and the checkpoint's config record that
generator's SHA-256 (``generator_sha256``), and :func:`load_encoder_for` refuses an encoder whose
generator is not the one in use. pSp / e4e (Richardson et al. 2021, Tov et al. 2021) show that an
encoder start makes optimisation-based inversion both faster and better; here it is a start
point, the optimisation of paper eq. (8)-(9) still follows (``r_inv`` keeps its meaning).

Use::

    from methods.nets.latent_encoder import load_encoder_for
    E = load_encoder_for(generator_path)     # refuses a mismatched generator
    w = E.encode(uint8_images)               # (N, w_dim), no grad
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn as nn

from bench.errors import UserError
from methods.nets.face_nets import Backbone, fit_size, to_tensor

NAME = "stylegan2-encoder"
DEFAULT_CONFIG = {"widths": [32, 48, 96, 160, 256], "w_dim": 128, "input_size": 64, "hidden": 512,
                  "generator_sha256": ""}


class LatentEncoder(nn.Module):
    """Images (N, 3, H, W) in [-1, 1] -> W latents (N, w_dim)."""

    def __init__(self, widths=DEFAULT_CONFIG["widths"], w_dim: int = 128, input_size: int = 64, hidden: int = 512,
                 generator_sha256: str = ""):
        super().__init__()
        self.input_size, self.w_dim = int(input_size), int(w_dim)
        self.generator_sha256 = str(generator_sha256)
        self.backbone = Backbone(widths)
        c = self.backbone.out_channels
        side = self.input_size // 16
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c * side * side, hidden), nn.LeakyReLU(0.2),
                                  nn.Linear(hidden, self.w_dim))
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)
        self.register_buffer("w_avg", torch.zeros(self.w_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.w_avg + self.head(self.backbone(fit_size(x, self.input_size)))

    @torch.no_grad()
    def encode(self, images, batch: int = 128) -> torch.Tensor:
        """uint8 (N, H, W, 3) / float NCHW in [-1, 1] -> (N, w_dim) latents (no grad)."""
        x = to_tensor(images, self.w_avg.device)
        was = self.training
        self.eval()
        out = torch.cat([self(x[i:i + batch]) for i in range(0, len(x), batch)])
        self.train(was)
        return out


def build(config: dict) -> LatentEncoder:
    return LatentEncoder(**config)


def load_encoder(path=None, device: str = "cpu") -> LatentEncoder:
    from methods.zoo import load_model

    return load_model(NAME, path, device=device)


def generator_digest(path=None) -> str:
    """SHA-256 of a generator checkpoint file (default: the shipped stylegan2)."""
    from bench.provenance import file_digest
    from methods.zoo import weights_path

    return file_digest(Path(path) if path else weights_path("stylegan2"))


def load_pinned(name: str, generator_path=None, path=None, device: str = "cpu", *, what: str, hint: str = ""):
    """Zoo component `name` (shipped or at `path`) whose config names the generator file it was trained
    against (``generator_sha256``); refused unless that is the generator in use (shipped or given)."""
    from methods.zoo import load_model, weights_path

    f = Path(path) if path else weights_path(name)
    if not f.exists():
        raise UserError(f"no {what} at {f}: train them for this generator with 'bench train {name}'{hint}")
    model = load_model(name, f, device=device)
    want = generator_digest(generator_path)
    if model.generator_sha256 != want:
        raise UserError(f"the {what} {f} were trained against generator {model.generator_sha256[:12] or '?'}, "
                        f"not the one in use ({want[:12]}); retrain with 'bench train {name}'{hint}")
    return model


def load_encoder_for(generator_path=None, encoder_path=None, device: str = "cpu") -> LatentEncoder:
    """The encoder (shipped or given) checked against the generator file it will start inversions for."""
    return load_pinned(NAME, generator_path, encoder_path, device, what="latent encoder weights",
                       hint=" (or invert with init=mean)")


def check_images(images) -> np.ndarray:
    arr = np.asarray(images)
    if arr.ndim != 4 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
        raise UserError(f"encoder images must be uint8 (N, H, W, 3), got {arr.dtype} {arr.shape}")
    return arr
