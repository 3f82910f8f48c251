"""Field functions M (Talk2Edit / Editable-DeepSC eq. 11): one MLP per attribute on the W latent.

Zoo component ``field-functions`` (``bench train field-functions``, trainer in
``methods.training.field_functions``). For attribute i, ``M_i(w)`` is a displacement in W; one
editing step is eq. (11): ``w <- w + d * M_i(w)`` with direction ``d`` = +1 / -1, and it is trained
so that one step moves the attribute predictor's reading by one degree (eq. 12-15). As in the
official Talk2Edit code each field is a stack of fully connected layers with LeakyReLU(0.2)
(``layers`` linear layers, ``hidden`` wide); unlike it, the displacement is taken directly in W
(Talk2Edit passes its field through the mapping network and adds it to the first W+ layers),
because the latent Editable-DeepSC edits and sends is one w of 128 reals.

Fields are only meaningful for the generator they were trained against: the config and card
record its SHA-256 and :func:`load_fields_for` refuses another generator.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn as nn

from bench.errors import UserError

NAME = "field-functions"
ATTRIBUTES = ("Bangs", "Eyeglasses", "Beard", "Smiling", "Young")
DEFAULT_CONFIG = {"w_dim": 128, "hidden": 256, "layers": 8, "attributes": list(ATTRIBUTES), "generator_sha256": "",
                  "step_norm": 0.0, "step_norms": [], "base_directions": False, "training_snrs": []}


class FieldMLP(nn.Sequential):
    def __init__(self, w_dim: int, hidden: int, layers: int):
        if layers < 2:
            raise ValueError("a field function needs at least 2 layers")
        mods: list[nn.Module] = [nn.Linear(w_dim, hidden), nn.LeakyReLU(0.2)]
        for _ in range(layers - 2):
            mods += [nn.Linear(hidden, hidden), nn.LeakyReLU(0.2)]
        mods.append(nn.Linear(hidden, w_dim))
        super().__init__(*mods)
        # He initialisation for LeakyReLU(0.2) keeps the signal (and the gradient) alive through the
        # 8 layers; PyTorch's default shrinks it about 3x per layer, which left the fields untrainable
        for m in mods:
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, a=0.2, nonlinearity="leaky_relu")
                nn.init.zeros_(m.bias)
        with torch.no_grad():
            mods[-1].weight.mul_(0.1)  # start with small steps


class FieldFunctions(nn.Module):
    """Per-attribute fields. ``forward(w, attr)``: (B, w_dim) latents, attr an int or (B,) indices
    -> (B, w_dim) displacements M_attr(w)."""

    def __init__(self, w_dim: int = 128, hidden: int = 256, layers: int = 8, attributes=ATTRIBUTES,
                 generator_sha256: str = "", step_norm: float = 0.0, step_norms=(), base_directions: bool = False,
                 training_snrs=()):
        super().__init__()
        self.w_dim = int(w_dim)
        # > 0: every step has this length in W and the MLP only chooses its direction (a field whose
        # length is free collapsed towards 0 under the identity and realism losses on the CPU budget)
        self.step_norm = float(step_norm)
        self.attributes = tuple(attributes)
        # per-attribute step lengths (calibrated by the trainer so that one step along the attribute's
        # linear direction moves P by about one degree); empty: step_norm for every attribute
        self.step_norms = [float(v) for v in step_norms]
        if self.step_norms and len(self.step_norms) != len(self.attributes):
            raise ValueError(f"step_norms has {len(self.step_norms)} entries for {len(self.attributes)} attributes")
        self.generator_sha256 = str(generator_sha256)
        # JECC fields (journal Sec. IV-B) were trained with the channel in the loop at these SNRs
        self.training_snrs = [float(v) for v in training_snrs]
        self.fields = nn.ModuleList(FieldMLP(self.w_dim, int(hidden), int(layers)) for _ in self.attributes)
        # a learned per-attribute direction the MLP's output is added to (initialised by the trainer from
        # the least-squares direction of P's degrees over W, the InterFaceGAN direction): the MLP only
        # has to learn the latent-dependent correction
        self.base_directions = bool(base_directions)
        if self.base_directions:
            self.base = nn.Parameter(torch.zeros(len(self.attributes), self.w_dim))

    def index(self, attribute) -> int:
        if isinstance(attribute, str):
            if attribute not in self.attributes:
                raise UserError(f"no field function for attribute {attribute!r}; known: {', '.join(self.attributes)}")
            return self.attributes.index(attribute)
        i = int(attribute)
        if not 0 <= i < len(self.attributes):
            raise UserError(f"attribute index {i} out of range 0..{len(self.attributes) - 1}")
        return i

    def forward(self, w: torch.Tensor, attr) -> torch.Tensor:
        if isinstance(attr, torch.Tensor) and attr.ndim == 1:
            out = torch.zeros_like(w)
            for i in attr.unique().tolist():
                rows = attr == i
                out[rows] = self._one(w[rows], self.index(i))
            return out
        return self._one(w, self.index(attr))

    def _one(self, w: torch.Tensor, i: int) -> torch.Tensor:
        out = self.fields[i](w)
        if self.base_directions:
            out = out + self.base[i]
        norm = self.step_norms[i] if self.step_norms else self.step_norm
        if norm > 0:
            out = norm * torch.nn.functional.normalize(out, dim=-1)
        return out

    def prepare(self, w: torch.Tensor) -> torch.Tensor:
        """The latent form these fields edit: W itself."""
        return w

    def step(self, w: torch.Tensor, attr, direction) -> torch.Tensor:
        """One editing step, eq. (11): w + d * M_attr(w); direction a number or (B,) tensor of +-1."""
        d = direction if not isinstance(direction, torch.Tensor) else direction.to(w).view(-1, 1)
        return w + d * self(w, attr)


def build(config: dict) -> FieldFunctions:
    return FieldFunctions(**config)


def load_fields(path=None, device: str = "cpu") -> FieldFunctions:
    from methods.zoo import load_model

    return load_model(NAME, path, device=device)


def load_fields_for(generator_path=None, fields_path=None, device: str = "cpu", name: str = NAME) -> FieldFunctions:
    """The field functions (shipped or given; ``name``: ``field-functions`` or ``jecc-field-functions``),
    refused unless trained against this generator file."""
    from methods.nets.latent_encoder import load_pinned

    return load_pinned(name, generator_path, fields_path, device, what="field functions")


def field_component_of(path) -> str:
    """Which field component a checkpoint file holds (``field-functions`` or ``jecc-field-functions``:
    both are this network)."""
    from methods.zoo import read_checkpoint

    for kind in (NAME, "jecc-field-functions"):
        try:
            read_checkpoint(Path(path), kind)
            return kind
        except UserError:
            continue
    raise UserError(f"{path} is not a field-functions or jecc-field-functions checkpoint")
