"""Continuous editing (conference paper Fig. 3d/e): several rounds of editing one attribute, the
expected degree set directly each round (no sentences), scored per round.

Two paths through the same generator, predictor and field functions:

* ``latent`` — the semantic method's way: invert once, then every round moves the *latent* with
  iterative attribute matching to the round's degree; each round's image is G(w);
* ``image`` — a data-oriented receiver's way: every round starts from the previous round's *image*
  (uint8, as it would be received and stored), inverts it again and edits; inversion error
  accumulates over rounds.

Per round (means over the images): the identity score (``1 - cosine`` of the embedder between the
original and the round's image; the conference's ID score, lower is better), the attribute
preservation score (cross-entropy of the judge J on the other attributes against their degrees on
the original — ground truth when given, else J's reading of the original; lower is better), and
whether J reads the round's degree (never P, which steers the edit).
"""
from __future__ import annotations

import numpy as np
import torch

from bench.errors import UserError

PATHS = ("latent", "image")


def degree_schedule(start: np.ndarray, offsets) -> np.ndarray:
    """(N,) start degrees + per-round offsets -> (rounds, N) target degrees clipped to 0..5."""
    return np.clip(np.asarray(start)[None, :] + np.asarray(list(offsets))[:, None], 0, 5).astype(np.int64)


def continuous_editing(G, P, fields, J, E, images: np.ndarray, attribute: int, offsets=(1, 2, 3, 2, 1),
                       path: str = "latent", invert_config=None, encoder=None, max_trials: int = 20,
                       truth: np.ndarray | None = None) -> list[dict]:
    """Rows (one per round) of the experiment for uint8 images (N, R, R, 3); see the module doc."""
    from methods.editing.inversion import InversionConfig, invert_batched, to_uint8
    from methods.editing.matching import iterative_matching
    from methods.nets.face_nets import to_tensor

    if path not in PATHS:
        raise UserError(f"continuous editing path must be one of {', '.join(PATHS)}, got {path!r}")
    images = np.asarray(images, np.uint8)
    n = len(images)
    cfg = invert_config or InversionConfig()
    ref = np.asarray(truth, np.int64) if truth is not None else J.predict(images)
    keep = [i for i in range(ref.shape[1]) if i != attribute]
    start = P.predict(images)[:, attribute]
    targets = degree_schedule(start, offsets)
    w = invert_batched(G, images, config=cfg, encoder=encoder).latents
    current = images
    rows = []
    for r, tgt in enumerate(targets, 1):
        if path == "image" and r > 1:
            w = invert_batched(G, current, config=cfg, encoder=encoder).latents
        m = iterative_matching(G, P, fields, w, [attribute] * n, targets=list(map(int, tgt)), max_trials=max_trials)
        w = m.latents
        with torch.no_grad():
            current = to_uint8(G.synthesis(w, noise="const"))
            logp = J(to_tensor(current)).log_softmax(-1).numpy()  # (N, 5, 6)
        id_score = 1.0 - E.cosine(images, current).cpu().numpy()
        ce = -np.mean([[logp[j, i, ref[j, i]] for i in keep] for j in range(n)], axis=1)
        judged = logp.argmax(-1)
        rows.append({"round": r, "path": path, "n": n, "id_score": round(float(id_score.mean()), 4),
                     "attr_preservation_ce": round(float(ce.mean()), 4),
                     "judged_at_target": round(float((judged[:, attribute] == tgt).mean()), 4),
                     "p_at_target": round(float((m.after == tgt).mean()), 4),
                     "mean_trials": round(float(m.trials.mean()), 2)})
    return rows
