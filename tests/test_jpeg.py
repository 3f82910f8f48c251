"""JPEG at a target bpp: rate control, abbreviated streams, robust decoding."""
import io

import numpy as np
import pytest
from PIL import Image

from channels.source_coding import jpeg
from synthetic_images import natural_image


def pil_decode(data):
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def header_markers(data):
    """Marker codes of the segments between SOI and the start of scan (inclusive)."""
    assert data[:2] == b"\xff\xd8"
    pos, found = 2, []
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        found.append(data[pos + 1])
        if data[pos + 1] == 0xDA:
            break
        pos += 2 + int.from_bytes(data[pos + 2: pos + 4], "big")
    return found


def test_default_target_bpp():
    assert jpeg.default_target_bpp(128) == pytest.approx(0.7)
    assert jpeg.default_target_bpp(1024) == pytest.approx(0.2)
    assert jpeg.default_target_bpp(64) == pytest.approx(0.7)
    assert jpeg.default_target_bpp(4096) == pytest.approx(0.2)
    mids = [jpeg.default_target_bpp(s) for s in (128, 256, 512, 1024)]
    assert all(a > b for a, b in zip(mids, mids[1:]))
    # power law between the anchors: equal steps in log(pixels) give equal ratios
    assert mids[0] / mids[1] == pytest.approx(mids[1] / mids[2]) == pytest.approx(mids[2] / mids[3])
    assert jpeg.default_target_bpp((128, 128)) == jpeg.default_target_bpp(128)


@pytest.mark.parametrize("size,seed", [(128, 0), (128, 1), (1024, 0)])
@pytest.mark.parametrize("stream", ["best", "full"])
def test_rate_control_meets_target(size, seed, stream):
    img = natural_image(size, seed)
    target = jpeg.default_target_bpp(size)
    p = jpeg.encode_to_bpp(img, target, stream=stream)
    h, w = img.shape[:2]
    assert p.bpp == pytest.approx(8 * len(p.data) / (h * w))
    assert 0.9 * target <= p.bpp <= target, (p.bpp, p.quality)
    assert p.size == (h, w) and 1 <= p.quality <= 95
    if stream == "full":
        assert not p.abbreviated and p.data[:4] == b"\xff\xd8\xff\xe0"  # a standard JFIF file
    # highest quality: one step up no longer fits (for the chosen stream kind)
    encoder = jpeg.encode_abbreviated if p.abbreviated else jpeg.encode_full
    if p.quality < 95:
        assert 8 * len(encoder(img, p.quality + 1)) > target * h * w
    # "best" never does worse than the plain JFIF file
    if stream == "best":
        assert p.quality >= jpeg.encode_to_bpp(img, target, stream="full").quality
    # the receiver reproduces exactly what a JPEG decoder of the sent stream gives
    dec = jpeg.decode(p.data, p.quality, size, p.abbreviated)
    ref = pil_decode(jpeg.rebuild_stream(p.data, p.quality) if p.abbreviated else p.data)
    assert dec is not None and np.array_equal(dec, ref)
    psnr = 10 * np.log10(255 ** 2 / np.mean((dec.astype(float) - img) ** 2))
    assert psnr > 25


def test_abbreviated_stream_at_64px_matches_full_stream():
    img = natural_image(64, 3)
    full_q1 = 8 * len(jpeg.encode_full(img, 1)) / 64 ** 2
    p = jpeg.encode_to_bpp(img, jpeg.default_target_bpp(64))
    assert p.abbreviated and p.bpp <= 0.7
    assert p.quality > 10  # the tables would have eaten the budget: full streams reach only q~5
    assert full_q1 > 0.5  # headers alone are most of the budget at 64 px
    assert set(header_markers(p.data)) == {0xC0, 0xDA}  # only SOF0 and SOS: no tables, no APP0
    assert {0xDB, 0xC4} <= set(header_markers(jpeg.encode_full(img, p.quality)))
    dec = jpeg.decode(p.data, p.quality, 64, True)
    for optimize in (False, True):
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "JPEG", quality=p.quality, optimize=optimize, subsampling=2)
        assert np.array_equal(dec, pil_decode(buf.getvalue()))
    # forced modes
    assert jpeg.encode_to_bpp(img, 0.7, stream="abbreviated").abbreviated
    assert not jpeg.encode_to_bpp(img, 0.7, stream="full").abbreviated


def test_unreachable_target_sends_smallest_stream():
    img = natural_image(64, 4)
    p = jpeg.encode_to_bpp(img, 0.01)
    assert p.quality == 1 and p.bpp > 0.01
    assert p.bpp == pytest.approx(8 * min(len(jpeg.encode_full(img, 1)), len(jpeg.encode_abbreviated(img, 1))) / 64 ** 2)
    assert jpeg.decode(p.data, p.quality, 64, p.abbreviated) is not None


@pytest.mark.parametrize("stream", ["full", "abbreviated"])
def test_decode_never_raises_on_corruption(stream):
    rng = np.random.default_rng(7)
    size = 64
    p = jpeg.encode_to_bpp(natural_image(size, 5), 0.7, stream=stream)
    bits = np.unpackbits(np.frombuffer(p.data, dtype=np.uint8))
    cases = [b"", b"\x00" * len(p.data), b"\xff" * len(p.data), rng.bytes(len(p.data)), p.data[:3], p.data[:-1]]
    for _ in range(60):
        b = bits.copy()
        b[rng.integers(0, b.size, rng.integers(1, 40))] ^= 1
        cases.append(np.packbits(b).tobytes())
        cases.append(p.data[: rng.integers(0, len(p.data))])
        cases.append(np.packbits(bits ^ (rng.random(bits.size) < 0.1)).tobytes())
    decoded = 0
    for data in cases:
        for quality in (p.quality, 0, 200):
            out = jpeg.decode(data, quality, size, p.abbreviated)
            if out is not None:
                assert out.shape == (size, size, 3) and out.dtype == np.uint8
                decoded += 1
    assert decoded > 0  # mild damage still gives (partial) images
    assert jpeg.decode(b"\x00" * len(p.data), p.quality, size, p.abbreviated) is None
    assert jpeg.decode(p.data, p.quality, "bad size", p.abbreviated) is None
    assert jpeg.decode(None, p.quality, size, p.abbreviated) is None


def test_wrong_size_result_is_resized_and_placeholder():
    small = jpeg.encode_full(natural_image(32, 6), 80)
    out = jpeg.decode(small, 80, 64, False)
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    huge = jpeg.encode_full(np.zeros((512, 512, 3), np.uint8), 50)
    assert jpeg.decode(huge, 50, 64, False) is None  # header claims far more pixels than expected
    ph = jpeg.placeholder(64)
    assert ph.shape == (64, 64, 3) and ph.dtype == np.uint8 and np.all(ph == 128)
    assert jpeg.placeholder((32, 48)).shape == (32, 48, 3)


def test_bad_encoder_input():
    img = natural_image(32)
    with pytest.raises(ValueError, match="uint8"):
        jpeg.encode_to_bpp(img.astype(np.float32), 0.7)
    with pytest.raises(ValueError, match="uint8"):
        jpeg.encode_to_bpp(img[..., 0], 0.7)
    with pytest.raises(ValueError, match="target_bpp"):
        jpeg.encode_to_bpp(img, 0)
    with pytest.raises(ValueError, match="stream"):
        jpeg.encode_to_bpp(img, 0.7, stream="progressive")
