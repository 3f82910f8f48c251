"""``bench invert IMAGE... --out DIR [--json]``: GAN-invert any images into the shipped generator and
say how much of each face the latent kept.

Each image is centre-cropped to a square and resized (antialiased) to the generator's resolution,
then inverted as Editable-DeepSC's transmitter does (paper eq. 8-9: ``lambda_inv``·MSE + LPIPS,
Adam at ``eta_inv``, ``r_inv`` steps) in the latent the method sends (``--space w``: 128 reals)
from ``--init encoder`` (the shipped latent encoder, when it was trained for this generator),
``mean`` or ``random``. Written per image: ``DIR/<stem>.png`` (original | reconstruction, 4x
nearest-neighbour), and figures measured with what the inversion never optimised:

* ``lpips_vgg`` and ``psnr_db`` of the reconstruction (the loss uses LPIPS-alex);
* ``judged_original`` / ``judged_reconstruction``: the attribute judge's degrees (0-5) of Bangs,
  Eyeglasses, Beard, Smiling, Young, and ``attributes_kept`` (how many agree);
* ``identity_cosine`` and ``identity_verified`` (the identity embedder's same-person decision).

Text output is one line per image; ``--json`` prints one JSON object per image (and a last
``{"summary": ...}`` object). Unreadable inputs are refused before any work, naming each file.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from bench.errors import UserError



def load_image(path: Path, size: int) -> np.ndarray:
    """An image file -> uint8 (size, size, 3) via the datasets' reader (`datasets.image_io.load_rgb`:
    any mode to RGB, EXIF orientation, centre square); a file it cannot use is a UserError."""
    from datasets.image_io import load_rgb

    path = Path(path)
    if path.is_dir():
        raise UserError(f"{path}: is a directory; pass image files")
    if not path.exists():
        raise UserError(f"{path}: no such file")
    img, reason = load_rgb(path, size)
    if img is None:
        raise UserError(f"{path}: {reason}; pass PNG/JPEG/... files")
    return img


def add_parser(sub) -> None:
    s = sub.add_parser("invert", help="GAN-invert images into the shipped generator; write original | reconstruction "
                                      "and what the latent kept (LPIPS-vgg, PSNR, judged attributes, identity)")
    s.add_argument("images", nargs="+", metavar="IMAGE", help="image files (any size; centre-cropped and resized)")
    s.add_argument("--out", required=True, metavar="DIR", help="where the side-by-side PNGs go")
    s.add_argument("--json", action="store_true", help="one JSON object per image on stdout")
    s.add_argument("--space", default="w", choices=("w", "w+"),
                   help="latent optimised: w (128 reals, what Editable-DeepSC sends; default) or w+")
    s.add_argument("--init", default="auto", choices=("auto", "encoder", "mean", "random"),
                   help="start point: the latent encoder (auto: when one is shipped for this generator), "
                        "the mean latent, or a seeded random one")
    s.add_argument("--steps", type=int, default=110, help="r_inv, optimisation steps (paper default 110)")
    s.add_argument("--lr", type=float, default=0.1, help="eta_inv (paper default 0.1)")
    s.add_argument("--batch", type=int, default=8, help="images inverted together (results do not depend on it)")
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(fn=run)


def resolve_init(init: str, generator_path=None, encoder_path=None):
    """(init name, encoder or None); 'auto' picks the encoder when a matching one is shipped. An encoder
    named by `encoder_path` must match the generator (refused, never silently replaced by the mean)."""
    from methods.nets.latent_encoder import load_encoder_for

    if init in ("mean", "random"):
        return init, None
    try:
        return "encoder", load_encoder_for(generator_path, encoder_path)
    except UserError:
        if init == "encoder" or encoder_path:
            raise
        return "mean", None


def invert_report(images: np.ndarray, space: str = "w", init: str = "auto", steps: int = 110, lr: float = 0.1,
                  batch: int = 8, seed: int = 0, G=None, generator_path=None) -> tuple[list[dict], np.ndarray, dict]:
    """Invert uint8 images (N, R, R, 3) -> (per-image figures, reconstructions, setup)."""
    import torch

    from bench.metrics.perceptual import lpips_distance
    from bench.metrics.pixel import psnr
    from methods.editing.inversion import InversionConfig, invert_batched, to_uint8
    from methods.nets.attribute_judge import load_judge
    from methods.nets.identity_embedder import load_embedder
    from methods.nets.stylegan2 import load_generator

    G = G if G is not None else load_generator(generator_path)
    init, encoder = resolve_init(init, generator_path)
    cfg = InversionConfig(steps=steps, lr=lr, space=space, init=init, seed=seed)
    t0 = time.time()
    with torch.inference_mode(False):
        inv = invert_batched(G, images, batch_size=batch, config=cfg, encoder=encoder)
    seconds = time.time() - t0
    rec = to_uint8(inv.images)
    lp = lpips_distance(images, rec, net="vgg", device="cpu")
    ps = psnr(images, rec)
    from datasets.synthfaces import ATTRIBUTES  # the judge's attribute order (imported late: CLI start-up)

    J, E = load_judge(), load_embedder()
    jo, jr = J.predict(images), J.predict(rec)
    cos = E.cosine(images, rec).cpu().numpy()
    same = np.atleast_1d(E.same_person(images, rec))
    rows = []
    for i in range(len(images)):
        rows.append({"lpips_vgg": round(float(lp[i]), 4), "psnr_db": round(float(ps[i]), 2),
                     "judged_original": dict(zip(ATTRIBUTES, map(int, jo[i]))),
                     "judged_reconstruction": dict(zip(ATTRIBUTES, map(int, jr[i]))),
                     "attributes_kept": int((jo[i] == jr[i]).sum()),
                     "identity_cosine": round(float(cos[i]), 4), "identity_verified": bool(same[i])})
    setup = {"space": space, "latent_reals": int(inv.latents[0].numel()), "init": init, "steps": steps, "lr": lr,
             "loss": f"{cfg.lambda_mse}*MSE + LPIPS-{cfg.lpips_net}", "seconds": round(seconds, 2)}
    return rows, rec, setup


def run(args) -> int:
    from PIL import Image

    from methods.nets.stylegan2 import load_generator

    if args.steps < 0:
        raise UserError(f"--steps must be >= 0 (got {args.steps})")
    if args.lr <= 0:
        raise UserError(f"--lr must be > 0 (got {args.lr})")
    if args.batch < 1:
        raise UserError(f"--batch must be >= 1 (got {args.batch})")
    paths = [Path(p) for p in args.images]
    G = load_generator()
    res = G.resolution
    problems, images = [], []
    for p in paths:
        try:
            images.append(load_image(p, res))
        except UserError as exc:
            problems.append(str(exc))
    if problems:
        raise UserError("cannot read every input (nothing was inverted):\n  " + "\n  ".join(problems))
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    rows, rec, setup = invert_report(np.stack(images), args.space, args.init, args.steps, args.lr, args.batch,
                                     args.seed, G=G)
    stems: dict[str, int] = {}
    for p, img, r, row in zip(paths, images, rec, rows):
        stem = p.stem
        stems[stem] = stems.get(stem, 0) + 1
        name = stem if stems[stem] == 1 else f"{stem}-{stems[stem]}"
        side = np.concatenate([img, np.full((res, 2, 3), 255, np.uint8), r], 1)
        dest = out / f"{name}.png"
        Image.fromarray(side).resize((side.shape[1] * 4, side.shape[0] * 4), Image.NEAREST).save(dest)
        row.update(image=str(p), sheet=str(dest))
        if args.json:
            print(json.dumps(row))
        else:
            print(f"{p}: LPIPS-vgg {row['lpips_vgg']:.3f}  PSNR {row['psnr_db']:.1f} dB  attributes kept "
                  f"{row['attributes_kept']}/5  identity {'verified' if row['identity_verified'] else 'NOT verified'} "
                  f"(cos {row['identity_cosine']:.3f})  -> {dest}")
    summary = dict(setup, n=len(rows), mean_lpips_vgg=round(float(np.mean([r["lpips_vgg"] for r in rows])), 4),
                   mean_psnr_db=round(float(np.mean([r["psnr_db"] for r in rows])), 2),
                   identity_verified=round(float(np.mean([r["identity_verified"] for r in rows])), 4))
    if args.json:
        print(json.dumps({"summary": summary}))
    else:
        print(f"{len(rows)} image(s) inverted in {setup['space'].upper()} ({setup['latent_reals']} reals) from "
              f"init={setup['init']}, {setup['steps']} steps, {setup['seconds']} s", file=sys.stderr)
    return 0
