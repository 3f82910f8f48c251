"""Trainer of the DeepSC image codec (``bench train deepsc``; the network is ``methods.nets.deepsc``).

SynthFaces world-2 64 px train images (first 30,000 of the population, with random horizontal flips), MSE loss through the
differentiable AWGN channel (``channels.analog.torch_view``), Adam lr 1e-3 (the paper's), batch
16 (the paper uses 4; 16 gives better CPU throughput), cosine decay to 1e-4 over the last 40% of
the steps, SNR drawn per image uniformly from ``SNR_TRAIN``. Seeded and resumable: every step's
batch, flips, SNRs and channel noise come from a generator seeded by (seed, step). The card
records the test-split PSNR at -6, 0, 6, 12, 18 dB measured on the exported (fp16-rounded) weights.
"""
from __future__ import annotations

import math
import time

import torch

from datasets.synthfaces.cache import build_split_cache, load_split_cache
from methods.nets.deepsc import DEFAULT_CONFIG, SIZE, SNR_TRAIN, build, evaluate
from methods.training.world_data import WORLD

DEFAULT_STEPS = 4500
BATCH = 16
LR = 1e-3
LR_END = 1e-4
DECAY_FROM = 0.6  # fraction of the steps after which the lr decays (cosine) to LR_END
TRAIN_IMAGES = 30000
EVAL_IMAGES = 256


def lr_at(step: int, steps: int) -> float:
    """LR until DECAY_FROM of the steps, then cosine down to LR_END at the last step."""
    start = int(DECAY_FROM * steps)
    if step < start:
        return LR
    frac = (step - start) / max(1, steps - start)
    return LR_END + 0.5 * (LR - LR_END) * (1.0 + math.cos(math.pi * frac))


def train(ctx) -> None:
    """`bench train deepsc` (ctx: methods.zoo.TrainContext)."""
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

    # the world's own population (CelebA-like degrees, a nuisance per image), as the sweeps see it
    train_imgs = load_split_cache(build_split_cache("train", n_train, SIZE, world=WORLD, requests=False))["images"]
    test_path = build_split_cache("test", 8 if quick else 3000, SIZE, world=WORLD)  # the sweeps' test items
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
            group["lr"] = lr_at(step, steps)
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
                    lr=round(lr_at(step - 1, steps), 6), img_per_s=round(n_acc * batch / (time.time() - t_log), 1),
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
    quality.update({"eval_images": int(len(test_imgs)),
                    "eval_split": f"synthfaces:world={WORLD} test (first items), 64 px",
                    "cbr_paper": model.n_reals / (SIZE * SIZE * 3), "complex_symbols": model.n_reals // 2,
                    "snr_train_db": list(SNR_TRAIN)})
    ctx.log(event="eval", **{k: v for k, v in quality.items() if k.startswith("psnr")})
    path = ctx.export(config, model.state_dict(), quality, steps,
                      data=f"SynthFaces world {WORLD} train split, first {len(train_imgs)} images at 64 px (photo, the "
                           f"world's population and nuisance), hflip; "
                           f"batch {batch}, Adam lr {LR} (cosine to {LR_END} after {int(DECAY_FROM * 100)}%), "
                           f"SNR ~ U{list(SNR_TRAIN)} dB per image")
    ctx.log(event="exported", path=str(path))
