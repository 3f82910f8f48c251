"""``bench continuous [--attribute Smiling] [--n 16] [--offsets 1,2,3,2,1] --out DIR``: the conference
paper's continuous-editing experiment (Fig. 3d/e) on the shipped networks.

Several rounds of editing one attribute of SynthFaces test faces, the expected degree set directly
each round, along two paths (``methods.editing.continuous``): the semantic method's (the latent is
edited round after round) and a data-oriented receiver's (every round re-inverts the previous round's
image). Writes ``DIR/continuous.json`` (one row per path and round: ID score, attribute-preservation
cross-entropy, judged-at-target, P-at-target, trials) and ``DIR/continuous.png`` (the two scores per
round, both paths). Scores come from the independent judge and the identity embedder, never P.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

from bench.errors import UserError


def add_parser(sub) -> None:
    s = sub.add_parser("continuous", help="continuous editing (conference Fig. 3d/e): rounds of editing one "
                                          "attribute, latent path vs image path, ID and attribute-preservation "
                                          "scores per round")
    s.add_argument("--attribute", default="Smiling", help="Bangs, Eyeglasses, Beard, Smiling or Young (default "
                                                          "Smiling)")
    s.add_argument("--n", type=int, default=16, help="test faces (default 16)")
    s.add_argument("--offsets", default="1,2,3,2,1",
                   help="per round, the target degree as an offset from P's reading of the original (default "
                        "1,2,3,2,1)")
    s.add_argument("--r-inv", type=int, default=110, help="inversion steps per inversion (default 110)")
    s.add_argument("--max-trials", type=int, default=20)
    s.add_argument("--out", required=True, metavar="DIR")
    s.set_defaults(fn=run)


def _offsets(text: str) -> list[int]:
    try:
        vals = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UserError(f"--offsets must be comma-separated integers, e.g. 1,2,3,2,1 (got {text!r})") from None
    if not vals or any(abs(v) > 5 for v in vals):
        raise UserError(f"--offsets needs 1 or more offsets in -5..5 (got {text!r})")
    return vals


def run(args) -> int:
    from datasets.synthfaces import ATTRIBUTES

    names = {a.lower(): i for i, a in enumerate(ATTRIBUTES)}
    if args.attribute.lower() not in names:
        raise UserError(f"--attribute must be one of {', '.join(ATTRIBUTES)} (got {args.attribute!r})")
    if not 1 <= args.n <= 1000:
        raise UserError(f"--n must be 1..1000 (got {args.n})")
    if not 0 <= args.r_inv <= 10000 or not 0 <= args.max_trials <= 1000:
        raise UserError("--r-inv must be 0..10000 and --max-trials 0..1000")
    offsets = _offsets(args.offsets)
    attribute = names[args.attribute.lower()]

    import numpy as np
    import torch

    from datasets.synthfaces.dataset import SynthFaces
    from methods.editing.continuous import PATHS, continuous_editing
    from methods.editing.inversion import InversionConfig
    from methods.nets.attribute_judge import load_judge
    from methods.nets.attribute_predictor import load_predictor
    from methods.nets.field_function import load_fields_for
    from methods.nets.identity_embedder import load_embedder
    from methods.nets.latent_encoder import load_encoder_for
    from methods.nets.stylegan2 import load_generator

    torch.set_num_threads(max(1, min(torch.get_num_threads(), 4)))
    G, P, M, J, E = load_generator(), load_predictor(), load_fields_for(), load_judge(), load_embedder()
    enc = load_encoder_for()
    items = list(SynthFaces(split="test").items(args.n, size=G.resolution))
    images = np.stack([it.image for it in items])
    truth = np.stack([np.asarray(it.labels["attributes"], np.int64) for it in items])
    cfg = InversionConfig(steps=args.r_inv, init="encoder")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for path in PATHS:
        t0 = time.perf_counter()
        got = continuous_editing(G, P, M, J, E, images, attribute, offsets, path=path, invert_config=cfg,
                                 encoder=enc, max_trials=args.max_trials, truth=truth)
        for r in got:
            r["wall_s"] = round(time.perf_counter() - t0, 1)
        rows += got
    record = {"attribute": ATTRIBUTES[attribute], "n": len(items), "offsets": offsets, "r_inv": args.r_inv,
              "max_trials": args.max_trials, "dataset": "synthfaces:split=test", "rows": rows}
    (out / "continuous.json").write_text(json.dumps(record, indent=1))
    _plot(rows, out / "continuous.png", ATTRIBUTES[attribute])
    for r in rows:
        print(f"{r['path']:<6} round {r['round']}: ID score {r['id_score']:.3f}  attr-preservation CE "
              f"{r['attr_preservation_ce']:.3f}  judged at target {r['judged_at_target']:.2f}")
    print(f"-> {out / 'continuous.json'}, {out / 'continuous.png'}")
    return 0


def _plot(rows, dest: Path, attribute: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
    for ax, key, title in ((axes[0], "id_score", "ID score (1 - cos), lower is better"),
                           (axes[1], "attr_preservation_ce", "attribute preservation CE, lower is better")):
        for path, style in (("latent", "o-"), ("image", "s--")):
            pts = [(r["round"], r[key]) for r in rows if r["path"] == path]
            ax.plot(*zip(*pts), style, label=f"{path} path")
        ax.set_xlabel("editing round")
        ax.set_title(title, fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(f"continuous editing of {attribute} (conference Fig. 3d/e)", fontsize=10)
    fig.tight_layout()
    fig.savefig(dest, dpi=120)
    plt.close(fig)
