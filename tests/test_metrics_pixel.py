import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from bench.errors import UserError
from bench.metrics.pixel import PSNR_CAP_DB, gaussian_window, psnr, ssim
from metrics_images import add_noise, blur, sources


def _sk_ssim(a, b):
    return structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                 data_range=255, channel_axis=-1)


@pytest.mark.parametrize("h,w", [(64, 64), (11, 11), (12, 13), (31, 47), (65, 97), (128, 128), (200, 157)])
@pytest.mark.parametrize("kind", ["noise", "blur", "shift"])
def test_ssim_matches_skimage(h, w, kind):
    a = sources()[0][100:100 + h, 80:80 + w]
    if kind == "noise":
        b = add_noise(a[None], 25.0, seed=h * w)[0]
    elif kind == "blur":
        b = blur(a[None], 1.2)[0]
    else:
        b = sources()[0][103:103 + h, 78:78 + w]
    ours = ssim(b, a)[0]
    assert abs(ours - _sk_ssim(b, a)) < 1e-4
    assert abs(ours - _sk_ssim(b, a)) < 1e-10  # in fact it is the same computation in float64


def test_ssim_batch_identical_and_window():
    a = sources()[1][:64, :64]
    batch = np.stack([a, add_noise(a[None], 10)[0], blur(a[None], 2)[0]])
    vals = ssim(batch, np.stack([a, a, a]))
    assert vals.shape == (3,)
    assert vals[0] == pytest.approx(1.0, abs=1e-12)
    assert 0 < vals[1] < 1 and 0 < vals[2] < 1
    for i in range(3):
        assert vals[i] == pytest.approx(_sk_ssim(batch[i], a), abs=1e-10)
    g = gaussian_window()
    assert len(g) == 11 and g.sum() == pytest.approx(1.0)


def test_psnr_matches_skimage_and_caps_identical():
    a = sources()[2][:64, :96]
    b = add_noise(a[None], 8.0)[0]
    assert psnr(b, a)[0] == pytest.approx(peak_signal_noise_ratio(a, b, data_range=255), abs=1e-10)
    assert psnr(a, a)[0] == PSNR_CAP_DB == 100.0
    assert psnr(a, a, cap=None)[0] == np.inf
    one_lsb = a.copy()
    one_lsb[0, 0, 0] ^= 1
    v = psnr(one_lsb, a, cap=None)[0]
    assert np.isfinite(v) and v < PSNR_CAP_DB  # a single 1-level change at 64x96 stays below the cap
    batch = psnr(np.stack([a, b]), np.stack([a, a]))
    assert batch.shape == (2,) and batch[0] == 100.0 and batch[1] < 40


@pytest.mark.parametrize("fn", [psnr, ssim])
def test_bad_inputs(fn):
    a = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(UserError, match="uint8"):
        fn(a.astype(np.float32), a)
    with pytest.raises(UserError, match="shapes differ"):
        fn(a, np.zeros((32, 33, 3), np.uint8))
    with pytest.raises(UserError, match=r"\(H, W, 3\)"):
        fn(np.zeros((32, 32), np.uint8), np.zeros((32, 32), np.uint8))
    with pytest.raises(UserError, match=r"\(H, W, 3\)"):
        fn(np.zeros((32, 32, 4), np.uint8), np.zeros((32, 32, 4), np.uint8))


def test_ssim_too_small():
    a = np.zeros((10, 40, 3), np.uint8)
    with pytest.raises(UserError, match="at least 11x11"):
        ssim(a, a)
