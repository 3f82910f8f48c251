"""Model selection for the instruction encoder on the VALIDATION template families (issue 9).

    .venv/bin/python scripts/experiments/instruction_encoder_validation.py [OUT_DIR]   # ~7-10 min, 1 thread

Trains the encoder exactly as ``bench train instruction-encoder`` does (same vocabulary, options,
steps and seed) but on the *fit* families only (``validation_split()``: the train templates minus
~15% of their families), then scores it on 3000 sentences of the validation families at every
(conf_min, sign_max) of the trainer's grids and picks the parser's thresholds with
``choose_thresholds`` (best exact rate minus 10 x the opposite-way rate, with no more wrong answers
than the rule before issue 9).
Neither the held-out templates nor the independent request set are looked at. The printed
figures go into ``PARSE_THRESHOLDS`` and ``VALIDATION_QUALITY`` of
``methods/training/instruction_encoder.py``.
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(out_dir: str = "runs/experiments/instruction-encoder-validation") -> int:
    import torch

    from datasets.instructions.templates import validation_split
    from methods.nets.instruction_encoder.model import DEFAULT_HYPER
    from methods.training import instruction_encoder as ie

    torch.set_num_threads(1)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    fit_pool, val_pool = validation_split()
    vocab = ie.build_vocab(0, 30000)
    config = dict(DEFAULT_HYPER)
    config["subword_buckets"] = ie.SUBWORD_BUCKETS
    config["vocab"] = vocab
    opts = dict(ie.TRAIN_DEFAULTS)

    def log(**kw):
        print(json.dumps({"t": round(time.time() - t0, 1), **kw}), flush=True)

    log(event="start", fit=len(fit_pool), validation=len(val_pool), vocab=len(vocab))
    model, _ = ie.fit(config, opts, fit_pool, 0, log=log)
    ev = ie.as_shipped(model, config)
    torch.save({"config": config, "model": model.state_dict()}, out / "fit-model.pt")
    rows = ie.threshold_table(ev, val_pool, n=3000)
    best = ie.choose_thresholds(rows)
    fresh = ie.threshold_table(ev, fit_pool, n=1000, seed=777, conf_grid=(best["conf_min"],),
                               sign_grid=(best["sign_max"],))[0]
    result = {"rows": rows, "chosen": best, "fit_fresh_at_chosen": fresh, "wall_s": round(time.time() - t0, 1)}
    (out / "thresholds.json").write_text(json.dumps(result, indent=1))
    for r in rows:
        log(**r)
    log(event="chosen", **best)
    log(event="fit_fresh", **fresh)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(*sys.argv[1:2]))
