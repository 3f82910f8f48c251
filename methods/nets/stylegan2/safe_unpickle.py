"""A restricted unpickler for NVIDIA stylegan2-ada / stylegan3 network pickles.

NVIDIA's ``.pkl`` snapshots store each network as a ``torch_utils.persistence`` object whose
reconstruct hook *executes the embedded module source code*. Here nothing from the file runs:
``find_class`` admits only what rebuilding tensors needs (``torch._utils._rebuild_tensor_v2``,
``_rebuild_parameter``, storages via a weights-only ``torch.load``), ``collections.OrderedDict``,
numeric numpy scalars/arrays and ``dnnlib.util.EasyDict`` (as a plain dict); the persistence hook
is replaced by :class:`PersistentStub`, an inert record of the object's class name, init
arguments and ``__dict__`` (``_parameters``/``_buffers``/``_modules``). Any other global (e.g.
``os.system``, ``builtins.eval``, ``subprocess.*``) raises :class:`UnsafePickleError` at the
moment the unpickler meets it, i.e. before any of it can be called.
"""
from __future__ import annotations

import collections
import io

import torch

from bench.errors import UserError
from bench.restricted_pickle import NUMPY_ALLOWED, RestrictedUnpickler, UnsafePickleError

__all__ = ["EasyDictStub", "PersistentStub", "PlainModuleStub", "UnsafePickleError", "safe_load_pickle"]


class PersistentStub:
    """Inert stand-in for a ``torch_utils.persistence`` object: its meta data, nothing executed."""

    def __init__(self, meta):
        meta = meta if isinstance(meta, dict) else {}
        self.class_name = str(meta.get("class_name", "?"))
        self.module_src_len = len(meta.get("module_src") or "")  # kept only as a length, never run
        state = meta.get("state")
        self.state = state if isinstance(state, dict) else {}

    @property
    def init_kwargs(self) -> dict:
        kw = self.state.get("_init_kwargs")
        return dict(kw) if isinstance(kw, dict) else {}

    def tensors(self, prefix: str = "") -> dict[str, torch.Tensor]:
        """Flattened ``state_dict``-style names -> tensors (parameters and buffers, recursively)."""
        out = {}
        for group in ("_parameters", "_buffers"):
            for k, v in (self.state.get(group) or {}).items():
                if isinstance(v, torch.Tensor):
                    out[prefix + k] = v.detach()
        for k, v in (self.state.get("_modules") or {}).items():
            if isinstance(v, PersistentStub):
                out.update(v.tensors(f"{prefix}{k}."))
            elif isinstance(v, PlainModuleStub):
                out.update(v.tensors(f"{prefix}{k}."))
        return out


class PlainModuleStub(PersistentStub):
    """Stand-in for a plain torch.nn module class named in the pickle (state captured, class not imported)."""

    def __init__(self, *args, **kwargs):
        super().__init__({})
        self.class_name = type(self).__name__

    def __setstate__(self, state):
        self.state = state if isinstance(state, dict) else {}


class EasyDictStub(dict):
    """``dnnlib.util.EasyDict`` as a plain dict."""

    def __setstate__(self, state):  # EasyDict has no extra state; ignore whatever comes
        pass


def _rebuild_persistent(meta):
    return PersistentStub(meta)


def _load_storage_from_bytes(b):
    if not isinstance(b, (bytes, bytearray)):
        raise UnsafePickleError("a tensor storage in the pickle is not a byte string")
    return torch.load(io.BytesIO(bytes(b)), weights_only=True, map_location="cpu")


def _safe_codecs_encode(text, encoding="latin1"):
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise UnsafePickleError("refusing _codecs.encode with unexpected arguments")
    return text.encode("latin1")


def _torch_rebuilders() -> dict:
    import torch._utils as tu

    out = {("torch._utils", "_rebuild_tensor_v2"): tu._rebuild_tensor_v2,
           ("torch._utils", "_rebuild_parameter"): tu._rebuild_parameter,
           ("torch.storage", "_load_from_bytes"): _load_storage_from_bytes,
           ("torch", "Size"): torch.Size}
    if hasattr(tu, "_rebuild_tensor"):
        out[("torch._utils", "_rebuild_tensor")] = tu._rebuild_tensor
    if hasattr(tu, "_rebuild_parameter_with_state"):
        out[("torch._utils", "_rebuild_parameter_with_state")] = tu._rebuild_parameter_with_state
    for name in ("float32", "float16", "float64", "int64", "int32", "uint8", "bool", "bfloat16"):
        out[("torch", name)] = getattr(torch, name)
    return out


_ALLOWED = {
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("_codecs", "encode"): _safe_codecs_encode,
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _rebuild_persistent,
    ("dnnlib.util", "EasyDict"): EasyDictStub,
    ("dnnlib", "EasyDict"): EasyDictStub,
    **NUMPY_ALLOWED,
    **_torch_rebuilders(),
}


_HINT = ("a StyleGAN network pickle needs only tensors and network state; this file would run other code "
         "(nothing from it was executed). Use an official NVIDIA stylegan2-ada pickle or a rosinality .pt "
         "checkpoint")


def _plain_torch_module(module: str, name: str):
    """Plain torch.nn module classes (e.g. torch.nn.modules.container.ModuleList) -> an inert stub."""
    if module.startswith("torch.nn.modules.") and name.isidentifier():
        return type(name, (PlainModuleStub,), {})
    return None


def safe_load_pickle(path) -> object:
    """Unpickle ``path`` with :class:`RestrictedUnpickler` (UserError on anything unsafe or broken)."""
    try:
        with open(path, "rb") as fh:
            return RestrictedUnpickler(fh, str(path), _ALLOWED, _HINT, extra=_plain_torch_module).load()
    except UserError:
        raise
    except FileNotFoundError:
        raise UserError(f"network pickle {path} not found") from None
    except Exception as exc:  # truncated / corrupted
        raise UserError(f"network pickle {path} is truncated or corrupted ({type(exc).__name__}: {exc}); "
                        "download it again") from None
