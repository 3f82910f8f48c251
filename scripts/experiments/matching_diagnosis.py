"""Where iterative attribute matching loses the edit, from the rows of a latent-editor sweep on the
SynthFaces test split (docs/latent-editing.md, "Why")::

    python scripts/experiments/matching_diagnosis.py runs/experiments/latent-2026-12-01 [--start 0]

For the matching-on rows it prints how often P, on the inverted image, reads the true degree of the
requested attribute; how often eq. (10)'s expected degree (from P's reading) equals the ground truth's;
and, per outcome, how often the judge reads the ground truth's expected degree in the output (the
row's ``edit-success``). Only P's readings recorded in the rows and the items' labels are used.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--start", type=int, default=0)
    args = ap.parse_args()
    if args.start < 0:
        ap.error("--start must be non-negative")
    import numpy as np

    from bench.results import load
    from datasets.synthfaces import SynthFaces

    df = load(args.out)
    df = df[~df.method.str.contains("matching=false") & df["info.tx.degree_before"].notna()]
    idx = df.image_id.str.rsplit("-", n=1).str[1].astype(int)
    df = df[idx >= args.start]
    ds = SynthFaces(split="test")
    true_before, true_expected = [], []
    for image_id in df.image_id:
        it = ds.item(int(image_id.rsplit("-", 1)[1]), size=16)  # labels only: the smallest render
        a = it.labels["request"]["attribute"]
        true_before.append(it.labels["attributes"][a])
        true_expected.append(it.labels["expected_degree"])
    p_before = df["info.tx.degree_before"].to_numpy(int)
    p_expected = df["info.tx.expected_degree"].to_numpy(int)
    report = {"rows": int(len(df)), "methods": sorted(df.method.unique()),
              "p_reads_true_degree_on_inversion": round(float(np.mean(p_before == np.array(true_before))), 4),
              "expected_degree_equals_ground_truth": round(float(np.mean(p_expected == np.array(true_expected))), 4),
              "by_outcome": {}}
    for outcome, g in df.groupby("outcome"):
        report["by_outcome"][outcome] = {"rows": int(len(g)), "judge_exact": round(float(g["edit-success"].mean()), 4),
                                         "judge_within1": round(float(g["edit-success-1"].mean()), 4)}
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
