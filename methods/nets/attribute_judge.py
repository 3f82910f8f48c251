"""The attribute judge J: a second attribute predictor used ONLY for evaluation.

Edits steered by the attribute predictor P (``methods.nets.attribute_predictor``: residual
backbone + full-resolution mouth branch, BatchNorm, ReLU) must never be scored by P itself: an
editor can fool the network that steers it. The judge reads the same five attributes at degrees
0..5 but shares nothing with P except the task:

* **architecture** — a plain (non-residual) VGG-style stack, full resolution in its first stage, with
  GroupNorm and SiLU, and attention pooling (a learned spatial softmax per attribute) instead of
  mean/max pooling and a fixed mouth crop;
* **seed and data draw** — trained with its own seed on its own attribute draws of the train
  identities (``methods.training.attribute_judge``);
* **augmentation** — stronger colour and geometric jitter, no JPEG, and random erasing of
  patches away from the face centre.

Use::

    from methods.nets.attribute_judge import load_judge
    J = load_judge()
    J.predict(uint8_images)          # int64 (N, 5) degrees
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from datasets.synthfaces import ATTRIBUTES, MAX_DEGREE
from methods.nets.face_nets import fit_size, to_tensor
from methods.zoo import load_model

NAME = "attribute-judge"
NUM_DEGREES = MAX_DEGREE + 1
DEFAULT_CONFIG = {"widths": [32, 64, 96, 128], "input_size": 64, "upsample": 1,
                  "num_attributes": len(ATTRIBUTES), "num_degrees": NUM_DEGREES, "groups": 8}


def _stage(cin: int, cout: int, groups: int) -> nn.Sequential:
    """Two 3x3 convs (GroupNorm, SiLU), then 2x2 max-pooling."""
    return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1, bias=False), nn.GroupNorm(groups, cout), nn.SiLU(),
                         nn.Conv2d(cout, cout, 3, 1, 1, bias=False), nn.GroupNorm(groups, cout), nn.SiLU(),
                         nn.MaxPool2d(2))


class AttributeJudge(nn.Module):
    """Images (N, 3, H, W) in [-1, 1] -> logits (N, 5, 6) over degrees 0..5 per attribute."""

    def __init__(self, widths=DEFAULT_CONFIG["widths"], input_size=64, upsample=2,
                 num_attributes=len(ATTRIBUTES), num_degrees=NUM_DEGREES, groups=8):
        super().__init__()
        self.input_size, self.upsample = int(input_size), int(upsample)
        self.num_attributes, self.num_degrees = int(num_attributes), int(num_degrees)
        layers, cin = [], 3
        for w in widths:
            layers.append(_stage(cin, int(w), int(groups)))
            cin = int(w)
        self.features = nn.Sequential(*layers)
        self.attend = nn.Conv2d(cin, self.num_attributes, 1)  # one spatial softmax per attribute
        self.heads = nn.Conv1d(self.num_attributes * cin, self.num_attributes * self.num_degrees, 1,
                               groups=self.num_attributes)
        self.register_buffer("degree_values", torch.arange(self.num_degrees, dtype=torch.float32),
                             persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = fit_size(x, self.input_size)
        if self.upsample > 1:
            x = F.interpolate(x, scale_factor=self.upsample, mode="bilinear", align_corners=False)
        f = self.features(x)  # (N, C, h, w)
        a = self.attend(f).flatten(2).softmax(-1)  # (N, A, hw)
        pooled = torch.einsum("nah,nch->nac", a, f.flatten(2))  # (N, A, C)
        out = self.heads(pooled.reshape(len(x), -1, 1))  # grouped: attribute i sees only its own pooling
        return out.view(-1, self.num_attributes, self.num_degrees)

    @torch.no_grad()
    def predict(self, images, batch: int = 256) -> np.ndarray:
        """uint8 (N, H, W, 3) / (H, W, 3) images or float NCHW in [-1, 1] -> int64 (N, 5) degrees."""
        x = to_tensor(images, self.degree_values.device)
        out = [self.forward(x[i:i + batch]).argmax(-1) for i in range(0, len(x), batch)]
        return torch.cat(out).cpu().numpy().astype(np.int64)


def build(config: dict) -> AttributeJudge:
    return AttributeJudge(**config)


def load_judge(path=None, device: str = "cpu") -> AttributeJudge:
    """The shipped (or given) attribute judge, eval mode."""
    return load_model(NAME, path, device=device)
