"""Trainer of the embedded StyleGAN2 (``bench train stylegan2``): training loop (SynthFaces 64x64, 128-d latents) on CPU or GPU.

Two recipes for the same generator (``--set recipe=...``):

* ``stylegan2`` (default): the original residual discriminator, non-saturating logistic loss, lazy
  R1 on reals (3.9 CPU-hours reached FD-VGG16 66 on world 1);
* ``projected``: the projected discriminator on frozen ImageNet AlexNet features
  (:mod:`methods.nets.projected_discriminator`, Sauer et al. 2021) with hinge loss and
  differentiable augmentation (:mod:`methods.training.diffaugment`: colour, translation, cutout on
  reals and fakes alike), Adam(0, 0.99) at lr 0.0002 for both networks, no R1 (as in the paper).
  On the same CPU budget it did not converge with this generator (see the card's recipe
  comparison: saturated colour blobs after 650 steps, FD-VGG16 rising 331 -> 347, where the
  default recipe had fallen 262 -> 193); kept as an option for a GPU session to tune.

Both use style mixing and an EMA generator with ramp-up; path-length regularisation is left out
(too slow on CPU). ``--set init_from=PATH`` starts G (and its EMA) from a generator checkpoint of
the same architecture instead of random weights (transfer from another world; the discriminator
starts fresh). ``--set init_from=shipped --set init_d_from=paired`` continues the shipped pair: G from
the shipped generator (its EMA weights), D from the discriminator exported with it (refused unless its
card pins that generator's SHA-256); the card records both digests and the run they came from.
``--set recon_weight=R`` (R > 0) trains a latent encoder E *with* the generator (ALAE / pSp-style, so that
W is invertible by construction, issue 10): every G step adds ``R * (MSE + LPIPS-alex)(G(E(x)), x)`` on the
real batch (the inversion's own loss, eq. 8, with lambda_inv 1) to the adversarial loss, and E also
regresses the latents of G's samples (``|E(G(w)) - w|^2``, as ``bench train stylegan2-encoder`` does);
``--set init_e_from=shipped|PATH`` starts E from an encoder trained for the starting generator
(``init_from``), and ``--set e_lr`` sets E's learning rate. E is exported beside the generator as
``stylegan2-encoder.pt``, pinned to the exported generator's SHA-256, so inversions start from it.
``--set time_budget_s=S`` stops after S seconds of this invocation (a GPU lease, a CPU session), saves
the resumable state and exports; the card's command then names the step count reached, so
it reproduces the run without the budget. Data: the first ``n_train`` images of the SynthFaces train split of world
``world`` (the CelebA-like population the test items come from). Resumable: every
``save_every_s`` seconds the full state (step, G, D, G_ema, both optimizers, RNG states,
wall time) goes to ``ctx.save_state``; a rerun with the same work dir continues from it.
At the end the EMA generator is exported (fp16) with its card; the quality figures of
:mod:`methods.training.stylegan2_report` are added when they can be computed.
"""
from __future__ import annotations

import copy
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from methods.nets.stylegan2 import EMBEDDED_CONFIG, Discriminator, Generator, normalize_config
from methods.training.face_nets import threads_from_env

TRAIN_DEFAULTS = {"recipe": "stylegan2", "world": 2, "batch": 16, "lr": 0.0025, "betas": (0.0, 0.99),
                  "r1_gamma": 1.0, "d_reg_every": 16,
                  "mixing": 0.9, "ema_kimg": 5.0, "ema_rampup": 0.05, "n_train": 30000, "steps": 24045,
                  "d_channels": {"4": 128, "8": 128, "16": 64, "32": 32, "64": 16},
                  "proj_lr": 0.0002, "proj_width": 64, "diffaugment": "color,translation,cutout",
                  "save_every_s": 240.0, "log_every": 50, "data_style": "photo", "init_from": "",
                  "init_d_from": "", "time_budget_s": 0.0, "report": True,
                  "recon_weight": 0.0, "init_e_from": "", "e_lr": 0.0002}
