"""GAN inversion by latent optimisation (Editable-DeepSC semantic coding, paper eq. 8-9).

    J(w) = lambda_inv * MSE(S_I, G(w)) + LPIPS(S_I, G(w))          (8)
    w^(t) = Adam step on J with learning rate eta_inv, t = 1..r_inv     (9)

Defaults follow the paper's implementation details: lambda_inv = 1, eta_inv = 0.1,
r_inv = 110, LPIPS-AlexNet on images in [-1, 1]. The latent is **W** by default: one w of
``G.w_dim`` reals (128 at 64 px: 64 complex channel uses, CBR 0.0104, the paper's Table I figure),
because the inverted latent is exactly what Editable-DeepSC transmits and the field functions edit.
``space='w+'`` (one w per synthesis layer, ``G.num_ws`` x ``G.w_dim`` = 1280 reals, 10x the
channel uses) reconstructs better and is available for comparison; a method that sends it must say
so and count its CBR. The start is the generator's mean latent ``w_avg`` (``init='mean'``);
``init='random'`` starts from mapping(z) of seeded z (the paper's "randomly initialised"
start); ``init='encoder'`` starts from a latent encoder's prediction (``encoder=``, a
:class:`methods.nets.latent_encoder.LatentEncoder` trained against this generator; pSp/e4e-style),
which the optimisation then refines for ``r_inv`` steps as usual. Images are inverted in batches: the loss is the *sum* of per-image losses and Adam is
element-wise, so each image's trajectory does not depend on its batch mates. Noise maps stay at
the generator's constant noise; optimising them (with the usual multi-scale noise
regularisation) is an option, off by default.

With ``lr_generator > 0`` (Talk2Edit: the generator is fine-tuned on the image) every image gets
its own copy of the synthesis weights. A batch keeps them as one stacked tensor per parameter and
runs ``torch.func.vmap`` over ``functional_call``: the per-image losses are summed and Adam is
element-wise, so each image's generator follows the trajectory it would follow alone, up to float
rounding; the latent-noise draws are seeded per image by its content. Rounding is not negligible
for Talk2Edit's settings: lr 0.1 with latent noise is chaotic, so a batched and a lone inversion
of the same image end at equally good but different latents (64 px, 60 steps, 5 images: mean
loss 0.2964 vs 0.2966, latent gap 1.4-3.5 against a norm of 13.6; the plain batched inversion
behaves the same). Without latent noise the two agree to 2e-4 (tests). The result
carries one fine-tuned generator per image (``InversionResult.generators``).

Works with any generator exposing ``synthesis(ws, noise=...)``, ``num_ws``, ``w_dim``, ``z_dim``,
``w_avg``, ``mapping`` and ``make_noise`` (methods.nets.stylegan2.Generator).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from bench.errors import UserError


@dataclass
class InversionConfig:
    steps: int = 110  # r_inv
    lr: float = 0.1  # eta_inv
    lambda_mse: float = 1.0  # lambda_inv
    space: str = "w"  # 'w' (w_dim reals: what Editable-DeepSC sends) or 'w+' (num_ws x w_dim)
    init: str = "mean"  # 'mean' (w_avg) | 'random' (mapping of seeded z) | 'encoder' (needs encoder=)
    lpips_net: str = "alex"
    seed: int = 0
    optimize_noise: bool = False
    noise_reg: float = 1e5  # weight of the noise regulariser, used only with optimize_noise
    betas: tuple = (0.9, 0.999)
    record_every: int = 0  # >0: keep the mean loss every k steps in result.history
    # Talk2Edit's image inversion (rosinality's projector): a ramped learning rate, decaying latent
    # noise and, with lr_generator > 0, the generator fine-tuned on the image (one copy per image)
    lr_schedule: str = "constant"  # 'constant' | 'ramp' (0.05 warm-up, cosine ramp-down over the last 25 %)
    latent_noise: float = 0.0  # noise on the latent, x the latents' spread, decaying to 0 at noise_ramp
    noise_ramp: float = 0.75
    lr_generator: float = 0.0  # > 0: fine-tune a copy of G jointly (result.generator)


TALK2EDIT = {"steps": 600, "lr": 0.1, "lambda_mse": 1.0, "lpips_net": "vgg", "space": "w", "lr_schedule": "ramp",
             "latent_noise": 0.05, "noise_ramp": 0.75, "lr_generator": 1e-4}
"""Talk2Edit's official inversion settings (utils/inversion_utils.py, editing_wo_dialog.yml)."""


