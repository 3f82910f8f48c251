"""Trainer of the field functions (``bench train field-functions [--set generator=PATH]``; the
network is ``methods.nets.field_function``).

Against the shipped generator G (or ``--set generator=PATH``), the discriminator trained with it
(``stylegan2-discriminator``, refused unless it names G's SHA-256), the attribute predictor P and the
identity embedder F. Every step draws latents w = mapping(z); P reads G(w) (degrees a); each row
gets one attribute i (the batch covers the five evenly) and a feasible direction d (+1 or -1 at
random, the only one possible at 0 or 5), and the expected degrees are a with a_i + d (eq. 12's
one-hot b). One step of eq. (11), w' = w + d·M_i(w), is decoded and scored by eq. (15):

    lambda_pred · mean_j CE(P(G(w'))_j, b_j)        (12)  all five attributes, so the others stay
  + lambda_id   · |F(G(w')) - F(G(w))|_1 (mean)     (13)  F: the embedder's pre-normalisation features
  + lambda_disc · softplus(-D(G(w')))               (14)  the non-saturating form of -D

with Talk2Edit's weights (1, 5, 1). Training both directions makes the "symmetrical" d = -1 of the
paper a trained behaviour instead of an assumption. Held-out figures (other z seeds) are read by the
attribute *judge* J, never by P: one step's exact success, the other attributes unchanged, identity
verified; and the steps-per-degree that ``matching=False`` uses.
"""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from methods.nets.field_function import ATTRIBUTES, DEFAULT_CONFIG, build
from methods.training.face_nets import cosine_lr, set_threads, threads_from_env
from methods.zoo import TrainContext

WEIGHTS = {"pred": 1.0, "id": 5.0, "disc": 1.0}  # Talk2Edit's lambda_pred, lambda_id (arcface_weight), lambda_disc
BATCH = 40  # 8 rows per attribute
LR = 1e-3


def _models(ctx: TrainContext):
    """(G, D, P, E, digest): the frozen networks the fields are trained against."""
    if ctx.quick:
        from methods.nets.attribute_predictor import build as build_p
        from methods.nets.identity_embedder import build as build_e
        from methods.nets.stylegan2 import Discriminator, Generator

        torch.manual_seed(0)
        G = Generator({"resolution": 32, "z_dim": 16, "w_dim": 16, "n_mlp": 2,
                       "channels": {4: 16, 8: 16, 16: 8, 32: 8}})
        D = Discriminator(32, channels={"4": 16, "8": 16, "16": 8, "32": 8})
        P = build_p({"widths": [8, 8, 8, 8, 8], "hidden": 16, "input_size": 64, "mouth_widths": [8, 8, 8]})
        E = build_e({"widths": [8, 8, 8, 8, 8], "dim": 16, "reduce": 8})
        return G, D, P, E, "quick-random-generator"
    from methods.nets.attribute_predictor import load_predictor
    from methods.nets.identity_embedder import load_embedder
    from methods.nets.latent_encoder import generator_digest
    from methods.nets.stylegan2 import load_discriminator, load_generator

    gen_path = ctx.options.get("generator")
    G, digest = load_generator(gen_path), generator_digest(gen_path)
    D = load_discriminator()
    if D.generator_sha256 != digest:
        from bench.errors import UserError

        raise UserError(f"the shipped stylegan2-discriminator was trained with generator {D.generator_sha256[:12]}, "
                        f"not {digest[:12]}: ship the discriminator exported with this generator "
                        "('bench zoo ship stylegan2-discriminator --from ...')")
    return G, D, load_predictor(), load_embedder(), digest


