"""Identity probes: what "same person" must and must not survive (issue 9), on SynthFaces world 2.

Pairs of held-out test identities, rendered now:

* ``nuisance``  — same identity and degrees, a new nuisance (backdrop, clothing, pose, lighting):
  must be verified (bar 95%);
* ``flip``      — an image and its horizontal mirror: verified (bar 98%);
* ``shift``     — an image and the same image moved 3 px (edges replicated): verified (bar 98%);
* ``edit``      — same identity, other degrees and another nuisance (what an edit plus a new photo
  look like): verified (reported, no bar);
* ``lookalike`` — an identity and its look-alike (3 face-geometry factors changed; same skin, eyes,
  hair, degrees and nuisance): must be rejected (bar 90%);
* ``stranger``  — two different identities, each with its own degrees and nuisance: rejected.

Reported beside them (not in the hard set): ``gt_edit`` — an image and its ground-truth edit (the
same photograph with one attribute, cycling over the five, moved 1-2 degrees), the pair a perfect
editor would hand the identity metric; its verified rate is that metric's ceiling, per attribute;
and three degraded copies of the image (what a received image can look like): ``jpeg`` (quality 15),
``blur`` (Gaussian, sigma 1.2 px) and ``downscale`` (to half the side and back), where "same person"
should survive a codec's softness.

The hard set mixes all of them (AUC bar 0.99). ``calibrate`` picks the equal-error threshold on
calibration identities; ``probe_report`` measures the probes on *other* identities with it.
"""
from __future__ import annotations

import numpy as np

POSITIVE = ("nuisance", "flip", "shift", "edit")
NEGATIVE = ("lookalike", "stranger")
DEGRADATIONS = ("jpeg", "blur", "downscale")
REPORTED = ("gt_edit",) + DEGRADATIONS  # measured, in no bar and not in the hard set
BARS = {"nuisance": 0.95, "flip": 0.98, "shift": 0.98, "lookalike": 0.90, "auc": 0.99}
CALIBRATION = (0, 500)  # test identities used to choose the threshold
PROBES = (500, 1500)  # test identities the probes are measured on