RECIPES = ("projected", "stylegan2")
QUICK_CONFIG = {"resolution": 16, "z_dim": 16, "w_dim": 16, "n_mlp": 2,
                "channels": {"4": 16, "8": 16, "16": 8}}
QUICK_TRAIN = {"batch": 4, "n_train": 16, "steps": 3, "d_reg_every": 2, "ema_kimg": 0.01,
               "d_channels": {"4": 16, "8": 16, "16": 8}, "log_every": 1}


def data_description(n: int, size: int, style: str, world: int = 1) -> str:
    return (f"SynthFaces world {world} train split, first {n} images, {size}x{size}, style '{style}' "
            "(build_split_cache seed 0)")


def load_train_images(n: int, size: int, style: str, world: int = 1) -> torch.Tensor:
    """uint8 (N, 3, size, size) tensor of the SynthFaces train cache (rendered once, then reused)."""
    from datasets.synthfaces.cache import build_split_cache, load_split_cache

    path = build_split_cache("train", n, size, style, world=world, requests=False)
    imgs = load_split_cache(path)["images"]
    return torch.from_numpy(np.ascontiguousarray(imgs)).permute(0, 3, 1, 2).contiguous()


def to_float(batch_u8: torch.Tensor) -> torch.Tensor:
    return batch_u8.float() / 127.5 - 1.0


def d_logistic(real_pred, fake_pred):
    return F.softplus(-real_pred).mean() + F.softplus(fake_pred).mean()


def g_nonsaturating(fake_pred):
    return F.softplus(-fake_pred).mean()


def r1_penalty(real_pred, real_img):
    (grad,) = torch.autograd.grad(real_pred.sum(), real_img, create_graph=True)
    return grad.pow(2).reshape(grad.shape[0], -1).sum(1).mean()


def mixed_latents(G: Generator, batch: int, prob: float, gen: torch.Generator, device) -> torch.Tensor:
    """w+ with style mixing: with probability `prob` the layers from a random cut use a second z."""
    z = torch.randn(2, batch, G.z_dim, generator=gen).to(device)
    w = G.mapping(z.view(-1, G.z_dim)).view(2, batch, -1)
    ws = w[0].unsqueeze(1).repeat(1, G.num_ws, 1)
    if prob > 0 and torch.rand((), generator=gen).item() < prob:
        cut = int(torch.randint(1, G.num_ws, (), generator=gen))
        ws = torch.cat([ws[:, :cut], w[1].unsqueeze(1).expand(-1, G.num_ws - cut, -1)], 1)
    return ws


@torch.no_grad()
def ema_update(g_ema, G, beta: float):
    for pe, p in zip(g_ema.parameters(), G.parameters()):
        pe.lerp_(p.detach(), 1.0 - beta)
    for be, b in zip(g_ema.buffers(), G.buffers()):
        be.copy_(b)


