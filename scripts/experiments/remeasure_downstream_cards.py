"""Re-measure the cards whose figures an evaluator scores, after the judge, P or the embedder changed.

The generator's card (``stylegan2``: inversion figures read by the judge and the identity embedder)
and the field-function cards (``field-functions``, ``jecc-field-functions``: P draws the held-out
requests, the judge and the embedder score the edits) carry figures measured by networks that are
retrained from time to time. Their own weights do not change, so their figures are re-measured with
the shipped evaluators and the digests of those evaluators are written beside them
(``measured_with_sha256``). What is kept:

* stylegan2: the sample/inversion sheets and the timings (``*_sheet``, ``*_s_per_image``,
  ``report_s``) stay those of the card's first report (sheets do not depend on the evaluators; the
  first report's timings were taken on an idle machine, a re-measure usually is not);
* field functions: ``as_trained`` (the figures at export and the networks they were trained with) and
  ``teachers_sha256`` are left as they are.

    .venv/bin/python scripts/experiments/remeasure_downstream_cards.py WORK_DIR [--only stylegan2|fields]

About 15 minutes on one thread (the generator report inverts 64 test faces twice and computes FD on
2000 samples).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

KEPT_SUFFIXES = ("_sheet", "_s_per_image")


def evaluator_digests() -> dict[str, str]:
    from methods.training.field_functions import teacher_digests

    return teacher_digests()


def remeasure_generator(work: Path) -> dict:
    from methods.training.stylegan2_report import main as report_main
    from methods.zoo import card_path, read_card, write_card

    before = read_card("stylegan2")["quality"]
    t = time.time()
    if report_main([str(work / "stylegan2_report"), "--update-card"]) != 0:
        raise SystemExit("the generator report failed (see above)")
    card = read_card("stylegan2")
    q = card["quality"]
    kept = sorted(k for k in before if k.endswith(KEPT_SUFFIXES) or k == "report_s")
    for k in kept:
        q[k] = before[k]
    digests = evaluator_digests()
    digests.pop("attribute-predictor")  # the generator's figures use the judge and the embedder only
    q["measured_with_sha256"] = digests
    q["measured_with_note"] = (f"judge and embedder figures re-measured {time.strftime('%Y-%m-%d')} with the networks "
                               "named here (scripts/experiments/remeasure_downstream_cards.py); sheets and timings "
                               "are the first report's")
    write_card(card_path("stylegan2"), card)
    return {"kept": kept, "wall_s": round(time.time() - t)}


def remeasure_fields() -> dict:
    import torch

    from methods.nets.attribute_predictor import load_predictor
    from methods.nets.field_function import load_fields_for
    from methods.nets.stylegan2 import load_generator
    from methods.training.field_functions import N_HELDOUT_ENCODED, encoded_faces, evaluate
    from methods.zoo import card_path, read_card, write_card

    torch.set_num_threads(1)
    G, P = load_generator(), load_predictor()
    test_pool = encoded_faces("test", N_HELDOUT_ENCODED)  # held-out test faces as the latent encoder puts them in W
    out = {}
    for name in ("field-functions", "jecc-field-functions"):
        card = read_card(name)
        q = card["quality"]
        M = load_fields_for(name=name).eval()
        new = evaluate(G, P, M, seed=card["seed"] + 1000)
        for snr in q.get("training_snrs", []):
            e = evaluate(G, P, M, seed=card["seed"] + 1000, snr=snr)
            new[f"judge_one_step_exact_at_{snr:g}dB"] = e["judge_one_step_exact"]
            new[f"judge_others_unchanged_at_{snr:g}dB"] = e["judge_others_unchanged"]
        e = evaluate(G, P, M, n=N_HELDOUT_ENCODED, seed=card["seed"] + 1000, pool=test_pool)
        new.update({f"encoded_test_{k}": v for k, v in e.items()})
        out[name] = {k: (q.get(k), v) for k, v in new.items()}
        q.update(new)
        q["measured_with_sha256"] = evaluator_digests()
        write_card(card_path(name), card)
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("work", type=Path)
    ap.add_argument("--only", choices=("stylegan2", "fields"))
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    report = {}
    if args.only in (None, "fields"):
        report["fields"] = remeasure_fields()
    if args.only in (None, "stylegan2"):
        report["stylegan2"] = remeasure_generator(args.work)
    print(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
