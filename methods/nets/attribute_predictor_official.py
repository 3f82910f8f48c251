"""Talk2Edit's published attribute predictor (official tier): ``predictor_128.pth.tar`` /
``predictor_1024.pth.tar``, run through safe loading and mapped to the project's degrees.

Format (official ``models/archs/attribute_predictor_arch.py``, loaded in ``models/base_model.py``
with ``load_state_dict(checkpoint['state_dict'], strict=True)``):

* a ResNet-50 trunk (Bottleneck blocks [3, 4, 6, 3], stride on the 3x3 conv, torchvision key names
  ``conv1``, ``bn1``, ``layer<i>.<j>.conv1..3 / bn1..3 / downsample.0 / downsample.1``, no ``fc``),
* global average pooling, then ``stem`` = fc_block(2048 -> 512): ``stem.fc`` Linear,
  ``stem.bn`` BatchNorm1d, ReLU (dropout 0 in the released configs, so no module),
* one head per entry of ``attr_info`` in ``configs/attributes_5.json``, named
  ``"classifier" + key.zfill(2) + name``: ``classifier06Bangs``, ``classifier16Eyeglasses``,
  ``classifier25No_Beard``, ``classifier32Smiling``, ``classifier40Young``, each
  ``Sequential(fc_block(512 -> 256), Linear(256 -> 6))`` (keys ``<head>.0.fc.*``, ``<head>.0.bn.*``,
  ``<head>.1.weight/bias``).

The file is a dict with ``state_dict`` (and training extras); a bare state dict and ``module.``
prefixes are accepted too. It is read with ``torch.load(weights_only=True)``: tensors and plain data
only, no code from the file runs; every key and shape is checked (only BatchNorm
``num_batches_tracked`` counters, unused in eval mode, may be absent).

Preprocessing (official ``models/utils.transform_image``): x in [-1, 1] -> ``(x + 1) * 127.5``,
``clamp(. + 0.5, 0, 255) / 255`` (the official +0.5 rounding offset, without flooring), resized to
128 x 128 with ``F.interpolate(mode='area')`` (the official code does this for its 1024 px
generator; its 128 px generator feeds 128 px directly), then ImageNet mean/std normalisation.
Both released predictors therefore see 128 px images. Inputs smaller than 128 px (not an official
case) are upsampled bilinearly.

Degrees (official ``predictor_to_label``: per-head argmax). The official labels follow
CelebA-Dialog: ``No_Beard`` label k is the *beard* degree (0 clean-shaven .. 5 very long beard;
templates in ``language/templates/user_fsm.json``: target 0 "Let's shave the beard off", positive
"Add beard"), and ``Young`` label k is the *age* degree (0 child .. 5 very old: target 0 "make the
face a child one", positive "Older."). The project's degrees (``datasets.synthfaces``) are Beard
0 clean-shaven .. 5 and Young 0 very old .. 5 child, so Beard = label and Young = 5 - label.
`forward` returns logits in the project's attribute order and degree order (the Young head's six
logits reversed), so ``forward(x).argmax(-1) == predict(x)``; `official_labels` gives the raw
official labels in the file's head order.
"""
from __future__ import annotations

import json
import pickle
import warnings
import zipfile
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from bench.errors import UserError
from methods.nets.face_nets import to_tensor

ATTRIBUTES = ("Bangs", "Eyeglasses", "Beard", "Smiling", "Young")
NUM_DEGREES = 6
INPUT_SIZE = 128
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: official attribute name -> (project index, degree reversed?)
OFFICIAL_NAMES = {"Bangs": (0, False), "Eyeglasses": (1, False), "No_Beard": (2, False),
                  "Smiling": (3, False), "Young": (4, True)}
#: ``attr_info`` of the official configs/attributes_5.json (CelebA attribute index -> name, 6 values)
DEFAULT_ATTR_INFO = {"6": "Bangs", "16": "Eyeglasses", "25": "No_Beard", "32": "Smiling", "40": "Young"}
RESNET50_BLOCKS = (3, 4, 6, 3)


# ----------------------------------------------------------------------------- safe reading

