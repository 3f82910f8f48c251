"""Trainer of the identity embedder (``bench train identity-embedder``; the network is
``methods.nets.identity_embedder``).

Every SynthFaces world-2 train identity is rendered K times, each view with its own random degrees
and nuisance (backdrop, clothing, pose, lighting), plus a look-alike that differs from view 0 only
in 3 face-geometry factors (``methods.training.world_data.identity_views``). A batch holds B
identities x 2 views and their B look-alikes (random mirroring, light augmentation); the loss is a
symmetric InfoNCE in which every other view and every look-alike is a negative, so the embedding
must ignore nuisance and degrees yet see face geometry. Beside it, linear heads on the normalised
embedding classify every identity factor the world defines (17 geometry factors, face type, skin,
hair colour and style, eye and lip colour; not the parting side, which a mirror swaps) for views and
look-alikes alike (weight ``FACTOR_WEIGHT``): a dense, nuisance-free teaching signal that says *what*
makes two faces different people, which contrastive pairs alone only hint at. The heads are training
scaffolding; the shipped network is the embedder alone. The same-person threshold is the equal-error
threshold on a hard mixed pair set of calibration identities, and the card holds the probes
(``methods.nets.identity_probes``) measured on other held-out identities.

``--set lookalikes=fresh`` renders new look-alikes every step, one under each view's degrees and
nuisance; ``--set geometry_weight=W`` counts the geometry factors' cross-entropy W times.
``--set init_from=shipped|PATH`` starts from trained embedder weights of the same shape and runs the
schedule again (a warm restart); the card records the file's digest (``init_from_sha256``).
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from methods.nets.face_nets import param_count
from methods.nets.identity_embedder import DEFAULT_CONFIG, build, compose_pose, evaluate
from methods.training.face_nets import (TrainProgress, augment, cosine_lr, resume_training, set_threads,
                                        threads_from_env)
from methods.zoo import TrainContext

FACTOR_WEIGHT = 1.0  # weight of the mean factor cross-entropy beside the InfoNCE loss
FACTOR_SCALE = 16.0  # logit scale of the factor heads on the unit-norm embedding
SHIFT_PX = 3.0  # augmentation shift range (x strength 0.7: +-2.1 px)
ALIGN_SHIFT_PX = 6.0  # with an aligner the jitter may be wider (+-4.2 px): the aligner must find the face
ALIGN_WEIGHT = 1.0  # weight of the aligner's pose regression (MSE in POSE_UNITS)
LOOKALIKE_MODES = ("fixed", "fresh")
ALIGN_DEFAULT = {"crop": 0.85}  # --set align=1: the FaceAligner with the world's head-turn constants
# --set degrade=strong: the softness and compression a received image shows at the benchmark's
# operating points (JPEG near quality 10 at 64 px, DeepSC blur), so a degraded copy stays the same person
DEGRADE = {"standard": {}, "strong": {"jpeg_p": 0.4, "jpeg_min_quality": 6, "soft_p": 0.5, "blur_max": 1.8,
                                      "soft_min_frac": 0.35}}


# ----------------------------------------------------------------------------- data

def _data(ctx: TrainContext) -> dict:
    """World ``WORLD``: train identities x K views (each its own degrees and nuisance) plus one
    look-alike per identity; held-out test identities x 2 views for the plain verification figures."""
    from methods.training.world_data import WORLD, identity_view_factors, identity_view_poses, identity_views

    if ctx.quick:
        tr = identity_views("train", 24, 2, 64, seed=ctx.seed, cache=False)
        te = identity_views("test", 24, 2, 64, seed=1, start=2000, cache=False)
        return {"train": tr["images"], "lookalikes": tr["lookalikes"], "test": te["images"],
                "plan": {"split": "train", "k": 2, "seed": ctx.seed},
                "factors": identity_view_factors("train", 24, 2, seed=ctx.seed),
                "test_factors": identity_view_factors("test", 24, 2, seed=1, start=2000),
                "poses": identity_view_poses("train", 24, 2, seed=ctx.seed),
                "test_poses": identity_view_poses("test", 24, 2, seed=1, start=2000),
                "desc": "quick smoke data (24 train / 24 test identities x 2)"}
    n_id, k, n_test = 8000, 4, 1500
    ctx.log(event="data", msg=f"rendering/reading {n_id} world-{WORLD} train identities x {k} views + look-alikes")
    tr = identity_views("train", n_id, k, 64, seed=0)
    te = identity_views("test", n_test, 2, 64, seed=1, start=2000)
    return {"train": tr["images"], "lookalikes": tr["lookalikes"], "test": te["images"],
            "plan": {"split": "train", "k": k, "seed": 0},
            "factors": identity_view_factors("train", n_id, k, seed=0),
            "test_factors": identity_view_factors("test", n_test, 2, seed=1, start=2000),
            "poses": identity_view_poses("train", n_id, k, seed=0),
            "test_poses": identity_view_poses("test", n_test, 2, seed=1, start=2000),
            "desc": (f"SynthFaces world {WORLD} train identities 0..{n_id - 1}, each rendered {k}x with its own uniform "
                     f"degrees and nuisance (backdrop, clothing, pose, lighting), plus a look-alike (3 face-geometry "
                     f"factors changed) under view 0's degrees and nuisance as a hard negative, with every identity "
                     f"factor (geometry and appearance but the parting side) as auxiliary labels; 64 px, seed 0. "
                     f"Held-out: test identities 2000..{2000 + n_test - 1} x 2 views (plain verification); probes "
                     "on test identities 500..1499, threshold calibrated on 0..499 "
                     "(methods.nets.identity_probes)")}


def _fresh_lookalikes(plan: dict, ids: np.ndarray, views: list[np.ndarray], rng: np.random.Generator,
                      size: int) -> tuple[np.ndarray, np.ndarray]:
    """New look-alikes (3 geometry factors changed, drawn by ``rng``) of train identities ``ids``, one per
    view index array in ``views``, each rendered under that view's own degrees and nuisance (the draws
    ``identity_views`` used for it): images (len(views) * B, size, size, 3), factor labels (same rows, F)."""
    from datasets.synthfaces.v2 import lookalike, render
    from methods.training.world_data import factor_labels, view_plan

    plans = [view_plan(plan["split"], int(i), plan["k"], plan["seed"])[:2] for i in ids]  # (identity, views)
    imgs, labels = [], []
    for vs in views:
        for (ident, view_draws), v in zip(plans, vs):
            twin = lookalike(ident, 3, rng)
            attrs, nuis = view_draws[int(v)]
            imgs.append(render(twin, attrs, size, "photo", nuis))
            labels.append(factor_labels(twin))
    return np.stack(imgs), np.asarray(labels, np.int64)


def _flip(imgs: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Mirror a random half of the images: identity must not depend on the side the face looks to.
    Returns the images and which were mirrored."""
    out = imgs.copy()
    pick = rng.random(len(imgs)) < 0.5
    out[pick] = out[pick][:, :, ::-1]
    return out, pick


