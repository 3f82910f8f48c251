"""Quality report of a StyleGAN2 generator (the shipped `stylegan2` zoo component by default).

    python -m methods.training.stylegan2_report OUT_DIR [--ckpt PATH] [--n-fd 2000] [--n-inv 64]

Writes into OUT_DIR:

* ``samples.png``: an 8x8 sheet of seeded samples (truncation 1, const noise);
* ``inversion.png``: held-out SynthFaces test images (odd rows) over their reconstructions;
* ``quality.json``: figures that merge into the checkpoint card's ``quality`` dict:
  FD-VGG16 of ``n_fd`` samples vs the SynthFaces test split, and FD-VGG16 of the same number of
  train vs test images (the floor a perfect generator would reach at this sample size);
  GAN inversion (paper eq. 8-9: W+, 110 Adam steps, lr 0.1, MSE + LPIPS-alex) of ``n_inv``
  held-out test images, in W+ and in W: mean LPIPS-alex / PSNR of the reconstructions (bar: LPIPS <= 0.12), plus
  LPIPS-vgg, which the inversion does not optimise (LPIPS-alex is its loss and so flatters it);
  and, when the zoo's ``attribute-predictor`` / ``identity-embedder`` are shipped, attribute
  coverage of samples; for the reconstructions, the share of (image, attribute) pairs whose
  predicted degree equals the renderer's ground truth (overall and per attribute, next to the
  predictor's own accuracy on the originals, its ceiling) and identity similarity
  (otherwise ``"skipped: not shipped yet"``).
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

LPIPS_BAR = 0.12


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


def synthfaces(split: str, n: int, size: int) -> dict:
    """First n images of a SynthFaces split (photo style) from the on-disk cache."""
    from datasets.synthfaces.cache import build_split_cache, cache_path, load_split_cache

    # reuse a bigger cached prefix when one exists (rendering is deterministic per index)
    for bigger in (n, 3000, 30000, 50000):
        if bigger >= n and cache_path(split, bigger, size).exists():
            d = load_split_cache(cache_path(split, bigger, size))
            return {k: (v[:n] if getattr(v, "ndim", 0) >= 1 else v) for k, v in d.items()}
    return load_split_cache(build_split_cache(split, n, size))


def _zoo_model(name: str):
    """The shipped zoo model `name`, or None when it is not shipped (or not importable)."""
    from methods.zoo import weights_path

    if not weights_path(name).exists():
        return None
    if name == "attribute-predictor":
        from methods.nets.attribute_predictor import load_predictor

        return load_predictor()
    from methods.nets.identity_embedder import load_embedder

    return load_embedder()


def attribute_figures(P, samples: np.ndarray, test: np.ndarray) -> dict:
    """Coverage of attribute degrees in samples vs test images (predicted by P)."""
    from datasets.synthfaces import ATTRIBUTES

    ps, pt = P.predict(samples), P.predict(test)
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


def quality_figures(G, out_dir=None, seed: int = 0, n_fd: int = 2000, n_inv: int = 64, inv_batch: int = 8,
                    inv_steps: int = 110, spaces=("w+", "w"), log=print) -> dict:
    """All report figures for generator G (see module doc); writes sheets/JSON when out_dir is set."""
    from bench.metrics.distribution import distances_from_features
    from bench.metrics.features import feature_space
    from bench.metrics.pixel import psnr
    from methods.editing.inversion import InversionConfig, invert_batched, to_uint8

    t0 = time.time()
    G = G.eval()
    res = G.resolution
    out_dir = Path(out_dir) if out_dir is not None else None
    q: dict = {}
    samples = sample_images(G, max(n_fd, 64), seed=seed)
    if out_dir is not None:
        save_sheet(samples[:64], out_dir / "samples.png")
        q["sample_sheet"] = str(out_dir / "samples.png")

    test = synthfaces("test", max(n_fd, n_inv), res)
    train = synthfaces("train", n_fd, res)
    space = feature_space("vgg16", "cpu", batch_size=50)
    log(f"[report] FD-VGG16 on {n_fd} images per set ...")
    f_s, f_te, f_tr = (space.features(x) for x in (samples[:n_fd], test["images"][:n_fd], train["images"][:n_fd]))
    q["fd_vgg16_samples_vs_test"] = round(float(distances_from_features(f_s, f_te, "FD", "KD")["FD"]), 3)
    q["fd_vgg16_train_vs_test"] = round(float(distances_from_features(f_tr, f_te, "FD", "KD")["FD"]), 3)
    q["fd_n"] = int(n_fd)

    from bench.metrics.perceptual import lpips_distance

    targets = test["images"][:n_inv]
    from datasets.synthfaces import ATTRIBUTES

    recs = {}
    for space in spaces:  # W+ (num_ws x w_dim reals) and W (w_dim reals: the 128-d CBR of the paper)
        tag = "inversion" if space == "w+" else f"inversion_{space}"
        log(f"[report] inverting {n_inv} held-out test images in {space.upper()} ({inv_steps} steps, "
            f"batch {inv_batch}) ...")
        cfg = InversionConfig(steps=inv_steps, seed=seed, space=space)
        t_inv = time.time()
        inv = invert_batched(G, targets, batch_size=inv_batch, config=cfg)
        q[f"{tag}_s_per_image"] = round((time.time() - t_inv) / n_inv, 3)
        r = to_uint8(inv.images)
        lp = lpips_distance(targets, r, net="alex", device="cpu")  # on the uint8 images actually sent
        q[f"{tag}_lpips_alex"] = round(float(np.mean(lp)), 4)
        q[f"{tag}_lpips_alex_max"] = round(float(np.max(lp)), 4)
        # LPIPS-alex is the optimised loss, so it flatters the reconstructions; LPIPS-vgg is not optimised
        q[f"{tag}_lpips_vgg"] = round(float(np.mean(lpips_distance(targets, r, net="vgg", device="cpu"))), 4)
        q[f"{tag}_psnr_db"] = round(float(np.mean(psnr(targets, r))), 2)
        q[f"{tag}_latent_reals"] = int(inv.latents[0].numel())
        q[f"{tag}_meets_lpips_bar"] = bool(q[f"{tag}_lpips_alex"] <= LPIPS_BAR)
        q[f"{tag}_setup"] = (f"{space.upper()} from w_avg, Adam lr {cfg.lr}, {cfg.steps} steps, "
                             f"{cfg.lambda_mse}*MSE + LPIPS-{cfg.lpips_net}")
        if out_dir is not None:
            k = min(32, n_inv)
            pairs = np.concatenate([np.stack([targets[i:i + 8], r[i:i + 8]]) for i in range(0, k, 8)])
            sheet = out_dir / ("inversion.png" if space == "w+" else f"inversion_{space}.png")
            save_sheet(pairs.reshape(-1, res, res, 3), sheet)
            q[f"{tag}_sheet"] = str(sheet)
        recs[tag] = r
    q["inversion_lpips_bar"] = LPIPS_BAR
    q["inversion_n"] = int(n_inv)

    rec = recs.get("inversion", next(iter(recs.values()), None))  # W+ reconstructions lead
    P = _zoo_model("attribute-predictor")
    if P is None:
        q["attributes"] = "skipped: not shipped yet"
    else:
        q.update(attribute_figures(P, samples[:n_fd], test["images"][:n_fd]))
        truth = np.asarray(test["attributes"][:n_inv], np.int64)  # the renderer's exact degrees
        q["inversion_attr_reference_exact"] = round(float((P.predict(targets) == truth).mean()), 4)  # P's ceiling
        for tag, r in recs.items():
            pr = P.predict(r)
            q[f"{tag}_attr_exact"] = round(float((pr == truth).mean()), 4)
            q[f"{tag}_attr_within1"] = round(float((np.abs(pr - truth) <= 1).mean()), 4)
            for i, name in enumerate(ATTRIBUTES):
                q[f"{tag}_attr_{name.lower()}_exact"] = round(float((pr[:, i] == truth[:, i]).mean()), 4)
    E = _zoo_model("identity-embedder")
    if E is None or rec is None:
        q["identity"] = "skipped: not shipped yet"
    else:
        cos = E.cosine(targets, rec).cpu().numpy()
        q["inversion_identity_cosine"] = round(float(cos.mean()), 4)
        q["inversion_identity_same_rate"] = round(float(np.mean(E.same_person(targets, rec))), 4)
    q["report_s"] = round(time.time() - t0, 1)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "quality.json").write_text(json.dumps(q, indent=2, sort_keys=True) + "\n")
    return q


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
        q = quality_figures(G, args.out_dir, seed=args.seed, n_fd=args.n_fd, n_inv=args.n_inv,
                            inv_batch=args.inv_batch)
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
        card.setdefault("quality", {}).update(q)
        write_card(card_path("stylegan2"), card)
    return 0


if __name__ == "__main__":
    sys.exit(main())
