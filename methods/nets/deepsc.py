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

Training (``bench train deepsc``): SynthFaces 64 px train images (first 30,000, with random
horizontal flips), MSE loss, Adam lr 1e-3 (the paper's), batch 16 (the paper uses 4; 16 gives
better CPU throughput), cosine decay to 1e-4 over the last 40% of the steps, seeded and resumable
(every step's batch and SNRs come from a generator seeded by (seed, step)). The card records the
test-split PSNR at -6, 0, 6, 12, 18 dB measured on the exported (fp16-rounded) weights.
"""
from __future__ import annotations

import math
import time

import numpy as np

from channels.analog.torch_view import awgn, power_normalize_reals
from methods.zoo import Component, register_component

NAME = "deepsc"
SIZE = 64
SNR_TRAIN = (-8.0, 20.0)
SNR_CLAMP = (-10.0, 25.0)
EVAL_SNRS = (-6.0, 0.0, 6.0, 12.0, 18.0)

DEFAULT_CONFIG = {"size": SIZE, "c1": 64, "c2": 96, "c3": 128, "latent": 16, "snr_hidden": 32}
DEFAULT_STEPS = 4500
BATCH = 16
LR = 1e-3
LR_END = 1e-4
DECAY_FROM = 0.6  # fraction of the steps after which the lr decays (cosine) to LR_END
TRAIN_IMAGES = 30000
EVAL_IMAGES = 256


def _torch():
    import torch

    return torch


# ----------------------------------------------------------------------------- network

def build(config: dict):
    """A fresh DeepSCNet for `config` (see DEFAULT_CONFIG)."""
    torch = _torch()
    nn = torch.nn

    cfg = dict(DEFAULT_CONFIG)
    unknown = set(config) - set(cfg)
    if unknown:
        raise KeyError(f"unknown deepsc config keys {sorted(unknown)}")
    cfg.update(config)
    size, c1, c2, c3, lat, hid = (int(cfg[k]) for k in ("size", "c1", "c2", "c3", "latent", "snr_hidden"))
    if size % 8 or size <= 0:
        raise ValueError(f"deepsc size must be a positive multiple of 8, got {size}")

    class Res(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv1 = nn.Conv2d(c, c, 3, padding=1)
            self.act1 = nn.PReLU(c)
            self.conv2 = nn.Conv2d(c, c, 3, padding=1)
            self.act2 = nn.PReLU(c)

        def forward(self, x):
            return self.act2(x + self.conv2(self.act1(self.conv1(x))))

    class SNRAttention(nn.Module):
        """Channel-wise gains from [pooled features, SNR] (ADJSCC's attention-feature module)."""

        def __init__(self, c):
            super().__init__()
            self.fc1 = nn.Linear(c + 1, hid)
            self.fc2 = nn.Linear(hid, c)

        def forward(self, x, snr):
            s = (snr.clamp(*SNR_CLAMP) - 6.0) / 8.0
            h = torch.cat([x.mean(dim=(2, 3)), s[:, None].to(x.dtype)], dim=1)
            g = torch.sigmoid(self.fc2(torch.relu(self.fc1(h))))
            return x * g[:, :, None, None]

    class DeepSCNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.config = cfg
            self.n_reals = lat * (size // 8) ** 2
            self.trunk = nn.Sequential(
                nn.PixelUnshuffle(2), nn.Conv2d(12, c1, 3, padding=1), nn.PReLU(c1),
                nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.PReLU(c2), Res(c2),
                nn.Conv2d(c2, c3, 3, stride=2, padding=1), nn.PReLU(c3), Res(c3))
            self.enc_att = SNRAttention(c3)
            self.enc_out = nn.Conv2d(c3, lat, 3, padding=1)
            self.dec_in = nn.Sequential(nn.Conv2d(lat, c3, 3, padding=1), nn.PReLU(c3))
            self.dec_att1 = SNRAttention(c3)
            self.dec_mid = nn.Sequential(Res(c3), nn.ConvTranspose2d(c3, c2, 4, stride=2, padding=1), nn.PReLU(c2))
            self.dec_att2 = SNRAttention(c2)
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
            s8 = self.size // 8
            h = self.dec_in(z.reshape(z.shape[0], self.lat, s8, s8))
            h = self.dec_mid(self.dec_att1(h, snr))
            h = self.dec_out(self.dec_att2(h, snr))
            return torch.sigmoid(h)

        def forward(self, img, snr, generator=None):
            return self.decode(awgn(self.encode(img, snr), snr, generator), snr)

    return DeepSCNet()


# ----------------------------------------------------------------------------- helpers

def to_tensor(images: np.ndarray):
    """uint8 (B, H, W, 3) or (H, W, 3) -> float (B, 3, H, W) in [0, 1]."""
    torch = _torch()
    a = np.asarray(images)
    if a.ndim == 3:
        a = a[None]
    return torch.from_numpy(np.ascontiguousarray(a.transpose(0, 3, 1, 2))).float().div_(255.0)


def to_uint8(t) -> np.ndarray:
    """float (B, 3, H, W) in [0, 1] -> uint8 (B, H, W, 3)."""
    a = t.detach().clamp(0, 1).mul(255.0).round().to(dtype=_torch().uint8).permute(0, 2, 3, 1).cpu().numpy()
    return np.ascontiguousarray(a)


def psnr_uint8(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-image PSNR (dB) of uint8 batches (B, H, W, 3)."""
    d = (a.astype(np.float64) - b.astype(np.float64)) ** 2
    mse = d.reshape(d.shape[0], -1).mean(axis=1)
    return 10.0 * np.log10(255.0 ** 2 / np.maximum(mse, 1e-10))


def evaluate(model, images: np.ndarray, snrs=EVAL_SNRS, seed: int = 1234, batch: int = 64) -> dict[float, float]:
    """Mean per-image PSNR of uint8 reconstructions through the torch AWGN channel, per SNR."""
    torch = _torch()
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


def _lr(step: int, steps: int) -> float:
    start = int(DECAY_FROM * steps)
    if step < start:
        return LR
    frac = (step - start) / max(1, steps - start)
    return LR_END + 0.5 * (LR - LR_END) * (1.0 + math.cos(math.pi * frac))


# ----------------------------------------------------------------------------- training

def train(ctx) -> None:
    import torch

    from datasets.synthfaces.cache import build_split_cache, load_split_cache

    torch.set_num_threads(1)
    torch.manual_seed(ctx.seed)
    quick = ctx.quick
    config = dict(DEFAULT_CONFIG)
    if quick:
        config.update(c1=16, c2=16, c3=16, snr_hidden=8)
    steps = int(ctx.steps or (6 if quick else DEFAULT_STEPS))
    batch = 4 if quick else BATCH
    n_train = 32 if quick else TRAIN_IMAGES
    n_eval = 8 if quick else EVAL_IMAGES

    train_imgs = load_split_cache(build_split_cache("train", n_train, SIZE))["images"]
    test_path = build_split_cache("test", 8 if quick else 3000, SIZE)  # 3000: shares the common test cache
    test_imgs = load_split_cache(test_path)["images"][:n_eval]
    train_t = torch.from_numpy(train_imgs)  # uint8 (N, H, W, 3)

    model = build(config)
    opt = torch.optim.Adam(model.parameters(), lr=LR)
    step = 0
    state = ctx.load_state()
    # Resume when the architecture matches and the saved step is still in the constant-lr phase of
    # the requested schedule (the lr at step t depends on (t, steps) and every batch on (seed, t), so
    # such a resume reproduces an uninterrupted run with the new step count exactly).
    same_schedule = state is not None and (int(state.get("steps", -1)) == steps
                                           or int(state.get("step", 1 << 30)) <= int(DECAY_FROM * steps))
    if state is not None and state.get("config") == config and same_schedule:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        step = int(state["step"])
        ctx.prior_wall_s = float(state.get("wall_s", 0.0))
        ctx.log(event="resume", step=step)
    elif state is not None:
        ctx.log(event="resume_ignored", reason="saved state is for another config/step count")
    ctx.log(event="start", steps=steps, batch=batch, train_images=int(len(train_imgs)),
            params=int(sum(p.numel() for p in model.parameters())), reals_per_image=model.n_reals)

    def save():
        ctx.save_state({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "steps": steps,
                        "config": config, "wall_s": ctx.wall_s()})

    model.train()
    t_log, loss_acc, n_acc = time.time(), 0.0, 0
    while step < steps:
        g = torch.Generator().manual_seed(ctx.seed * 1_000_003 + step)
        idx = torch.randint(0, len(train_t), (batch,), generator=g)
        x = train_t[idx].permute(0, 3, 1, 2).float().div_(255.0)
        flip = torch.rand(batch, generator=g) < 0.5
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
        snr = SNR_TRAIN[0] + (SNR_TRAIN[1] - SNR_TRAIN[0]) * torch.rand(batch, generator=g)
        for group in opt.param_groups:
            group["lr"] = _lr(step, steps)
        y = model(x, snr, generator=g)
        loss = torch.nn.functional.mse_loss(y, x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        loss_acc += loss.item()
        n_acc += 1
        if step % 100 == 0 or step == steps:
            mse = loss_acc / n_acc
            ctx.log(step=step, loss=round(mse, 6), train_psnr=round(10 * math.log10(1 / max(mse, 1e-10)), 2),
                    lr=round(_lr(step - 1, steps), 6), img_per_s=round(n_acc * batch / (time.time() - t_log), 1),
                    wall_s=round(ctx.wall_s(), 1))
            t_log, loss_acc, n_acc = time.time(), 0.0, 0
        if step % 250 == 0 or step == steps:
            save()

    # evaluate the weights as shipped (fp16-rounded)
    export_state = {k: v.detach().half() if v.is_floating_point() else v.detach() for k, v in model.state_dict().items()}
    ev = build(config)
    ev.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in export_state.items()})
    psnr = evaluate(ev, test_imgs)
    quality = {f"psnr_test_{int(s):+d}dB": round(v, 3) for s, v in psnr.items()}
    quality.update({"eval_images": int(len(test_imgs)), "eval_split": "synthfaces test (first images), 64 px",
                    "cbr_paper": model.n_reals / (SIZE * SIZE * 3), "complex_symbols": model.n_reals // 2,
                    "snr_train_db": list(SNR_TRAIN)})
    ctx.log(event="eval", **{k: v for k, v in quality.items() if k.startswith("psnr")})
    path = ctx.export(config, model.state_dict(), quality, steps,
                      data=f"SynthFaces train split, first {len(train_imgs)} images at 64 px (photo), hflip; "
                           f"batch {batch}, Adam lr {LR} (cosine to {LR_END} after {int(DECAY_FROM * 100)}%), "
                           f"SNR ~ U{list(SNR_TRAIN)} dB per image")
    ctx.log(event="exported", path=str(path))


register_component(Component(
    name=NAME,
    summary="DeepSC image codec: SNR-conditioned deep JSCC autoencoder, 64 px, 512 complex symbols (CBR 1/12)",
    build=build, train=train, default_config=dict(DEFAULT_CONFIG), fp16=True))
