"""StyleGAN2 generator (config-F style, skip ToRGB architecture) in plain PyTorch.

Layout and parameter names mirror the public rosinality/stylegan2-pytorch model
(``style.N``, ``input.input``, ``conv1``, ``to_rgb1``, ``convs.N``, ``to_rgbs.N``,
``noises.noise_N``) so its checkpoints load by name; NVIDIA checkpoints are renamed onto
it by :mod:`methods.nets.stylegan2.official`. One extra buffer, ``w_avg`` (the tracked mean
W latent used for truncation and as the inversion start), is kept beside them.

The modulated convolution uses the "modulate activations" form (x*s -> conv -> x*d),
mathematically identical to the grouped-weight form but faster on CPU for batches > 1.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .ops import Blur, EqualLinear, FusedLeakyReLU, PixelNorm, Upsample

DEFAULT_CHANNELS = {4: 512, 8: 512, 16: 512, 32: 512, 64: 256, 128: 128, 256: 64, 512: 32, 1024: 16}

# Shipped embedded-tier architecture (zoo component ``stylegan2``): CBR = 128 / (64*64*3) = 0.0104
# with a W latent.
EMBEDDED_CONFIG = {"resolution": 64, "z_dim": 128, "w_dim": 128, "n_mlp": 4,
                   "channels": {"4": 128, "8": 128, "16": 64, "32": 32, "64": 32}}


def log2_res(resolution: int) -> int:
    lg = int(round(math.log2(resolution))) if resolution and resolution > 0 else 0
    if resolution < 8 or 2 ** lg != resolution:
        raise ValueError(f"resolution must be a power of two >= 8, got {resolution}")
    return lg


def channel_table(resolution: int, channels=None, channel_multiplier: float = 2) -> dict[int, int]:
    """res -> channels for 4..resolution: an explicit dict (str or int keys) or rosinality's defaults."""
    lg = log2_res(resolution)
    out = {}
    for i in range(2, lg + 1):
        r = 2 ** i
        if channels is not None:
            c = channels.get(r, channels.get(str(r)))
            if c is None:
                raise ValueError(f"channels table has no entry for {r} px")
            out[r] = int(c)
        else:
            base = DEFAULT_CHANNELS.get(r, 16)
            out[r] = int(base * channel_multiplier) if r >= 64 else base
    return out


def normalize_config(config: dict) -> dict:
    """Fill defaults; channel table stored with string keys (JSON-safe)."""
    known = {"resolution", "z_dim", "w_dim", "n_mlp", "channels", "channel_multiplier", "lr_mlp",
             "blur_kernel", "conv_clamp"}
    unknown = set(config) - known
    if unknown:
        raise ValueError(f"unknown generator config keys {sorted(unknown)}")
    res = int(config.get("resolution", 64))
    w_dim = int(config.get("w_dim", 512))
    table = channel_table(res, config.get("channels"), config.get("channel_multiplier", 2))
    return {"resolution": res, "z_dim": int(config.get("z_dim", w_dim)), "w_dim": w_dim,
            "n_mlp": int(config.get("n_mlp", 8)), "channels": {str(k): v for k, v in table.items()},
            "lr_mlp": float(config.get("lr_mlp", 0.01)), "blur_kernel": list(config.get("blur_kernel", [1, 3, 3, 1])),
            "conv_clamp": config.get("conv_clamp")}


