"""Face-identity embedding (the role ArcFace plays in L_id and FaceNet in the identity score).

Zoo component ``identity-embedder`` (``bench train identity-embedder``, trainer in
``methods.training.identity_embedder``): a small CNN mapping a
face to an L2-normalised 128-d vector, trained on SynthFaces train identities so that the same
identity under *different attribute degrees* (bangs, glasses, beard, smile, age) stays close
and different identities stay apart: every training identity is rendered with K independent
random attribute vectors; a batch holds B identities x 2 of their renders (plus light
augmentation) and the loss is a symmetric InfoNCE over the batch (the other identities are the
negatives). Verification on held-out test identities (independent random attributes per image)
gives the ROC AUC, the equal-error threshold and the threshold at 1 % false-accept rate; both
thresholds are stored in the checkpoint's config (and in the card's quality).

Use::

    from methods.nets.identity_embedder import load_embedder
    E = load_embedder()
    e = E.embed(uint8_images)          # (N, 128) unit vectors (no grad)
    z = E(x)                           # x: (N, 3, H, W) in [-1, 1], differentiable, any H x W
    E.cosine(a, b)                     # a, b: images or embeddings -> cosine similarity (N,)
    E.same_person(a, b)                # bool (or bool array for batches): cosine >= threshold
    E.threshold                        # the equal-error-rate threshold ("eer"); E.threshold_far1

The identity loss of eq. (12) is then ``1 - E.cosine(E(original), E(edited)).mean()``.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from bench.errors import UserError
from methods.nets.face_nets import Backbone, fit_size, roc_auc, to_tensor, verification_thresholds
from methods.zoo import load_model

NAME = "identity-embedder"
DEFAULT_CONFIG = {"widths": [24, 32, 64, 128, 192], "dim": 128, "reduce": 64, "input_size": 64,
                  "pool": "flat", "threshold_eer": 0.5, "threshold_far1": 0.5}
POOLS = ("flat", "avg", "both")
# pose vector scale for the aligner's regression: [tx, ty, roll, log scale, sin yaw]
POSE_UNITS = (0.1, 0.1, 0.1, 0.05, 0.15)


def mirror_pose(pose: torch.Tensor, which: torch.Tensor | None = None) -> torch.Tensor:
    """The pose (N, 5) of the horizontally mirrored faces (all, or the rows where `which` is true):
    the x shift, the roll and the head turn change sign."""
    sign = (-torch.ones(len(pose), dtype=pose.dtype, device=pose.device) if which is None
            else 1 - 2 * which.to(device=pose.device, dtype=pose.dtype))
    out = pose.clone()
    for c in (0, 2, 4):
        out[:, c] = out[:, c] * sign
    return out


def compose_pose(pose: torch.Tensor, angle: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor,
                 mirror: torch.Tensor | None = None) -> torch.Tensor:
    """The pose (N, 5) of a face after an optional mirror and then the affine jitter of
    ``methods.training.face_nets.augment`` (angle, scale, shift as it returns them)."""
    p = pose if mirror is None else mirror_pose(pose, mirror)
    dx, dy = p[:, 0] - shift[:, 0], p[:, 1] - shift[:, 1]
    ca, sa = torch.cos(angle), torch.sin(angle)
    out = p.clone()
    out[:, 0] = scale * (ca * dx + sa * dy)
    out[:, 1] = scale * (-sa * dx + ca * dy)
    out[:, 2] = p[:, 2] - angle
    out[:, 3] = p[:, 3] + torch.log(scale)
    return out


class FaceAligner(nn.Module):
    """64x64 image -> pose (N, 5) ``[tx, ty, roll, log scale, sin yaw]`` (the world's
    ``datasets.synthfaces.v2.render.pose_vector``), regressed with supervision from the renderer.

    ``warp`` resamples the image into the face's own frame: a crop of half-width ``crop``
    canonical units around the face, upright, at a fixed scale, with the head turn undone
    (the world's 2.5-D yaw warp inverted by fixed-point iteration), so the embedding reads
    face geometry at fixed places whatever the photograph's pose. This is what face alignment
    (landmarks + similarity warp) does before ArcFace/FaceNet.
    """

    def __init__(self, crop: float = 0.85, depth: float = 0.30, rx: float = 0.78, ry: float = 1.0, cy: float = -0.05,
                 out_size: int = 64):
        super().__init__()
        self.crop, self.depth, self.rx, self.ry, self.cy = float(crop), float(depth), float(rx), float(ry), float(cy)
        self.out_size = int(out_size)
        chans = (3, 16, 32, 64, 64)
        layers = []
        for cin, cout in zip(chans[:-1], chans[1:]):
            layers += [nn.Conv2d(cin, cout, 3, 2, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]
        self.conv = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(64 * 16, 128), nn.ReLU(), nn.Linear(128, 5))
        self.register_buffer("units", torch.tensor(POSE_UNITS))

    def forward(self, x64: torch.Tensor) -> torch.Tensor:
        """(N, 3, 64, 64) in [-1, 1] -> pose (N, 5) in world units."""
        return self.head(self.conv(x64)) * self.units

    def warp(self, x: torch.Tensor, pose: torch.Tensor) -> torch.Tensor:
        """Resample images x (N, 3, H, W) into the face frame given by pose (N, 5)."""
        n, s = x.shape[0], self.out_size
        g = (torch.arange(s, device=x.device, dtype=x.dtype) + 0.5) * (2.0 / s) - 1.0
        qy, qx = torch.meshgrid(g * self.crop, g * self.crop, indexing="ij")
        qx, qy = qx.expand(n, s, s), qy.expand(n, s, s)
        ys = pose[:, 4].view(n, 1, 1)
        vy = ((qy - self.cy) / self.ry) ** 2
        X = qx
        for _ in range(3):  # canvas x = canonical x + sin(yaw) * depth * Z(canvas x, y)
            X = qx + ys * self.depth * torch.clamp(1 - (X / self.rx) ** 2 - vy, min=0)
        scale = torch.exp(pose[:, 3]).view(n, 1, 1)
        ca, sa = torch.cos(pose[:, 2]).view(n, 1, 1), torch.sin(pose[:, 2]).view(n, 1, 1)
        px = scale * (ca * X - sa * qy) + pose[:, 0].view(n, 1, 1)
        py = scale * (sa * X + ca * qy) + pose[:, 1].view(n, 1, 1)
        return F.grid_sample(x, torch.stack([px, py], -1), mode="bilinear", padding_mode="border",
                             align_corners=False)


def translate(x: torch.Tensor, dx: float, dy: float) -> torch.Tensor:
    """Images (N, C, H, W) moved by (dx, dy) in grid units (2 = the whole width), edges replicated."""
    theta = torch.tensor([[1.0, 0.0, -dx], [0.0, 1.0, -dy]], dtype=x.dtype, device=x.device).expand(len(x), 2, 3)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


class IdentityEmbedder(nn.Module):
    """Images (N, 3, H, W) in [-1, 1] -> (N, dim) L2-normalised identity embeddings."""

    def __init__(self, widths=DEFAULT_CONFIG["widths"], dim=128, reduce=64, input_size=64, pool="flat",
                 threshold_eer=0.5, threshold_far1=0.5, align=None, flip_average=False, shift_average=0.0):
        super().__init__()
        if pool not in POOLS:
            raise UserError(f"identity embedder pool must be one of {', '.join(POOLS)}, got {pool!r}")
        self.pool = pool
        self.input_size = int(input_size)
        self.dim = int(dim)
        self.threshold = float(threshold_eer)
        self.threshold_far1 = float(threshold_far1)
        # align: None (read the photograph as it is) or the FaceAligner's settings (crop, depth, rx,
        # ry, cy): find the face's pose first and read the face in its own frame
        # flip_average: at inference (eval mode) the features are the mean of the image's and its
        # mirror's (the "flip test" of face verification), so a mirrored photo embeds exactly alike
        self.flip_average = bool(flip_average)
        # shift_average: at inference the features are also averaged over four copies moved by this many
        # pixels (of a 64-px face) left, right, up and down, each re-aligned (0: off)
        self.shift_average = float(shift_average)
        if not 0.0 <= self.shift_average <= 8.0:
            raise UserError(f"identity embedder shift_average must be 0..8 pixels, got {shift_average!r}")
        self.align = dict(align) if align else None
        self.aligner = FaceAligner(**self.align, out_size=self.input_size) if self.align else None
        self.backbone = Backbone(widths)
        c = self.backbone.out_channels
        side = self.input_size // 16
        # "flat": keep the 4x4 layout (face width / length / jaw live in where things are);
        # "avg": global average pooling (shift-tolerant by construction); "both": the two concatenated
        self.reduce = (nn.Sequential(nn.Conv2d(c, reduce, 1, bias=False), nn.BatchNorm2d(reduce), nn.ReLU())
                       if pool != "avg" else None)
        n_in = {"flat": reduce * side * side, "avg": c, "both": reduce * side * side + c}[pool]
        self.fc = nn.Linear(n_in, self.dim)
        self.bn = nn.BatchNorm1d(self.dim)

    def aligned(self, x: torch.Tensor, pose: torch.Tensor | None = None) -> torch.Tensor:
        """The images the backbone reads: x resized, or (with an aligner) x resampled into the face
        frame at the predicted pose (or the given one); the pose is not differentiated through."""
        if self.aligner is None:
            return fit_size(x, self.input_size)
        if pose is None:
            pose = self.aligner(fit_size(x, 64)).detach()
        return self.aligner.warp(x, pose)

    def features(self, x: torch.Tensor, pose: torch.Tensor | None = None) -> torch.Tensor:
        """The un-normalised embedding (N, dim) before the L2 normalisation (in eval mode with
        ``flip_average``: the mean of the image's and its mirror's)."""
        f = self._flipped_features(x, pose)
        if self.shift_average and not self.training:
            d = 2.0 * self.shift_average / self.input_size  # in grid units, whatever x's size
            for dx, dy in ((d, 0.0), (-d, 0.0), (0.0, d), (0.0, -d)):
                f = f + self._flipped_features(translate(x, dx, dy), None)
            f = f / 5.0
        return f

    def _flipped_features(self, x: torch.Tensor, pose: torch.Tensor | None = None) -> torch.Tensor:
        f = self._features(x, pose)
        if self.flip_average and not self.training:
            f = 0.5 * (f + self._features(x.flip(-1), None if pose is None else mirror_pose(pose)))
        return f

    def _features(self, x: torch.Tensor, pose: torch.Tensor | None = None) -> torch.Tensor:
        f = self.backbone(self.aligned(x, pose))
        parts = []
        if self.pool in ("flat", "both"):
            parts.append(self.reduce(f).flatten(1))
        if self.pool in ("avg", "both"):
            parts.append(f.mean(dim=(2, 3)))
        return self.bn(self.fc(torch.cat(parts, 1)))

    def forward(self, x: torch.Tensor, pose: torch.Tensor | None = None) -> torch.Tensor:
        return F.normalize(self.features(x, pose), dim=1)

    def _as_embedding(self, a) -> torch.Tensor:
        if isinstance(a, np.ndarray) and a.dtype != np.uint8 and a.shape[-1] == self.dim and a.ndim <= 2:
            a = torch.from_numpy(a)
        if isinstance(a, torch.Tensor) and a.is_floating_point() and a.dim() <= 2 and a.shape[-1] == self.dim:
            return F.normalize(a.reshape(-1, self.dim).float(), dim=1)
        return self.embed(a)

    @torch.no_grad()
    def embed(self, images, batch: int = 256) -> torch.Tensor:
        """uint8 (N, H, W, 3) / (H, W, 3) or float NCHW in [-1, 1] -> (N, dim) embeddings (no grad)."""
        dev = self.fc.weight.device
        x = to_tensor(images, dev)
        return torch.cat([self.forward(x[i:i + batch]) for i in range(0, len(x), batch)])

    def cosine(self, a, b) -> torch.Tensor:
        """Cosine similarity (N,) of images or embeddings a and b (broadcast over a batch of one)."""
        ea, eb = self._as_embedding(a), self._as_embedding(b)
        if ea.shape[0] != eb.shape[0] and 1 not in (ea.shape[0], eb.shape[0]):
            raise UserError(f"cosine: batch sizes differ ({ea.shape[0]} vs {eb.shape[0]})")
        return (ea.to(eb.device) * eb).sum(dim=1)

    def same_person(self, a, b, threshold: str | float = "eer"):
        """True where a and b show the same identity: cosine >= the calibrated threshold.

        threshold: "eer" (the equal-error-rate threshold, default), "far1" (the lowest threshold
        whose false-accept rate on the held-out calibration pairs is <= 1 %; when the EER is
        below 1 % this one is the more lenient) or a number. Returns a bool for a single pair,
        else a bool array.
        """
        t = {"eer": self.threshold, "far1": self.threshold_far1}.get(threshold, threshold)
        if isinstance(t, str):
            raise UserError(f"threshold must be 'eer', 'far1' or a number, got {threshold!r}")
        same = (self.cosine(a, b) >= float(t)).cpu().numpy()
        return bool(same[0]) if same.size == 1 else same


def build(config: dict) -> IdentityEmbedder:
    return IdentityEmbedder(**config)


def load_embedder(path=None, device: str = "cpu") -> IdentityEmbedder:
    """The shipped (or given) identity embedder, eval mode."""
    return load_model(NAME, path, device=device)


def cosine(a, b, model: IdentityEmbedder | None = None) -> torch.Tensor:
    return (model or _shipped()).cosine(a, b)


def same_person(a, b, model: IdentityEmbedder | None = None, threshold: str | float = "eer"):
    return (model or _shipped()).same_person(a, b, threshold)


_SHIPPED: IdentityEmbedder | None = None


def _shipped() -> IdentityEmbedder:
    global _SHIPPED
    if _SHIPPED is None:
        _SHIPPED = load_embedder()
    return _SHIPPED


# ----------------------------------------------------------------------------- evaluation

def verification_scores(model: IdentityEmbedder, views: np.ndarray, max_neg: int = 200_000, seed: int = 0):
    """views: uint8 (n, 2, H, W, 3), two independent-attribute renders per identity.

    Positives: the n same-identity pairs (view 0, view 1). Negatives: (view 0 of i, view 1 of j),
    i != j (all of them, or a random `max_neg` of them)."""
    was = model.training
    model.eval()
    a = model.embed(views[:, 0])
    b = model.embed(views[:, 1])
    model.train(was)
    sim = (a @ b.T).cpu().numpy().astype(np.float64)
    n = len(sim)
    pos = np.diag(sim).copy()
    off = ~np.eye(n, dtype=bool)
    neg = sim[off]
    if len(neg) > max_neg:
        neg = np.random.default_rng(seed).choice(neg, max_neg, replace=False)
    return pos, neg


def evaluate(model: IdentityEmbedder, views: np.ndarray) -> dict:
    pos, neg = verification_scores(model, views)
    q = {"auc": round(roc_auc(pos, neg), 5)}
    th = verification_thresholds(pos, neg, far=0.01)
    q.update({k: round(v, 5) for k, v in th.items()})
    q.update({"pos_cos_mean": round(float(pos.mean()), 4), "neg_cos_mean": round(float(neg.mean()), 4),
              "n_identities": int(len(pos)), "n_negative_pairs": int(len(neg))})
    return q