def _draw(ctx, G, P, gen: torch.Generator, n: int, pool: torch.Tensor | None = None):
    """Latents, images, P's degrees, per-row attribute and feasible direction, expected degrees.
    ``pool``: draw the latents from these (encoded faces) instead of mapping(z)."""
    with torch.no_grad():
        if pool is None:
            w = G.mapping(torch.randn(n, G.z_dim, generator=gen))
        else:
            w = pool[torch.randint(len(pool), (n,), generator=gen)]
        x0 = G.synthesis(w, noise="const")
        deg = P(x0).argmax(-1)  # (n, 5)
    attr = torch.arange(n) % len(ATTRIBUTES)
    cur = deg[torch.arange(n), attr]
    d = torch.where(torch.rand(n, generator=gen) < 0.5, 1, -1)
    d = torch.where(cur == 0, 1, torch.where(cur == 5, -1, d))
    target = deg.clone()
    target[torch.arange(n), attr] = cur + d
    return w, x0, deg, attr, d, target


def _snr_list(raw) -> list[float]:
    from bench.options import snr_list_option

    return [] if raw in (None, "") else snr_list_option(raw, "field-functions snrs")


ID_VIEWS = ("tta", "single")
LATENTS = ("samples", "encoded")
N_POOL = 8000  # train faces encoded for --set latents=encoded
N_HELDOUT_ENCODED = 400  # test faces encoded for the held-out figures on real-image latents


@torch.no_grad()
def encoded_faces(split: str, n: int, generator_path=None) -> torch.Tensor:
    """W of the first n SynthFaces `split` faces (world 2, 64 px) by the latent encoder pinned to the
    generator: the latents an editor meets after inverting a photo (the encoder starts every
    inversion), not the ones the mapping network draws."""
    from methods.nets.latent_encoder import load_encoder_for
    from methods.training.stylegan2_report import synthfaces

    enc = load_encoder_for(generator_path)
    return enc.encode(synthfaces(split, n, 64)["images"])


def identity_loss_embedder(E, views: str):
    """The embedder eq. (13) reads: ``tta`` as it verifies (the image, its mirror and 1-px moves averaged:
    ten passes of the shipped embedder, each back-propagated), ``single`` one pass over the aligned image
    (Talk2Edit's ArcFace term reads one view; several times cheaper). Held-out figures always use E as
    shipped."""
    import copy

    from bench.errors import UserError

    if views not in ID_VIEWS:
        raise UserError(f"--set id_views={views!r}: expected one of {', '.join(ID_VIEWS)}")
    if views == "tta" or not (getattr(E, "flip_average", False) or getattr(E, "shift_average", 0.0)):
        return E
    single = copy.copy(E)  # shares the weights; only the test-time averaging is off
    single.flip_average, single.shift_average = False, 0.0
    return single


