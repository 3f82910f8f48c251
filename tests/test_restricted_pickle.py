"""The shared restricted unpickler: allow-list only, numeric numpy only, nothing executed."""
import io
import os
import pickle

import numpy as np
import pytest

from bench.restricted_pickle import NUMPY_ALLOWED, RestrictedUnpickler, UnsafePickleError


def _load(data: bytes, extra=None):
    return RestrictedUnpickler(io.BytesIO(data), "test.pkl", NUMPY_ALLOWED, "do something else", extra=extra).load()


def test_numeric_arrays_and_scalars_round_trip():
    obj = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "s": np.float64(2.5), "i": np.int16(-3)}
    out = _load(pickle.dumps(obj))
    np.testing.assert_array_equal(out["a"], obj["a"])
    assert out["s"] == 2.5 and out["s"].dtype == np.float64 and out["i"] == -3


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_code_in_the_file_is_refused_by_name_and_never_run():
    with pytest.raises(UnsafePickleError, match=r"test.pkl: refusing to load '(posix|os)\.system' - do something else"):
        _load(pickle.dumps({"x": _Evil()}))


def test_object_arrays_are_refused():
    with pytest.raises(UnsafePickleError, match="object dtype"):
        _load(pickle.dumps(np.array([1, "a"], dtype=object)))


def test_persistent_ids_are_refused():
    class P(pickle.Pickler):
        def persistent_id(self, obj):
            return "pid" if isinstance(obj, str) and obj == "ext" else None

    buf = io.BytesIO()
    P(buf).dump({"k": "ext"})
    with pytest.raises(UnsafePickleError, match="persistent ids"):
        _load(buf.getvalue())


def test_extra_hook_resolves_only_what_it_returns():
    data = pickle.dumps(bytearray(b"ab"))
    with pytest.raises(UnsafePickleError, match="builtins.bytearray"):
        _load(data)
    assert _load(data, extra=lambda m, n: bytearray if (m, n) == ("builtins", "bytearray") else None) == b"ab"


def test_both_loaders_raise_the_one_error_class():
    from bench.metrics import safe_pickle
    from methods.nets.stylegan2 import safe_unpickle

    assert safe_pickle.UnsafePickleError is safe_unpickle.UnsafePickleError is UnsafePickleError
