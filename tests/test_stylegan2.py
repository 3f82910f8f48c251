"""Pure-PyTorch StyleGAN2: shapes, latent API, FIR ops, discriminator, zoo component (quick train)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bench.errors import UserError
from methods.nets.stylegan2 import Discriminator, Generator
from methods.nets.stylegan2.ops import Upsample, make_kernel, upfirdn2d

torch.set_num_threads(1)
TINY = {"resolution": 32, "z_dim": 24, "w_dim": 16, "n_mlp": 2, "channels": {4: 16, 8: 16, 16: 8, 32: 8}}


def test_shapes_and_latent_api():
    torch.manual_seed(0)
    G = Generator(TINY)
    assert G.num_ws == 2 * 5 - 2 == 8 and G.num_layers == 7
    z = torch.randn(3, 24)
    w = G.mapping(z)
    assert w.shape == (3, 16)
    with torch.no_grad():
        img_z = G(z)
        img_w = G(w, input_is_w=True)
        img_wp = G.synthesis(w.unsqueeze(1).repeat(1, 8, 1))
    assert img_z.shape == (3, 3, 32, 32)
    torch.testing.assert_close(img_z, img_w)
    torch.testing.assert_close(img_z, img_wp)
    # truncation 0 -> every image is the mean-latent image
    G.w_avg.copy_(G.mean_latent(256)[0])
    with torch.no_grad():
        t0 = G(z, truncation=0.0)
        ref = G.synthesis(G.w_avg.view(1, -1))
    torch.testing.assert_close(t0, ref.expand_as(t0))
    # noise modes: const is deterministic, random is not, none differs from const
    with torch.no_grad():
        for m in [G.conv1, *G.convs]:
            m.noise.weight.fill_(0.5)
        img_z = G(z)
        torch.testing.assert_close(img_z, G(z, noise="const"))
        a, b = G(z, noise="random"), G(z, noise="random")
        c = G(z, noise="none")
    assert not torch.allclose(a, b)
    assert not torch.allclose(c, img_z)
    with pytest.raises(ValueError):
        G.synthesis(torch.randn(2, 5, 16))
    with pytest.raises(ValueError):
        Generator({**TINY, "resolution": 48})


def test_channel_multiplier_defaults():
    G = Generator(resolution=128, w_dim=32, n_mlp=1, channel_multiplier=1)
    assert G.channels == {4: 512, 8: 512, 16: 512, 32: 512, 64: 256, 128: 128}
    assert G.num_ws == 12


def test_upfirdn_matches_direct_formula():
    x = torch.randn(2, 3, 5, 5)
    up = Upsample()(x)
    assert up.shape == (2, 3, 10, 10)
    # reference: zero-stuff then 'same'-style correlation with the symmetric 4x4 kernel (pad 2, 1)
    z = torch.zeros(2, 3, 10, 10)
    z[:, :, ::2, ::2] = x
    k = make_kernel([1, 3, 3, 1]) * 4
    ref = F.conv2d(F.pad(z, [2, 1, 2, 1]), k.expand(3, 1, 4, 4), groups=3)
    torch.testing.assert_close(up, ref)
    # DC gain of the upsampler is 1
    torch.testing.assert_close(Upsample()(torch.ones(1, 1, 6, 6))[..., 2:-2, 2:-2], torch.ones(1, 1, 8, 8))
    down = upfirdn2d(torch.randn(2, 3, 6, 6), make_kernel([1, 3, 3, 1]), down=2, pad=(1, 1))
    assert down.shape == (2, 3, 3, 3)


def test_discriminator_and_gradients():
    torch.manual_seed(0)
    G = Generator(TINY)
    D = Discriminator(32, channels=TINY["channels"])
    for b in (1, 3, 8):  # minibatch-stddev groups adapt to any batch size
        assert D(torch.randn(b, 3, 32, 32)).shape == (b, 1)
    loss = F.softplus(-D(G(torch.randn(4, 24), noise="random"))).mean()
    loss.backward()
    assert all(p.grad is not None for n, p in G.named_parameters() if "noise.weight" not in n)
    assert G.style[1].weight.grad.abs().sum() > 0 and D.final_linear[1].weight.grad.abs().sum() > 0


def test_frozen_weight_cache_follows_updates():
    torch.manual_seed(0)
    G = Generator(TINY).requires_grad_(False)
    w = torch.randn(2, 16)
    a = G.synthesis(w)
    with torch.no_grad():
        G.convs[1].conv.weight.mul_(2.0)  # in-place update must invalidate the cache
        G.to_rgbs[0].conv.weight.mul_(0.5)
    b = G.synthesis(w)
    G.requires_grad_(True)
    c = G.synthesis(w)
    assert not torch.allclose(a, b)
    torch.testing.assert_close(b, c)


# ------------------------------------------------------------------------ zoo component

@pytest.fixture(scope="module")
def quick_ckpt(tmp_path_factory):
    from methods.zoo import TrainContext, component

    d = tmp_path_factory.mktemp("sg2")
    ctx = TrainContext(name="stylegan2", seed=0, device="cpu", steps=None, work_dir=d / "work", out=d / "out",
                       quick=True)
    component("stylegan2").train(ctx)
    return d


def test_quick_train_exports_loadable_fp16_checkpoint(quick_ckpt):
    import json

    from methods.nets.stylegan2 import load_generator

    pt = quick_ckpt / "out" / "stylegan2.pt"
    blob = torch.load(pt, weights_only=True)
    assert blob["component"] == "stylegan2" and blob["fp16"]
    assert all(v.dtype == torch.float16 for k, v in blob["state"].items() if v.is_floating_point())
    assert not any(k.startswith(("D.", "opt")) for k in blob["state"])  # g_ema only
    card = json.loads((quick_ckpt / "out" / "stylegan2.json").read_text())
    assert card["steps"] == 3 and card["command"].startswith("bench train stylegan2")
    G = load_generator(pt)
    assert G.resolution == 16 and not G.training
    assert torch.isfinite(G(torch.randn(2, G.z_dim))).all()
    state = torch.load(quick_ckpt / "work" / "last.pt", weights_only=True)
    assert {"step", "G", "D", "g_ema", "opt_g", "opt_d", "gen_rng", "torch_rng", "wall_s"} <= set(state)


def test_resume_continues_from_state(quick_ckpt):
    import json

    from methods.zoo import TrainContext, component

    ctx = TrainContext(name="stylegan2", seed=0, device="cpu", steps=5, work_dir=quick_ckpt / "work",
                       out=quick_ckpt / "out2", quick=True)
    component("stylegan2").train(ctx)
    lines = [json.loads(x) for x in (quick_ckpt / "work" / "log.jsonl").read_text().splitlines()]
    assert any(x.get("event") == "resumed" and x["step"] == 3 for x in lines)
    assert [x["step"] for x in lines if "d_loss" in x][-2:] == [4, 5]


def test_rerun_at_the_final_step_exports_without_training(quick_ckpt, tmp_path):
    """Stopping a long run after a save and rerunning with --steps <saved step> ships that state."""
    import json
    import shutil

    from methods.zoo import TrainContext, component

    work = tmp_path / "work"
    shutil.copytree(quick_ckpt / "work", work)
    saved = int(torch.load(work / "last.pt", weights_only=True)["step"])
    ctx = TrainContext(name="stylegan2", seed=0, device="cpu", steps=saved, work_dir=work, out=tmp_path / "out",
                       quick=True)
    component("stylegan2").train(ctx)
    card = json.loads((tmp_path / "out" / "stylegan2.json").read_text())
    assert card["steps"] == saved and "final_d_loss" not in card["quality"]
    lines = [json.loads(x) for x in (work / "log.jsonl").read_text().splitlines()]
    assert lines[-2]["event"] == "exported" and lines[-2]["step"] == saved  # the generator, then its D
    assert lines[-1]["event"] == "exported" and lines[-1]["path"].endswith("stylegan2-discriminator.pt")


def test_bad_zoo_checkpoints(quick_ckpt, tmp_path):
    from methods.nets.stylegan2 import load_generator
    from methods.zoo import load_model, save_checkpoint

    with pytest.raises(UserError, match="bench train stylegan2"):
        load_generator(tmp_path / "missing.pt")
    good = quick_ckpt / "out" / "stylegan2.pt"
    bad = tmp_path / "trunc.pt"
    bad.write_bytes(good.read_bytes()[:1000])
    with pytest.raises(UserError, match="truncated or corrupted"):
        load_generator(bad)
    blob = torch.load(good, weights_only=True)
    # same names, other architecture (channels changed in the config)
    cfg = dict(blob["config"], channels={"4": 32, "8": 16, "16": 8})
    other = save_checkpoint(tmp_path / "other.pt", "stylegan2", cfg, blob["state"])
    with pytest.raises(UserError, match="does not match"):
        load_generator(other)
    with pytest.raises(UserError, match="another architecture"):
        load_model("stylegan2", good, expect={"resolution": 64})
    missing = save_checkpoint(tmp_path / "miss.pt", "stylegan2", blob["config"],
                              {k: v for k, v in blob["state"].items() if k != "conv1.conv.weight"})
    with pytest.raises(UserError, match="1 missing"):
        load_generator(missing)
    weird = save_checkpoint(tmp_path / "weird.pt", "stylegan2", dict(blob["config"], resolution=48), blob["state"])
    with pytest.raises(UserError, match="cannot build"):
        load_generator(weird)


def test_embedded_tier_config_and_cbr():
    from methods.nets.stylegan2 import EMBEDDED_CONFIG

    G = Generator(EMBEDDED_CONFIG)
    assert G.resolution == 64 and G.w_dim == 128 and G.z_dim == 128
    assert math.isclose(G.w_dim / (64 * 64 * 3), 0.0104, abs_tol=5e-5)
    n = sum(p.numel() for p in G.parameters())
    assert n * 2 < 4e6  # fp16 g_ema of a few MB at most
    assert np.isfinite(n)


def test_report_small(tmp_path, monkeypatch):
    import json

    from methods.training.stylegan2_report import main, quality_figures

    monkeypatch.setenv("EDITSC_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("EDITSC_WEIGHTS", str(tmp_path / "weights"))  # no judge/embedder shipped here
    torch.manual_seed(0)
    G = Generator(TINY)
    G.w_avg.copy_(G.mean_latent(256)[0])
    q = quality_figures(G, tmp_path / "rep", n_fd=16, n_inv=2, inv_batch=2, inv_steps=2, sweep=False,
                        log=lambda *a: None)
    for k in ("fd_vgg16_samples_vs_test", "fd_vgg16_train_vs_test", "inversion_w_lpips_vgg",
              "inversion_wplus_lpips_vgg", "inversion_w_psnr_db", "inversion_w_lpips_alex_optimised"):
        assert np.isfinite(q[k])
    assert q["inversion_w_latent_reals"] == 16 and q["inversion_wplus_latent_reals"] == 8 * 16
    assert q["attributes"].startswith("skipped") and q["identity"].startswith("skipped")
    assert q["report_world"] == 2 and q["inversion_init"] == "mean"
    # bars that could be measured are listed with their verdict; the judge/embedder ones are absent
    assert set(q["targets"]) == {"fd_ratio", "lpips_vgg", "psnr_db"}
    assert json.loads((tmp_path / "rep" / "quality.json").read_text()) == q
    from PIL import Image

    assert Image.open(tmp_path / "rep" / "samples.png").size == (8 * 32, 8 * 32)
    assert main([str(tmp_path / "r2"), "--ckpt", str(tmp_path / "nope.pt")]) == 2


def test_report_scores_reconstructions_against_ground_truth(tmp_path, monkeypatch):
    """A perfect 'inversion' (the targets themselves) must score exactly the judge's own accuracy on
    the originals (the reference is the renderer's degree, not J(original)), verify every identity,
    and give LPIPS-vgg 0; non-face images are reported beside the faces."""
    from types import SimpleNamespace

    import methods.editing.inversion as inversion
    from methods.training.stylegan2_report import quality_figures
    from methods.zoo import load_model

    monkeypatch.setenv("EDITSC_CACHE", str(tmp_path / "cache"))
    G = load_model("stylegan2")

    def perfect(G, targets, batch_size, config, **kw):
        return SimpleNamespace(images=inversion.to_tensor_images(targets),
                               latents=torch.zeros(len(targets), G.w_dim))

    monkeypatch.setattr(inversion, "invert_batched", perfect)
    q = quality_figures(G, None, n_fd=16, n_inv=24, spaces=("w",), sweep=False, log=lambda *a: None)
    assert q["inversion_w_attr_exact"] == q["judge_reference_exact"] > 0.8
    assert q["inversion_w_attr_within1"] >= 0.95
    assert q["inversion_w_identity_verified"] == 1.0
    assert q["inversion_w_lpips_vgg"] == 0.0 and q["inversion_w_psnr_db"] == 100.0
    assert q["nonface_w_lpips_vgg"] == 0.0 and "chelsea" in q["nonface_images"]