def train(ctx: TrainContext, default_snrs: str | None = None, default_init: str | None = None) -> None:
    """``--set snrs=12,18``: JECC training (journal Sec. IV-B): the edited latent goes through the
    channel (power normalisation, AWGN at an SNR drawn per row from the list, the receiver's rescaling;
    ``methods.nets.channel_adapter.LatentLink``) and eq. (12)-(14) are computed on the *received* image.
    ``--set init_from=PATH``: start from trained fields (their config is kept)."""
    set_threads()
    threads_from_env()  # an explicit thread count wins (a dedicated machine)
    snrs = _snr_list(ctx.options.get("snrs", default_snrs))
    init_from = ctx.options.get("init_from", default_init)
    latents = str(ctx.options.get("latents", "samples"))
    weights = dict(WEIGHTS)
    if "id_weight" in ctx.options:  # lambda_id: Talk2Edit's 5 was set for ArcFace on its 128-px faces
        from bench.options import float_option

        weights["id"] = float_option(ctx.options["id_weight"], f"{ctx.name} --set id_weight", lo=0,
                                     note=" (default 5)")
    if latents not in LATENTS:
        from bench.errors import UserError

        raise UserError(f"--set latents={latents!r}: expected one of {', '.join(LATENTS)}")
    G, D, P, E, digest = _models(ctx)
    for m in (G, D, P, E):
        m.eval().requires_grad_(False)
    E_loss = identity_loss_embedder(E, ctx.options.get("id_views", "tta"))
    pool = None
    if latents == "encoded":
        if ctx.quick:  # the quick generator has no encoder: latents of its own, off the mapping's distribution
            with torch.no_grad():
                pool = G.mapping(torch.randn(64, G.z_dim, generator=torch.Generator().manual_seed(5))) * 1.5
        else:
            pool = encoded_faces("train", N_POOL, ctx.options.get("generator"))
        ctx.log(event="latent_pool", n=len(pool), source="encoded train faces" if not ctx.quick else "quick")
    config = dict(DEFAULT_CONFIG, w_dim=G.w_dim, generator_sha256=digest)
    calibrate = str(ctx.options.get("calibrate", "true")).lower() not in ("0", "false", "no") and not (
        init_from and not ctx.quick)  # trained fields bring their own directions and step lengths
    n_cal = 60 if ctx.quick else 3000
    with torch.no_grad():
        ws = G.mapping(torch.randn(n_cal, G.z_dim, generator=torch.Generator().manual_seed(ctx.seed + 7)))
    # (with latents=encoded the calibration still reads mapping samples: on the encoder's latents, which
    # cluster closer to w_avg (spread 5.4 vs 8.2), the least-squares directions did not move P at all:
    # responses -0.09 ... 0 at every step length)
    spread = float((ws - ws.mean(0)).norm(dim=1).mean())
    # fixed step length: a quarter of the latents' mean distance from their mean
    config["step_norm"] = round(spread / 4, 4)
    dirs = None
    if calibrate:  # per-attribute base direction and step length from P's linear response (see calibrate())
        dirs, norms, response = calibrate_steps(G, P, ws, spread)
        config.update(base_directions=True, step_norms=[round(v, 4) for v in norms])
        ctx.log(event="calibrate", spread=round(spread, 4), step_norms=config["step_norms"], response=response)
    if ctx.quick:
        config.update(hidden=16, layers=3)
    steps = ctx.steps or (3 if ctx.quick else 1500)
    batch = 10 if ctx.quick else BATCH
    torch.manual_seed(ctx.seed)
    start = init_digest = None
    if init_from and not ctx.quick:
        from methods.nets.field_function import NAME, field_component_of, load_fields_for
        from methods.zoo import init_source, read_checkpoint

        src = init_source(NAME, init_from)
        kind = NAME if init_from == "shipped" else field_component_of(src)
        start = load_fields_for(generator_path=ctx.options.get("generator"), fields_path=src, name=kind)
        config = dict(read_checkpoint(src, kind)["config"], generator_sha256=digest)
        from bench.provenance import file_digest

        init_digest = file_digest(src)  # "shipped" names whatever was shipped then: the card keeps which
    M = build(config)
    if start is not None:
        M.load_state_dict(start.state_dict())
        ctx.log(event="init_from", path=str(init_from), step_norms=config.get("step_norms"))
    elif dirs is not None:
        with torch.no_grad():
            M.base.copy_(dirs)
    link = None
    if snrs:
        from methods.nets.channel_adapter import LatentLink

        link = LatentLink.for_generator(G)
        config["training_snrs"] = list(snrs)
    opt = torch.optim.Adam(M.parameters(), lr=LR)
    gen = torch.Generator().manual_seed(ctx.seed + 11)
    ctx.log(event="start", steps=steps, batch=batch, generator_sha256=digest, weights=weights,
            params=sum(p.numel() for p in M.parameters()))
    t0, acc = time.time(), {"pred": 0.0, "id": 0.0, "disc": 0.0, "hit": 0.0, "k": 0}
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = cosine_lr(step, steps, LR, warmup=min(100, steps // 10 + 1))
        w, x0, _deg, attr, d, target = _draw(ctx, G, P, gen, batch, pool)
        with torch.no_grad():
            f0 = E_loss.features(x0)
        w1 = M.step(w, attr, d)
        if link is not None:  # through the channel at one of the training SNRs per row
            from channels.analog.torch_view import awgn

            snr_rows = torch.tensor(snrs)[torch.randint(len(snrs), (batch,), generator=gen)]
            w1 = link.decode(awgn(link.encode(w1), snr_rows, generator=gen))
        x1 = G.synthesis(w1, noise="const")
        logits = P(x1)
        l_pred = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))
        l_id = (E_loss.features(x1) - f0).abs().mean()
        l_disc = F.softplus(-D(x1)).mean()
        loss = weights["pred"] * l_pred + weights["id"] * l_id + weights["disc"] * l_disc
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        hit = (logits.detach().argmax(-1)[torch.arange(batch), attr] == target[torch.arange(batch), attr]).float().mean()
        for k, v in (("pred", l_pred), ("id", l_id), ("disc", l_disc), ("hit", hit)):
            acc[k] += float(v.detach())
        acc["k"] += 1
        if (step + 1) % 50 == 0 or step + 1 == steps:
            k = acc["k"]
            ctx.log(step=step + 1, **{f"loss_{n}": round(acc[n] / k, 4) for n in ("pred", "id", "disc")},
                    p_one_step_hit=round(acc["hit"] / k, 4), s_per_step=round((time.time() - t0) / k, 3),
                    wall_s=round(ctx.wall_s(), 1))
            t0, acc = time.time(), {"pred": 0.0, "id": 0.0, "disc": 0.0, "hit": 0.0, "k": 0}
    M.eval()
    quality = {"generator_sha256": digest, "weights": weights}
    if not ctx.quick:
        quality["teachers_sha256"] = teacher_digests()
    if snrs:
        quality["training_snrs"] = snrs
    if init_from:
        quality["init_from"] = str(init_from)
        if init_digest:
            quality["init_from_sha256"] = init_digest
    quality["latents"] = latents
    if not ctx.quick:
        quality.update(evaluate(G, P, M, seed=ctx.seed + 1000))
        # the same figures on encoded held-out test faces: where an editor of photos works
        test_pool = encoded_faces("test", N_HELDOUT_ENCODED, ctx.options.get("generator"))
        q = evaluate(G, P, M, n=N_HELDOUT_ENCODED, seed=ctx.seed + 1000, pool=test_pool)
        quality.update({f"encoded_test_{k}": v for k, v in q.items()})
        for snr in snrs:
            q = evaluate(G, P, M, seed=ctx.seed + 1000, snr=snr)
            quality[f"judge_one_step_exact_at_{snr:g}dB"] = q["judge_one_step_exact"]
            quality[f"judge_others_unchanged_at_{snr:g}dB"] = q["judge_others_unchanged"]
    ctx.log(event="eval", **{k: v for k, v in quality.items() if not isinstance(v, dict)})
    source = ("latents w = mapping(z) of the generator named by generator_sha256 (fresh z every step)"
              if pool is None else f"latents w = the latent encoder's W of the first {len(pool)} SynthFaces world-2 "
              "train faces (the encoder pinned to the generator named by generator_sha256)")
    path = ctx.export(config, M.state_dict(), quality, steps, source + "; labels from the attribute predictor P on G(w)")
    ctx.log(event="export", path=str(path))