def train_config(ctx) -> dict:
    """TRAIN_DEFAULTS (or the quick config) with the run's ``--set`` options applied and checked."""
    from bench.errors import UserError
    from methods.zoo import component

    options = component("stylegan2").train_options  # what `bench train stylegan2 --set KEY=VALUE` may change
    tcfg = dict(TRAIN_DEFAULTS)
    if ctx.quick:
        tcfg.update(QUICK_TRAIN)
    for key, value in (getattr(ctx, "options", None) or {}).items():
        if key not in options:
            raise UserError(f"stylegan2 has no training option {key!r}; --set accepts {', '.join(options)}")
        want = type(TRAIN_DEFAULTS[key])
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if want is bool:
            if not isinstance(value, bool):
                raise UserError(f"--set {key}={value!r}: expected true or false")
        elif not isinstance(value, want) or isinstance(value, bool):
            raise UserError(f"--set {key}={value!r}: expected a {want.__name__}")
        tcfg[key] = value
    if tcfg["recipe"] not in RECIPES:
        raise UserError(f"--set recipe={tcfg['recipe']!r}: known recipes are {', '.join(RECIPES)}")
    if tcfg["world"] not in (1, 2):
        raise UserError(f"--set world={tcfg['world']!r}: SynthFaces worlds are 1 and 2")
    if tcfg["batch"] < 2 or tcfg["n_train"] < 1:
        raise UserError("--set batch must be >= 2 and n_train >= 1")
    if not (0 < tcfg["lr"] <= 0.1) or not (0 < tcfg["proj_lr"] <= 0.1):
        raise UserError(f"--set lr={tcfg['lr']!r} / proj_lr={tcfg['proj_lr']!r}: expected a learning rate in (0, 0.1] "
                        f"(the recipe's: {TRAIN_DEFAULTS['lr']} / {TRAIN_DEFAULTS['proj_lr']})")
    if tcfg["time_budget_s"] < 0:
        raise UserError(f"--set time_budget_s={tcfg['time_budget_s']!r}: expected seconds >= 0 (0: no budget)")
    if tcfg["init_d_from"] and not tcfg["init_from"]:
        raise UserError("--set init_d_from needs --set init_from (the generator that discriminator judged)")
    if not (0 <= tcfg["recon_weight"] < 100) or not (0 < tcfg["e_lr"] <= 0.1):
        raise UserError(f"--set recon_weight={tcfg['recon_weight']!r} / e_lr={tcfg['e_lr']!r}: expected a weight in "
                        "[0, 100) (0: no encoder trained with the generator) and a learning rate in (0, 0.1]")
    if tcfg["init_e_from"] and not (tcfg["recon_weight"] > 0 and tcfg["init_from"]):
        raise UserError("--set init_e_from needs --set recon_weight > 0 (an encoder trained with the generator) and "
                        "--set init_from (the generator that encoder was trained for)")
    if tcfg["init_d_from"] and tcfg["recipe"] != "stylegan2":
        raise UserError("--set init_d_from continues the residual discriminator of recipe 'stylegan2'; the projected "
                        "discriminator is not exported")
    return tcfg


def resolve_init(tcfg: dict) -> tuple[str, str]:
    """(generator path, discriminator path or '') that ``init_from`` / ``init_d_from`` name.

    ``init_from=shipped`` is the shipped generator; ``init_d_from=paired`` the
    ``stylegan2-discriminator.pt`` beside the chosen generator. The discriminator must be the one
    exported with that generator (its config pins the generator file's SHA-256).
    """
    from bench.errors import UserError
    from bench.provenance import file_digest
    from methods.zoo import init_source, read_checkpoint

    g_path = str(init_source("stylegan2", tcfg["init_from"])) if tcfg["init_from"] else ""
    d_path = tcfg["init_d_from"]
    if not d_path:
        return g_path, ""
    if d_path == "paired":
        d_path = str(Path(g_path).with_name("stylegan2-discriminator.pt"))
    if not Path(d_path).is_file():
        raise UserError(f"--set init_d_from: no discriminator checkpoint at {d_path}")
    if not Path(g_path).is_file():
        raise UserError(f"--set init_from: no generator checkpoint at {g_path}")
    pinned = str(read_checkpoint(Path(d_path), "stylegan2-discriminator")["config"].get("generator_sha256", ""))
    digest = file_digest(g_path)
    if pinned != digest:
        raise UserError(f"--set init_d_from={d_path}: that discriminator was trained with generator "
                        f"{pinned[:12] or '(unknown)'}, not with {g_path} ({digest[:12]}); continue a generator "
                        "together with its own discriminator")
    return g_path, d_path


def hinge_d(real_pred, fake_pred):
    return F.relu(1 - real_pred).mean() + F.relu(1 + fake_pred).mean()


