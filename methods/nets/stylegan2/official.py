"""Loaders for official StyleGAN2 checkpoints (the "official tier").

* rosinality/stylegan2-pytorch ``.pt``/``.pth`` (as used by Talk2Edit): a dict with ``g_ema``
  (and optionally ``d``, ``latent_avg``), read with ``torch.load(weights_only=True)``; our
  module uses the same parameter names, so tensors load by name.
* NVIDIA stylegan2-ada-pytorch (and stylegan3-repo StyleGAN2) ``.pkl``: read with the restricted
  unpickler of :mod:`methods.nets.stylegan2.safe_unpickle` (no code from the file runs), then
  ``G_ema``'s tensors are renamed onto our module (``mapping.fc0.weight`` -> ``style.1.weight``,
  ``synthesis.b4.conv1.affine.weight`` -> ``conv1.conv.modulation.weight``, ...).

The architecture (resolution, latent widths, mapping depth, per-resolution channels) is read
from the tensor shapes. Loading is all-or-nothing: a missing, extra or mis-shaped tensor, an
unsupported architecture or a broken file raises ``UserError``; no half-loaded model is returned.
"""
from __future__ import annotations

import argparse
import pickle
import re
import zipfile
from pathlib import Path

import torch

from bench.errors import UserError

from .discriminator import Discriminator
from .generator import Generator
from .ops import make_kernel
from .safe_unpickle import PersistentStub, safe_load_pickle

# ---------------------------------------------------------------------------------------- helpers


def _fail(path, what: str):
    raise UserError(f"{path}: {what}")


def _assign(module: torch.nn.Module, state: dict, path, skip=()) -> None:
    """Copy every tensor of `state` into `module` after checking names and shapes (all-or-nothing)."""
    own = {k: v for k, v in module.state_dict().items() if k not in skip}
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    bad = sorted(k for k in set(own) & set(state) if tuple(own[k].shape) != tuple(state[k].shape))
    if missing or unexpected or bad:
        detail = []
        if missing:
            detail.append(f"{len(missing)} missing (e.g. '{missing[0]}')")
        if unexpected:
            detail.append(f"{len(unexpected)} unexpected (e.g. '{unexpected[0]}')")
        if bad:
            k = bad[0]
            detail.append(f"{len(bad)} mis-shaped (e.g. '{k}': file {tuple(state[k].shape)} vs "
                          f"model {tuple(own[k].shape)})")
        _fail(path, "tensors do not match a StyleGAN2 generator: " + ", ".join(detail))
    for k, v in state.items():
        if not torch.is_floating_point(v) or not torch.isfinite(v.float()).all():
            _fail(path, f"tensor '{k}' is not a finite float tensor")
    with torch.no_grad():
        module.load_state_dict({k: v.to(own[k].dtype) for k, v in state.items()}, strict=False)


def _count(keys, pattern: str) -> int:
    rx = re.compile(pattern)
    return len({m.group(1) for k in keys if (m := rx.fullmatch(k))})


# ------------------------------------------------------------------------------ rosinality format


def rosinality_config(g: dict, path="<state>") -> dict:
    """Generator config from a rosinality ``g_ema`` state dict's shapes."""
    try:
        n_mlp = _count(g, r"style\.(\d+)\.weight")
        z_dim = int(g["style.1.weight"].shape[1])
        w_dim = int(g["style.1.weight"].shape[0])
        n_rgb = _count(g, r"to_rgbs\.(\d+)\.conv\.weight")
        channels = {"4": int(g["input.input"].shape[1])}
        for j in range(n_rgb):
            channels[str(2 ** (j + 3))] = int(g[f"convs.{2 * j}.conv.weight"].shape[1])
    except (KeyError, IndexError, AttributeError) as exc:
        _fail(path, f"not a rosinality StyleGAN2 generator state (missing/odd '{exc}')")
    if n_mlp < 1 or n_rgb < 1:
        _fail(path, "not a rosinality StyleGAN2 generator state (no mapping layers or ToRGB layers)")
    return {"resolution": 4 * 2 ** n_rgb, "z_dim": z_dim, "w_dim": w_dim, "n_mlp": n_mlp, "channels": channels}


def _torch_load(path) -> object:
    path = Path(path)
    if not path.exists():
        raise UserError(f"StyleGAN2 checkpoint {path} not found")
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        msg = str(exc).splitlines()[0] if str(exc) else ""
        if "Unsupported global" in str(exc) or "weights_only" in str(exc):
            raise UserError(f"{path}: refusing to load - the checkpoint names code beyond tensors and plain "
                            f"data ({msg[:200]}); nothing from it was executed") from None
        raise UserError(f"{path} is truncated or corrupted ({msg[:200]})") from None
    except (RuntimeError, EOFError, OSError, ValueError, zipfile.BadZipFile) as exc:
        raise UserError(f"{path} is truncated or corrupted ({type(exc).__name__}); download it again") from None


