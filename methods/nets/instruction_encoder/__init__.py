"""The instruction encoder: the paper's LSTM Text Semantic Encoder SE_T (Sec. IV-B), zoo
component ``instruction-encoder``.

* ``model.py`` - the networks (`Member`, `InstructionEncoder`), `build`, `load_encoder`;
* ``parser.py`` - what the heads' probabilities mean: `Parsed`, the refusals and decisions, and
  `parse` / `encode` with the shipped model;
* ``evaluation.py`` - exact / rejected / wrong rates (`heldout_accuracy`, `reject_rates`,
  `pool_accuracy`, `is_exact`) and the hand-written independent set (`independent_accuracy`);
* the trainer (``bench train instruction-encoder``: vocabulary, sentence sampling and
  augmentation, `fit`) is ``methods.training.instruction_encoder``.

Use::

    from methods.nets.instruction_encoder import load_encoder, parse
    parse("make his bangs two levels longer")   # Parsed(understood=True, attribute=0, ...)
    enc = load_encoder(); enc.encode(["add glasses"])   # E_T, float32 (1, enc.dim)
"""
from .evaluation import heldout_accuracy, independent_accuracy, is_exact, pool_accuracy, reject_rates
from .model import (ARCH_KEYS, ATTRIBUTES, DEFAULT_HYPER, MAX_GRAMS, MAX_TOKENS, MODES, NAME, REJECT,
                    InstructionEncoder, Member, build, build_checked, char_grams, load_encoder)
from .parser import Parsed, decide, encode, parse

__all__ = ["ARCH_KEYS", "ATTRIBUTES", "DEFAULT_HYPER", "MAX_GRAMS", "MAX_TOKENS", "MODES", "NAME", "REJECT",
           "InstructionEncoder", "Member", "Parsed", "build", "build_checked", "char_grams", "decide", "encode",
           "heldout_accuracy", "independent_accuracy", "is_exact", "load_encoder", "parse", "pool_accuracy", "reject_rates"]