def ramp_lr(t: float, base: float, rampdown: float = 0.25, rampup: float = 0.05) -> float:
    """rosinality's projector schedule at progress t in [0, 1]."""
    lr_ramp = min(1.0, (1 - t) / rampdown)
    lr_ramp = 0.5 - 0.5 * math.cos(lr_ramp * math.pi)
    return base * lr_ramp * min(1.0, t / rampup)


@dataclass
class InversionResult:
    latents: torch.Tensor  # (B, num_ws, w_dim) for w+, (B, w_dim) for w; detached, float32
    images: torch.Tensor  # (B, 3, H, W) reconstructions in [-1, 1] at the final latents
    loss: torch.Tensor  # (B,) final J = lambda*MSE + LPIPS
    mse: torch.Tensor  # (B,)
    lpips: torch.Tensor  # (B,)
    noise: list | None = None  # optimised noise maps (optimize_noise=True)
    history: list = field(default_factory=list)
    generator: object | None = None  # the fine-tuned copy of G (lr_generator > 0, one image); decode with it
    generators: list | None = None  # lr_generator > 0: one fine-tuned copy of G per image, in batch order

    def images_uint8(self) -> np.ndarray:
        return to_uint8(self.images)


def to_tensor_images(images, device="cpu") -> torch.Tensor:
    """uint8 (B, H, W, 3) / (H, W, 3) arrays or float tensors (B, 3, H, W) in [-1, 1] -> float tensor."""
    if isinstance(images, torch.Tensor):
        t = images.float()
        if t.ndim == 3:
            t = t.unsqueeze(0)
        if t.ndim != 4 or t.shape[1] != 3:
            raise UserError(f"target images must be (B, 3, H, W) tensors in [-1, 1], got shape {tuple(t.shape)}")
        return t.to(device)
    arr = np.asarray(images)
    if arr.ndim == 3:
        arr = arr[None]
    if arr.ndim != 4 or arr.shape[-1] != 3 or arr.dtype != np.uint8:
        raise UserError(f"target images must be uint8 (B, H, W, 3) RGB arrays, got {arr.dtype} {arr.shape}")
    arr = np.ascontiguousarray(arr) if arr.flags.writeable else arr.copy(order="C")  # torch refuses read-only views
    return torch.from_numpy(arr).permute(0, 3, 1, 2).float().div(127.5).sub(1.0).to(device)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """(B, 3, H, W) float in [-1, 1] -> uint8 (B, H, W, 3)."""
    x = (images.detach().float().clamp(-1, 1) + 1) * 127.5
    return x.round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


class LPIPSToTarget(torch.nn.Module):
    """LPIPS(x, target) per image with the target's normalised features computed once.

    Numerically the same as ``lpips.LPIPS.forward(x, target)`` (v0.1, non-spatial), at about
    half the cost per optimisation step since the fixed target is not re-encoded.
    """

    def __init__(self, model, target: torch.Tensor):
        super().__init__()
        import lpips as _lp

        self.model = model
        self._norm = _lp.normalize_tensor
        with torch.no_grad():
            self.target_feats = [self._norm(f).detach() for f in model.net(self._scale(target))]

    def _scale(self, x):
        return self.model.scaling_layer(x) if getattr(self.model, "version", "0.1") == "0.1" else x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = self.model.net(self._scale(x))
        val = 0
        for kk, (f, t) in enumerate(zip(outs, self.target_feats)):
            d = (self._norm(f) - t) ** 2
            val = val + self.model.lins[kk](d).mean([2, 3])
        return val.view(-1)


