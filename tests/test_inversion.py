"""GAN inversion (paper eq. 8-9) on a tiny random StyleGAN2."""
import numpy as np
import pytest
import torch

from bench.errors import UserError
from methods.editing.inversion import InversionConfig, LPIPSToTarget, invert, invert_batched, to_tensor_images, to_uint8
from methods.nets.stylegan2 import Generator

torch.set_num_threads(1)
TINY = {"resolution": 32, "z_dim": 16, "w_dim": 16, "n_mlp": 2, "channels": {4: 16, 8: 16, 16: 8, 32: 8}}


@pytest.fixture(scope="module")
def lp():
    from bench.metrics.perceptual import lpips_model

    return lpips_model("alex", "cpu")


@pytest.fixture(scope="module")
def G():
    torch.manual_seed(1)
    g = Generator(TINY)
    g.w_avg.copy_(g.mean_latent(512)[0])
    return g


@pytest.fixture(scope="module")
def targets(G):
    with torch.no_grad():
        return G(torch.randn(3, 16, generator=torch.Generator().manual_seed(7)), truncation=0.7)


def test_paper_defaults():
    c = InversionConfig()
    assert (c.steps, c.lr, c.lambda_mse, c.space, c.lpips_net, c.optimize_noise) == (110, 0.1, 1.0, "w", "alex", False)


def test_cached_target_lpips_equals_lpips(lp):
    g = torch.Generator().manual_seed(0)
    x, t = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1, torch.rand(2, 3, 32, 32, generator=g) * 2 - 1
    torch.testing.assert_close(LPIPSToTarget(lp, t)(x), lp(x, t).view(-1), rtol=1e-5, atol=1e-6)


def test_inversion_reduces_loss_deterministic_and_batch_independent(G, targets, lp):
    r0 = invert(G, targets, steps=0, lpips_model=lp, space="w+")
    r = invert(G, targets, steps=15, lpips_model=lp, space="w+")
    assert r.latents.shape == (3, G.num_ws, 16) and r.images.shape == (3, 3, 32, 32)
    assert (r.loss < 0.7 * r0.loss).all()
    torch.testing.assert_close(r.loss, r.mse + r.lpips)
    with torch.no_grad():  # returned images/losses belong to the returned latents
        torch.testing.assert_close(G.synthesis(r.latents), r.images)
    again = invert(G, targets, steps=15, lpips_model=lp, space="w+")
    torch.testing.assert_close(again.latents, r.latents)
    single = invert(G, targets[1:2], steps=15, lpips_model=lp, space="w+")
    torch.testing.assert_close(single.latents[0], r.latents[1], rtol=1e-3, atol=1e-4)
    chunks = invert_batched(G, targets, batch_size=2, steps=15, lpips_model=lp, space="w+")
    torch.testing.assert_close(chunks.latents, r.latents, rtol=1e-3, atol=1e-4)
    # G is left as it was (trainable, train mode untouched)
    assert all(p.requires_grad for p in G.parameters())


def test_w_space_random_init_noise_and_uint8(G, targets, lp):
    u8 = to_uint8(targets)
    assert u8.dtype == np.uint8 and u8.shape == (3, 32, 32, 3)
    torch.testing.assert_close(to_tensor_images(u8), targets.clamp(-1, 1), atol=1 / 127.5, rtol=0)
    hist = []
    r = invert(G, u8, space="w", init="random", steps=6, lpips_model=lp, optimize_noise=True, record_every=2,
               callback=lambda s, lat, loss: hist.append((s, lat.shape, loss.shape)))
    assert r.latents.shape == (3, 16) and len(r.noise) == G.num_layers and r.noise[0].shape[0] == 3
    assert len(hist) == 6 and hist[0][1:] == ((3, 16), (3,)) and [h[0] for h in r.history] == [0, 2, 4]
    init = torch.randn(3, 16)
    r2 = invert(G, targets, init_latents=init, steps=0, lpips_model=lp, space="w+")
    torch.testing.assert_close(r2.latents, init.unsqueeze(1).repeat(1, G.num_ws, 1))
    torch.testing.assert_close(invert(G, targets, init_latents=init, steps=0, lpips_model=lp).latents, init)


def test_bad_inputs(G, lp):
    with pytest.raises(UserError, match="resize"):
        invert(G, np.zeros((1, 64, 64, 3), np.uint8), steps=1, lpips_model=lp)
    with pytest.raises(UserError, match="uint8"):
        invert(G, np.zeros((1, 32, 32, 3), np.float32), steps=1, lpips_model=lp)
    with pytest.raises(UserError, match="space"):
        invert(G, np.zeros((1, 32, 32, 3), np.uint8), space="z", steps=1, lpips_model=lp)
    with pytest.raises(UserError, match="init latents"):
        invert(G, np.zeros((2, 32, 32, 3), np.uint8), init_latents=torch.zeros(3, 16), steps=1, lpips_model=lp)