def _flag(ctx: TrainContext, name: str) -> bool:
    """A yes/no training option (--set NAME=1|0|true|false|yes|no; absent: no); anything else is refused."""
    from bench.errors import UserError

    value = str(ctx.options.get(name, "0")).lower()
    if value not in ("1", "true", "yes", "0", "false", "no"):
        raise UserError(f"identity-embedder {name} must be 1/true/yes or 0/false/no, got {value!r}")
    return value in ("1", "true", "yes")


# config keys that decide the network's shape (a warm start must match them; inference-time options such as
# flip/shift averaging and the thresholds may differ)
_SHAPE_KEYS = ("widths", "dim", "reduce", "input_size", "pool", "align")


def _warm_start(model, init_from: str, config: dict) -> str:
    """Load trained embedder weights into `model` (``--set init_from=shipped|PATH``) and return their
    digest for the card. Every option that decides the network's shape must match the checkpoint's;
    the step schedule starts again (a warm restart, Loshchilov & Hutter 2017), and the factor heads,
    which the shipped file does not hold, start fresh."""
    from bench.errors import UserError
    from bench.provenance import file_digest
    from methods.nets.identity_embedder import NAME
    from methods.zoo import init_source, read_checkpoint

    src = init_source(NAME, init_from)
    blob = read_checkpoint(src, NAME)
    mine = dict(DEFAULT_CONFIG, **config)
    theirs = dict(DEFAULT_CONFIG, **blob["config"])
    diff = [f"{k}: file {theirs.get(k)!r} vs this run {mine.get(k)!r}" for k in _SHAPE_KEYS
            if theirs.get(k) != mine.get(k)]
    if diff:
        raise UserError(f"--set init_from={init_from}: {src} is another network shape ({'; '.join(diff)}); "
                        f"pass the same --set options it was trained with (its card's command)")
    model.load_state_dict(blob["state"])
    return file_digest(src)