def read_official_state(path, what: str) -> dict:
    """A Talk2Edit ``.pth(.tar)`` file -> its state dict of tensors (``state_dict`` unwrapped,
    ``module.`` prefixes removed), read with ``weights_only=True``; any problem is a one-line
    UserError naming the file. `what` names the expected content in messages."""
    p = Path(path)
    if not p.is_file():
        raise UserError(f"{p}: no such {what} file")
    try:
        with warnings.catch_warnings():  # torch warns about odd pickle protocols before refusing them
            warnings.simplefilter("ignore")
            blob = torch.load(p, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        detail = _unpickling_detail(str(exc))
        if "global" in detail.lower():
            raise UserError(f"{p}: refusing to load - the file names code beyond tensors and plain data "
                            f"({detail}); nothing from it was executed") from None
        raise UserError(f"{p}: unreadable {what} (the safe loader cannot read it: {detail})") from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile, AttributeError,
            ImportError, TypeError) as exc:
        raise UserError(f"{p}: unreadable {what} (truncated or not a torch file: "
                        f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:120]})") from None
    if isinstance(blob, dict) and isinstance(blob.get("state_dict"), dict):
        blob = blob["state_dict"]
    if not isinstance(blob, dict) or not blob:
        raise UserError(f"{p}: expected a {what} state dict (a mapping of names to tensors, or a dict "
                        f"with 'state_dict'), got {type(blob).__name__}")
    bad = [k for k, v in blob.items() if not isinstance(k, str) or not isinstance(v, torch.Tensor)]
    if bad:
        raise UserError(f"{p}: entry {bad[0]!r} of the {what} state dict is not a named tensor")
    if all(k.startswith("module.") for k in blob):  # saved from DataParallel
        blob = {k[len("module."):]: v for k, v in blob.items()}
    return blob


def _unpickling_detail(message: str) -> str:
    """The informative line of torch's weights_only refusal (it wraps it in generic advice)."""
    for line in message.splitlines():
        line = line.strip()
        if "WeightsUnpickler error:" in line:
            line = line.split("WeightsUnpickler error:", 1)[1].strip()
        if line and ("nsupported" in line or "GLOBAL" in line):
            return line.split(". Please use")[0][:160]
    return (message.splitlines() or ["unknown pickle content"])[0][:160]


def assign_state(model: nn.Module, state: dict, path, what: str) -> None:
    """Copy `state` into `model` after checking every key and shape (BatchNorm
    ``num_batches_tracked`` may be absent); a UserError names the first problems."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in state and not k.endswith("num_batches_tracked")]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = []
        if unexpected:
            parts.append(f"unexpected key(s) {', '.join(map(repr, unexpected[:3]))}"
                         + (f" (+{len(unexpected) - 3} more)" if len(unexpected) > 3 else ""))
        if missing:
            parts.append(f"missing key(s) {', '.join(map(repr, missing[:3]))}"
                         + (f" (+{len(missing) - 3} more)" if len(missing) > 3 else ""))
        raise UserError(f"{path}: not a Talk2Edit {what}: " + "; ".join(parts))
    for k, v in state.items():
        if tuple(v.shape) != tuple(expected[k].shape):
            raise UserError(f"{path}: {k} has shape {tuple(v.shape)}, expected {tuple(expected[k].shape)} "
                            f"for the Talk2Edit {what}")
        if expected[k].is_floating_point() and not v.is_floating_point():
            raise UserError(f"{path}: {k} holds {v.dtype} values, expected floating point")
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise UserError(f"{path}: {k} contains NaN or infinite values")
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()}, strict=False)


# ----------------------------------------------------------------------------- the network

class FcBlock(nn.Module):
    """Linear -> BatchNorm1d -> ReLU (the official ``fc_block`` with dropout 0)."""

    def __init__(self, cin: int, cout: int):
        super().__init__()
        self.fc = nn.Linear(cin, cout)
        self.bn = nn.BatchNorm1d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.fc(x)))


class Bottleneck(nn.Module):
    """1x1 -> 3x3 (strided) -> 1x1 x4 residual block with an optional projection shortcut."""

    expansion = 4

    def __init__(self, cin: int, width: int, stride: int = 1):
        super().__init__()
        cout = width * self.expansion
        self.conv1 = nn.Conv2d(cin, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, cout, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(cout)
        self.downsample = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                           if stride != 1 or cin != cout else None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.relu(self.bn1(self.conv1(x)))
        y = F.relu(self.bn2(self.conv2(y)))
        y = self.bn3(self.conv3(y))
        return F.relu(y + (x if self.downsample is None else self.downsample(x)))


class OfficialAttributePredictor(nn.Module):
    """Talk2Edit's ResNet-50 attribute predictor with its heads named as in the official file.

    ``heads``: (head module name, official attribute name) in the file's ``attr_info`` order.
    """

    def __init__(self, heads=None, num_degrees: int = NUM_DEGREES, input_size: int = INPUT_SIZE):
        super().__init__()
        if heads is None:
            heads = [("classifier" + k.zfill(2) + n, n) for k, n in DEFAULT_ATTR_INFO.items()]
        self.head_names = tuple(h for h, _ in heads)
        self.official_names = tuple(n for _, n in heads)
        self.input_size = int(input_size)
        self.num_degrees = int(num_degrees)
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        cin = 64
        for i, (blocks, width) in enumerate(zip(RESNET50_BLOCKS, (64, 128, 256, 512)), start=1):
            layer = []
            for j in range(blocks):
                layer.append(Bottleneck(cin, width, 2 if (j == 0 and i > 1) else 1))
                cin = width * Bottleneck.expansion
            self.add_module(f"layer{i}", nn.Sequential(*layer))
        self.stem = FcBlock(cin, 512)
        for h in self.head_names:
            if hasattr(self, h):
                raise UserError(f"attribute head name {h!r} collides with the network's own modules")
            self.add_module(h, nn.Sequential(FcBlock(512, 256), nn.Linear(256, self.num_degrees)))
        # project order: which official head feeds each project attribute, and whether it is reversed
        where = {OFFICIAL_NAMES[n][0]: (i, OFFICIAL_NAMES[n][1]) for i, n in enumerate(self.official_names)}
        self._order = [where[a][0] for a in range(len(ATTRIBUTES))]
        self._reverse = [where[a][1] for a in range(len(ATTRIBUTES))]
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    def preprocess(self, x: torch.Tensor) -> torch.Tensor:
        """Images (B, 3, H, W) in [-1, 1] -> the official predictor input (B, 3, 128, 128)."""
        if x.dim() != 4 or x.shape[1] != 3:
            raise UserError(f"expected images (B, 3, H, W) in [-1, 1], got shape {tuple(x.shape)}")
        x = torch.clamp((x.float() + 1) * 127.5 + 0.5, 0, 255) / 255.0
        s = self.input_size
        if x.shape[-2:] != (s, s):
            if x.shape[-2] >= s and x.shape[-1] >= s:
                x = F.interpolate(x, (s, s), mode="area")
            else:
                x = F.interpolate(x, (s, s), mode="bilinear", align_corners=False)
        return (x - self.mean) / self.std

    def official_logits(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The official forward on already preprocessed input: one (B, 6) tensor per head, file order."""
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        x = self.stem(x.mean(dim=(2, 3)))
        return [getattr(self, h)(x) for h in self.head_names]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Images (B, 3, H, W) in [-1, 1] -> logits (B, 5, 6) in project attribute / degree order."""
        out = self.official_logits(self.preprocess(x))
        return torch.stack([out[i].flip(-1) if rev else out[i] for i, rev in zip(self._order, self._reverse)], 1)

    def probabilities(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward(x).softmax(-1)

    @torch.no_grad()
    def official_labels(self, images) -> np.ndarray:
        """The official ``predictor_to_label`` labels (B, heads) in the file's head order."""
        x = to_tensor(images, self.mean.device)
        return torch.stack([o.argmax(-1) for o in self.official_logits(self.preprocess(x))], 1).numpy()

    @torch.no_grad()
    def predict(self, images, batch: int = 64) -> np.ndarray:
        """Float (B, 3, H, W) in [-1, 1] (or uint8 (B, H, W, 3)) -> int64 (B, 5) project degrees."""
        x = to_tensor(images, self.mean.device)
        out = [self.forward(x[i:i + batch]).argmax(-1) for i in range(0, len(x), batch)]
        return torch.cat(out).cpu().numpy().astype(np.int64)