def _noise_regularize(noises) -> torch.Tensor:
    loss = 0
    for noise in noises:
        size = noise.shape[2]
        while True:
            loss = loss + (noise * torch.roll(noise, shifts=1, dims=3)).mean().pow(2) \
                + (noise * torch.roll(noise, shifts=1, dims=2)).mean().pow(2)
            if size <= 8:
                break
            noise = F.avg_pool2d(noise, 2)
            size //= 2
    return loss


INITS = ("mean", "random", "encoder")


def initial_latents(G, batch: int, cfg: InversionConfig, device, target: torch.Tensor | None = None,
                    encoder=None) -> torch.Tensor:
    if cfg.init == "encoder":
        if encoder is None:
            raise UserError("inversion init='encoder' needs a latent encoder trained for this generator "
                            "(methods.nets.latent_encoder.load_encoder_for); or use init='mean'")
        if target is None:
            raise UserError("inversion init='encoder' needs the target images")
        with torch.no_grad():
            w = encoder(target.to(device)).float()
    elif cfg.init == "mean":
        w = G.w_avg.detach().float().to(device).view(1, -1).expand(batch, -1)
    elif cfg.init == "random":
        gen = torch.Generator().manual_seed(cfg.seed)
        z = torch.randn(batch, G.z_dim, generator=gen).to(device)
        with torch.no_grad():
            w = G.mapping(z)
    else:
        raise UserError(f"inversion init must be one of {', '.join(INITS)}, got {cfg.init!r}")
    if cfg.space == "w+":
        return w.unsqueeze(1).repeat(1, G.num_ws, 1).clone()
    if cfg.space == "w":
        return w.clone()
    raise UserError(f"inversion space must be 'w' or 'w+', got {cfg.space!r}")