@torch.no_grad()
def align_report(model, images: np.ndarray, poses: np.ndarray) -> dict:
    """Held-out pose error of the aligner (mean absolute): shift in 64-px pixels, roll in degrees,
    scale in percent, sin(yaw)."""
    import math

    from methods.nets.face_nets import fit_size, to_tensor

    was = model.training
    model.eval()
    dev = model.fc.weight.device
    pred = torch.cat([model.aligner(fit_size(to_tensor(images[i:i + 256], dev), 64)) for i in range(0, len(images), 256)])
    model.train(was)
    err = (pred.cpu() - torch.as_tensor(poses)).abs()
    return {"align_shift_px_mae": round(float(err[:, :2].mean() * 32), 3),
            "align_roll_deg_mae": round(float(err[:, 2].mean() * 180 / math.pi), 3),
            "align_scale_pct_mae": round(float(err[:, 3].mean() * 100), 3),
            "align_sin_yaw_mae": round(float(err[:, 4].mean()), 4)}


def _number(ctx: TrainContext, name: str, default: float, example: str, lo: float, hi: float) -> float:
    """A numeric training option (--set NAME=X) within [lo, hi); anything else is refused."""
    from bench.errors import UserError

    raw = ctx.options.get(name, default)
    try:
        value = float(raw)
    except ValueError:
        raise UserError(f"identity-embedder {name} must be a number ({example}), got {raw!r}") from None
    if not lo <= value < hi:
        span = f">= {lo:g}" if hi == float("inf") else f"in [{lo:g}, {hi:g})"
        raise UserError(f"identity-embedder {name} must be {span}, got {value:g}")
    return value


class VerifyHead(torch.nn.Module):
    """Pairwise verification loss: logistic regression of "same person" on the cosine, with a learned
    scale and threshold, positives and negatives weighted equally (training only)."""

    def __init__(self):
        super().__init__()
        self.log_scale = torch.nn.Parameter(torch.tensor(float(np.log(20.0))))
        self.threshold = torch.nn.Parameter(torch.tensor(0.8))

    def loss(self, pos: torch.Tensor, neg: torch.Tensor) -> torch.Tensor:
        s = self.log_scale.exp()
        return 0.5 * (F.softplus(-s * (pos - self.threshold)).mean() + F.softplus(s * (neg - self.threshold)).mean())