def train(ctx) -> None:
    """`bench train stylegan2` (ctx: methods.zoo.TrainContext)."""
    from bench.errors import UserError

    if ctx.device == "cpu":
        threads_from_env()
    elif ctx.device.startswith("cuda"):  # fixed shapes every step: let cuDNN pick its fastest kernels
        torch.backends.cudnn.benchmark = True
    device = torch.device(ctx.device)
    tcfg = train_config(ctx)
    gcfg = normalize_config(QUICK_CONFIG if ctx.quick else EMBEDDED_CONFIG)
    steps = int(ctx.steps or tcfg["steps"])
    batch, res = tcfg["batch"], gcfg["resolution"]
    projected = tcfg["recipe"] == "projected"

    torch.manual_seed(ctx.seed)
    G = Generator(gcfg).to(device)
    g_ema = copy.deepcopy(G).eval().requires_grad_(False)
    b1, b2 = tcfg["betas"]
    if projected:
        from methods.nets.projected_discriminator import ProjectedDiscriminator
        from methods.training.diffaugment import diff_augment

        D = ProjectedDiscriminator(width=tcfg["proj_width"], proj_seed=ctx.seed,
                                   pretrained=not ctx.quick).to(device)
        opt_g = torch.optim.Adam(G.parameters(), lr=tcfg["proj_lr"], betas=(b1, b2))
        opt_d = torch.optim.Adam(D.trainable_parameters(), lr=tcfg["proj_lr"], betas=(b1, b2))
    else:
        D = Discriminator(res, channels=tcfg["d_channels"]).to(device)
        c = tcfg["d_reg_every"] / (tcfg["d_reg_every"] + 1)
        opt_g = torch.optim.Adam(G.parameters(), lr=tcfg["lr"], betas=(b1, b2))
        opt_d = torch.optim.Adam(D.parameters(), lr=tcfg["lr"] * c, betas=(b1 ** c, b2 ** c))
    recon = tcfg["recon_weight"] > 0
    Enc = opt_e = lp = None
    if recon:  # the latent encoder trained with the generator (module doc)
        from methods.nets.latent_encoder import DEFAULT_CONFIG as ENCODER_CONFIG
        from methods.nets.latent_encoder import build as build_encoder

        e_cfg = dict(ENCODER_CONFIG, w_dim=G.w_dim, input_size=res)
        if ctx.quick:
            e_cfg.update(widths=[8, 8, 8, 8, 8], hidden=16)
        Enc = build_encoder(e_cfg).to(device)
        opt_e = torch.optim.Adam([p for p in Enc.parameters() if p.requires_grad], lr=tcfg["e_lr"], betas=(0.9, 0.99))
        if not ctx.quick:  # AlexNet cannot take the 16-px smoke images
            from bench.metrics.perceptual import lpips_model

            lp = lpips_model("alex", str(device))
    gen = torch.Generator().manual_seed(ctx.seed + 1)
    step = 0
    plain_cfg = {k: (list(v) if isinstance(v, tuple) else v) for k, v in tcfg.items()}

    state = ctx.load_state()
    if state is not None:
        saved = state.get("train_config", {})
        # the optimisers' saved state carries its learning rate: a resume with another --set lr would
        # silently keep the old one while the card names the new, so that is another config too
        if (state.get("g_config") != gcfg or state.get("steps_target_batch") != batch
                or saved.get("recipe", "stylegan2") != tcfg["recipe"] or saved.get("world", 1) != tcfg["world"]
                or any(saved.get(k, TRAIN_DEFAULTS[k]) != tcfg[k] for k in ("lr", "proj_lr", "recon_weight", "e_lr"))):
            print(f"[{ctx.name}] resume state {ctx.state_path} is for another config; starting fresh", flush=True)
        else:
            G.load_state_dict(state["G"])
            D.load_state_dict(state["D"])
            g_ema.load_state_dict(state["g_ema"])
            opt_g.load_state_dict(state["opt_g"])
            opt_d.load_state_dict(state["opt_d"])
            if recon:
                Enc.load_state_dict(state["E"])
                opt_e.load_state_dict(state["opt_e"])
            gen.set_state(state["gen_rng"])
            torch.set_rng_state(state["torch_rng"])
            step = int(state["step"])
            ctx.prior_wall_s = float(state["wall_s"])
            ctx.log(event="resumed", step=step, wall_s=round(ctx.prior_wall_s, 1))
    init_record: dict = dict(state.get("init_record") or {}) if state is not None and step > 0 else {}
    if tcfg["init_from"] and not init_record:  # (a resumed run keeps the record of the weights it started from)
        from bench.provenance import file_digest
        from methods.nets.stylegan2 import load_discriminator, load_generator
        from methods.zoo import read_card

        g_path, d_path = resolve_init(tcfg)
        init_record = {"generator": g_path, "generator_sha256": file_digest(g_path)}
        src_card = read_card("stylegan2", Path(g_path).with_suffix(".json"))
        if src_card:
            init_record.update(generator_steps=src_card.get("steps"), generator_command=src_card.get("command"))
            if isinstance(src_card["quality"].get("continued_from"), dict):  # the lineage, back to a fresh start
                init_record["generator_continued_from"] = src_card["quality"]["continued_from"]
        if d_path:
            init_record.update(discriminator=d_path, discriminator_sha256=file_digest(d_path))
        if step == 0:
            src = load_generator(g_path)
            if normalize_config(src.config) != gcfg:
                raise UserError(f"--set init_from={tcfg['init_from']}: that generator's architecture differs from "
                                "the one trained here")
            G.load_state_dict(src.state_dict())
            g_ema.load_state_dict(src.state_dict())
            if d_path:
                src_d = load_discriminator(d_path)
                if src_d.state_dict().keys() != D.state_dict().keys() or any(
                        a.shape != b.shape for a, b in zip(src_d.state_dict().values(), D.state_dict().values())):
                    raise UserError(f"--set init_d_from={d_path}: that discriminator's architecture differs from "
                                    "the one trained here (--set d_channels must match)")
                D.load_state_dict({k: v.float() for k, v in src_d.state_dict().items()})
            if recon and tcfg["init_e_from"]:
                init_record.update(init_encoder(Enc, tcfg["init_e_from"], init_record["generator_sha256"]))
            ctx.log(event="init_from", **{k: v for k, v in init_record.items() if "command" not in k})

    if recon and step == 0 and not (tcfg["init_e_from"] and init_record.get("encoder_sha256")):
        with torch.no_grad():  # a fresh encoder starts at the generator's mean latent
            Enc.w_avg.copy_(G.mean_latent(10000 if not ctx.quick else 64, seed=ctx.seed)[0].to(device))

    def save(final: bool = False):
        extra = {"E": Enc.state_dict(), "opt_e": opt_e.state_dict()} if recon else {}
        ctx.save_state({**extra, "step": step, "G": G.state_dict(), "D": D.state_dict(), "g_ema": g_ema.state_dict(),
                        "opt_g": opt_g.state_dict(), "opt_d": opt_d.state_dict(), "gen_rng": gen.get_state(),
                        "torch_rng": torch.get_rng_state(), "wall_s": ctx.wall_s(), "g_config": gcfg,
                        "train_config": plain_cfg, "steps_target_batch": batch, "final": final,
                        "init_record": init_record})

    def augment(x):
        return diff_augment(x, tcfg["diffaugment"], generator=gen) if projected else x

    data = load_train_images(tcfg["n_train"], res, tcfg["data_style"], tcfg["world"])
    n = data.shape[0]
    ctx.log(event="start", step=step, steps=steps, batch=batch, n_train=n, device=str(device),
            recipe=tcfg["recipe"], world=tcfg["world"],
            g_params=sum(p.numel() for p in G.parameters()),
            d_params=sum(p.numel() for p in D.parameters() if p.requires_grad),
            threads=torch.get_num_threads())
    last: dict = {}
    budget_s, t_invocation = float(tcfg["time_budget_s"]), time.time()
    stopped_by_budget = False
    zero = {"d": 0.0, "g": 0.0, "rec": 0.0, "lw": 0.0, "rp": 0.0, "fp": 0.0, "k": 0}
    last_save, t_log, stats = time.time(), time.time(), dict(zero, r1=0.0)
    while step < steps:
        idx = torch.randint(0, n, (batch,), generator=gen)
        real = to_float(data[idx]).to(device)
        # --- D step
        G.requires_grad_(False)
        if not projected:
            D.requires_grad_(True)
        else:
            D.heads.requires_grad_(True)
        with torch.no_grad():
            fake = G.synthesis(mixed_latents(G, batch, tcfg["mixing"], gen, device),
                               noise=G.make_noise(batch, "random", gen))
        real_pred, fake_pred = D(augment(real)), D(augment(fake))
        d_loss = hinge_d(real_pred, fake_pred) if projected else d_logistic(real_pred, fake_pred)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        if not projected and step % tcfg["d_reg_every"] == 0:
            real.requires_grad_(True)
            r1 = r1_penalty(D(real), real)
            opt_d.zero_grad(set_to_none=True)
            (tcfg["r1_gamma"] / 2 * r1 * tcfg["d_reg_every"]).backward()
            opt_d.step()
            stats["r1"] = float(r1.detach())
        # --- G step
        G.requires_grad_(True)
        D.requires_grad_(False)
        fake = G.synthesis(mixed_latents(G, batch, tcfg["mixing"], gen, device), noise=G.make_noise(batch, "random", gen))
        fake_pred_g = D(augment(fake))
        g_loss = -fake_pred_g.mean() if projected else g_nonsaturating(fake_pred_g)
        total = g_loss
        if recon:
            l_rec, l_w = reconstruction_losses(G, Enc, lp, real.detach(), batch, gen, device)
            total = g_loss + tcfg["recon_weight"] * l_rec + l_w  # (l_w reaches E only: G's samples are detached)
            opt_e.zero_grad(set_to_none=True)
            stats["rec"] += float(l_rec.detach()); stats["lw"] += float(l_w.detach())
        opt_g.zero_grad(set_to_none=True)
        total.backward()
        opt_g.step()
        if recon:
            opt_e.step()
        # --- EMA with ramp-up (half-life ema_kimg thousand images)
        step += 1
        ema_nimg = min(tcfg["ema_kimg"] * 1000, step * batch * tcfg["ema_rampup"])
        ema_update(g_ema, G, 0.5 ** (batch / max(ema_nimg, 1e-8)))
        last = {"d": d_loss.item(), "g": g_loss.item()}
        stats["d"] += last["d"]; stats["g"] += last["g"]; stats["k"] += 1
        stats["rp"] += real_pred.mean().item(); stats["fp"] += fake_pred.mean().item()
        if step % tcfg["log_every"] == 0 or step == steps:
            k = max(stats["k"], 1)
            dt = time.time() - t_log
            rec_log = {"rec_loss": round(stats["rec"] / k, 4), "latent_loss": round(stats["lw"] / k, 5)} if recon else {}
            ctx.log(step=step, d_loss=round(stats["d"] / k, 4), g_loss=round(stats["g"] / k, 4),
                    r1=round(stats["r1"], 4), real_logit=round(stats["rp"] / k, 3), fake_logit=round(stats["fp"] / k, 3),
                    **rec_log, s_per_step=round(dt / k, 3), wall_s=round(ctx.wall_s(), 1))
            t_log, stats = time.time(), dict(zero, r1=stats["r1"])
        if time.time() - last_save > tcfg["save_every_s"]:
            save()
            last_save = time.time()
        if budget_s and time.time() - t_invocation >= budget_s and step < steps:
            stopped_by_budget = True
            ctx.log(event="time_budget_reached", step=step, steps=steps, budget_s=budget_s)
            break
    save(final=not stopped_by_budget)
    if stopped_by_budget:  # the card must name a command that reproduces these weights: the steps reached
        steps = step
        ctx.steps = step
        ctx.options = {k: v for k, v in (getattr(ctx, "options", None) or {}).items() if k != "time_budget_s"}

    with torch.no_grad():
        g_ema.w_avg.copy_(g_ema.mean_latent(10000 if not ctx.quick else 64, seed=ctx.seed)[0])
    # a rerun that resumes at the final step exports without training: no last losses then
    quality = {"final_d_loss": round(last["d"], 4), "final_g_loss": round(last["g"], 4)} if last else {}
    quality.update(recipe=tcfg["recipe"], world=tcfg["world"])
    if init_record:
        quality["continued_from"] = init_record
    if stopped_by_budget:
        quality["stopped_by_time_budget"] = {"budget_s": budget_s, "step": step}
    if not tcfg["report"]:
        quality["report"] = ("not run at export (--set report=false); run python -m "
                             "methods.training.stylegan2_report OUT --ckpt PATH --update-card")
    elif not ctx.quick:
        try:
            from methods.training.stylegan2_report import quality_figures

            quality.update(quality_figures(g_ema.cpu(), out_dir=ctx.work_dir / "report", seed=ctx.seed))
        except Exception as exc:  # the checkpoint is still worth shipping; the report can be rerun
            ctx.log(event="report_failed", error=f"{type(exc).__name__}: {exc}")
            quality["report"] = f"failed ({type(exc).__name__}); rerun python -m methods.training.stylegan2_report"
    data_desc = data_description(tcfg["n_train"], res, tcfg["data_style"], tcfg["world"])
    path = ctx.export(gcfg, g_ema.state_dict(), quality, steps, data_desc, fp16=True)
    ctx.log(event="exported", path=str(path), step=step, wall_s=round(ctx.wall_s(), 1))
    if not projected:
        export_discriminator(ctx, D, path, res, tcfg, steps, data_desc, last)
    if recon:
        export_encoder(ctx, Enc, e_cfg, path, tcfg, steps, data_desc, init_record)


