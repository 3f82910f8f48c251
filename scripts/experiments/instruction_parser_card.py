"""Re-measure the shipped instruction-encoder card's parser figures (the weights are not touched).

The parser reads requests with two readers since the grammar was added (issue 9): the encoder and
the rule-based grammar (``methods.nets.instruction_encoder.grammar``, combined by
``parser.combine``). This writes the card's parser block as ``bench train instruction-encoder``
would (``methods.training.instruction_encoder.parser_quality``: both readers under the plain keys,
the encoder alone under ``encoder_alone_*``) and records when and why in ``quality.parser_measured``.

    .venv/bin/python scripts/experiments/instruction_parser_card.py [--dry-run]
"""
from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main(argv: list[str]) -> int:
    from methods.nets.instruction_encoder.model import load_encoder
    from methods.training.instruction_encoder import parser_quality
    from methods.zoo import card_path, read_card, write_card

    card = read_card("instruction-encoder")
    t = time.time()
    q = parser_quality(load_encoder())
    q.pop("_heldout_errors")
    card["quality"].update(q)
    card["quality"]["parser_measured"] = (f"{time.strftime('%Y-%m-%d')}: parser figures re-measured by "
                                          "scripts/experiments/instruction_parser_card.py after the grammar's last "
                                          "change; the weights are those trained by the card's command")
    print(json.dumps({k: v for k, v in q.items() if "independent" in k or "heldout" in k or "fresh" in k}, indent=1))
    print(f"measured in {time.time() - t:.0f} s")
    if "--dry-run" not in argv:
        write_card(card_path("instruction-encoder"), card)
        print(f"wrote {card_path('instruction-encoder')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
