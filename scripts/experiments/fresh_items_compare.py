"""Two latent-editor chains on the same test edit items, paired per item (the staged chain's ship decision,
docs/prior-v2-recipes.md). One process per chain, one thread each::

    OMP_NUM_THREADS=1 python scripts/experiments/fresh_items_compare.py run --fields FF --n 200 --out DIR
    OMP_NUM_THREADS=1 EDITSC_WEIGHTS=OTHER python scripts/experiments/fresh_items_compare.py run --fields FF2 \
        --n 200 --out DIR2
    python scripts/experiments/fresh_items_compare.py compare DIR DIR2 --start 60

``run`` edits the first N items of the SynthFaces test split with the latent editor on a clean link
(``editable-deepsc:adapters=false,norm=sent`` at 60 dB, matching on); rows are resumable in DIR. ``compare``
prints each chain's means over items START.. and the paired difference (second − first) with a bootstrap CI.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

METRICS = ["lpips-vgg", "lpips-alex", "edit-success", "edit-success-1", "others-kept", "identity-verified",
           "id-distance"]
FIGURES = ["edit-success", "edit-success-1", "others-kept", "identity-verified", "lpips-vgg"]


def run(args) -> int:
    from bench.registry import METHODS, load_builtin
    from bench.runner import SweepConfig, run_sweep

    load_builtin()
    extra = f",{args.extra}" if args.extra else ""
    spec = METHODS.create(f"editable-deepsc:adapters=false,norm=sent,fields={args.fields}{extra}").spec
    run_sweep(SweepConfig(methods=[spec], dataset="synthfaces", snrs=[60.0], n=args.n, out=args.out,
                          metrics=METRICS, set_metrics=False, progress=False))
    return 0


def compare(args) -> int:
    from bench.results import load
    from editable_deepsc_targets import boot  # the experiments' paired bootstrap (this folder is on sys.path)

    frames = []
    for d in (args.first, args.second):
        df = load(d)
        df = df[(df.snr == 60.0) & ~df.method.str.contains("matching=false")]  # a dir may hold the ablation too
        if df.method.nunique() != 1:
            print(f"fresh_items_compare: {d}: expected the rows of one method at 60 dB, found "
                  f"{sorted(df.method.unique())}", file=sys.stderr)
            return 2
        idx = df.image_id.str.rsplit("-", n=1).str[1].astype(int)
        frames.append(df[idx >= args.start].set_index("image_id"))
    common = frames[0].index.intersection(frames[1].index)
    if len(common) == 0:
        print(f"fresh_items_compare: {args.first} and {args.second} share no items from {args.start} on",
              file=sys.stderr)
        return 2
    report = {"items": len(common), "start": args.start, "first": str(args.first), "second": str(args.second)}
    for k in FIGURES:
        a = frames[0].loc[common, k].to_numpy(float)
        b = frames[1].loc[common, k].to_numpy(float)
        diff, lo, hi = boot(b - a)
        report[k] = {"first": round(float(a.mean()), 4), "second": round(float(b.mean()), 4),
                     "second_minus_first": round(diff, 4), "ci95": [round(lo, 4), round(hi, 4)]}
    for name, f in (("first", frames[0]), ("second", frames[1])):
        report[f"outcomes_{name}"] = f.loc[common].groupby("outcome").size().to_dict()
    print(json.dumps(report, indent=1))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--fields", required=True)
    r.add_argument("--n", type=int, default=200)
    r.add_argument("--out", required=True)
    r.add_argument("--extra", default="", help="options appended to the spec, e.g. radius=0")
    c = sub.add_parser("compare")
    c.add_argument("first")
    c.add_argument("second")
    c.add_argument("--start", type=int, default=60)
    args = ap.parse_args()
    if getattr(args, "n", 1) < 1 or getattr(args, "start", 0) < 0:
        ap.error("--n must be at least 1 and --start non-negative")
    return run(args) if args.cmd == "run" else compare(args)


if __name__ == "__main__":
    raise SystemExit(main())