def reconstruction_losses(G, Enc, lp, real, batch: int, gen: torch.Generator, device):
    """(image loss of G(E(x)) on the real batch: MSE + LPIPS-alex, latent loss of E on G's own samples)."""
    rec = G.synthesis(Enc(real), noise="const")
    l_rec = (rec - real).pow(2).mean() + (lp(rec, real).mean() if lp is not None else 0.0)
    with torch.no_grad():
        w = G.mapping(torch.randn(batch, G.z_dim, generator=gen).to(device))
        xs = G.synthesis(w, noise="const")
    return l_rec, F.mse_loss(Enc(xs), w)


def init_encoder(Enc, value: str, generator_sha256: str) -> dict:
    """Load ``init_e_from`` into Enc; refused unless it was trained for the generator the run starts from."""
    from bench.errors import UserError
    from bench.provenance import file_digest
    from methods.zoo import init_source, load_model

    path = init_source("stylegan2-encoder", value)
    if not Path(path).is_file():
        raise UserError(f"--set init_e_from: no latent encoder checkpoint at {path}")
    src = load_model("stylegan2-encoder", path)
    if src.generator_sha256 != generator_sha256:
        raise UserError(f"--set init_e_from={value}: that encoder was trained for generator "
                        f"{src.generator_sha256[:12] or '(unknown)'}, not for the one this run starts from "
                        f"({generator_sha256[:12]}); start from the encoder of that generator or leave init_e_from out")
    mine, theirs = Enc.state_dict(), src.state_dict()
    if mine.keys() != theirs.keys() or any(mine[k].shape != theirs[k].shape for k in mine):
        raise UserError(f"--set init_e_from={value}: that encoder's architecture differs from the one trained here")
    Enc.load_state_dict({k: v.float() for k, v in theirs.items()})
    return {"encoder": str(path), "encoder_sha256": file_digest(path)}


