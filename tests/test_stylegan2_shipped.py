"""The shipped embedded-tier generator: the right architecture, sane samples, invertible faces."""
import json

import numpy as np
import torch

from methods.zoo import card_path


def test_shipped_generator_matches_the_embedded_architecture():
    from methods.nets.stylegan2 import load_generator
    from methods.nets.stylegan2.generator import normalize_config
    from methods.nets.stylegan2 import EMBEDDED_CONFIG

    G = load_generator()
    card = json.loads(card_path("stylegan2").read_text())
    assert card["config"] == json.loads(json.dumps(normalize_config(EMBEDDED_CONFIG)))
    assert G.resolution == 64 and G.w_dim == 128  # CBR 128 / (64*64*3) = 0.0104 for a W latent
    z = torch.randn(4, G.z_dim, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a = G(z, noise="const")
        b = G(z, noise="const")
    assert a.shape == (4, 3, 64, 64) and torch.equal(a, b)
    # samples differ from each other (no mode collapse to one image) and span the colour range
    assert (a[0] - a[1]).abs().mean() > 0.05 and a.amax() - a.amin() > 1.0


def test_inversion_of_held_out_faces_beats_the_mean_face():
    """Eq. 8-9 inversion moves the reconstruction towards the target (perceptually and in MSE)."""
    from datasets.synthfaces import SynthFaces
    from methods.editing.inversion import invert, to_uint8
    from methods.nets.stylegan2 import load_generator

    G = load_generator()
    torch.set_num_threads(1)
    targets = np.stack([it.image for it in SynthFaces(split="test", requests="none").items(2, 64)])
    res = invert(G, targets, steps=30)
    t = torch.from_numpy(targets).permute(0, 3, 1, 2).float() / 127.5 - 1
    with torch.no_grad():
        mean_face = G.synthesis(G.w_avg.expand(2, -1), noise="const")
    mse_mean = ((mean_face - t) ** 2).mean(dim=(1, 2, 3))
    assert torch.all(res.mse < 0.5 * mse_mean), (res.mse, mse_mean)
    assert res.images_uint8().shape == (2, 64, 64, 3)
    assert to_uint8(res.images).dtype == np.uint8


def test_shipped_generator_figures_do_not_regress():
    """Recompute the card's guard figures (8 held-out test faces inverted in W with the card's init,
    FD-VGG16 of 256 samples): they are deterministic, so only float noise is tolerated
    (LPIPS-vgg ±0.005, PSNR ±0.1 dB, FD ±2 %, judged degrees within 2 of the 40 (image, attribute)
    pairs, identity within one image in 8)."""
    import pytest

    from methods.training.stylegan2_report import guard_figures

    card = json.loads(card_path("stylegan2").read_text())
    want = {k: v for k, v in card["quality"].items() if k.startswith("guard_")}
    if not want:
        pytest.skip("the shipped generator's card has no guard figures (world-1 interim generator)")
    from methods.nets.latent_encoder import load_encoder_for
    from methods.nets.stylegan2 import load_generator

    torch.set_num_threads(1)
    encoder = load_encoder_for() if want["guard_init"] == "encoder" else None
    got = guard_figures(load_generator(), encoder, want["guard_init"])
    assert got["guard_init"] == want["guard_init"]
    assert abs(got["guard_inversion_w_lpips_vgg"] - want["guard_inversion_w_lpips_vgg"]) <= 0.005
    assert abs(got["guard_inversion_w_psnr_db"] - want["guard_inversion_w_psnr_db"]) <= 0.1
    assert abs(got["guard_fd_vgg16_256"] - want["guard_fd_vgg16_256"]) <= 0.02 * want["guard_fd_vgg16_256"]
    for k, tol in (("guard_inversion_w_attr_exact", 2 / 40), ("guard_inversion_w_identity_verified", 1 / 8)):
        if k in want:
            assert abs(got[k] - want[k]) <= tol + 1e-9, k


import pytest  # noqa: E402


@pytest.mark.xfail(strict=True, reason="world-2 generator after 1.5 + 1.25 CPU-hours: FD 7.3x the floor, W inversion "
                   "LPIPS-vgg 0.24, 21.7 dB, judge exact 71 % (smiling 44 %), identity verified 0 % (card): "
                   "0 of 7 issue-10 targets met")
def test_shipped_generator_meets_the_issue_10_targets():
    """Issue 10's bars on the card's held-out figures (test split, W, default r_inv)."""
    from methods.training.stylegan2_report import TARGETS

    q = json.loads(card_path("stylegan2").read_text())["quality"]
    assert q["fd_ratio_to_floor"] <= TARGETS["fd_ratio"]
    assert q["inversion_w_lpips_vgg"] <= TARGETS["lpips_vgg"] and q["inversion_w_psnr_db"] >= TARGETS["psnr_db"]
    assert q["inversion_w_attr_exact"] >= TARGETS["attr_exact"]
    assert q["inversion_w_attr_min_exact"] >= TARGETS["attr_min_exact"]
    assert q["inversion_w_attr_within1"] >= TARGETS["attr_within1"]
    assert q["inversion_w_identity_verified"] >= TARGETS["identity_verified"]


def test_inversion_of_non_faces_is_visibly_worse_than_of_faces():
    q = json.loads(card_path("stylegan2").read_text())["quality"]
    assert q["nonface_w_lpips_vgg"] > q["inversion_w_lpips_vgg"] + 0.1
