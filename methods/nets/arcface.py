"""Official-tier identity network: the ArcFace ``resnet_face18`` used by Talk2Edit's L_id.

Talk2Edit (``models/losses/arcface_loss.py``) computes its identity loss with the
arcface-pytorch ``resnet_face18`` (ResNet-IR "improved residual" blocks: BN -> conv -> BN ->
PReLU -> conv(stride) -> BN [-> SE] + shortcut -> PReLU; stages [2, 2, 2, 2] of 64/128/256/512
channels; a 1-channel 3x3 stem, 2x2 max-pool, BN + dropout + fc(512*8*8 -> 512) + BN1d head),
fed 128x128 *grayscale* faces in [-1, 1] (RGB averaged over channels, area-resized), and loads
``download/pretrained_models/arcface_resnet18_110.pth`` -- a state dict saved from
``nn.DataParallel`` (keys prefixed ``module.``), built with ``use_se=False``.

This module re-implements that network with the same state-dict key names so such a file
loads tensor-for-tensor. Weights are *not* shipped (they are not ours to redistribute and
there is no network here): pass the file's path::

    from methods.nets.arcface import load_arcface
    net = load_arcface("arcface_resnet18_110.pth")     # eval mode, 512-d features
    f = net(x)                                         # x: (N, 3 or 1, H, W) in [-1, 1]
    net.cosine(x1, x2)                                 # identity similarity, as in L_id

The file is read with ``torch.load(weights_only=True)``; ``module.`` prefixes are stripped; a
file with missing / unexpected / mis-shaped tensors is refused with a UserError (nothing is
half-loaded). Only BatchNorm ``num_batches_tracked`` counters may be absent (files saved by
PyTorch < 0.4.1 lack them).
"""
from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from bench.errors import UserError

INPUT_SIZE = 128
EMBED_DIM = 512
LAYOUTS = {"resnet_face18": (2, 2, 2, 2), "resnet_face34": (3, 4, 6, 3)}


def _conv3(cin: int, cout: int, stride: int = 1) -> nn.Conv2d:
    return nn.Conv2d(cin, cout, 3, stride, 1, bias=False)