def invert(G, targets, config: InversionConfig | None = None, init_latents: torch.Tensor | None = None, lpips_model=None,
           callback=None, encoder=None, **overrides) -> InversionResult:
    """Invert target images into G's latent space (see module doc).

    targets: uint8 (B, H, W, 3) arrays or float (B, 3, H, W) tensors in [-1, 1] at G's resolution.
    init_latents: optional starting latents ((B, w_dim) or (B, num_ws, w_dim)) instead of ``config.init``.
    encoder: the latent encoder ``config.init='encoder'`` starts from.
    callback(step, latents, per_image_loss) is called after every step (e.g. for progress).
    Keyword overrides set InversionConfig fields (``steps=..., space='w'``).
    """
    cfg = config or InversionConfig()
    if overrides:
        cfg = InversionConfig(**{**cfg.__dict__, **overrides})
    if cfg.steps < 0 or cfg.lr <= 0 or cfg.lr_generator < 0 or cfg.latent_noise < 0:
        raise UserError(f"inversion needs steps >= 0, lr > 0, lr_generator >= 0 and latent_noise >= 0 (got "
                        f"steps={cfg.steps}, lr={cfg.lr}, lr_generator={cfg.lr_generator}, "
                        f"latent_noise={cfg.latent_noise})")
    if cfg.lr_schedule not in ("constant", "ramp"):
        raise UserError(f"inversion lr_schedule must be 'constant' or 'ramp', got {cfg.lr_schedule!r}")
    device = G.w_avg.device
    target = to_tensor_images(targets, device)
    res = getattr(G, "resolution", target.shape[-1])
    if tuple(target.shape[-2:]) != (res, res):
        raise UserError(f"target images are {target.shape[-2]}x{target.shape[-1]}; this generator makes "
                        f"{res}x{res} images - resize them first")
    if lpips_model is None:
        from bench.metrics.perceptual import lpips_model as _get

        lpips_model = _get(cfg.lpips_net, str(device))
    torch.manual_seed(cfg.seed)
    b = target.shape[0]
    if init_latents is not None:
        lat = init_latents.detach().float().to(device).clone()
        if cfg.space == "w+" and lat.ndim == 2:
            lat = lat.unsqueeze(1).repeat(1, G.num_ws, 1)
        expect = (b, G.num_ws, G.w_dim) if cfg.space == "w+" else (b, G.w_dim)
        if tuple(lat.shape) != expect:
            raise UserError(f"init latents have shape {tuple(lat.shape)}, expected {expect}")
    else:
        lat = initial_latents(G, b, cfg, device, target, encoder)
    lat.requires_grad_(True)
    params = [lat]
    noise = "const"
    if cfg.optimize_noise:
        gen = torch.Generator().manual_seed(cfg.seed + 1)
        noise = [torch.randn(b, 1, n.shape[-2], n.shape[-1], generator=gen).to(device).requires_grad_(True)
                 for n in G.make_noise(1, "const")]
        params += noise
    groups = [{"params": params}]
    G_run = G
    per_image = None
    if cfg.lr_generator > 0 and b == 1:
        G_run = copy.deepcopy(G).eval().requires_grad_(True)
        groups.append({"params": [p for p in G_run.parameters()], "lr": cfg.lr_generator})
    elif cfg.lr_generator > 0:
        per_image = PerImageSynthesis(G, b)
        groups.append({"params": list(per_image.params.values()), "lr": cfg.lr_generator})
    synthesis = per_image.synthesis if per_image is not None else G_run.synthesis
    opt = torch.optim.Adam(groups, lr=cfg.lr, betas=tuple(cfg.betas))
    lp = LPIPSToTarget(lpips_model, target)
    was_training = G.training
    req = [p.requires_grad for p in G.parameters()]
    G.eval().requires_grad_(False)
    if G_run is not G:
        G_run.requires_grad_(True)
    history = []
    latent_std = 0.0
    if cfg.latent_noise > 0:
        with torch.no_grad():
            ws = G.mapping(torch.randn(2000, G.z_dim, generator=torch.Generator().manual_seed(cfg.seed + 2)).to(device))
            latent_std = float(((ws - ws.mean(0)).pow(2).sum() / len(ws)) ** 0.5)
        # one noise stream per image, seeded by the image itself: a batch draws what each image
        # would draw alone, whatever its position or batch mates
        noise_gens = [torch.Generator().manual_seed(cfg.seed * 1_000_003 + _digest(target[i])) for i in range(b)]

    def losses(x):
        mse = (x - target).pow(2).flatten(1).mean(1)
        perc = lp(x)
        return cfg.lambda_mse * mse + perc, mse, perc

    try:
        with torch.enable_grad():
            for step in range(cfg.steps):
                t = step / max(cfg.steps, 1)
                if cfg.lr_schedule == "ramp":
                    opt.param_groups[0]["lr"] = ramp_lr(t, cfg.lr)
                lat_in = lat
                if latent_std > 0:
                    strength = latent_std * cfg.latent_noise * max(0.0, 1 - t / cfg.noise_ramp) ** 2
                    draw = torch.stack([torch.randn(lat.shape[1:], generator=g) for g in noise_gens])
                    lat_in = lat + draw.to(lat.device) * strength
                x = synthesis(lat_in, noise=noise)
                loss, _, _ = losses(x)
                total = loss.sum()
                if cfg.optimize_noise and cfg.noise_reg > 0:
                    total = total + cfg.noise_reg * _noise_regularize(noise)
                opt.zero_grad(set_to_none=True)
                total.backward()
                opt.step()
                if cfg.optimize_noise:
                    with torch.no_grad():  # keep noise maps at zero mean / unit variance
                        for n in noise:
                            n.sub_(n.mean(dim=[1, 2, 3], keepdim=True)).div_(n.std(dim=[1, 2, 3], keepdim=True))
                if cfg.record_every and (step % cfg.record_every == 0):
                    history.append((step, float(loss.detach().mean())))
                if callback is not None:
                    callback(step, lat.detach(), loss.detach())
        with torch.no_grad():
            final = lat.detach()
            if G_run is not G:
                G_run.requires_grad_(False)
            x = synthesis(final, noise=[n.detach() for n in noise] if cfg.optimize_noise else noise)
            loss, mse, perc = losses(x)
    finally:
        for p, r in zip(G.parameters(), req):
            p.requires_grad_(r)
        G.train(was_training)
    return InversionResult(latents=final.clone(), images=x.detach(), loss=loss.detach(), mse=mse.detach(),
                           lpips=perc.detach(), noise=[n.detach() for n in noise] if cfg.optimize_noise else None,
                           history=history, generator=G_run if G_run is not G else None,
                           generators=[G_run] if G_run is not G else
                           per_image.generators() if per_image is not None else None)


