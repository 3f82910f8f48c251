"""datasets.image_io.load_rgb: conversions, geometry and graceful failures."""
import struct
import warnings
import zlib

import numpy as np
import pytest
from PIL import Image

from datasets.image_io import load_rgb


def _png16(arr: np.ndarray) -> bytes:
    """A 16-bit PNG (gray, RGB or RGBA) written by hand (Pillow cannot write 16-bit RGB)."""
    if arr.ndim == 2:
        arr = arr[..., None]
    h, w, c = arr.shape
    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    ctype = {1: 0, 3: 2, 4: 6}[c]
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, ctype, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _rgb(h, w, color=(200, 100, 50)):
    a = np.zeros((h, w, 3), np.uint8)
    a[:] = color
    return a


@pytest.mark.parametrize("ext", ["png", "jpg", "bmp", "webp"])
def test_formats_resize_to_square(tmp_path, ext):
    p = tmp_path / f"a.{ext}"
    Image.fromarray(_rgb(40, 40)).save(p)
    img, reason = load_rgb(p, 16)
    assert reason is None and img.shape == (16, 16, 3) and img.dtype == np.uint8
    assert abs(int(img[8, 8, 0]) - 200) <= 6


def test_size_none_keeps_native(tmp_path):
    p = tmp_path / "a.png"
    Image.fromarray(_rgb(20, 30)).save(p)
    img, _ = load_rgb(p, None)
    assert img.shape == (20, 30, 3)


def test_grayscale_and_palette(tmp_path):
    Image.fromarray(np.full((20, 20), 77, np.uint8), "L").save(tmp_path / "g.png")
    Image.fromarray(_rgb(20, 20)).convert("P").save(tmp_path / "p.png")
    Image.fromarray(np.full((20, 20), 255, np.uint8), "L").convert("1").save(tmp_path / "b.png")
    g, _ = load_rgb(tmp_path / "g.png", 10)
    assert g.shape == (10, 10, 3) and (g == 77).all()
    p, _ = load_rgb(tmp_path / "p.png", 10)
    assert p.shape == (10, 10, 3)
    b, _ = load_rgb(tmp_path / "b.png", 10)
    assert (b == 255).all()


def test_rgba_composited_over_white(tmp_path):
    a = np.zeros((20, 20, 4), np.uint8)
    a[..., 0] = 255
    a[:, :10, 3] = 255  # left half opaque red, right half transparent
    Image.fromarray(a, "RGBA").save(tmp_path / "a.png")
    img, _ = load_rgb(tmp_path / "a.png", 20)
    assert tuple(img[10, 2]) == (255, 0, 0)
    assert tuple(img[10, 17]) == (255, 255, 255)


def test_16bit_gray_and_rgb_scaled(tmp_path):
    gray = np.full((12, 12), 65535, np.uint16)
    gray[:, :6] = 32896  # -> 128
    Image.fromarray(gray).save(tmp_path / "g16.png")
    img, reason = load_rgb(tmp_path / "g16.png", None)
    assert reason is None
    assert img[0, 0, 0] == 128 and img[0, 11, 0] == 255 and img.dtype == np.uint8
    rgb = np.zeros((12, 12, 3), np.uint16)
    rgb[..., 0] = 65535
    rgb[..., 1] = 32896
    (tmp_path / "c16.png").write_bytes(_png16(rgb))
    img, reason = load_rgb(tmp_path / "c16.png", None)
    assert reason is None and tuple(img[3, 3]) == (255, 128, 0)


def test_non_square_center_crop(tmp_path):
    a = np.zeros((40, 80, 3), np.uint8)  # wide: left quarter red, centre green, right quarter blue
    a[:, :20] = (255, 0, 0)
    a[:, 20:60] = (0, 255, 0)
    a[:, 60:] = (0, 0, 255)
    Image.fromarray(a).save(tmp_path / "w.png")
    img, _ = load_rgb(tmp_path / "w.png", 20)
    assert img.shape == (20, 20, 3)
    assert img[:, :, 1].min() > 200 and img[:, :, 0].max() < 50  # only the green centre survives


def test_tall_center_crop(tmp_path):
    a = np.zeros((90, 30, 3), np.uint8)
    a[30:60] = 255
    Image.fromarray(a).save(tmp_path / "t.png")
    img, _ = load_rgb(tmp_path / "t.png", 30)
    assert img.shape == (30, 30, 3) and img.min() > 200


def test_center_box(tmp_path):
    a = np.zeros((218, 178, 3), np.uint8)
    a[59:159, 39:139] = 255  # centred 100x100 white box
    Image.fromarray(a).save(tmp_path / "c.png")
    img, _ = load_rgb(tmp_path / "c.png", 50, center_box=100)
    assert img.min() > 240


def test_small_image_upsampled_with_warning(tmp_path):
    Image.fromarray(_rgb(10, 12)).save(tmp_path / "s.png")
    with pytest.warns(UserWarning, match="upsampling"):
        img, reason = load_rgb(tmp_path / "s.png", 32)
    assert reason is None and img.shape == (32, 32, 3)


def test_tiny_image_rejected(tmp_path):
    Image.fromarray(_rgb(4, 4)).save(tmp_path / "t.png")
    img, reason = load_rgb(tmp_path / "t.png", 32)
    assert img is None and "too small" in reason


def test_bad_files_give_reasons(tmp_path):
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "junk.png").write_bytes(b"this is not an image at all" * 10)
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(tmp_path / "full.jpg")
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "trunc.jpg").write_bytes(data[: len(data) // 3])
    Image.fromarray(_rgb(30, 30)).save(tmp_path / "full.png")
    pdata = (tmp_path / "full.png").read_bytes()
    (tmp_path / "trunc.png").write_bytes(pdata[: len(pdata) // 2])
    cases = {"missing.png": "not found", "empty.jpg": "empty", "junk.png": "not a readable image",
             "trunc.jpg": "", "trunc.png": ""}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # bad files must not warn or raise, just report
        for name, needle in cases.items():
            img, reason = load_rgb(tmp_path / name, 16)
            assert img is None, name
            assert needle in reason, (name, reason)


def test_exif_orientation(tmp_path):
    a = np.zeros((10, 20, 3), np.uint8)  # landscape
    im = Image.fromarray(a)
    exif = im.getexif()
    exif[0x0112] = 6  # rotate 90 CW on display
    im.save(tmp_path / "o.jpg", exif=exif)
    assert load_rgb(tmp_path / "o.jpg", None)[0].shape == (20, 10, 3)
    assert load_rgb(tmp_path / "o.jpg", None, exif=False)[0].shape == (10, 20, 3)
