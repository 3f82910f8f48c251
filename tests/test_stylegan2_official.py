"""Official-checkpoint loaders: fabricated rosinality .pt and NVIDIA stylegan2-ada .pkl files.

The fabricated files use the official parameter names and shapes (tiny config: 32 px,
32-d latents, 3 mapping layers). Loaded generators are compared with an independent
functional StyleGAN2 forward written here from the raw NVIDIA-named tensors (grouped
weight modulation, conv_transpose upsampling), so a tensor landing in the wrong place or a
semantic slip in either path shows up as an output mismatch.
"""
import collections
import math
import os
import pickle
import sys
import types

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bench.errors import UserError
from methods.nets.stylegan2.official import load_nvidia_pkl, load_official, load_rosinality

torch.set_num_threads(1)

RES, ZDIM, WDIM, NMLP = 32, 32, 32, 3
CH = {4: 32, 8: 32, 16: 16, 32: 16}
SQ2 = math.sqrt(2)


def nvidia_state(seed=0):
    g = torch.Generator().manual_seed(seed)
    r = lambda *s: torch.randn(*s, generator=g)  # noqa: E731
    S = {}
    for i in range(NMLP):
        S[f"mapping.fc{i}.weight"] = r(WDIM, ZDIM if i == 0 else WDIM) / 0.01
        S[f"mapping.fc{i}.bias"] = r(WDIM) * 10
    S["mapping.w_avg"] = r(WDIM)
    filt = torch.tensor([1.0, 3, 3, 1])
    filt = (filt[:, None] * filt[None]) / 64

    def layer(p, cin, cout, res, k=3):
        S[p + ".weight"] = r(cout, cin, k, k)
        S[p + ".affine.weight"] = r(cin, WDIM)
        S[p + ".affine.bias"] = 1 + 0.1 * r(cin)
        S[p + ".bias"] = 0.1 * r(cout)
        if k == 3:
            S[p + ".noise_strength"] = 0.1 * r(())
            S[p + ".noise_const"] = r(res, res)
            S[p + ".resample_filter"] = filt.clone()

    S["synthesis.b4.const"] = r(CH[4], 4, 4)
    layer("synthesis.b4.conv1", CH[4], CH[4], 4)
    layer("synthesis.b4.torgb", CH[4], 3, 4, k=1)
    prev = CH[4]
    for res in (8, 16, 32):
        layer(f"synthesis.b{res}.conv0", prev, CH[res], res)
        layer(f"synthesis.b{res}.conv1", CH[res], CH[res], res)
        layer(f"synthesis.b{res}.torgb", CH[res], 3, res, k=1)
        S[f"synthesis.b{res}.resample_filter"] = filt.clone()
        prev = CH[res]
    return S