def export_encoder(ctx, Enc, e_cfg: dict, g_path, tcfg: dict, steps: int, data_desc: str, init_record: dict):
    """Write the encoder trained with the generator beside it as zoo component ``stylegan2-encoder``, pinned to
    the exported generator file's SHA-256, with held-out figures the training never optimised (LPIPS-vgg, PSNR of
    G(E(x)) on the first 256 test-split images)."""
    import numpy as np

    from bench.provenance import file_digest
    from methods.zoo import base_card, save_checkpoint

    digest = file_digest(g_path)
    Enc = Enc.cpu().eval()
    config = dict(e_cfg, generator_sha256=digest)  # (trained beside the raw G; pinned to its exported EMA)
    quality = {"generator_sha256": digest, "trained_with_generator": True,
               "recon_weight": tcfg["recon_weight"], "e_lr": tcfg["e_lr"]}
    if init_record.get("encoder_sha256"):
        quality["continued_from"] = {k: init_record[k] for k in ("encoder", "encoder_sha256")}
    if not ctx.quick:
        from bench.metrics.perceptual import lpips_distance
        from bench.metrics.pixel import psnr
        from methods.editing.inversion import to_uint8
        from methods.nets.stylegan2 import load_generator
        from methods.training.stylegan2_report import synthfaces

        G = load_generator(g_path).eval()
        test = synthfaces("test", 256, G.resolution, tcfg["world"])["images"][:256]
        with torch.no_grad():
            rec = to_uint8(G.synthesis(Enc.encode(test), noise="const"))
        quality.update(heldout_n=int(len(test)), heldout_psnr_db=round(float(np.mean(psnr(test, rec))), 2),
                       heldout_lpips_vgg=round(float(np.mean(lpips_distance(test, rec, net="vgg", device="cpu"))), 4))
    card = base_card("stylegan2-encoder", config, ctx.seed, steps, ctx.wall_s(), ctx.device,
                     data_desc + "; the encoder trained with the generator (recon_weight "
                     f"{tcfg['recon_weight']})", quality, ctx.command())
    e_path = g_path.with_name("stylegan2-encoder.pt")
    save_checkpoint(e_path, "stylegan2-encoder", config, Enc.state_dict(), card, fp16=True)
    ctx.log(event="exported", path=str(e_path), generator_sha256=digest[:12])


def export_discriminator(ctx, D, g_path, res: int, tcfg: dict, steps: int, data_desc: str, last: dict):
    """Write the discriminator beside the generator as zoo component ``stylegan2-discriminator``
    (the field functions' -D loss needs the D that was trained with this G); its config and card
    carry the generator file's SHA-256."""
    from bench.provenance import file_digest
    from methods.zoo import base_card, save_checkpoint

    digest = file_digest(g_path)
    config = {"resolution": res, "channels": dict(tcfg["d_channels"]), "generator_sha256": digest}
    quality = {"generator_sha256": digest, "recipe": tcfg["recipe"], "world": tcfg["world"]}
    if last:
        quality["final_d_loss"] = round(last["d"], 4)
    card = base_card("stylegan2-discriminator", config, ctx.seed, steps, ctx.wall_s(), ctx.device, data_desc,
                     quality, ctx.command())
    d_path = g_path.with_name("stylegan2-discriminator.pt")
    save_checkpoint(d_path, "stylegan2-discriminator", config, D.state_dict(), card, fp16=True)
    ctx.log(event="exported", path=str(d_path), generator_sha256=digest[:12])