@torch.no_grad()
def calibrate_steps(G, P, ws: torch.Tensor, spread: float, scales=(0.0625, 0.125, 0.25, 0.5, 1.0, 1.5)):
    """Per attribute: the unit least-squares direction of P's degrees over W (InterFaceGAN's linear
    direction, fitted on the latents ``ws``) and the step length along it that moves P's reading by one
    degree on average (interpolated over ``scales`` x the latents' spread; capped at the largest).
    Returns (directions (A, w_dim), lengths, {attribute: [mean change per scale]})."""
    degs = []
    for i in range(0, len(ws), 200):
        degs.append(P(G.synthesis(ws[i:i + 200], noise="const")).argmax(-1).float())
    deg = torch.cat(degs)
    X = torch.cat([ws - ws.mean(0), torch.ones(len(ws), 1)], 1)
    sol = torch.linalg.lstsq(X, deg - deg.mean(0)).solution[:-1]  # (w_dim, A)
    dirs = torch.nn.functional.normalize(sol.T, dim=-1)
    norms, response = [], {}
    probe = ws[:200]
    for a, name in enumerate(ATTRIBUTES):
        rows = deg[:200, a] <= 4  # latents that can still go up
        w0 = probe[rows]
        d0 = deg[:200][rows, a]
        moves = []
        for s in scales:
            d1 = P(G.synthesis(w0 + s * spread * dirs[a], noise="const")).argmax(-1)[:, a].float()
            moves.append(float((d1 - d0).mean()))
        response[name] = [round(m, 3) for m in moves]
        length = scales[-1]
        prev_s, prev_m = 0.0, 0.0
        for s, m in zip(scales, moves):
            if m >= 1.0:
                length = prev_s + (s - prev_s) * (1.0 - prev_m) / max(m - prev_m, 1e-6)
                break
            prev_s, prev_m = s, m
        norms.append(length * spread)
    return dirs, norms, response