def degrade(img: np.ndarray, kind: str) -> np.ndarray:
    """A degraded copy of an (H, W, 3) uint8 image: "jpeg" (quality 15), "blur" (sigma 1.2 px) or
    "downscale" (half the side and back, bilinear)."""
    import io

    from PIL import Image, ImageFilter

    im = Image.fromarray(img)
    if kind == "jpeg":
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=15)
        out = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
    elif kind == "blur":
        out = im.filter(ImageFilter.GaussianBlur(1.2))
    elif kind == "downscale":
        h, w = img.shape[:2]
        out = im.resize((w // 2, h // 2), Image.BILINEAR).resize((w, h), Image.BILINEAR)
    else:
        raise ValueError(f"unknown degradation {kind!r}")
    return np.asarray(out, np.uint8)


def shift_image(img: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Move an (H, W, 3) image by (dx, dy) pixels, replicating the edge."""
    h, w = img.shape[:2]
    ys = np.clip(np.arange(h) - dy, 0, h - 1)
    xs = np.clip(np.arange(w) - dx, 0, w - 1)
    return img[ys][:, xs]


def probe_pairs(start: int, stop: int, size: int = 64, seed: int = 0) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (images a, images b), one pair per test identity in [start, stop) and probe."""
    from datasets.synthfaces.v2 import edited_target, identity_from_id, lookalike, render, sample_nuisance
    from datasets.synthfaces.v2.splits import split_identity

    n = stop - start
    out = {name: (np.empty((n, size, size, 3), np.uint8), np.empty((n, size, size, 3), np.uint8))
           for name in POSITIVE + NEGATIVE + REPORTED}
    for j, index in enumerate(range(start, stop)):
        rng = np.random.default_rng([0x9B0BE, int(index), int(seed)])
        ident = split_identity("test", index)
        attrs = rng.integers(0, 6, 5).tolist()
        nuis = sample_nuisance(rng, "photo")
        base = render(ident, attrs, size, "photo", nuis)
        pairs = {
            "nuisance": render(ident, attrs, size, "photo", sample_nuisance(rng, "photo")),
            "flip": base[:, ::-1],
            "shift": shift_image(base, *(int(v) for v in rng.choice([-3, 3], 2))),
            "edit": render(ident, rng.integers(0, 6, 5).tolist(), size, "photo", sample_nuisance(rng, "photo")),
            "lookalike": render(lookalike(identity_from_id(ident), 3, rng), attrs, size, "photo", nuis),
            "stranger": render(split_identity("test", 50_000 + index), rng.integers(0, 6, 5).tolist(), size,
                               "photo", sample_nuisance(rng, "photo")),
        }
        a = index % 5  # drawn after the others, so adding it changed none of them
        step = int(rng.integers(1, 3)) * (1 if attrs[a] <= 2 else -1)
        pairs["gt_edit"] = edited_target(ident, attrs, a, attrs[a] + step, size, "photo", nuis)
        for kind in DEGRADATIONS:
            pairs[kind] = degrade(base, kind)
        for name, img in pairs.items():
            out[name][0][j] = base
            out[name][1][j] = img
    return out


def pair_scores(model, pairs) -> dict[str, np.ndarray]:
    was = model.training
    model.eval()
    scores = {name: model.cosine(a, b).cpu().numpy().astype(np.float64) for name, (a, b) in pairs.items()}
    model.train(was)
    return scores


def calibrate(model, size: int = 64) -> float:
    """The equal-error threshold on the hard mixed set of the calibration identities."""
    from methods.nets.face_nets import verification_thresholds

    s = pair_scores(model, probe_pairs(*CALIBRATION, size=size, seed=1))
    pos = np.concatenate([s[k] for k in POSITIVE])
    neg = np.concatenate([s[k] for k in NEGATIVE])
    return float(verification_thresholds(pos, neg)["threshold_eer"])


def probe_report(model, threshold: float | None = None, size: int = 64, identities: tuple[int, int] = PROBES) -> dict:
    """Per-probe verified / rejected rates on the probe identities, the hard-set AUC and bars met."""
    from methods.nets.face_nets import roc_auc

    t = float(model.threshold if threshold is None else threshold)
    s = pair_scores(model, probe_pairs(*identities, size=size))
    q: dict = {"probe_threshold": round(t, 5), "probe_n_per_kind": int(identities[1] - identities[0])}
    for k in POSITIVE:
        q[f"probe_{k}_verified"] = round(float((s[k] >= t).mean()), 4)
    for k in NEGATIVE:
        q[f"probe_{k}_rejected"] = round(float((s[k] < t).mean()), 4)
    from datasets.synthfaces.attributes import ATTRIBUTES

    gt = s["gt_edit"] >= t
    q["probe_gt_edit_verified"] = round(float(gt.mean()), 4)
    for kind in DEGRADATIONS:
        q[f"probe_{kind}_verified"] = round(float((s[kind] >= t).mean()), 4)
    which = np.arange(identities[0], identities[1]) % 5
    for i, name in enumerate(ATTRIBUTES):
        q[f"probe_gt_edit_verified_{name.lower()}"] = round(float(gt[which == i].mean()), 4)
    pos = np.concatenate([s[k] for k in POSITIVE])
    neg = np.concatenate([s[k] for k in NEGATIVE])
    q["probe_hard_auc"] = round(roc_auc(pos, neg), 5)
    q["probe_bars_met"] = bool(q["probe_nuisance_verified"] >= BARS["nuisance"]
                               and q["probe_flip_verified"] >= BARS["flip"]
                               and q["probe_shift_verified"] >= BARS["shift"]
                               and q["probe_lookalike_rejected"] >= BARS["lookalike"]
                               and q["probe_hard_auc"] >= BARS["auc"])
    return q
