"""Trainer of the latent encoder (``bench train stylegan2-encoder [--set generator=PATH]``; the
network is ``methods.nets.latent_encoder``).

Against one frozen generator G (default: the shipped ``stylegan2``; its SHA-256 goes into the
checkpoint and the card). Every step draws a batch of G's own samples, whose latent w is known,
and a batch of SynthFaces train images (world ``WORLD``) and minimises

    lambda_w * |E(G(w)) - w|^2                     (latent regression, samples only)
  + MSE(G(E(x)), x) + LPIPS-alex(G(E(x)), x)       (reconstruction, samples and real images)

so the encoder lands where the inversion of eq. (8)-(9) would go (same image loss) while the
latent term keeps it in the region G was trained on. Held-out figures (SynthFaces *test* images)
are measured with what the training never saw: LPIPS-vgg and PSNR of G(E(x)).
"""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from methods.nets.latent_encoder import DEFAULT_CONFIG, build, generator_digest
from methods.training.face_nets import cosine_lr, set_threads, threads_from_env
from methods.zoo import TrainContext

LAMBDA_W = 1.0
BATCH = 16  # samples and real images each


def _real_images(ctx: TrainContext, size: int):
    from datasets.synthfaces.cache import build_split_cache, load_split_cache
    from methods.training.world_data import WORLD

    if ctx.quick:
        from datasets.synthfaces.v2 import render, sample_nuisance

        rng = np.random.default_rng(0)
        imgs = np.stack([render(i, rng.integers(0, 6, 5).tolist(), size, "photo", sample_nuisance(rng))
                         for i in range(8)])
        return imgs, imgs[:4], f"quick smoke data (8 rendered faces at {size} px)"
    train = load_split_cache(build_split_cache("train", 30000, 64, "photo", world=WORLD, requests=False))["images"]
    test = load_split_cache(build_split_cache("test", 3000, 64, "photo", world=WORLD))["images"][:256]
    return train, test, (f"SynthFaces world {WORLD} train split, first 30000 images (64 px), plus the generator's own "
                         "samples with their latents; held-out: the first 256 test-split images")


def train(ctx: TrainContext) -> None:
    from bench.metrics.perceptual import lpips_model
    from bench.metrics.pixel import psnr
    from methods.editing.inversion import to_uint8
    from methods.nets.stylegan2 import load_generator

    set_threads()
    threads_from_env()  # an explicit thread count wins (a dedicated machine)
    gen_path = ctx.options.get("generator")
    if ctx.quick and not gen_path:
        from methods.nets.stylegan2 import Generator
        from methods.training.stylegan2 import QUICK_CONFIG

        G, digest = Generator(QUICK_CONFIG), "quick-random-generator"
    else:
        G, digest = load_generator(gen_path), generator_digest(gen_path)
    G.eval().requires_grad_(False)
    config = dict(DEFAULT_CONFIG, w_dim=G.w_dim, input_size=G.resolution, generator_sha256=digest)
    if ctx.quick:
        config["widths"] = [8, 8, 8, 8, 8]
        config["hidden"] = 16
    steps = ctx.steps or (4 if ctx.quick else 2500)
    torch.manual_seed(ctx.seed)
    E = build(config)
    E.w_avg.copy_(G.w_avg)
    opt = torch.optim.Adam([p for p in E.parameters() if p.requires_grad], lr=1e-3)
    lp = None if ctx.quick else lpips_model("alex", "cpu")  # AlexNet cannot take the 16-px smoke images
    real, test, desc = _real_images(ctx, G.resolution)
    gen = torch.Generator().manual_seed(ctx.seed + 1)
    ctx.log(event="start", steps=steps, generator_sha256=digest, params=sum(p.numel() for p in E.parameters()))
    t0, acc = time.time(), {"lw": 0.0, "rec": 0.0, "k": 0}
    E.train()
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = cosine_lr(step, steps, 1e-3, warmup=min(100, steps // 10 + 1))
        with torch.no_grad():
            w = G.mapping(torch.randn(BATCH, G.z_dim, generator=gen))
            xs = G.synthesis(w, noise="const")
        idx = torch.randint(0, len(real), (BATCH,), generator=gen).numpy()
        xr = torch.from_numpy(real[np.sort(idx)]).permute(0, 3, 1, 2).float() / 127.5 - 1
        x = torch.cat([xs, xr])
        w_hat = E(x)
        rec = G.synthesis(w_hat, noise="const")
        loss_w = F.mse_loss(w_hat[:BATCH], w)
        loss_rec = (rec - x).pow(2).mean() + (lp(rec, x).mean() if lp is not None else 0.0)
        loss = LAMBDA_W * loss_w + loss_rec
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        acc["lw"] += loss_w.item(); acc["rec"] += float(loss_rec.detach()); acc["k"] += 1
        if (step + 1) % 50 == 0 or step + 1 == steps:
            k = acc["k"]
            ctx.log(step=step + 1, loss_w=round(acc["lw"] / k, 5), loss_rec=round(acc["rec"] / k, 4),
                    s_per_step=round((time.time() - t0) / k, 3), wall_s=round(ctx.wall_s(), 1))
            t0, acc = time.time(), {"lw": 0.0, "rec": 0.0, "k": 0}
    E.eval()
    with torch.no_grad():
        rec = to_uint8(G.synthesis(E.encode(test), noise="const"))
    quality = {"generator_sha256": digest, "heldout_n": int(len(test)),
               "heldout_psnr_db": round(float(np.mean(psnr(test, rec))), 2)}
    if not ctx.quick:
        from bench.metrics.perceptual import lpips_distance

        quality["heldout_lpips_vgg"] = round(float(np.mean(lpips_distance(test, rec, net="vgg", device="cpu"))), 4)
    ctx.log(event="eval", **quality)
    path = ctx.export(config, E.state_dict(), quality, steps, desc)
    ctx.log(event="export", path=str(path))
