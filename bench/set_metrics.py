"""Set-level metrics (FD/KD, or FID/KID with clean-fid's Inception) per (method, SNR) group.

After a sweep the runner compares, for every method (and provenance) and SNR, the set of
received images with the set of references and stores the distances with paired bootstrap 95%
intervals (received image i resampled together with its reference i) in the `set_metrics`
table. References follow the per-row metrics (`bench.executor.references`): originals for
transmission tasks; for edit tasks the ground-truth edits (``FD-VGG16``) and also the
originals (``FD-VGG16@original``, the papers' convention). Groups whose rows did not change
are not recomputed.
"""
from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np
from PIL import Image

from bench.store import ResultStore

MIN_SET = 2


def _suffixes(task: str, has_target: bool) -> dict[str, str]:
    if task == "edit" and has_target:
        return {"": "target", "@original": "original"}
    return {"": "original"}


def update_set_metrics(store: ResultStore, out: Path, scope: dict,
                       references: dict[str, dict[str, np.ndarray]], touched: set[tuple[str, str, float]],
                       n_boot: int = 100) -> int:
    """Recompute the groups in `touched` (and any group of the scope with no value yet).

    scope: dataset, channel, seed, size. references: "original"/"target" -> image id -> image;
    only rows whose original is there count. Returns the number of groups written.
    """
    from bench.metrics.distribution import distances_from_features
    from bench.metrics.features import feature_space

    rows = store.rows("WHERE dataset=? AND channel=? AND seed=? AND size=?",
                      (scope["dataset"], scope["channel"], scope["seed"], scope["size"]))
    have = {(d["method"], d["provenance"], d["snr"]) for d in store.set_metrics()
            if all(d[k] == scope[k] for k in ("dataset", "channel", "seed", "size"))}
    groups: dict[tuple[str, str, float], list] = defaultdict(list)
    for r in rows:
        if r.image_id in references.get("original", {}):
            groups[(r.method, r.provenance, r.snr)].append(r)
    todo = {k: v for k, v in groups.items() if len(v) >= MIN_SET and (k in touched or k not in have)}
    if not todo:
        return 0
    space = feature_space("auto", None, 32, None)
    ref_feats: dict[tuple[str, str], np.ndarray] = {}
    written = 0
    for (method, prov, snr), grows in sorted(todo.items()):
        received = np.stack([np.asarray(Image.open(out / r.received_path).convert("RGB")) for r in grows])
        fa = space.features(received)
        key = dict(scope, method=method, provenance=prov, snr=snr)
        has_target = all(r.image_id in references.get("target", {}) for r in grows)
        for suffix, ref in _suffixes(grows[0].task, has_target).items():
            ids = [(ref, r.image_id) for r in grows]
            missing = [k for k in ids if k not in ref_feats]
            if missing:
                feats = space.features(np.stack([references[t][i] for t, i in missing]))
                ref_feats.update(zip(missing, feats))
            fb = np.stack([ref_feats[i] for i in ids])
            values = distances_from_features(fa, fb, space.fd_name, space.kd_name, n_boot=n_boot, seed=0,
                                             paired=True)
            for name, (value, lo, hi) in values.items():
                store.put_set_metric(key, name + suffix, value, lo, hi, len(grows))
        written += 1
    return written
