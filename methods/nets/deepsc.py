"""DeepSC image codec: an SNR-conditioned deep joint source-channel autoencoder (zoo component ``deepsc``).

The paper's single-modal baseline "DeepSC" (Sec. V-A; lr 1e-3, CBR 0.0833 = 1/12 in Table I)
is realised here as a Deep-JSCC-style convolutional autoencoder trained end to end through a
differentiable AWGN channel:

* **Encoder** (64x64x3 -> 1024 reals = 512 complex symbols, ``cbr_paper`` = 1/12):
  pixel-unshuffle, strided 3x3 convolutions with PReLU and residual blocks (no batch norm),
  down to 128x8x8 features (the *SNR-independent trunk*), then an SNR attention module
  (ADJSCC-style: channel gains from pooled features + SNR) and a 3x3 conv to 16x8x8 reals
  (the *SNR-dependent head*), then power normalisation so (1/k)·Σ|x|² = 1 per image.
* **Channel**: ``channels.analog.torch_view``, the torch view of the ``channels.analog`` convention:
  consecutive reals pair into I/Q symbols, complex noise CN(0, N0) with N0 = 10^(-SNR/10), i.e.
  N0/2 per real.
* **Decoder**: 3x3 conv, SNR attention, residual blocks, two 4x4 stride-2 transposed convs,
  a 3x3 conv and pixel-shuffle to 64x64x3, sigmoid output.

SNR handling: ONE model for all SNRs. The SNR (dB, clamped to [-10, 25]) feeds the attention
modules of the encoder head and the decoder; training draws it per image uniformly from
[-8, 20] dB. A method using this codec therefore runs the trunk once per image (SNR-independent)
and the head once per SNR.

Training (``bench train deepsc``, ``methods/training/deepsc.py``): SynthFaces 64 px train images (first 30,000, with random
horizontal flips), MSE loss, Adam lr 1e-3 (the paper's), batch 16 (the paper uses 4; 16 gives
better CPU throughput), cosine decay to 1e-4 over the last 40% of the steps, seeded and resumable
(every step's batch and SNRs come from a generator seeded by (seed, step)). The card records the
test-split PSNR at -6, 0, 6, 12, 18 dB measured on the exported (fp16-rounded) weights.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from channels.analog.torch_view import awgn, power_normalize_reals

NAME = "deepsc"
SIZE = 64
SNR_TRAIN = (-8.0, 20.0)  # the SNR range (dB) the shipped codec was trained over
SNR_CLAMP = (-10.0, 25.0)
EVAL_SNRS = (-6.0, 0.0, 6.0, 12.0, 18.0)

DEFAULT_CONFIG = {"size": SIZE, "c1": 64, "c2": 96, "c3": 128, "latent": 16, "snr_hidden": 32}


# ----------------------------------------------------------------------------- network

class Res(nn.Module):
    """Residual block: x + conv(PReLU(conv(x))), then PReLU (no batch norm)."""

    def __init__(self, c: int):
        super().__init__()
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.act1 = nn.PReLU(c)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)
        self.act2 = nn.PReLU(c)

    def forward(self, x):
        return self.act2(x + self.conv2(self.act1(self.conv1(x))))


class SNRAttention(nn.Module):
    """Channel-wise gains from [pooled features, SNR] (ADJSCC's attention-feature module)."""

    def __init__(self, c: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(c + 1, hidden)
        self.fc2 = nn.Linear(hidden, c)

    def forward(self, x, snr):
        s = (snr.clamp(*SNR_CLAMP) - 6.0) / 8.0
        h = torch.cat([x.mean(dim=(2, 3)), s[:, None].to(x.dtype)], dim=1)
        g = torch.sigmoid(self.fc2(torch.relu(self.fc1(h))))
        return x * g[:, :, None, None]


class DeepSCNet(nn.Module):
    """The SNR-conditioned JSCC autoencoder for a full config (see DEFAULT_CONFIG and `build`)."""

    def __init__(self, config: dict):
        super().__init__()
        cfg = dict(config)
        size, c1, c2, c3, lat, hid = (int(cfg[k]) for k in ("size", "c1", "c2", "c3", "latent", "snr_hidden"))
        self.config = cfg
        self.n_reals = lat * (size // 8) ** 2
        self.trunk = nn.Sequential(
            nn.PixelUnshuffle(2), nn.Conv2d(12, c1, 3, padding=1), nn.PReLU(c1),
            nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.PReLU(c2), Res(c2),
            nn.Conv2d(c2, c3, 3, stride=2, padding=1), nn.PReLU(c3), Res(c3))
        self.enc_att = SNRAttention(c3, hid)
        self.enc_out = nn.Conv2d(c3, lat, 3, padding=1)
        self.dec_in = nn.Sequential(nn.Conv2d(lat, c3, 3, padding=1), nn.PReLU(c3))
        self.dec_att1 = SNRAttention(c3, hid)
        self.dec_mid = nn.Sequential(Res(c3), nn.ConvTranspose2d(c3, c2, 4, stride=2, padding=1), nn.PReLU(c2))
        self.dec_att2 = SNRAttention(c2, hid)
        self.dec_out = nn.Sequential(
            Res(c2), nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), nn.PReLU(c1),
            nn.Conv2d(c1, 12, 3, padding=1), nn.PixelShuffle(2))
        self.lat, self.size = lat, size

    @staticmethod
    def _snr(snr, batch, like):
        t = torch.as_tensor(snr, dtype=like.dtype, device=like.device)
        return t.expand(batch) if t.ndim == 0 else t

    # --- transmitter
    def features(self, img):
        """SNR-independent trunk: img (B, 3, S, S) in [0, 1] -> (B, c3, S/8, S/8)."""
        return self.trunk(img - 0.5)

    def head(self, feats, snr):
        """SNR-dependent head: features -> power-normalised reals (B, n_reals)."""
        snr = self._snr(snr, feats.shape[0], feats)
        z = self.enc_out(self.enc_att(feats, snr)).flatten(1)
        return power_normalize_reals(z)

    def encode(self, img, snr):
        return self.head(self.features(img), snr)

    # --- receiver
    def decode(self, z, snr):
        """Noisy reals (B, n_reals) -> image (B, 3, S, S) in [0, 1]."""
        snr = self._snr(snr, z.shape[0], z)
        # fully convolutional: the grid side follows the number of reals (size/8 at any size)
        s8 = int(round((z.shape[1] / self.lat) ** 0.5))
        if self.lat * s8 * s8 != z.shape[1]:
            raise ValueError(f"{z.shape[1]} reals are not a square grid of {self.lat}-channel latents")
        h = self.dec_in(z.reshape(z.shape[0], self.lat, s8, s8))
        h = self.dec_mid(self.dec_att1(h, snr))
        h = self.dec_out(self.dec_att2(h, snr))
        return torch.sigmoid(h)

    def forward(self, img, snr, generator=None):
        """Encoder, AWGN (``channels.analog.torch_view.awgn``) and decoder: the training path."""
        return self.decode(awgn(self.encode(img, snr), snr, generator), snr)


def build(config: dict) -> DeepSCNet:
    """A fresh DeepSCNet for `config` (DEFAULT_CONFIG updated with it)."""
    cfg = dict(DEFAULT_CONFIG)
    unknown = set(config) - set(cfg)
    if unknown:
        raise KeyError(f"unknown deepsc config keys {sorted(unknown)}")
    cfg.update(config)
    size = int(cfg["size"])
    if size % 8 or size <= 0:
        raise ValueError(f"deepsc size must be a positive multiple of 8, got {size}")
    return DeepSCNet(cfg)


# ----------------------------------------------------------------------------- helpers

def to_tensor(images: np.ndarray):
    """uint8 (B, H, W, 3) or (H, W, 3) -> float (B, 3, H, W) in [0, 1]."""
    a = np.asarray(images)
    if a.ndim == 3:
        a = a[None]
    return torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2))).float().div_(255.0)


