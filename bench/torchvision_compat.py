"""Import torchvision safely on a CPU-only torch.

The torchvision 0.28.0 wheel is a CUDA build; on the CPU torch 2.13.0 wheel its C++ ops are
not registered, and its Python code fails at import with "operator torchvision::nms does not
exist" when it registers fake kernels for them. Defining the op schemas first (no kernels)
lets the import succeed; we never call those ops. Import this module before anything that
imports torchvision (lpips, clean-fid).
"""
from __future__ import annotations

import torch

_SCHEMAS = {
    "nms": "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms": "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
}
_LIB = None


def _op_exists(name: str) -> bool:
    try:
        torch._C._dispatch_find_schema_or_throw(f"torchvision::{name}", "")
        return True
    except RuntimeError:
        return False


def install() -> None:
    global _LIB
    missing = [n for n in _SCHEMAS if not _op_exists(n)]
    if not missing:
        return
    if _LIB is None:
        _LIB = torch.library.Library("torchvision", "FRAGMENT")
    for name in missing:
        _LIB.define(_SCHEMAS[name])


install()
import torchvision  # noqa: E402,F401  (imported here so every later import sees the shim applied)
