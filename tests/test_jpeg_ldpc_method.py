"""The jpeg-ldpc method end to end through the Method API and an AWGN channel (no runner)."""
import numpy as np
import pytest

from bench.errors import UserError
from bench.registry import METHODS
from channels.source_coding import jpeg
from channels.analog import AWGN, Rayleigh
from datasets.base import Item
from methods.schemes.jpeg_ldpc import JpegLdpc
from synthetic_images import natural_image


def psnr(a, b):
    return 10 * np.log10(255 ** 2 / max(np.mean((a.astype(float) - b.astype(float)) ** 2), 1e-12))


@pytest.fixture(scope="module")
def sent():
    method = METHODS.create("jpeg-ldpc")
    method.setup(128)
    img = natural_image(128, 11)
    item = Item(id="face", image=img.copy())
    prepared = method.prepare(item)
    item.image[...] = 0  # the receiver must not depend on the original
    return method, img, prepared


def transmit(method, prepared, channel, snr_db, seed=0):
    rng = np.random.default_rng(seed)
    received = {name: channel(x, snr_db, rng) for name, x in method.transmit(prepared, snr_db).items()}
    return method.receive(received, prepared.side_info, snr_db)


def test_prepare_contract(sent):
    method, img, prepared = sent
    assert isinstance(method, JpegLdpc) and method.task == "transmit"
    assert set(prepared.streams) == {"image"}
    x = prepared.streams["image"]
    assert x.dtype == np.complex128 and np.mean(np.abs(x) ** 2) <= 1.0 + 1e-12
    side = prepared.side_info
    assert set(side) == {"n_bits", "quality", "abbreviated", "size"} and side["size"] == (128, 128)
    assert prepared.bpp == pytest.approx(side["n_bits"] / 128 ** 2) and prepared.bpp <= 0.7
    assert x.size == method.link.n_symbols(side["n_bits"])
    assert set(prepared.stage_times) == {"source_encode", "channel_encode"}


def test_18db_gives_the_jpeg_image_exactly(sent):
    method, img, prepared = sent
    out = transmit(method, prepared, AWGN(), 18.0)
    payload = jpeg.encode_to_bpp(img, 0.7)
    expected = jpeg.decode(payload.data, payload.quality, 128, payload.abbreviated)
    assert out.decode_failures == 0 and out.info["ldpc_failed_codewords"] == 0
    assert out.image.dtype == np.uint8 and out.image.shape == (128, 128, 3)
    assert np.array_equal(out.image, expected)
    assert psnr(out.image, img) > 25
    assert set(out.stage_times) == {"channel_decode", "source_decode"}


def test_cliff_effect_at_minus_6db(sent):
    method, img, prepared = sent
    out = transmit(method, prepared, AWGN(), -6.0)
    assert out.info["ldpc_failed_codewords"] > 0
    assert out.decode_failures == 1 or psnr(out.image, img) < 15
    if out.decode_failures:
        assert np.array_equal(out.image, jpeg.placeholder(128))


def test_fading_without_csi_fails_with_csi_works(sent):
    method, img, prepared = sent
    good = transmit(method, prepared, Rayleigh("fast", csi="perfect"), 12.0)
    assert good.decode_failures == 0 and good.info["ldpc_failed_codewords"] == 0
    bad = transmit(method, prepared, Rayleigh("fast", csi="none"), 12.0)
    assert bad.info["ldpc_failed_codewords"] == bad.info["ldpc_codewords"]


def test_options():
    m = METHODS.create("jpeg-ldpc:bpp=0.4,rate=0.75,n=480")
    assert m.link.code.d_c == 12 and abs(m.link.code.rate - 0.75) < 0.02
    assert "bpp=0.4" in m.spec and "rate=0.75" in m.spec
    m.setup(64)
    p = m.prepare(Item(id="x", image=natural_image(64, 2)))
    assert p.bpp <= 0.4
    out = m.receive({"image": AWGN()(p.streams["image"], 20.0, np.random.default_rng(0))}, p.side_info, 20.0)
    assert out.decode_failures == 0
    assert METHODS.create("jpeg-ldpc:bpp=auto").bpp is None
    for bad in ("jpeg-ldpc:rate=0.33", "jpeg-ldpc:bpp=-1", "jpeg-ldpc:jpeg_stream=x", "jpeg-ldpc:colour=1"):
        with pytest.raises(UserError):
            METHODS.create(bad)
    with pytest.raises(ValueError):
        m.prepare(Item(id="x", image=np.zeros((8, 8), np.uint8)))