class SqueezeExcite(nn.Module):
    """Channel gating; `fc` = Linear(c, c/r), PReLU, Linear(c/r, c), Sigmoid (keys se.fc.0/1/2)."""

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        self.fc = nn.Sequential(nn.Linear(channels, channels // reduction), nn.PReLU(),
                                nn.Linear(channels // reduction, channels), nn.Sigmoid())

    def forward(self, x):
        w = self.fc(x.mean(dim=(2, 3)))
        return x * w[:, :, None, None]


class IRBlock(nn.Module):
    """Improved residual unit; the stride sits on the second conv, one PReLU shared by both uses."""

    def __init__(self, cin: int, cout: int, stride: int = 1, use_se: bool = False):
        super().__init__()
        self.bn0 = nn.BatchNorm2d(cin)
        self.conv1 = _conv3(cin, cin)
        self.bn1 = nn.BatchNorm2d(cin)
        self.prelu = nn.PReLU()
        self.conv2 = _conv3(cin, cout, stride)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                           if stride != 1 or cin != cout else None)
        self.se = SqueezeExcite(cout) if use_se else None

    def forward(self, x):
        y = self.prelu(self.bn1(self.conv1(self.bn0(x))))
        y = self.bn2(self.conv2(y))
        if self.se is not None:
            y = self.se(y)
        short = x if self.downsample is None else self.downsample(x)
        return self.prelu(y + short)


class ArcFaceIR(nn.Module):
    """ResNet-IR face network (Talk2Edit's ArcFace): 128x128 grayscale -> 512-d feature."""

    def __init__(self, layers=LAYOUTS["resnet_face18"], use_se: bool = False):
        super().__init__()
        self.layers_spec = tuple(int(n) for n in layers)
        self.use_se = bool(use_se)
        self.conv1 = nn.Conv2d(1, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.prelu = nn.PReLU()
        self.maxpool = nn.MaxPool2d(2, 2)
        cin = 64
        for i, (cout, n) in enumerate(zip((64, 128, 256, 512), self.layers_spec), start=1):
            blocks = [IRBlock(cin, cout, 1 if i == 1 else 2, self.use_se)]
            blocks += [IRBlock(cout, cout, 1, self.use_se) for _ in range(n - 1)]
            setattr(self, f"layer{i}", nn.Sequential(*blocks))
            cin = cout
        self.bn4 = nn.BatchNorm2d(512)
        self.dropout = nn.Dropout()
        self.fc5 = nn.Linear(512 * 8 * 8, EMBED_DIM)
        self.bn5 = nn.BatchNorm1d(EMBED_DIM)

    @staticmethod
    def preprocess(x: torch.Tensor) -> torch.Tensor:
        """(N, 3|1, H, W) in [-1, 1] -> (N, 1, 128, 128): channel mean, area resize (as Talk2Edit)."""
        if x.dim() != 4 or x.shape[1] not in (1, 3):
            raise UserError(f"ArcFace wants images (N, 3 or 1, H, W) in [-1, 1], got shape {tuple(x.shape)}")
        if x.shape[1] == 3:
            x = x.mean(dim=1, keepdim=True)
        if x.shape[-2:] != (INPUT_SIZE, INPUT_SIZE):
            if x.shape[-1] >= INPUT_SIZE:
                x = F.interpolate(x, (INPUT_SIZE, INPUT_SIZE), mode="area")
            else:
                x = F.interpolate(x, (INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.prelu(self.bn1(self.conv1(self.preprocess(x)))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.dropout(self.bn4(x))
        return self.bn5(self.fc5(x.flatten(1)))

    def cosine(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return F.cosine_similarity(self.forward(a), self.forward(b), dim=1)


def _read_state(path: Path) -> dict:
    if not path.exists():
        raise UserError(f"ArcFace weights not found at {path}; get Talk2Edit's arcface_resnet18_110.pth "
                        "(download/pretrained_models/) and pass its path")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, OSError, ValueError, pickle.UnpicklingError, zipfile.BadZipFile) as exc:
        raise UserError(f"ArcFace weights {path} are truncated, corrupted or not a plain tensor file "
                        f"({type(exc).__name__}: {str(exc)[:120]})") from None
    if isinstance(blob, dict) and isinstance(blob.get("state_dict"), dict):
        blob = blob["state_dict"]
    if not isinstance(blob, dict) or not blob or not all(isinstance(v, torch.Tensor) for v in blob.values()):
        raise UserError(f"{path} is not an ArcFace state dict (expected a mapping of names to tensors)")
    return {(k[len("module."):] if k.startswith("module.") else k): v for k, v in blob.items()}


def _layout_from_keys(state: dict) -> tuple[int, ...]:
    counts = []
    for i in range(1, 5):
        idx = {int(k.split(".")[1]) for k in state if k.startswith(f"layer{i}.") and k.split(".")[1].isdigit()}
        counts.append(max(idx) + 1 if idx else 0)
    return tuple(counts)


def load_arcface(path, arch: str = "auto", use_se: bool | None = None, device: str = "cpu") -> ArcFaceIR:
    """Build the ResNet-IR ArcFace and load `path` into it, every tensor or nothing.

    arch: "resnet_face18" (Talk2Edit), "resnet_face34", or "auto" (block counts read from the
    file's keys); use_se: None to read it from the keys (``.se.`` present).
    """
    path = Path(path)
    state = _read_state(path)
    if use_se is None:
        use_se = any(".se." in k for k in state)
    if arch == "auto":
        layers = _layout_from_keys(state)
        if 0 in layers:
            raise UserError(f"{path} does not look like a ResNet-IR ArcFace state dict "
                            f"(no 'layer1..4' blocks found; e.g. key '{next(iter(state))}')")
    elif arch in LAYOUTS:
        layers = LAYOUTS[arch]
    else:
        raise UserError(f"unknown ArcFace arch {arch!r}: use 'auto' or one of {', '.join(LAYOUTS)}")
    model = ArcFaceIR(layers, use_se)
    own = model.state_dict()
    missing = sorted(k for k in set(own) - set(state) if not k.endswith("num_batches_tracked"))
    unexpected = sorted(set(state) - set(own))
    bad = sorted(k for k in set(own) & set(state) if tuple(own[k].shape) != tuple(state[k].shape))
    if missing or unexpected or bad:
        parts = []
        for label, keys in (("missing", missing), ("unexpected", unexpected), ("mis-shaped", bad)):
            if keys:
                eg = keys[0] + (f" {tuple(state[keys[0]].shape)} vs {tuple(own[keys[0]].shape)}" if label == "mis-shaped"
                                else "")
                parts.append(f"{len(keys)} {label} (e.g. '{eg}')")
        raise UserError(f"{path} does not match ArcFace {'/'.join(map(str, layers))} IR blocks"
                        f"{' with SE' if use_se else ''}: " + ", ".join(parts))
    full = {k: state.get(k, own[k]).to(own[k].dtype) for k in own}
    model.load_state_dict(full, strict=True)
    return model.eval().to(device)
