"""The attribute predictor P (Editable-DeepSC Sec. IV-B / Talk2Edit): degrees 0..5 of Bangs,
Eyeglasses, Beard, Smiling, Young from a face image.

Zoo component ``attribute-predictor`` (``bench train attribute-predictor``, trainer in
``methods.training.attribute_predictor``), trained on
SynthFaces train identities (photo style plus a share of painted 'art' images, with light
JPEG / blur / noise / colour / shift augmentation so it holds up on channel-degraded and
generated images) and evaluated on held-out test identities.

Use::

    from methods.nets.attribute_predictor import load_predictor
    P = load_predictor()                      # eval-mode module, shipped checkpoint
    P.predict(uint8_images)                   # np.int64 (N, 5) degrees (argmax)
    logits = P(x)                             # x: (N, 3, H, W) float in [-1, 1], any H x W
    P.expected_degrees(x)                     # (N, 5) softmax . [0..5], differentiable
    P.probabilities(x)                        # (N, 5, 6)

``logits`` are (N, 5, 6): per attribute a 6-way classification over degrees, so the
editing loss of eq. (11) is ``cross_entropy(logits[:, i], target_degree)``.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from datasets.synthfaces import ATTRIBUTES, MAX_DEGREE
from methods.nets.face_nets import Backbone, ResBlock, fit_size, to_tensor
from methods.zoo import load_model

NAME = "attribute-predictor"
NUM_DEGREES = MAX_DEGREE + 1
DEFAULT_CONFIG = {"widths": [24, 32, 64, 128, 192], "hidden": 192, "input_size": 64,
                  "num_attributes": len(ATTRIBUTES), "num_degrees": NUM_DEGREES,
                  "mouth_widths": [24, 48, 96], "mouth_box": [32, 56, 16, 48]}
# Smiling degrees differ by under a pixel at 64 px (mouth opening 0.4 -> 0.9 px, teeth height),
# so a second, full-resolution branch looks at a fixed mouth crop (rows 32-56, cols 16-48 of
# the 64 px face: every SynthFaces mouth and smile fold lies in rows 36-50, cols 20-43).


class AttributePredictor(nn.Module):
    """Images (N, 3, H, W) in [-1, 1] -> logits (N, 5, 6) over degrees 0..5 per attribute."""

    def __init__(self, widths=DEFAULT_CONFIG["widths"], hidden=192, input_size=64,
                 num_attributes=len(ATTRIBUTES), num_degrees=NUM_DEGREES, mouth_widths=(24, 48, 96),
                 mouth_box=(32, 56, 16, 48)):
        super().__init__()
        self.input_size = int(input_size)
        self.num_attributes = int(num_attributes)
        self.num_degrees = int(num_degrees)
        self.mouth_box = tuple(int(v) for v in mouth_box)
        y0, y1, x0, x1 = self.mouth_box
        if not (0 <= y0 < y1 <= self.input_size and 0 <= x0 < x1 <= self.input_size):
            raise ValueError(f"mouth_box {self.mouth_box} is outside the {self.input_size} px input")
        self.backbone = Backbone(widths)
        m0, m1, m2 = (int(w) for w in mouth_widths)
        # full-resolution mouth branch: stride-1 stem, then two stride-2 residual blocks
        self.mouth = nn.Sequential(nn.Conv2d(3, m0, 3, 1, 1, bias=False), nn.BatchNorm2d(m0), nn.ReLU(),
                                   ResBlock(m0, m1, 2), ResBlock(m1, m2, 2))
        c = self.backbone.out_channels
        self.head = nn.Sequential(nn.Linear(2 * c + 2 * m2, hidden), nn.ReLU(), nn.Dropout(0.1),
                                  nn.Linear(hidden, self.num_attributes * self.num_degrees))
        self.register_buffer("degree_values", torch.arange(self.num_degrees, dtype=torch.float32),
                             persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = fit_size(x, self.input_size)
        y0, y1, x0, x1 = self.mouth_box
        f = self.backbone(x)
        m = self.mouth(x[:, :, y0:y1, x0:x1])
        f = torch.cat([f.mean(dim=(2, 3)), f.amax(dim=(2, 3)), m.mean(dim=(2, 3)), m.amax(dim=(2, 3))], dim=1)
        return self.head(f).view(-1, self.num_attributes, self.num_degrees)

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward(x).softmax(dim=-1)

    def expected_degrees(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 5) expected degree softmax(logits) . [0..5] (differentiable w.r.t. x)."""
        return self.probabilities(x) @ self.degree_values

    @torch.no_grad()
    def predict(self, images, batch: int = 256) -> np.ndarray:
        """uint8 (N, H, W, 3) / (H, W, 3) images or float NCHW in [-1, 1] -> int64 (N, 5) degrees."""
        x = to_tensor(images, self.degree_values.device)
        out = [self.forward(x[i:i + batch]).argmax(-1) for i in range(0, len(x), batch)]
        return torch.cat(out).cpu().numpy().astype(np.int64)


def build(config: dict) -> AttributePredictor:
    return AttributePredictor(**config)


def load_predictor(path=None, device: str = "cpu") -> AttributePredictor:
    """The shipped (or given) attribute predictor, eval mode."""
    return load_model(NAME, path, device=device)


def evaluate(model: AttributePredictor, images: np.ndarray, attributes: np.ndarray, prefix: str = "") -> dict:
    """Per-attribute exact and within-one accuracy on uint8 images with true degrees."""
    was = model.training
    model.eval()
    pred = model.predict(images)
    model.train(was)
    true = np.asarray(attributes, np.int64)
    err = np.abs(pred - true)
    q = {}
    for i, name in enumerate(ATTRIBUTES):
        q[f"{prefix}{name.lower()}_exact"] = round(float((err[:, i] == 0).mean()), 4)
        q[f"{prefix}{name.lower()}_within1"] = round(float((err[:, i] <= 1).mean()), 4)
    q[f"{prefix}min_exact"] = min(q[f"{prefix}{n.lower()}_exact"] for n in ATTRIBUTES)
    q[f"{prefix}min_within1"] = min(q[f"{prefix}{n.lower()}_within1"] for n in ATTRIBUTES)
    q[f"{prefix}n"] = int(len(true))
    return q