def generator_from_rosinality_state(g: dict, latent_avg=None, path="<state>") -> Generator:
    if not isinstance(g, dict) or not all(isinstance(v, torch.Tensor) for v in g.values()):
        _fail(path, "'g_ema' is not a state dict of tensors")
    cfg = rosinality_config(g, path)
    try:
        G = Generator(cfg)
    except ValueError as exc:
        _fail(path, f"unsupported StyleGAN2 geometry ({exc})")
    # FIR kernel buffers are fixed by the architecture; accept files that leave them out
    absent_kernels = tuple(k for k in G.state_dict() if k.endswith(".kernel") and k not in g)
    _assign(G, g, path, skip=("w_avg",) + absent_kernels)
    with torch.no_grad():
        if latent_avg is not None:
            la = torch.as_tensor(latent_avg).float().reshape(-1)
            if la.numel() != G.w_dim:
                _fail(path, f"latent_avg has {la.numel()} values, the generator's W has {G.w_dim}")
            G.w_avg.copy_(la)
        else:
            G.w_avg.copy_(G.mean_latent(4096)[0])
    return G.eval()


def load_rosinality(path, with_discriminator: bool = False):
    """Generator (and, when asked and present, the Discriminator) from a rosinality checkpoint."""
    blob = _torch_load(path)
    if isinstance(blob, dict) and "g_ema" in blob:
        g = blob["g_ema"]
    elif isinstance(blob, dict) and "style.1.weight" in blob:
        g = blob  # a bare g_ema state dict
    else:
        _fail(path, "not a rosinality StyleGAN2 checkpoint (no 'g_ema' generator state)")
    G = generator_from_rosinality_state(g, blob.get("latent_avg"), path)
    if not with_discriminator:
        return G
    d = blob.get("d")
    if not isinstance(d, dict):
        _fail(path, "has no discriminator state 'd'")
    channels = {"4": int(d["final_conv.0.weight"].shape[0])} if "final_conv.0.weight" in d else None
    if channels is None:
        _fail(path, "'d' is not a StyleGAN2 discriminator state")
    n_blocks = _count(d, r"convs\.(\d+)\.conv1\.0\.weight")
    res = 4 * 2 ** n_blocks
    channels[str(res)] = int(d["convs.0.0.weight"].shape[0])
    for i in range(1, n_blocks + 1):
        channels[str(res // 2 ** i)] = int(d[f"convs.{i}.conv2.1.weight"].shape[0])
    D = Discriminator(res, channels=channels)
    _assign(D, d, path)
    return G, D.eval()


# --------------------------------------------------------------------------------- NVIDIA format

NVIDIA_GENERATORS = {"training.networks.Generator", "training.networks_stylegan2.Generator"}


def nvidia_to_rosinality(state: dict[str, torch.Tensor], path="<state>") -> tuple[dict, torch.Tensor | None]:
    """Rename NVIDIA G_ema tensors to our (rosinality) names; returns (state, w_avg)."""
    out, w_avg, unused = {}, None, []
    blocks = sorted({int(m.group(1)) for k in state if (m := re.match(r"synthesis\.b(\d+)\.", k))})
    if not blocks or blocks[0] != 4:
        _fail(path, "G_ema has no synthesis.b4 block; not a StyleGAN2 generator")
    j_of = {res: j for j, res in enumerate(blocks[1:])}

    def conv(src: str, dst: str, noise_idx: int):
        out[f"{dst}.conv.weight"] = state[f"{src}.weight"].unsqueeze(0)
        out[f"{dst}.conv.modulation.weight"] = state[f"{src}.affine.weight"]
        out[f"{dst}.conv.modulation.bias"] = state[f"{src}.affine.bias"]
        out[f"{dst}.noise.weight"] = state[f"{src}.noise_strength"].reshape(1)
        out[f"{dst}.activate.bias"] = state[f"{src}.bias"]
        nc = state[f"{src}.noise_const"]
        out[f"noises.noise_{noise_idx}"] = nc.reshape(1, 1, *nc.shape[-2:])

    def torgb(src: str, dst: str):
        out[f"{dst}.conv.weight"] = state[f"{src}.weight"].unsqueeze(0)
        out[f"{dst}.conv.modulation.weight"] = state[f"{src}.affine.weight"]
        out[f"{dst}.conv.modulation.bias"] = state[f"{src}.affine.bias"]
        out[f"{dst}.bias"] = state[f"{src}.bias"].reshape(1, -1, 1, 1)

    consumed = set()
    try:
        for k, v in state.items():
            m = re.fullmatch(r"mapping\.fc(\d+)\.(weight|bias)", k)
            if m:
                out[f"style.{int(m.group(1)) + 1}.{m.group(2)}"] = v
                consumed.add(k)
        if "mapping.w_avg" in state:
            w_avg = state["mapping.w_avg"]
            consumed.add("mapping.w_avg")
        out["input.input"] = state["synthesis.b4.const"].unsqueeze(0)
        conv("synthesis.b4.conv1", "conv1", 0)
        torgb("synthesis.b4.torgb", "to_rgb1")
        for res, j in j_of.items():
            conv(f"synthesis.b{res}.conv0", f"convs.{2 * j}", 2 * j + 1)
            conv(f"synthesis.b{res}.conv1", f"convs.{2 * j + 1}", 2 * j + 2)
            torgb(f"synthesis.b{res}.torgb", f"to_rgbs.{j}")
    except KeyError as exc:
        _fail(path, f"G_ema lacks tensor {exc}; not a skip-architecture StyleGAN2 generator")
    consumed |= {k for k in state if k.startswith("synthesis.") and re.fullmatch(
        r"synthesis\.b\d+\.(const|(conv0|conv1|torgb)\.(weight|bias|affine\.weight|affine\.bias|noise_strength|"
        r"noise_const))", k)}
    unused = sorted(k for k in set(state) - consumed if not k.endswith("resample_filter"))
    if unused:
        _fail(path, f"G_ema has tensors this StyleGAN2 (skip ToRGB, unconditional) cannot use, e.g. "
                    f"'{unused[0]}' ({len(unused)} in all); conditional, resnet-G and StyleGAN3 networks are "
                    "not supported")
    return out, w_avg


def generator_from_nvidia_state(state: dict, path="<state>", conv_clamp=None) -> Generator:
    ros, w_avg = nvidia_to_rosinality(state, path)
    std = make_kernel([1, 3, 3, 1])
    for k, v in state.items():
        if k.endswith("resample_filter") and (v.shape != std.shape or not torch.allclose(v.float(), std, atol=1e-6)):
            _fail(path, f"'{k}' is not the [1, 3, 3, 1] filter StyleGAN2 uses; unsupported network")
    cfg = rosinality_config(ros, path)
    cfg["conv_clamp"] = conv_clamp
    G = Generator(cfg)
    # FIR kernels (blur / upsample) are fixed buffers built by the module, not stored by NVIDIA
    fixed = tuple(k for k in G.state_dict() if k.endswith(".kernel"))
    _assign(G, ros, path, skip=("w_avg",) + fixed)
    with torch.no_grad():
        if w_avg is not None and w_avg.numel() == G.w_dim:
            G.w_avg.copy_(w_avg.float())
        else:
            G.w_avg.copy_(G.mean_latent(4096)[0])
    return G.eval()


def load_nvidia_pkl(path, key: str = "G_ema") -> Generator:
    """Generator from an NVIDIA stylegan2-ada ``.pkl`` without running any code from the file."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"StyleGAN2 network pickle {path} not found")
    data = safe_load_pickle(path)
    if not isinstance(data, dict) or not isinstance(data.get(key), PersistentStub):
        _fail(path, f"not a stylegan2-ada network pickle (no persistent '{key}' network)")
    net = data[key]
    if net.class_name not in NVIDIA_GENERATORS:
        _fail(path, f"'{key}' is a {net.class_name}; only StyleGAN2 generators "
                    f"({', '.join(sorted(NVIDIA_GENERATORS))}) are supported")
    kw = net.init_kwargs
    if int(kw.get("c_dim", 0) or 0) != 0:
        _fail(path, f"'{key}' is a conditional generator (c_dim={kw.get('c_dim')}); not supported")
    syn = dict(kw.get("synthesis_kwargs") or {})
    arch = syn.get("architecture", "skip")
    if arch != "skip":
        _fail(path, f"'{key}' uses the '{arch}' synthesis architecture; only 'skip' is supported")
    clamp = syn.get("conv_clamp")
    clamp = float(clamp) if clamp is not None else None
    return generator_from_nvidia_state(net.tensors(), path, conv_clamp=clamp)


def load_official(path, **kwargs) -> Generator:
    """Dispatch on the file: ``.pkl`` -> NVIDIA, anything else -> rosinality."""
    if Path(path).suffix.lower() == ".pkl":
        return load_nvidia_pkl(path, **kwargs)
    return load_rosinality(path, **kwargs)
