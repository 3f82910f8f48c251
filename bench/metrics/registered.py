"""Metrics registered in ``bench.registry.METRICS`` (cheap to import: numpy only).

Every registration states the metric's direction (``higher_is_better``) and level:

* ``level="image"`` — per-row metrics the runner computes for every received image. Each is an
  object with ``name``, ``min_size`` (smallest image side it accepts, so a runner can reject a
  too-small --size before any work), ``__call__(received_uint8, reference_uint8) -> float`` and
  ``batch(received, reference)`` over (N, H, W, 3) stacks. ``score(image, ctx, ref)`` sees the
  whole `EvalContext` (original, ground-truth edit, labels, the parsed request); the default
  compares with ``ctx.reference(ref)``. torch / lpips load on first use.
* ``level="set"`` — distances between sets of images the runner computes per (method, SNR)
  after a sweep (FD/KD on VGG16 features, FID/KID with Inception weights).
* ``level="row"`` — quantities derived from stored rows by reports.

`direction(name)` is the one place reports and tables read "lower/higher is better" from.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bench.errors import UserError
from bench.registry import METRICS

REFERENCES = ("original", "target")


@dataclass
class EvalContext:
    """What evaluation (never a method) knows about one row."""

    original: np.ndarray
    target: np.ndarray | None = None  # the ground-truth edit, when the dataset has one
    labels: dict[str, Any] = field(default_factory=dict)
    decoded_info: dict[str, Any] = field(default_factory=dict)  # e.g. the receiver's parsed request

    def reference(self, ref: str) -> np.ndarray:
        if ref == "original":
            return self.original
        if ref == "target" and self.target is not None:
            return self.target
        raise ValueError(f"no reference '{ref}' for this row")


def direction(name: str) -> bool:
    """True when larger values of metric `name` are better (suffixes such as '@original' ignored)."""
    base = name.split("@", 1)[0]
    for key in (base, base.lower()):
        if key in METRICS:
            return bool(METRICS.entry(key).meta.get("higher_is_better", False))
    return False


def level(name: str) -> str:
    return METRICS.entry(name).meta.get("level", "image") if name in METRICS else "image"


class PerImageMetric:
    name = ""
    unit = ""
    min_size = 1

    def batch(self, received, reference) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, received, reference) -> float:
        return float(self.batch(received, reference)[0])

    @property
    def higher_is_better(self) -> bool:  # read from the registration
        return direction(self.name)

    def score(self, image: np.ndarray, ctx: EvalContext, ref: str) -> float:
        return float(self(image, ctx.reference(ref)))

    def __repr__(self) -> str:
        return f"<metric {self.name}>"


@METRICS.register("psnr", summary="PSNR in dB, data range 255, capped at 100 dB for identical images (higher is better)",
                  higher_is_better=True, level="image")
class PSNR(PerImageMetric):
    name, unit = "psnr", "dB"

    def __init__(self, cap: float = 100.0):
        self.cap = float(cap)

    def batch(self, received, reference) -> np.ndarray:
        from bench.metrics.pixel import psnr
        return psnr(received, reference, cap=self.cap)


@METRICS.register("ssim", summary="SSIM, 11x11 Gaussian window (sigma 1.5), channel-averaged (higher is better)",
                  higher_is_better=True, level="image")
class SSIM(PerImageMetric):
    name, min_size = "ssim", 11  # the Gaussian window

    def batch(self, received, reference) -> np.ndarray:
        from bench.metrics.pixel import ssim
        return ssim(received, reference)


class _LPIPS(PerImageMetric):
    net = ""

    def __init__(self, device: str = "", upsample_small: bool = False, batch_size: int = 32):
        self.device = device or None
        self.upsample_small = bool(upsample_small)
        self.batch_size = int(batch_size)
        self.min_size = 1 if self.upsample_small else {"alex": 31, "vgg": 16}[self.net]

    def batch(self, received, reference) -> np.ndarray:
        from bench.metrics.perceptual import lpips_distance
        return lpips_distance(received, reference, net=self.net, device=self.device,
                              batch_size=self.batch_size, upsample_small=self.upsample_small)


@METRICS.register("lpips-alex", summary="LPIPS v0.1, ImageNet AlexNet trunk, images >= 31 px (lower is better)",
                  higher_is_better=False, level="image")
class LPIPSAlex(_LPIPS):
    name, net = "lpips-alex", "alex"


@METRICS.register("lpips-vgg", summary="LPIPS v0.1, ImageNet VGG16 trunk, images >= 16 px (lower is better)",
                  higher_is_better=False, level="image")
class LPIPSVGG(_LPIPS):
    name, net = "lpips-vgg", "vgg"


def _not_per_image(name: str, what: str):
    def factory(**_):
        raise UserError(f"'{name}' is {what}, not a per-image metric; leave it out of --metrics "
                        "(set-level distances are computed after every sweep unless --no-set-metrics)")
    return factory


for _name, _what in (("FD-VGG16", "the Frechet distance on ImageNet-VGG16 features, per (method, SNR) set"),
                     ("KD-VGG16", "the kernel (MMD) distance on ImageNet-VGG16 features, per (method, SNR) set"),
                     ("FID", "the Frechet Inception distance (clean-fid weights present locally), per set"),
                     ("KID", "the kernel Inception distance (clean-fid weights present locally), per set")):
    METRICS.register(_name, f"{_what} (lower is better)", higher_is_better=False, level="set")(
        _not_per_image(_name, "set-level"))

METRICS.register("decode_failure_rate", "share of rows whose bitstream could not be decoded (lower is better)",
                 higher_is_better=False, level="row")(_not_per_image("decode_failure_rate", "derived from rows"))


# ----------------------------------------------------------------------------- edit metrics
# Read by the independent attribute judge J (never by P, which editors steer with) and the identity
# embedder; they need the row's labels (a SynthFaces item with a request): elsewhere they are NaN.

class _EditMetric(PerImageMetric):
    """A per-row edit metric computed from the labels and the judge/embedder (not a two-image batch)."""

    reference_free = True  # the same value whatever the reference: stored once, without '@original'
    min_size = 8

    def batch(self, received, reference):  # not a two-image comparison
        raise UserError(f"'{self.name}' needs the row's labels; it is scored through score(image, ctx, ref)")

    @staticmethod
    def _judge():
        from methods.nets.attribute_judge import load_judge

        global _JUDGE
        if _JUDGE is None:
            _JUDGE = load_judge()
        return _JUDGE

    @staticmethod
    def _request(ctx: EvalContext):
        req = ctx.labels.get("request") if isinstance(ctx.labels, dict) else None
        if not req or ctx.labels.get("expected_degree") is None or ctx.labels.get("target_attributes") is None:
            return None
        return int(req["attribute"]), int(ctx.labels["expected_degree"]), np.asarray(ctx.labels["target_attributes"])


_JUDGE = None
_EMBEDDER = None


@METRICS.register("edit-success", summary="1 when the judge reads the expected degree (eq. 10) of the requested attribute "
                                          "on the received image, else 0; NaN without a labelled request (higher is "
                                          "better)", higher_is_better=True, level="image")
class EditSuccess(_EditMetric):
    name = "edit-success"
    tolerance = 0

    def score(self, image, ctx, ref):
        r = self._request(ctx)
        if r is None:
            return float("nan")
        attr, expected, _ = r
        return float(abs(int(self._judge().predict(image[None])[0, attr]) - expected) <= self.tolerance)


@METRICS.register("edit-success-1", summary="1 when the judged degree of the requested attribute is within 1 of the "
                                            "expected degree (higher is better)", higher_is_better=True, level="image")
class EditSuccessWithin1(EditSuccess):
    name, tolerance = "edit-success-1", 1


@METRICS.register("others-kept", summary="share of the non-requested attributes whose judged degree equals the ground "
                                         "truth (they must not change; higher is better)", higher_is_better=True,
                  level="image")
class OthersKept(_EditMetric):
    name = "others-kept"

    def score(self, image, ctx, ref):
        r = self._request(ctx)
        if r is None:
            return float("nan")
        attr, _, truth = r
        judged = self._judge().predict(image[None])[0]
        keep = np.arange(len(truth)) != attr
        return float((judged[keep] == truth[keep]).mean())


@METRICS.register("attr-preservation-ce", summary="the conference's attribute-preservation score: mean cross-entropy "
                                                  "of the judge on the non-requested attributes against their true "
                                                  "degrees (lower is better)", higher_is_better=False, level="image")
class AttributePreservationCE(_EditMetric):
    name = "attr-preservation-ce"

    def score(self, image, ctx, ref):
        import torch

        r = self._request(ctx)
        if r is None:
            return float("nan")
        attr, _, truth = r
        J = self._judge()
        with torch.no_grad():
            from methods.nets.face_nets import to_tensor

            logp = J(to_tensor(image[None])).log_softmax(-1)[0].numpy()  # (5, 6)
        keep = [i for i in range(len(truth)) if i != attr]
        return float(-np.mean([logp[i, int(truth[i])] for i in keep]))


class _Identity(PerImageMetric):
    min_size = 8

    @staticmethod
    def _embedder():
        from methods.nets.identity_embedder import load_embedder

        global _EMBEDDER
        if _EMBEDDER is None:
            _EMBEDDER = load_embedder()
        return _EMBEDDER


@METRICS.register("identity-verified", summary="1 when the identity embedder verifies the received image as the "
                                               "reference's person (same_person at its calibrated threshold; higher "
                                               "is better)", higher_is_better=True, level="image")
class IdentityVerified(_Identity):
    name = "identity-verified"

    def batch(self, received, reference):
        return np.atleast_1d(self._embedder().same_person(received, reference)).astype(float)


@METRICS.register("id-distance", summary="the conference's ID score: 1 - cosine of identity embeddings of the received "
                                         "image and the reference (lower is better)", higher_is_better=False,
                  level="image")
class IdentityDistance(_Identity):
    name = "id-distance"

    def batch(self, received, reference):
        return 1.0 - self._embedder().cosine(received, reference).cpu().numpy().astype(float)
