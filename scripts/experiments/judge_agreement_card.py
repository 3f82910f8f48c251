"""Re-measure the shipped judge card's agreement with the shipped attribute predictor P.

The judge's card records how often it and P read the same degree on its 3000 held-out test faces
(``agree_p_*``, issue 9's bar: >= 93 %). Training the judge measures it against the P shipped at the
time; when P is retrained, this re-measures it with the judge's weights untouched and records P's
digest beside the figures (``agree_p_measured_with``).

    .venv/bin/python scripts/experiments/judge_agreement_card.py [--dry-run]
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> int:
    import torch

    from methods.nets.attribute_judge import load_judge
    from methods.nets.attribute_predictor import load_predictor
    from methods.training.attribute_judge import agreement
    from methods.training.world_data import uniform_faces
    from bench.provenance import file_digest
    from methods.zoo import card_path, read_card, weights_path, write_card

    torch.set_num_threads(1)
    t = time.time()
    test = uniform_faces("test", 3000, 64, "photo", 1, 0, cache=True)["images"]  # the card's held-out faces
    q = agreement(load_judge(), load_predictor(), test)
    p_sha = file_digest(weights_path("attribute-predictor"))
    card = read_card("attribute-judge")
    before = card["quality"].get("agree_p_measured_with") or {}
    # the figures this measurement replaces: those of the P measured before (kept when P is unchanged)
    old = (before["previous"] if before.get("attribute-predictor_sha256") == p_sha
           else {k: card["quality"][k] for k in q if k in card["quality"]})
    card["quality"].update(q)
    card["quality"]["agree_p_measured_with"] = {
        "attribute-predictor_sha256": p_sha,
        "when": time.strftime("%Y-%m-%d"),
        "by": "scripts/experiments/judge_agreement_card.py (judge weights untouched)",
        "previous": old}
    print(json.dumps(q, indent=1), f"\nP {p_sha[:12]}, measured in {time.time() - t:.0f} s")
    if "--dry-run" not in argv:
        write_card(card_path("attribute-judge"), card)
        print(f"wrote {card_path('attribute-judge')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