def reference_forward(S, z):
    """Independent StyleGAN2 (skip G) forward from NVIDIA-named tensors, const noise, no truncation."""
    x = z * torch.rsqrt(z.square().mean(1, keepdim=True) + 1e-8)
    for i in range(NMLP):
        W = S[f"mapping.fc{i}.weight"]
        x = F.leaky_relu(F.linear(x, W * 0.01 / math.sqrt(W.shape[1]), S[f"mapping.fc{i}.bias"] * 0.01), 0.2) * SQ2
    w = x
    B = z.shape[0]
    f4 = torch.tensor([1.0, 3, 3, 1])
    f4 = (f4[:, None] * f4[None]) / 64 * 4

    def modconv(h, p, up=False, demod=True, gain=1.0):
        st = F.linear(w, S[p + ".affine.weight"] / math.sqrt(WDIM), S[p + ".affine.bias"]) * gain
        wt = S[p + ".weight"][None] * st[:, None, :, None, None]
        if demod:
            wt = wt * torch.rsqrt(wt.square().sum([2, 3, 4]) + 1e-8)[..., None, None, None]
        _, O, I, k, _ = wt.shape
        hh = h.reshape(1, B * I, *h.shape[2:])
        if up:
            out = F.conv_transpose2d(hh, wt.transpose(1, 2).reshape(B * I, O, k, k), stride=2, groups=B)
            out = out.view(B, O, *out.shape[2:])
            out = F.conv2d(out, f4.expand(O, 1, 4, 4), padding=1, groups=O)
        else:
            out = F.conv2d(hh, wt.reshape(B * O, I, k, k), padding=k // 2, groups=B).view(B, O, *h.shape[2:])
        return out

    def layer(h, p, up=False):
        h = modconv(h, p, up) + S[p + ".noise_const"] * S[p + ".noise_strength"]
        return F.leaky_relu(h + S[p + ".bias"].view(1, -1, 1, 1), 0.2) * SQ2

    def torgb(h, p):
        return modconv(h, p, demod=False, gain=1 / math.sqrt(h.shape[1])) + S[p + ".bias"].view(1, -1, 1, 1)

    def up_img(img):
        y = F.conv_transpose2d(img, f4.expand(3, 1, 4, 4), stride=2, groups=3)
        return y[:, :, 1:-1, 1:-1]

    h = S["synthesis.b4.const"][None].expand(B, -1, -1, -1)
    h = layer(h, "synthesis.b4.conv1")
    img = torgb(h, "synthesis.b4.torgb")
    for res in (8, 16, 32):
        h = layer(h, f"synthesis.b{res}.conv0", up=True)
        h = layer(h, f"synthesis.b{res}.conv1")
        img = up_img(img) + torgb(h, f"synthesis.b{res}.torgb")
    return img


def to_rosinality(S):
    """Test-local explicit rename NVIDIA -> rosinality names (what convert_weight.py produces)."""
    R = {}
    for i in range(NMLP):
        R[f"style.{i + 1}.weight"] = S[f"mapping.fc{i}.weight"]
        R[f"style.{i + 1}.bias"] = S[f"mapping.fc{i}.bias"]
    R["input.input"] = S["synthesis.b4.const"][None]
    f = torch.tensor([1.0, 3, 3, 1])
    f = (f[:, None] * f[None]) / 64

    def conv(src, dst, n):
        R[dst + ".conv.weight"] = S[src + ".weight"][None]
        R[dst + ".conv.modulation.weight"] = S[src + ".affine.weight"]
        R[dst + ".conv.modulation.bias"] = S[src + ".affine.bias"]
        R[dst + ".noise.weight"] = S[src + ".noise_strength"].reshape(1)
        R[dst + ".activate.bias"] = S[src + ".bias"]
        R[f"noises.noise_{n}"] = S[src + ".noise_const"][None, None]

    def rgb(src, dst, up):
        R[dst + ".conv.weight"] = S[src + ".weight"][None]
        R[dst + ".conv.modulation.weight"] = S[src + ".affine.weight"]
        R[dst + ".conv.modulation.bias"] = S[src + ".affine.bias"]
        R[dst + ".bias"] = S[src + ".bias"].view(1, 3, 1, 1)
        if up:
            R[dst + ".upsample.kernel"] = f * 4

    conv("synthesis.b4.conv1", "conv1", 0)
    rgb("synthesis.b4.torgb", "to_rgb1", False)
    for j, res in enumerate((8, 16, 32)):
        conv(f"synthesis.b{res}.conv0", f"convs.{2 * j}", 2 * j + 1)
        R[f"convs.{2 * j}.conv.blur.kernel"] = f * 4
        conv(f"synthesis.b{res}.conv1", f"convs.{2 * j + 1}", 2 * j + 2)
        rgb(f"synthesis.b{res}.torgb", f"to_rgbs.{j}", True)
    return R


# ------------------------------------------------------------------ fabricated NVIDIA pickles

@pytest.fixture
def fake_nvidia_modules(monkeypatch):
    """Registers stand-ins for torch_utils.persistence and dnnlib.util so we can *write* a pkl."""
    tu, pers = types.ModuleType("torch_utils"), types.ModuleType("torch_utils.persistence")
    dn, dnu = types.ModuleType("dnnlib"), types.ModuleType("dnnlib.util")

    def _reconstruct_persistent_obj(meta):  # never called by the loader under test
        raise AssertionError("the real persistence hook must not run")

    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    _reconstruct_persistent_obj.__qualname__ = "_reconstruct_persistent_obj"
    pers._reconstruct_persistent_obj = _reconstruct_persistent_obj

    class EasyDict(dict):
        pass

    EasyDict.__module__, EasyDict.__qualname__ = "dnnlib.util", "EasyDict"
    dnu.EasyDict = EasyDict

    class Persistent:
        def __init__(self, meta):
            self.meta = meta

        def __reduce__(self):
            return (_reconstruct_persistent_obj, (self.meta,))

    for name, mod in (("torch_utils", tu), ("torch_utils.persistence", pers), ("dnnlib", dn), ("dnnlib.util", dnu)):
        monkeypatch.setitem(sys.modules, name, mod)
    return types.SimpleNamespace(Persistent=Persistent, EasyDict=EasyDict)


def persistent_tree(S, prefix, class_name, mods, extra_state=None):
    """A stylegan2-ada-like persistent object tree holding the tensors of S under `prefix`."""
    params, buffers, children = collections.OrderedDict(), collections.OrderedDict(), {}
    for k, v in S.items():
        if prefix and not k.startswith(prefix + "."):
            continue
        rest = k[len(prefix) + 1:] if prefix else k
        head, _, tail = rest.partition(".")
        if tail:
            children.setdefault(head, None)
        elif head in ("w_avg", "noise_const", "resample_filter"):
            buffers[head] = v.clone()
        else:
            params[head] = torch.nn.Parameter(v.clone(), requires_grad=False)
    modules = collections.OrderedDict(
        (c, persistent_tree(S, f"{prefix}.{c}" if prefix else c, "training.networks.Layer", mods)) for c in children)
    state = {"training": False, "_parameters": params, "_buffers": buffers, "_modules": modules,
             "_non_persistent_buffers_set": set(), "_init_args": (), "weight_gain": np.float64(0.5),
             "_init_kwargs": mods.EasyDict()}
    state.update(extra_state or {})
    meta = {"type": "class", "version": 4, "module_src": "import os\nos.system('touch /should/not/run')\n",
            "class_name": class_name, "state": state}
    return mods.Persistent(meta)


def write_pkl(path, S, mods, class_name="training.networks.Generator", c_dim=0, arch="skip", extra=None):
    kw = mods.EasyDict(z_dim=ZDIM, c_dim=c_dim, w_dim=WDIM, img_resolution=RES, img_channels=3,
                       mapping_kwargs=mods.EasyDict(num_layers=NMLP),
                       synthesis_kwargs=mods.EasyDict(channel_base=512, channel_max=32, num_fp16_res=0,
                                                      conv_clamp=None, architecture=arch))
    G = persistent_tree(S, "", class_name, mods, {"_init_kwargs": kw, "z_dim": ZDIM})
    data = {"G": G, "D": None, "G_ema": G, "augment_pipe": None,
            "training_set_kwargs": {"path": "ffhq.zip", "resolution": RES}}
    data.update(extra or {})
    with open(path, "wb") as fh:
        pickle.dump(data, fh, protocol=4)
    return path


# ----------------------------------------------------------------------------------- tests

def test_reference_matches_rosinality_and_nvidia_loads(tmp_path, fake_nvidia_modules):
    S = nvidia_state()
    z = torch.randn(3, ZDIM, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        ref = reference_forward(S, z)

    pt = tmp_path / "stylegan2_32.pt"
    torch.save({"g_ema": to_rosinality(S), "latent_avg": S["mapping.w_avg"]}, pt)
    Gr = load_rosinality(pt)
    pkl = write_pkl(tmp_path / "network-snapshot.pkl", S, fake_nvidia_modules)
    Gn = load_official(pkl)
    for G in (Gr, Gn):
        assert (G.resolution, G.z_dim, G.w_dim, G.num_ws) == (RES, ZDIM, WDIM, 8)
        assert G.channels == CH
        torch.testing.assert_close(G.w_avg, S["mapping.w_avg"])
        with torch.no_grad():
            out = G(z, noise="const")
        torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-4)
    # every tensor of the two loads agrees (names of both formats landed in the same place)
    sr, sn = Gr.state_dict(), Gn.state_dict()
    assert sr.keys() == sn.keys()
    for k in sr:
        torch.testing.assert_close(sr[k], sn[k], msg=k)


def test_rosinality_bare_state_discriminator_and_namespace(tmp_path):
    import argparse

    from methods.nets.stylegan2 import Discriminator

    S = nvidia_state(1)
    D = Discriminator(RES, channels=CH)
    pt = tmp_path / "ckpt.pt"
    torch.save({"g_ema": to_rosinality(S), "d": D.state_dict(), "args": argparse.Namespace(size=RES)}, pt)
    G, D2 = load_rosinality(pt, with_discriminator=True)
    x = torch.randn(4, 3, RES, RES)
    with torch.no_grad():
        torch.testing.assert_close(D2(x), D(x))
    bare = tmp_path / "bare.pt"
    torch.save(to_rosinality(S), bare)
    assert load_rosinality(bare).num_ws == 8


@pytest.mark.parametrize("damage", ["missing", "shape", "extra_nv", "truncate", "not_ckpt"])
def test_broken_official_files_refused(tmp_path, fake_nvidia_modules, damage):
    S = nvidia_state()
    R = to_rosinality(S)
    if damage == "missing":
        del R["convs.3.conv.weight"]
        S = {k: v for k, v in S.items() if k != "synthesis.b16.conv1.weight"}
    elif damage == "shape":
        R["to_rgbs.1.conv.modulation.weight"] = torch.randn(7, WDIM)
        S["synthesis.b16.torgb.affine.weight"] = torch.randn(7, WDIM)
    elif damage == "extra_nv":
        S["mapping.embed.weight"] = torch.randn(WDIM, 10)
    pt, pkl = tmp_path / "g.pt", tmp_path / "g.pkl"
    torch.save({"g_ema": R}, pt)
    write_pkl(pkl, S, fake_nvidia_modules)
    if damage == "truncate":
        for p in (pt, pkl):
            p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    if damage == "not_ckpt":
        torch.save({"weights": torch.zeros(3)}, pt)
        pkl.write_bytes(pickle.dumps({"G_ema": [1, 2, 3]}))
    for p in ([pkl] if damage == "extra_nv" else [pt, pkl]):
        with pytest.raises(UserError) as err:
            load_official(p)
        assert str(p) in str(err.value)


@pytest.mark.parametrize("kind", ["class", "conditional", "resnet"])
def test_unsupported_nvidia_networks(tmp_path, fake_nvidia_modules, kind):
    S = nvidia_state()
    kw = {"class": dict(class_name="training.networks_stylegan3.Generator"), "conditional": dict(c_dim=10),
          "resnet": dict(arch="resnet")}[kind]
    p = write_pkl(tmp_path / "g.pkl", S, fake_nvidia_modules, **kw)
    with pytest.raises(UserError, match="not supported|only"):
        load_nvidia_pkl(p)


def test_missing_file():
    with pytest.raises(UserError, match="not found"):
        load_official("/nonexistent/ffhq.pkl")
    with pytest.raises(UserError, match="not found"):
        load_official("/nonexistent/stylegan2.pt")


class _Payload:
    def __init__(self, func, args):
        self.func, self.args = func, args

    def __reduce__(self):
        return (self.func, self.args)


@pytest.mark.parametrize("how", ["os.system", "eval", "subprocess", "nested_storage"])
def test_malicious_pickle_refused_before_running(tmp_path, fake_nvidia_modules, how):
    import io
    import subprocess

    marker = tmp_path / "pwned"
    cmd = f"touch {marker}"
    payload = {"os.system": _Payload(os.system, (cmd,)),
               "eval": _Payload(eval, (f"open({str(marker)!r}, 'w').close()",)),
               "subprocess": _Payload(subprocess.call, (["touch", str(marker)],))}.get(how)
    S = nvidia_state()
    p = tmp_path / "evil.pkl"
    if how == "nested_storage":  # payload hidden inside a tensor storage's legacy torch.save bytes
        import torch.storage as ts

        buf = io.BytesIO()
        torch.save(_Payload(os.system, (cmd,)), buf, _use_new_zipfile_serialization=False)
        payload = _Payload(ts._load_from_bytes, (buf.getvalue(),))
    write_pkl(p, S, fake_nvidia_modules, extra={"augment_pipe": payload})
    with pytest.raises(UserError, match="refus|corrupt|truncated"):
        load_nvidia_pkl(p)
    assert not marker.exists()
    # the same payload in a rosinality .pt is refused by torch's weights-only loader
    pt = tmp_path / "evil.pt"
    torch.save({"g_ema": to_rosinality(S), "x": payload}, pt)
    with pytest.raises(UserError):
        load_rosinality(pt)
    assert not marker.exists()