# ----------------------------------------------------------------------------- loading

def _heads_from_json(path) -> list[tuple[str, str]]:
    p = Path(path)
    try:
        info = json.loads(p.read_text())["attr_info"]
    except FileNotFoundError:
        raise UserError(f"{p}: no such Talk2Edit attributes file") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{p}: not a Talk2Edit attributes file with 'attr_info' ({type(exc).__name__})") from None
    if not isinstance(info, dict):
        raise UserError(f"{p}: 'attr_info' must map CelebA attribute indices to {{name, value}} entries")
    heads = []
    for key, val in info.items():
        name = val.get("name") if isinstance(val, dict) else None
        if name not in OFFICIAL_NAMES:
            raise UserError(f"{p}: attribute {name!r} is not one of Talk2Edit's {', '.join(OFFICIAL_NAMES)}")
        if len(val.get("value", ())) != NUM_DEGREES:
            raise UserError(f"{p}: {name} has {len(val.get('value', ()))} values, expected {NUM_DEGREES}")
        heads.append(("classifier" + str(key).zfill(2) + name, name))
    if sorted(n for _, n in heads) != sorted(OFFICIAL_NAMES):
        raise UserError(f"{p}: needs each of {', '.join(OFFICIAL_NAMES)} exactly once, "
                        f"got {', '.join(n for _, n in heads)}")
    return heads


def load_official_predictor(path, attributes_json=None) -> OfficialAttributePredictor:
    """An official Talk2Edit predictor file -> eval-mode `OfficialAttributePredictor`.

    attributes_json: the official ``configs/attributes_5.json`` (head names and order); None uses
    its released contents (Bangs, Eyeglasses, No_Beard, Smiling, Young at CelebA indices 6, 16, 25,
    32, 40).
    """
    heads = None if attributes_json is None else _heads_from_json(attributes_json)
    state = read_official_state(path, "Talk2Edit attribute-predictor checkpoint")
    model = OfficialAttributePredictor(heads)
    assign_state(model, state, Path(path), "ResNet-50 attribute predictor")
    return model.eval()