def _digest(image: torch.Tensor) -> int:
    import zlib

    return zlib.crc32(image.detach().cpu().float().numpy().tobytes())


class PerImageSynthesis:
    """``b`` independent copies of G's synthesis weights, run as one batch.

    Each parameter (all but the mapping network, which a W/W+ inversion never uses) is stacked to
    (b, ...); ``synthesis`` maps image i's latent through copy i with ``torch.func.vmap`` over
    ``functional_call``, so per-sample weights become one batched (grouped) convolution.
    ``generators()`` returns ordinary frozen Generator copies holding each image's weights.
    """

    def __init__(self, G, b: int):
        self.G, self.b = G, b
        self.params = {n: p.detach().unsqueeze(0).repeat(b, *[1] * p.ndim).clone().requires_grad_(True)
                       for n, p in G.named_parameters() if not n.startswith("style.")}
        self.buffers = dict(G.named_buffers())
        self._module = _Synthesis(G)

    def synthesis(self, ws: torch.Tensor, noise="const") -> torch.Tensor:
        from torch.func import functional_call, vmap

        module = self._module
        buffers = {f"G.{k}": v for k, v in self.buffers.items()}

        def one(p, w, ns):
            n = noise if ns is None else [t[None] for t in ns]
            return functional_call(module, ({f"G.{k}": v for k, v in p.items()}, buffers), (w[None], n), strict=False)

        ns = None if isinstance(noise, str) else list(noise)
        in_dims = (0, 0, None if ns is None else 0)
        return vmap(one, in_dims=in_dims, randomness="different")(self.params, ws, ns)[:, 0]

    def generators(self) -> list:
        out = []
        for i in range(self.b):
            g = copy.deepcopy(self.G).eval().requires_grad_(False)
            with torch.no_grad():
                for n, p in g.named_parameters():
                    if n in self.params:
                        p.copy_(self.params[n][i].detach())
            out.append(g)
        return out


class _Synthesis(torch.nn.Module):
    """G.synthesis as a module forward, for functional_call."""

    def __init__(self, G):
        super().__init__()
        self.G = G

    def forward(self, ws, noise):
        return self.G.synthesis(ws, noise=noise)


def invert_batched(G, targets, batch_size: int = 8, config: InversionConfig | None = None, **kw) -> InversionResult:
    """:func:`invert` over chunks of ``batch_size`` images, results concatenated."""
    t = to_tensor_images(targets, G.w_avg.device)
    parts = [invert(G, t[i:i + batch_size], config, **kw) for i in range(0, t.shape[0], batch_size)]
    return InversionResult(latents=torch.cat([p.latents for p in parts]), images=torch.cat([p.images for p in parts]),
                           loss=torch.cat([p.loss for p in parts]), mse=torch.cat([p.mse for p in parts]),
                           lpips=torch.cat([p.lpips for p in parts]),
                           noise=None if parts[0].noise is None else
                           [torch.cat(ns) for ns in zip(*[p.noise for p in parts])],
                           generators=None if parts[0].generators is None else
                           [g for p in parts for g in p.generators])
