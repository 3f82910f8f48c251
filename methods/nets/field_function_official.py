"""Talk2Edit's published field functions (official tier), run through the same matching routine.

Format (official ``models/archs/field_function_arch.py`` and ``save_network``): one file per
attribute, a plain ``state_dict`` with ``field.<k>.Linear.weight`` / ``.bias`` for k = 0 ... L-1
(L = ``num_layer``, 8 in the released configs; 512-d latent and hidden width), LeakyReLU(0.2)
after every layer but the last. Loaded with ``torch.load(weights_only=True)``: tensors only, no
code from the file runs; shapes are checked.

Semantics (official ``FieldFunctionModel.modify_latent_code_bidirection``): the field's output lives
in the mapping network's *input* space; the W displacement is
``delta = mapping_mlp(field(w)) - mapping_mlp(0)`` (the mapping MLP without its PixelNorm) and is added
to the first ``replaced_layers`` layers of W+ (8 of 12 at 128 px, 10 of 18 at 1024 px), while w itself
moves by the same delta for the next step. Here the latent is the W+ tensor; its layer 0 is the
current w, so one step is stateless: ``step(wplus, attr, d)``.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import torch
import torch.nn as nn

from bench.errors import UserError
from methods.nets.field_function import ATTRIBUTES, FieldMLP

REPLACED_LAYERS = {128: 8, 1024: 10}
_KEY = re.compile(r"^field\.(\d+)\.Linear\.(weight|bias)$")


def load_official_field(path) -> FieldMLP:
    """One official per-attribute field file -> FieldMLP (same layers, same LeakyReLU slope)."""
    p = Path(path)
    try:
        with warnings.catch_warnings():  # torch warns about odd pickle protocols before refusing them
            warnings.simplefilter("ignore")
            state = torch.load(p, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UserError(f"{p}: no such Talk2Edit field-function file") from None
    except Exception as exc:  # noqa: BLE001 - anything unreadable is the file's problem
        raise UserError(f"{p}: not a Talk2Edit field-function state dict ({type(exc).__name__}: {exc})") from None
    if isinstance(state, dict) and "state_dict" in state and isinstance(state["state_dict"], dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not state:
        raise UserError(f"{p}: expected a state dict of field.<k>.Linear.weight/bias tensors")
    layers: dict[int, dict[str, torch.Tensor]] = {}
    for key, value in state.items():
        m = _KEY.match(key.removeprefix("module."))
        if not m or not isinstance(value, torch.Tensor):
            raise UserError(f"{p}: unexpected entry {key!r}; a Talk2Edit field function holds only "
                            "field.<k>.Linear.weight/bias tensors")
        layers.setdefault(int(m.group(1)), {})[m.group(2)] = value.float()
    n = len(layers)
    if sorted(layers) != list(range(n)) or n < 2 or any(set(v) != {"weight", "bias"} for v in layers.values()):
        raise UserError(f"{p}: layers {sorted(layers)} are incomplete (need weight and bias for field.0 ... field.N)")
    latent, hidden = layers[0]["weight"].shape[1], layers[0]["weight"].shape[0]
    mlp = FieldMLP(latent, hidden, n)
    linears = [m for m in mlp if isinstance(m, nn.Linear)]
    for k, lin in enumerate(linears):
        w, b = layers[k]["weight"], layers[k]["bias"]
        if w.shape != lin.weight.shape or b.shape != lin.bias.shape:
            raise UserError(f"{p}: field.{k} has shape {tuple(w.shape)}, expected {tuple(lin.weight.shape)}")
        with torch.no_grad():
            lin.weight.copy_(w)
            lin.bias.copy_(b)
    return mlp.eval()


class OfficialFieldFunctions(nn.Module):
    """Per-attribute official fields tied to a generator G (rosinality/NVIDIA StyleGAN2 loaded by
    ``methods.nets.stylegan2.official``); latents are W+ (B, num_ws, w_dim)."""

    def __init__(self, fields: dict[str, FieldMLP], G, replaced_layers: int | None = None):
        super().__init__()
        unknown = set(fields) - set(ATTRIBUTES)
        if unknown:
            raise UserError(f"unknown attribute(s) {sorted(unknown)}; Talk2Edit's are {', '.join(ATTRIBUTES)}")
        self.attributes = tuple(a for a in ATTRIBUTES if a in fields)
        self.fields = nn.ModuleList(fields[a] for a in self.attributes)
        self.G = G
        self.replaced_layers = int(replaced_layers or REPLACED_LAYERS.get(G.resolution, G.num_ws * 2 // 3))
        if G.z_dim != G.w_dim:
            raise UserError(f"Talk2Edit's fields pass through the mapping MLP, which needs z_dim == w_dim "
                            f"(this generator: {G.z_dim} vs {G.w_dim})")
        for f in self.fields:
            if f[0].in_features != G.w_dim:
                raise UserError(f"field functions are {f[0].in_features}-d but the generator's W is {G.w_dim}-d")

    def index(self, attribute) -> int:
        name = attribute if isinstance(attribute, str) else ATTRIBUTES[int(attribute)]
        if name not in self.attributes:
            raise UserError(f"no official field function loaded for {name}; loaded: {', '.join(self.attributes)}")
        return self.attributes.index(name)

    def prepare(self, w: torch.Tensor) -> torch.Tensor:
        return w.unsqueeze(1).repeat(1, self.G.num_ws, 1) if w.ndim == 2 else w

    def delta(self, w: torch.Tensor, attr) -> torch.Tensor:
        mlp = self.G.style[1:]  # the mapping MLP without its PixelNorm (rosinality style_forward(skip_norm=True))
        if isinstance(attr, torch.Tensor) and attr.ndim == 1:
            field = torch.zeros_like(w)
            for i in attr.unique().tolist():
                rows = attr == i
                field[rows] = self.fields[self.index(int(i))](w[rows])
        else:
            field = self.fields[self.index(attr)](w)
        return mlp(field) - mlp(torch.zeros_like(field))

    def step(self, lat: torch.Tensor, attr, direction) -> torch.Tensor:
        lat = self.prepare(lat).clone()
        d = direction if not isinstance(direction, torch.Tensor) else direction.to(lat).view(-1, 1)
        delta = self.delta(lat[:, 0], attr)
        lat[:, :self.replaced_layers] += (d * delta).unsqueeze(1)
        return lat


def load_official_fields(paths: dict[str, str], G, replaced_layers: int | None = None) -> OfficialFieldFunctions:
    """{attribute name: field file} -> fields bound to the official generator G."""
    return OfficialFieldFunctions({a: load_official_field(p) for a, p in paths.items()}, G, replaced_layers)