def teacher_digests() -> dict[str, str]:
    """SHA-256 of the shipped networks whose losses train the fields (P for eq. 12, the embedder for
    eq. 13; the discriminator of eq. 14 is pinned to the generator), and of the judge and embedder
    that measure the card's figures: provenance for a field trained with one embedder and measured
    with another."""
    from bench.provenance import file_digest
    from methods.zoo import weights_path

    return {name: file_digest(weights_path(name)) for name in ("attribute-predictor", "identity-embedder",
                                                                "attribute-judge")}


@torch.no_grad()
def evaluate(G, P, M, n: int = 400, seed: int = 1000, snr: float | None = None,
             pool: torch.Tensor | None = None) -> dict:
    """Held-out (other z) figures of one field step, read by the judge J (never P) and the embedder;
    with ``snr``, the edited latent is received through the channel first (JECC); with ``pool``
    (n held-out latents, e.g. encoded test faces) on those latents, each once, instead of samples."""
    from methods.nets.attribute_judge import load_judge
    from methods.nets.identity_embedder import load_embedder

    J, E = load_judge(), load_embedder()
    gen = torch.Generator().manual_seed(seed)
    if pool is not None:
        pool = pool[:n]
        n = len(pool)
        w, x0, _deg, attr, d, _target = _draw(None, G, P, gen, n, pool)
        w = pool  # every held-out face once (the draw above fixes the attribute and direction per row)
        with torch.no_grad():
            x0 = G.synthesis(w, noise="const")
            deg = P(x0).argmax(-1)
        cur = deg[torch.arange(n), attr]
        d = torch.where(cur == 0, 1, torch.where(cur == 5, -1, d))
    else:
        w, x0, _deg, attr, d, _target = _draw(None, G, P, gen, n)
    w1 = M.step(w, attr, d)
    if snr is not None:
        from channels.analog.torch_view import awgn
        from methods.nets.channel_adapter import LatentLink

        link = LatentLink.for_generator(G)
        w1 = link.decode(awgn(link.encode(w1), snr, generator=torch.Generator().manual_seed(seed + 1)))
    x1 = G.synthesis(w1, noise="const")
    j0, j1 = J.predict(x0), J.predict(x1)
    rows = np.arange(n)
    a, dd = attr.numpy(), d.numpy()
    want = j0[rows, a] + dd
    others = np.ones_like(j0, bool)
    others[rows, a] = False
    q = {"heldout_n": n,
         "judge_one_step_exact": round(float((j1[rows, a] == want).mean()), 4),
         "judge_one_step_moved_right_way": round(float(((j1[rows, a] - j0[rows, a]) * dd > 0).mean()), 4),
         "judge_others_unchanged": round(float((j1[others] == j0[others]).mean()), 4),
         "identity_verified": round(float(np.mean(E.same_person(x0, x1))), 4)}
    for i, name in enumerate(ATTRIBUTES):
        sel = a == i
        q[f"judge_one_step_exact_{name.lower()}"] = round(float((j1[rows[sel], i] == want[sel]).mean()), 4)
    return q
