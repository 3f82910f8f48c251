"""Provenance: which code options and trained weights produced a row.

A row's key includes ``provenance``, a short digest of the method's canonical spec and the
SHA-256 of every trained weight file it used (``Method.weights()``). Retraining a model changes
the digest, so old rows no longer count as done, and reports never put rows of different
weights into one curve.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from bench.errors import UserError

_CACHE: dict[tuple[str, int, int], str] = {}


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 of a file (cached per path, size and modification time)."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise UserError(f"weight file {p} cannot be read ({exc.strerror}); re-create it or point the method "
                        "at an existing checkpoint") from None
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _CACHE:
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        _CACHE[key] = h.hexdigest()
    return _CACHE[key]


def method_provenance(method) -> tuple[str, dict[str, str]]:
    """(digest, {role: sha256}) for a set-up method: what makes its rows reusable."""
    weights = {role: file_digest(path) for role, path in sorted(method.weights().items())}
    blob = json.dumps({"spec": method.spec, "weights": weights}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16], weights