class ModulatedConv2d(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, w_dim: int, demodulate: bool = True,
                 upsample: bool = False, blur_kernel=(1, 3, 3, 1)):
        super().__init__()
        self.in_ch, self.out_ch, self.kernel_size = in_ch, out_ch, kernel_size
        self.demodulate, self.upsample = demodulate, upsample
        if upsample:
            factor = 2
            p = (len(blur_kernel) - factor) - (kernel_size - 1)
            self.blur = Blur(blur_kernel, pad=((p + 1) // 2 + factor - 1, p // 2 + 1), upsample_factor=factor)
        self.scale = 1.0 / math.sqrt(in_ch * kernel_size ** 2)
        self.padding = kernel_size // 2
        self.weight = nn.Parameter(torch.randn(1, out_ch, in_ch, kernel_size, kernel_size))
        self.modulation = EqualLinear(w_dim, in_ch, bias_init=1.0)

    def _weights(self):
        """(scaled weight, per (out, in) squared norms); cached while the weight is a frozen Parameter
        (not under torch.func.functional_call/vmap, where it is a per-sample tensor)."""
        if self.weight.requires_grad or not isinstance(self.weight, nn.Parameter):
            weight = self.weight[0] * self.scale
            return weight, weight.square().sum(dim=[2, 3])
        key = (self.weight._version, self.weight.data_ptr(), self.weight.dtype)
        cache = self.__dict__.get("_frozen_cache")
        if cache is None or cache[0] != key:
            weight = (self.weight[0] * self.scale).detach()
            cache = (key, weight, weight.square().sum(dim=[2, 3]))
            self.__dict__["_frozen_cache"] = cache
        return cache[1], cache[2]

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        style = self.modulation(w)  # (B, in)
        weight, wsq = self._weights()  # (out, in, k, k), (out, in)
        x = x * style.view(b, -1, 1, 1)
        if self.upsample:
            x = F.conv_transpose2d(x, weight.transpose(0, 1), stride=2)
        else:
            x = F.conv2d(x, weight, padding=self.padding)
        if self.demodulate:
            d = torch.rsqrt(style.square() @ wsq.t() + 1e-8)  # (B, out)
            x = x * d.view(b, -1, 1, 1)
        if self.upsample:
            x = self.blur(x)
        return x


class NoiseInjection(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1))

    def forward(self, x, noise=None):
        if noise is None:
            return x
        return x + self.weight * noise


class ConstantInput(nn.Module):
    def __init__(self, channels: int, size: int = 4):
        super().__init__()
        self.input = nn.Parameter(torch.randn(1, channels, size, size))

    def forward(self, batch: int):
        return self.input.expand(batch, -1, -1, -1)


class StyledConv(nn.Module):
    def __init__(self, in_ch, out_ch, kernel_size, w_dim, upsample=False, blur_kernel=(1, 3, 3, 1),
                 conv_clamp=None):
        super().__init__()
        self.conv = ModulatedConv2d(in_ch, out_ch, kernel_size, w_dim, upsample=upsample, blur_kernel=blur_kernel)
        self.noise = NoiseInjection()
        self.activate = FusedLeakyReLU(out_ch, clamp=conv_clamp)

    def forward(self, x, w, noise=None):
        return self.activate(self.noise(self.conv(x, w), noise))


class ToRGB(nn.Module):
    def __init__(self, in_ch, w_dim, upsample=True, blur_kernel=(1, 3, 3, 1), conv_clamp=None):
        super().__init__()
        if upsample:
            self.upsample = Upsample(blur_kernel)
        self.conv = ModulatedConv2d(in_ch, 3, 1, w_dim, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(1, 3, 1, 1))
        self.conv_clamp = conv_clamp

    def forward(self, x, w, skip=None):
        out = self.conv(x, w) + self.bias
        if self.conv_clamp is not None:
            out = out.clamp(-self.conv_clamp, self.conv_clamp)
        if skip is not None:
            out = out + self.upsample(skip)
        return out


class Generator(nn.Module):
    """z (B, z_dim) --mapping--> w (B, w_dim) --broadcast--> w+ (B, num_ws, w_dim) --synthesis--> image.

    Images are float in about [-1, 1], shape (B, 3, resolution, resolution).
    """

    def __init__(self, config: dict | None = None, **kwargs):
        super().__init__()
        cfg = normalize_config({**(config or {}), **kwargs})
        self.config = cfg
        self.resolution, self.z_dim, self.w_dim = cfg["resolution"], cfg["z_dim"], cfg["w_dim"]
        self.log_size = log2_res(self.resolution)
        self.num_ws = self.log_size * 2 - 2
        self.num_layers = (self.log_size - 2) * 2 + 1
        ch = {int(k): v for k, v in cfg["channels"].items()}
        self.channels = ch
        bk, clamp = tuple(cfg["blur_kernel"]), cfg["conv_clamp"]

        layers = [PixelNorm()]
        for i in range(cfg["n_mlp"]):
            layers.append(EqualLinear(self.z_dim if i == 0 else self.w_dim, self.w_dim, lr_mul=cfg["lr_mlp"],
                                      activation=True))
        self.style = nn.Sequential(*layers)

        self.input = ConstantInput(ch[4])
        self.conv1 = StyledConv(ch[4], ch[4], 3, self.w_dim, blur_kernel=bk, conv_clamp=clamp)
        self.to_rgb1 = ToRGB(ch[4], self.w_dim, upsample=False, conv_clamp=clamp)
        self.convs = nn.ModuleList()
        self.to_rgbs = nn.ModuleList()
        self.noises = nn.Module()
        for idx in range(self.num_layers):
            r = 2 ** ((idx + 5) // 2)
            self.noises.register_buffer(f"noise_{idx}", torch.randn(1, 1, r, r))
        in_ch = ch[4]
        for i in range(3, self.log_size + 1):
            out_ch = ch[2 ** i]
            self.convs.append(StyledConv(in_ch, out_ch, 3, self.w_dim, upsample=True, blur_kernel=bk, conv_clamp=clamp))
            self.convs.append(StyledConv(out_ch, out_ch, 3, self.w_dim, blur_kernel=bk, conv_clamp=clamp))
            self.to_rgbs.append(ToRGB(out_ch, self.w_dim, blur_kernel=bk, conv_clamp=clamp))
            in_ch = out_ch
        self.register_buffer("w_avg", torch.zeros(self.w_dim))

    # ---- latents -------------------------------------------------------------------------
    def mapping(self, z: torch.Tensor, truncation: float = 1.0) -> torch.Tensor:
        w = self.style(z)
        if truncation != 1.0:
            w = self.w_avg + truncation * (w - self.w_avg)
        return w

    @torch.no_grad()
    def mean_latent(self, n: int = 4096, seed: int = 0) -> torch.Tensor:
        """Mean of mapping(z) over n seeded z draws, shape (1, w_dim)."""
        gen = torch.Generator().manual_seed(seed)
        z = torch.randn(n, self.z_dim, generator=gen).to(self.w_avg.device)
        return torch.cat([self.style(c) for c in z.split(1024)]).mean(0, keepdim=True)

    def broadcast(self, w: torch.Tensor) -> torch.Tensor:
        """(B, w_dim) -> (B, num_ws, w_dim); w+ passes through (checked)."""
        if w.ndim == 2:
            return w.unsqueeze(1).expand(-1, self.num_ws, -1)
        if w.ndim == 3 and w.shape[1] == self.num_ws:
            return w
        raise ValueError(f"latent must be (B, {self.w_dim}) or (B, {self.num_ws}, {self.w_dim}), got {tuple(w.shape)}")

    def make_noise(self, batch: int = 1, mode: str = "const", generator=None) -> list:
        if mode == "const":
            return [getattr(self.noises, f"noise_{i}") for i in range(self.num_layers)]
        if mode == "none":
            return [None] * self.num_layers
        if mode == "random":
            dev = self.w_avg.device
            # a seeded generator draws on its own device (torch refuses a CPU generator for CUDA tensors),
            # so a run on a GPU keeps the CPU run's noise stream
            draw_on = generator.device if generator is not None else dev
            return [torch.randn(batch, 1, 2 ** ((i + 5) // 2), 2 ** ((i + 5) // 2), device=draw_on,
                                generator=generator).to(dev) for i in range(self.num_layers)]
        raise ValueError(f"noise mode must be const|random|none, got {mode!r}")

    # ---- synthesis -----------------------------------------------------------------------
    def synthesis(self, ws: torch.Tensor, noise: list | str = "const") -> torch.Tensor:
        ws = self.broadcast(ws)
        if isinstance(noise, str):
            noise = self.make_noise(ws.shape[0], noise)
        out = self.input(ws.shape[0])
        out = self.conv1(out, ws[:, 0], noise=noise[0])
        skip = self.to_rgb1(out, ws[:, 1])
        i = 1
        for conv_up, conv, n1, n2, to_rgb in zip(self.convs[::2], self.convs[1::2], noise[1::2], noise[2::2],
                                                 self.to_rgbs):
            out = conv_up(out, ws[:, i], noise=n1)
            out = conv(out, ws[:, i + 1], noise=n2)
            skip = to_rgb(out, ws[:, i + 2], skip)
            i += 2
        return skip

    def forward(self, latent: torch.Tensor, input_is_w: bool = False, truncation: float = 1.0,
                noise: list | str = "const", return_latents: bool = False):
        """Image from z (default) or from w / w+ (input_is_w=True); truncation toward w_avg."""
        if input_is_w:
            w = latent
            if truncation != 1.0:
                w = self.w_avg + truncation * (w - self.w_avg)
        else:
            w = self.mapping(latent, truncation)
        img = self.synthesis(w, noise)
        return (img, self.broadcast(w)) if return_latents else img


def build_generator(config: dict) -> Generator:
    return Generator(config)
