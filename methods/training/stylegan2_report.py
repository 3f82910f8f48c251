"""Quality report of a StyleGAN2 generator (the shipped `stylegan2` zoo component by default).

    python -m methods.training.stylegan2_report OUT_DIR [--ckpt PATH] [--n-fd 2000] [--n-inv 64]

Every figure is measured on held-out SynthFaces *test* identities (world ``world``) with something
the training and the inversion never optimised (issue 10): the inversion's loss is MSE +
LPIPS-alex, so reconstructions are scored by LPIPS-vgg and PSNR; attribute degrees are read by the
independent attribute *judge* (never by P, which the editors steer with) and compared with the
renderer's exact degrees; identity by the identity embedder's same-person decision. Writes:

* ``samples.png``: an 8x8 sheet of seeded samples (truncation 1, const noise);
* ``inversion_w.png`` / ``inversion_wplus.png``: test images (odd rows) over reconstructions;
* ``nonfaces.png``: non-face photographs (scikit-image's cat, coffee cup, rocket, ...) over their
  inversions: a prior that knows faces must reconstruct these visibly worse;
* ``quality.json``: figures that merge into the checkpoint card's ``quality`` dict:
  FD-VGG16 of ``n_fd`` samples vs the test split next to the train-vs-test floor (same n);
  per latent space (``inversion_w``: the 128 reals Editable-DeepSC sends; ``inversion_wplus``)
  LPIPS-vgg, PSNR, the judge's exact / within-1 agreement with the ground truth (overall and per
  attribute, beside the judge's own accuracy on the originals, its ceiling), identity verified
  rate and cosine, seconds per image; an ``r_inv`` sweep (LPIPS-vgg and PSNR after 70 ... 150
  steps); the non-face figures; and ``targets``: each of issue 10's bars with whether it is met.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch



def save_sheet(images: np.ndarray, path: Path, cols: int = 8) -> Path:
    from PIL import Image

    n, h, w, _ = images.shape
    rows = (n + cols - 1) // cols
    sheet = np.full((rows * h, cols * w, 3), 255, np.uint8)
    for i, im in enumerate(images):
        r, c = divmod(i, cols)
        sheet[r * h:(r + 1) * h, c * w:(c + 1) * w] = im
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(path)
    return path


@torch.no_grad()
def sample_images(G, n: int, seed: int = 0, batch: int = 100, truncation: float = 1.0) -> np.ndarray:
    from methods.editing.inversion import to_uint8

    gen = torch.Generator().manual_seed(seed)
    z = torch.randn(n, G.z_dim, generator=gen)
    out = [to_uint8(G(z[i:i + batch].to(G.w_avg.device), truncation=truncation, noise="const"))
           for i in range(0, n, batch)]
    return np.concatenate(out)


# issue 10's bars (test split, W latent, default r_inv)
TARGETS = {"attr_exact": 0.85, "attr_min_exact": 0.75, "attr_within1": 0.98, "identity_verified": 0.90,
           "lpips_vgg": 0.15, "psnr_db": 26.0, "fd_ratio": 5.0}
R_INV_SWEEP = (70, 90, 110, 130, 150)
NONFACES = ("chelsea", "coffee", "rocket", "camera", "immunohistochemistry", "hubble_deep_field", "colorwheel",
            "brick")


def synthfaces(split: str, n: int, size: int, world: int = 2) -> dict:
    """First n images of a SynthFaces split (photo style, world `world`) from the on-disk cache."""
    from datasets.synthfaces.cache import build_split_cache, cache_path, load_split_cache

    # reuse a bigger cached prefix when one exists (rendering is deterministic per index)
    requests = split != "train"
    for bigger in (n, 3000, 30000, 50000):
        if bigger >= n and cache_path(split, bigger, size, world=world, requests=requests).exists():
            d = load_split_cache(cache_path(split, bigger, size, world=world, requests=requests))
            return {k: (v[:n] if getattr(v, "ndim", 0) >= 1 else v) for k, v in d.items()}
    return load_split_cache(build_split_cache(split, n, size, world=world, requests=requests))


def nonface_images(size: int) -> tuple[np.ndarray, list[str]]:
    """Non-face photographs bundled with scikit-image (no download), centre-cropped, at `size`."""
    from PIL import Image

    try:
        import skimage.data as data
    except ImportError:
        return np.zeros((0, size, size, 3), np.uint8), []
    out, names = [], []
    for name in NONFACES:
        try:
            img = np.asarray(getattr(data, name)())
        except Exception:  # noqa: BLE001 - a missing sample image is simply left out
            continue
        if img.ndim == 2:
            img = np.stack([img] * 3, -1)
        img = img[..., :3]
        if img.dtype != np.uint8:
            img = (255 * (img - img.min()) / max(float(img.max() - img.min()), 1e-8)).astype(np.uint8)
        h, w = img.shape[:2]
        s = min(h, w)
        crop = Image.fromarray(img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s])
        out.append(np.asarray(crop.resize((size, size), Image.LANCZOS), np.uint8))
        names.append(name)
    return np.stack(out), names


def _zoo_model(name: str):
    """The shipped zoo model `name`, or None when it is not shipped."""
    from methods.zoo import load_model, weights_path

    if not weights_path(name).exists():
        return None
    return load_model(name)


def attribute_figures(J, samples: np.ndarray, test: np.ndarray) -> dict:
    """Coverage of attribute degrees in samples vs test images (read by the judge J)."""
    from datasets.synthfaces import ATTRIBUTES

    ps, pt = J.predict(samples), J.predict(test)
    q, tvs = {}, []
    for i, name in enumerate(ATTRIBUTES):
        hs = np.bincount(ps[:, i], minlength=6)[:6] / len(ps)
        ht = np.bincount(pt[:, i], minlength=6)[:6] / len(pt)
        tv = 0.5 * float(np.abs(hs - ht).sum())
        tvs.append(tv)
        q[f"samples_attr_{name.lower()}_tv"] = round(tv, 4)
        q[f"samples_attr_{name.lower()}_levels"] = int((hs >= 0.005).sum())
    q["samples_attr_mean_tv"] = round(float(np.mean(tvs)), 4)
    q["samples_attr_levels_covered"] = f"{sum(q[f'samples_attr_{n.lower()}_levels'] for n in ATTRIBUTES)}/" \
                                       f"{6 * len(ATTRIBUTES)}"
    return q


def _reconstruction_figures(tag: str, targets: np.ndarray, rec: np.ndarray, truth, J, E) -> dict:
    from bench.metrics.perceptual import lpips_distance
    from bench.metrics.pixel import psnr
    from datasets.synthfaces import ATTRIBUTES

    q = {f"{tag}_lpips_vgg": round(float(np.mean(lpips_distance(targets, rec, net="vgg", device="cpu"))), 4),
         f"{tag}_lpips_alex_optimised": round(float(np.mean(lpips_distance(targets, rec, net="alex",
                                                                           device="cpu"))), 4),
         f"{tag}_psnr_db": round(float(np.mean(psnr(targets, rec))), 2)}
    if J is not None and truth is not None:
        pr = J.predict(rec)
        q[f"{tag}_attr_exact"] = round(float((pr == truth).mean()), 4)
        q[f"{tag}_attr_within1"] = round(float((np.abs(pr - truth) <= 1).mean()), 4)
        for i, name in enumerate(ATTRIBUTES):
            q[f"{tag}_attr_{name.lower()}_exact"] = round(float((pr[:, i] == truth[:, i]).mean()), 4)
        q[f"{tag}_attr_min_exact"] = min(q[f"{tag}_attr_{n.lower()}_exact"] for n in ATTRIBUTES)
    if E is not None:
        q[f"{tag}_identity_cosine"] = round(float(E.cosine(targets, rec).cpu().numpy().mean()), 4)
        q[f"{tag}_identity_verified"] = round(float(np.mean(E.same_person(targets, rec))), 4)
    return q


def quality_figures(G, out_dir=None, seed: int = 0, n_fd: int = 2000, n_inv: int = 64, inv_batch: int = 8,
                    inv_steps: int = 110, spaces=("w", "w+"), world: int = 2, init: str = "auto", encoder=None,
                    sweep: bool = True, log=print) -> dict:
    """All report figures for generator G (see module doc); writes sheets/JSON when out_dir is set.

    init: 'auto' starts from `encoder` when one is given, else from the mean latent."""
    from bench.metrics.distribution import distances_from_features
    from bench.metrics.features import feature_space
    from methods.editing.inversion import InversionConfig, invert_batched, to_uint8

    t0 = time.time()
    G = G.eval()
    res = G.resolution
    out_dir = Path(out_dir) if out_dir is not None else None
    init = ("encoder" if encoder is not None else "mean") if init == "auto" else init
    q: dict = {"report_world": int(world), "inversion_init": init}
    samples = sample_images(G, max(n_fd, 64), seed=seed)
    if out_dir is not None:
        save_sheet(samples[:64], out_dir / "samples.png")
        q["sample_sheet"] = str(out_dir / "samples.png")

    test = synthfaces("test", max(n_fd, n_inv), res, world)
    train = synthfaces("train", n_fd, res, world)
    space = feature_space("vgg16", "cpu", batch_size=50)
    log(f"[report] FD-VGG16 on {n_fd} images per set ...")
    f_s, f_te, f_tr = (space.features(x) for x in (samples[:n_fd], test["images"][:n_fd], train["images"][:n_fd]))
    q["fd_vgg16_samples_vs_test"] = round(float(distances_from_features(f_s, f_te, "FD", "KD")["FD"]), 3)
    q["fd_vgg16_train_vs_test"] = round(float(distances_from_features(f_tr, f_te, "FD", "KD")["FD"]), 3)
    q["fd_ratio_to_floor"] = round(q["fd_vgg16_samples_vs_test"] / max(q["fd_vgg16_train_vs_test"], 1e-9), 2)
    q["fd_n"] = int(n_fd)

    J, E = _zoo_model("attribute-judge"), _zoo_model("identity-embedder")
    targets = test["images"][:n_inv]
    truth = np.asarray(test["attributes"][:n_inv], np.int64)  # the renderer's exact degrees
    if J is None:
        q["attributes"] = "skipped: the attribute judge is not shipped"
    else:
        q.update(attribute_figures(J, samples[:n_fd], test["images"][:n_fd]))
        q["judge_reference_exact"] = round(float((J.predict(targets) == truth).mean()), 4)  # the judge's ceiling
    if E is None:
        q["identity"] = "skipped: the identity embedder is not shipped"

    for sp in spaces:  # W (w_dim reals: the 128-d CBR of the paper) and W+ (num_ws x w_dim reals)
        tag = "inversion_w" if sp == "w" else "inversion_wplus"
        log(f"[report] inverting {n_inv} held-out test images in {sp.upper()} ({inv_steps} steps, init {init}, "
            f"batch {inv_batch}) ...")
        cfg = InversionConfig(steps=inv_steps, seed=seed, space=sp, init=init)
        t_inv = time.time()
        inv = invert_batched(G, targets, batch_size=inv_batch, config=cfg, encoder=encoder)
        q[f"{tag}_s_per_image"] = round((time.time() - t_inv) / n_inv, 3)
        r = to_uint8(inv.images)
        q.update(_reconstruction_figures(tag, targets, r, truth if J is not None else None, J, E))
        q[f"{tag}_latent_reals"] = int(inv.latents[0].numel())
        q[f"{tag}_setup"] = (f"{sp.upper()} from {init}, Adam lr {cfg.lr}, {cfg.steps} steps, "
                             f"{cfg.lambda_mse}*MSE + LPIPS-{cfg.lpips_net}")
        if out_dir is not None:
            k = min(32, n_inv)
            pairs = np.concatenate([np.stack([targets[i:i + 8], r[i:i + 8]]) for i in range(0, k, 8)])
            sheet = out_dir / f"{tag}.png"
            save_sheet(pairs.reshape(-1, res, res, 3), sheet)
            q[f"{tag}_sheet"] = str(sheet)
    q["inversion_n"] = int(n_inv)
    if init == "encoder" and "w" in spaces:  # what the encoder start buys: the same inversion from the mean latent
        cfg = InversionConfig(steps=inv_steps, seed=seed, space="w", init="mean")
        t_inv = time.time()
        r = to_uint8(invert_batched(G, targets, batch_size=inv_batch, config=cfg).images)
        q["inversion_w_from_mean_s_per_image"] = round((time.time() - t_inv) / n_inv, 3)
        q.update(_reconstruction_figures("inversion_w_from_mean", targets, r, truth if J is not None else None, J, E))
        with torch.no_grad():  # and the encoder alone, without any optimisation
            r0 = to_uint8(G.synthesis(encoder.encode(targets), noise="const"))
        q.update(_reconstruction_figures("encoder_only_w", targets, r0, truth if J is not None else None, J, E))

    if sweep and "w" in spaces:  # r_inv sweep (paper Table III range) in W on the first 16 images
        from bench.metrics.perceptual import lpips_distance
        from bench.metrics.pixel import psnr

        m = min(16, n_inv)
        snaps: dict[int, torch.Tensor] = {}

        def keep(step, lat, loss):
            if step + 1 in R_INV_SWEEP:
                snaps[step + 1] = lat.clone()

        from methods.editing.inversion import invert

        cfg = InversionConfig(steps=max(R_INV_SWEEP), seed=seed, space="w", init=init)
        invert(G, targets[:m], cfg, callback=keep, encoder=encoder)
        for r_inv, lat in sorted(snaps.items()):
            with torch.no_grad():
                rr = to_uint8(G.synthesis(lat, noise="const"))
            q[f"r_inv_{r_inv}_lpips_vgg"] = round(float(np.mean(lpips_distance(targets[:m], rr, net="vgg",
                                                                               device="cpu"))), 4)
            q[f"r_inv_{r_inv}_psnr_db"] = round(float(np.mean(psnr(targets[:m], rr))), 2)

    nonfaces, names = nonface_images(res)
    if len(nonfaces):
        log(f"[report] inverting {len(nonfaces)} non-face images in W ...")
        cfg = InversionConfig(steps=inv_steps, seed=seed, space="w", init=init)
        r = to_uint8(invert_batched(G, nonfaces, batch_size=inv_batch, config=cfg, encoder=encoder).images)
        q.update(_reconstruction_figures("nonface_w", nonfaces, r, None, None, None))
        q["nonface_images"] = ", ".join(names)
        if out_dir is not None:
            save_sheet(np.concatenate([nonfaces, r]), out_dir / "nonfaces.png", cols=len(nonfaces))
            q["nonface_sheet"] = str(out_dir / "nonfaces.png")
    else:
        q["nonface"] = "skipped: scikit-image is not installed"

    w = "inversion_w"
    checks = {"fd_ratio": ("fd_ratio_to_floor", "<="), "lpips_vgg": (f"{w}_lpips_vgg", "<="),
              "psnr_db": (f"{w}_psnr_db", ">="), "attr_exact": (f"{w}_attr_exact", ">="),
              "attr_min_exact": (f"{w}_attr_min_exact", ">="), "attr_within1": (f"{w}_attr_within1", ">="),
              "identity_verified": (f"{w}_identity_verified", ">=")}
    met = {}
    for bar, (key, op) in checks.items():
        if key in q:
            met[bar] = bool(q[key] <= TARGETS[bar] if op == "<=" else q[key] >= TARGETS[bar])
    q["targets"] = {k: {"bar": TARGETS[k], "met": v} for k, v in met.items()}
    q["targets_met"] = f"{sum(met.values())}/{len(met)}"
    q["report_s"] = round(time.time() - t0, 1)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "quality.json").write_text(json.dumps(q, indent=2, sort_keys=True) + "\n")
    return q
GUARD_N_INV, GUARD_N_FD = 8, 256


def guard_figures(G, encoder=None, init: str = "auto", seed: int = 0, world: int = 2) -> dict:
    """Small, exactly repeatable figures the test suite recomputes to guard the shipped generator
    against regression: W inversion (default r_inv) of the first 8 test images — LPIPS-vgg, PSNR,
    judge agreement with ground truth, identity verified — and FD-VGG16 of 256 samples vs 256 test
    images (not comparable with the 2000-image FD: FD is biased by n)."""
    from bench.metrics.distribution import distances_from_features
    from bench.metrics.features import feature_space
    from methods.editing.inversion import InversionConfig, invert_batched, to_uint8

    G = G.eval()
    init = ("encoder" if encoder is not None else "mean") if init == "auto" else init
    test = synthfaces("test", max(GUARD_N_INV, GUARD_N_FD), G.resolution, world)
    targets = test["images"][:GUARD_N_INV]
    truth = np.asarray(test["attributes"][:GUARD_N_INV], np.int64)
    cfg = InversionConfig(space="w", init=init, seed=seed)
    rec = to_uint8(invert_batched(G, targets, batch_size=8, config=cfg, encoder=encoder).images)
    J, E = _zoo_model("attribute-judge"), _zoo_model("identity-embedder")
    q = _reconstruction_figures("guard_inversion_w", targets, rec, truth if J is not None else None, J, E)
    space = feature_space("vgg16", "cpu", batch_size=64)
    f_s = space.features(sample_images(G, GUARD_N_FD, seed=seed))
    f_t = space.features(test["images"][:GUARD_N_FD])
    q["guard_fd_vgg16_256"] = round(float(distances_from_features(f_s, f_t, "FD", "KD")["FD"]), 3)
    q["guard_init"] = init
    return {k: v for k, v in q.items() if not k.endswith("_lpips_alex_optimised")}


def main(argv=None) -> int:
    from bench.errors import UserError

    ap = argparse.ArgumentParser(prog="python -m methods.training.stylegan2_report", description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--ckpt", default=None, help="zoo checkpoint (default: the shipped methods/weights/stylegan2.pt)")
    ap.add_argument("--official", default=None, help="an official rosinality .pt / NVIDIA .pkl instead")
    ap.add_argument("--n-fd", type=int, default=2000)
    ap.add_argument("--n-inv", type=int, default=64)
    ap.add_argument("--inv-batch", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init", default="auto", choices=("auto", "encoder", "mean", "random"),
                    help="inversion start (auto: the shipped latent encoder when it matches the generator)")
    ap.add_argument("--encoder", default=None,
                    help="latent encoder checkpoint for init=encoder (default: the shipped one; it must name the generator)")
    ap.add_argument("--update-card", action="store_true", help="merge the figures into the shipped card's quality")
    args = ap.parse_args(argv)
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    try:
        if args.official:
            from methods.nets.stylegan2.official import load_official

            G = load_official(args.official)
        else:
            from methods.nets.stylegan2 import load_generator

            G = load_generator(args.ckpt)
        encoder = None
        if args.init in ("auto", "encoder") and not args.official:
            from bench.commands.invert import resolve_init

            _, encoder = resolve_init(args.init, args.ckpt, args.encoder)
        q = quality_figures(G, args.out_dir, seed=args.seed, n_fd=args.n_fd, n_inv=args.n_inv,
                            inv_batch=args.inv_batch, init=args.init, encoder=encoder)
        q.update(guard_figures(G, encoder, args.init, seed=args.seed))
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(q, indent=2, sort_keys=True))
    if args.update_card:
        from methods.zoo import card_path, read_card, write_card

        card = read_card("stylegan2")
        if card is None:
            print("no shipped card to update", file=sys.stderr)
            return 2
        card.setdefault("quality", {}).pop("report", None)  # the "report not run yet" note
        card["quality"].update(q)
        write_card(card_path("stylegan2"), card)
    return 0


if __name__ == "__main__":
    sys.exit(main())