def to_uint8(t) -> np.ndarray:
    """float (B, 3, H, W) in [0, 1] -> uint8 (B, H, W, 3)."""
    a = t.detach().clamp(0, 1).mul(255.0).round().to(dtype=torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    return np.ascontiguousarray(a)


def psnr_uint8(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-image PSNR (dB) of uint8 batches (B, H, W, 3)."""
    d = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    mse = d.reshape(d.shape[0], -1).mean(axis=1)
    return 10.0 * np.log10(255.0 ** 2 / np.maximum(mse, 1e-10))


def evaluate(model, images: np.ndarray, snrs=EVAL_SNRS, seed: int = 1234, batch: int = 64) -> dict[float, float]:
    """Mean per-image PSNR of uint8 reconstructions through the torch AWGN channel, per SNR."""
    out = {}
    model.eval()
    with torch.no_grad():
        for snr in snrs:
            g = torch.Generator().manual_seed(seed + int(round(snr * 10)) + 1000)
            vals = []
            for i in range(0, len(images), batch):
                x = to_tensor(images[i:i + batch])
                y = model(x, float(snr), generator=g)
                vals.append(psnr_uint8(to_uint8(y), images[i:i + batch]))
            out[float(snr)] = float(np.mean(np.concatenate(vals)))
    return out


def load_codec(path=None, device: str = "cpu"):
    """The shipped (or given) deepsc checkpoint as an eval-mode DeepSCNet (UserError if unusable)."""
    from methods.zoo import load_model

    return load_model(NAME, path=path, expect={"size": SIZE}, device=device)
