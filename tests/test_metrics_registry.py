import subprocess
import sys

import numpy as np
import pytest

import bench.metrics  # noqa: F401  (registers the metrics)
from bench.errors import UserError
from bench.registry import METRICS
from metrics_images import add_noise, crops

EXPECTED = {"psnr": True, "ssim": True, "lpips-alex": False, "lpips-vgg": False}


def test_registered_with_attributes():
    for name, higher in EXPECTED.items():
        assert name in METRICS.names()
        m = METRICS.create(name)
        assert m.name == name and m.higher_is_better is higher and callable(m)
        assert METRICS.entry(name).summary
        assert isinstance(m.min_size, int)
    from bench.metrics.perceptual import MIN_SIZE

    assert METRICS.create("lpips-alex").min_size == MIN_SIZE["alex"] == 31
    assert METRICS.create("lpips-vgg").min_size == MIN_SIZE["vgg"] == 16
    assert METRICS.create("lpips-alex:upsample_small=true").min_size == 1
    assert METRICS.create("ssim").min_size == 11 and METRICS.create("psnr").min_size == 1


def test_values_and_direction():
    ref = crops(1, 48, seed=3)[0]
    mild, strong = add_noise(ref[None], 5)[0], add_noise(ref[None], 40)[0]
    for name, higher in EXPECTED.items():
        m = METRICS.create(name)
        v_mild, v_strong = m(mild, ref), m(strong, ref)
        assert isinstance(v_mild, float)
        assert (v_mild > v_strong) if higher else (v_mild < v_strong)
        batch = m.batch(np.stack([mild, strong]), np.stack([ref, ref]))
        np.testing.assert_allclose(batch, [v_mild, v_strong], rtol=1e-5)
    assert METRICS.create("psnr")(ref, ref) == 100.0
    assert METRICS.create("psnr:cap=60")(ref, ref) == 60.0
    assert METRICS.create("ssim")(ref, ref) == pytest.approx(1.0)
    assert METRICS.create("lpips-alex")(ref, ref) == 0.0


def test_options_and_errors():
    tiny = crops(1, 20, seed=1)[0]
    with pytest.raises(UserError, match="lpips-alex:upsample_small=true"):
        METRICS.create("lpips-alex")(tiny, tiny)
    assert METRICS.create("lpips-alex:upsample_small=true")(add_noise(tiny[None], 20)[0], tiny) > 0
    with pytest.raises(UserError, match="bad options for metric"):
        METRICS.create("ssim:window=7")


def test_import_is_light():
    code = ("import sys, bench.metrics; from bench.registry import METRICS; "
            "assert {'psnr','ssim','lpips-alex','lpips-vgg'} <= set(METRICS.names()); "
            "heavy = [m for m in ('torch', 'lpips', 'cleanfid', 'torchvision', 'scipy') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)