class FactorHeads(torch.nn.Module):
    """One linear classifier per identity factor on the unit-norm embedding (training only)."""

    def __init__(self, dim: int, levels: list[int]):
        super().__init__()
        self.levels = list(levels)
        self.linear = torch.nn.Linear(dim, sum(self.levels))

    def forward(self, z: torch.Tensor) -> list[torch.Tensor]:
        return list(torch.split(FACTOR_SCALE * self.linear(z), self.levels, dim=1))

    def loss(self, z: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        """Mean cross-entropy over the factors, each factor's term times ``weights[j]`` (default 1)."""
        ce = torch.stack([F.cross_entropy(lg, labels[:, j]) for j, lg in enumerate(self(z))])
        return (ce if weights is None else ce * weights).mean()

    @torch.no_grad()
    def accuracy(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """(F,) per-factor accuracy."""
        return torch.stack([(lg.argmax(1) == labels[:, j]).float().mean() for j, lg in enumerate(self(z))])


def factor_report(model, heads: FactorHeads, images: np.ndarray, labels: np.ndarray) -> dict:
    """Held-out factor-reading accuracy (how much of the identity the embedding carries linearly)."""
    from datasets.synthfaces.v2.identity import GEOMETRY_FACTORS
    from methods.training.world_data import factor_names

    z = model.embed(images)
    acc = heads.accuracy(z, torch.as_tensor(labels, device=z.device)).cpu().numpy()
    names = [n for n, _ in factor_names()]
    geo = list(range(len(GEOMETRY_FACTORS)))
    return {"factor_acc_geometry_mean": round(float(acc[geo].mean()), 4),
            "factor_acc_geometry_min": round(float(acc[geo].min()), 4),
            "factor_acc_geometry_min_name": names[int(np.argmin(acc[geo]))],
            "factor_acc_appearance_mean": round(float(np.delete(acc, geo).mean()), 4)}


def train(ctx: TrainContext) -> None:
    from methods.nets.identity_probes import calibrate, probe_report
    from methods.training.world_data import factor_names

    from bench.errors import UserError
    from methods.nets.identity_embedder import POOLS

    set_threads()
    threads_from_env()  # an explicit thread count wins (a dedicated machine)
    config = dict(DEFAULT_CONFIG)
    pool = ctx.options.get("pool", config["pool"])  # --set pool=flat|avg|both
    if pool not in POOLS:
        raise UserError(f"identity-embedder pool must be one of {', '.join(POOLS)}, got {pool!r}")
    config["pool"] = pool
    align = _flag(ctx, "align")  # --set align=1
    config["align"] = dict(ALIGN_DEFAULT) if align else None
    # --set flip_average=1: inference embeds the image and its mirror (training is unchanged)
    config["flip_average"] = _flag(ctx, "flip_average")
    # --set shift_average=PX: inference also averages four copies moved PX pixels (training is unchanged;
    # the network refuses a value out of its range when it is built, before any data is read)
    config["shift_average"] = _number(ctx, "shift_average", 0.0, "pixels, such as 1", lo=0.0, hi=float("inf"))
    degrade = str(ctx.options.get("degrade", "standard"))
    if degrade not in DEGRADE:
        raise UserError(f"identity-embedder degrade must be one of {', '.join(DEGRADE)}, got {degrade!r}")
    # --set margin=M: CosFace's additive margin on the positive pair's cosine (Wang et al. 2018), so a
    # partner under another nuisance must beat every negative - the look-alike above all - by M
    margin = _number(ctx, "margin", 0.0, "a cosine margin such as 0.2", lo=0.0, hi=1.0)
    # --set verify=W: a pairwise verification loss (weight W) on the decision the probes score: the
    # two views of a person (other nuisance, other degrees) above a learned threshold, the look-alike
    # below it from both views (its own photo's nuisance and another). InfoNCE ranks each row on its
    # own; the probes use one threshold for every pair, which this loss shapes directly.
    verify = _number(ctx, "verify", 0.0, "a loss weight such as 1", lo=0.0, hi=100.0)
    # --set lookalikes=fresh: every step renders new look-alikes of the batch's identities (3 geometry factors
    # changed, drawn anew) under *both* views' degrees and nuisance, in place of the one fixed look-alike per
    # identity under view 0's: two hard negatives per identity, and never the same one twice
    looks_mode = str(ctx.options.get("lookalikes", "fixed"))
    if looks_mode not in LOOKALIKE_MODES:
        raise UserError(f"identity-embedder lookalikes must be one of {', '.join(LOOKALIKE_MODES)}, got "
                        f"{looks_mode!r}")
    # --set geometry_weight=W: the 17 face-geometry factors' cross-entropy counts W times in the factor loss
    # (the appearance factors' once), so the embedding is pushed harder to carry the geometry a look-alike moves
    geo_weight = _number(ctx, "geometry_weight", 1.0, "a loss weight such as 3", lo=0.0, hi=100.0)
    # --set widths=A,B,C,D,E: the embedder's five stage widths (default 24,32,64,128,192)
    if "widths" in ctx.options:
        try:
            widths = [int(w) for w in str(ctx.options["widths"]).split(",")]
        except ValueError:
            widths = []
        if len(widths) != len(DEFAULT_CONFIG["widths"]) or not all(8 <= w <= 1024 for w in widths):
            raise UserError(f"identity-embedder widths must be {len(DEFAULT_CONFIG['widths'])} comma-separated "
                            f"integers in 8..1024 (default {','.join(map(str, DEFAULT_CONFIG['widths']))}), got "
                            f"{ctx.options['widths']!r}")
        config["widths"] = widths
    init_from = str(ctx.options.get("init_from", ""))  # --set init_from=shipped|PATH: a warm restart
    steps = ctx.steps or (6 if ctx.quick else 900)
    n_ids = 8 if ctx.quick else 40  # identities per batch: 2 views each + their look-alike
    tau = 0.07
    base_lr = 2e-3
    dev = torch.device(ctx.device)
    torch.manual_seed(ctx.seed)
    model = build(config).to(dev)
    init_digest = _warm_start(model, init_from, config) if init_from else None
    heads = FactorHeads(model.dim, [n for _, n in factor_names()]).to(dev)
    # the heads ride along inside the optimised module so resumable state covers them
    both = torch.nn.ModuleDict({"model": model, "heads": heads})
    if verify:  # the verification loss's logit scale and threshold, learned (training only)
        both["verify"] = VerifyHead()
    opt = torch.optim.AdamW(both.parameters(), lr=base_lr, weight_decay=5e-4)
    start = resume_training(ctx, both, opt, steps)
    data = _data(ctx)
    train_views, looks = data["train"], data["lookalikes"]
    id_factors = torch.as_tensor(data["factors"]["identity"], device=dev)
    look_factors = torch.as_tensor(data["factors"]["lookalike"], device=dev)
    n_train, k = train_views.shape[:2]
    poses = torch.as_tensor(data["poses"], device=dev)
    from datasets.synthfaces.v2.identity import GEOMETRY_FACTORS
    factor_w = torch.ones(len(factor_names()), device=dev)
    factor_w[:len(GEOMETRY_FACTORS)] = geo_weight  # factor_names() lists the geometry factors first
    ctx.log(event="start", params=param_count(model), steps=steps, ids_per_batch=n_ids, n_identities=n_train,
            variants=k)
    model.train()
    progress = TrainProgress(ctx, both, opt, steps, "top1")
    for step in range(start, steps):
        rng = np.random.default_rng([ctx.seed, step, 0x1DE])
        torch.manual_seed(ctx.seed * 1_000_003 + step)
        ids = rng.choice(n_train, n_ids, replace=False)
        va = np.zeros(n_ids, np.int64)  # view 0: the one its look-alike copies
        vb = rng.integers(1, k, n_ids) if k > 1 else va
        idx = torch.as_tensor(ids, device=dev)
        if looks_mode == "fresh":
            look_imgs, look_labels = _fresh_lookalikes(data["plan"], ids, [va, vb], np.random.default_rng(
                [ctx.seed, step, 0x1A1]), train_views.shape[2])
            look_ids, look_va = np.concatenate([ids, ids]), np.concatenate([va, vb])
            look_labels = torch.as_tensor(look_labels, device=dev)
        else:
            look_imgs, look_ids, look_va, look_labels = looks[ids], ids, va, look_factors[idx]
        imgs, mirrored = _flip(np.concatenate([train_views[ids, va], train_views[ids, vb], look_imgs]), rng)
        x, (ang, sc, sh) = augment(imgs, rng, strength=0.7, shift_px=ALIGN_SHIFT_PX if align else SHIFT_PX,
                                   return_affine=True, **DEGRADE[degrade])
        x = x.to(dev)
        for g in opt.param_groups:
            g["lr"] = cosine_lr(step, steps, base_lr, warmup=min(100, steps // 10))
        align_loss = None
        if align:
            pose = torch.cat([poses[ids, va], poses[ids, vb], poses[look_ids, look_va]])
            target = compose_pose(pose, ang.to(dev), sc.to(dev), sh.to(dev), torch.as_tensor(mirrored, device=dev))
            pred = model.aligner(x)
            align_loss = F.mse_loss(pred / model.aligner.units, target / model.aligner.units)
            z = model(x, pose=pred.detach())
        else:
            z = model(x)
        za, zb = z[:n_ids], z[n_ids:2 * n_ids]
        # symmetric InfoNCE: each view's positive is its partner; every other view and every
        # look-alike (a different person who shares skin, eyes, hair, degrees and nuisance) is a negative
        target = torch.cat([torch.arange(n_ids, 2 * n_ids), torch.arange(0, n_ids)]).to(dev)
        cos = z[:2 * n_ids] @ z.T
        if margin:
            cos = cos - margin * F.one_hot(target, cos.shape[1]).to(cos.dtype)
        sim = cos / tau
        sim[:, :2 * n_ids] = sim[:, :2 * n_ids].masked_fill(torch.eye(2 * n_ids, dtype=torch.bool, device=dev),
                                                            float("-inf"))
        loss = F.cross_entropy(sim, target)
        labels = torch.cat([id_factors[idx], id_factors[idx], look_labels])
        loss = loss + FACTOR_WEIGHT * heads.loss(z, labels, factor_w)
        if align_loss is not None:
            loss = loss + ALIGN_WEIGHT * align_loss
        if verify:
            zl = z[2 * n_ids:3 * n_ids]  # view 0's look-alike (fixed) or view a's (fresh) ...
            zl_b = z[3 * n_ids:] if looks_mode == "fresh" else zl  # ... and the one view b is set against
            loss = loss + verify * both["verify"].loss((za * zb).sum(1), torch.cat([(za * zl).sum(1),
                                                                                      (zb * zl_b).sum(1)]))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        progress.update(step + 1, loss.detach(),
                        ((za @ zb.T).argmax(1) == torch.arange(n_ids, device=dev)).float().mean())
    model.eval()
    quality = evaluate(model, data["test"])
    quality["params"] = param_count(model)
    quality.update(factor_report(model, heads, data["test"][:, 0], data["test_factors"]["identity"]))
    if align:
        quality.update(align_report(model, data["test"].reshape(-1, *data["test"].shape[2:]),
                                    data["test_poses"].reshape(-1, 5)))
    probe_size = 64
    threshold = calibrate(model, probe_size) if not ctx.quick else quality["threshold_eer"]
    config["threshold_eer"] = float(threshold)  # same_person() default: the hard-set equal-error threshold
    config["threshold_far1"] = quality["threshold_far1"]
    quality["threshold_plain_eer"] = quality["threshold_eer"]  # EER threshold of plain pairs (no look-alikes)
    quality["threshold_eer"] = round(float(threshold), 5)  # the one shipped: EER of the hard mixed set
    if init_from:
        quality.update(init_from=init_from, init_from_sha256=init_digest)
    if not ctx.quick:
        quality.update(probe_report(model, threshold, probe_size))
    ctx.log(event="eval", **quality)
    desc = data["desc"] + ("; look-alikes rendered anew every step (3 geometry factors changed), one under each "
                           "view's degrees and nuisance (--set lookalikes=fresh)" if looks_mode == "fresh" else "")
    path = ctx.export(config, model.state_dict(), quality, steps, desc)
    ctx.log(event="export", path=str(path), size_bytes=path.stat().st_size)
