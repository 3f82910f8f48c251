"""JPEG source coding at a target bit rate (Pillow/libjpeg), with a receiver that never raises.

Encoder: baseline JPEG, 4:2:0 chroma subsampling, quality searched by bisection over
1..95 for the highest quality whose stream fits the target (bpp is monotone in quality
for libjpeg's scaled standard tables; q = 1 and 2 coincide because baseline tables
saturate at 255).

Two stream types:

* full      a complete JFIF file, ``optimize=True`` (image-specific Huffman tables).
* abbreviated  an "abbreviated image datastream" (Pillow ``streamtype=2``): image data
            without tables, using the tables both ends can derive from the quality
            (libjpeg's quality-scaled quantisation tables, the standard Huffman tables of
            JPEG Annex K, ``optimize=False``); the 18-byte JFIF APP0 marker is dropped too
            since libjpeg defaults to YCbCr for 3 components without it. The receiver
            rebuilds the header from a tables-only stream (``streamtype=1``) made at the
            same quality: SOI + DQT + DHT from that stream, then the received stream after
            its SOI. Decodes are bit-identical to a full stream of the same quality
            (checked in tests/test_jpeg.py).

Rule (``stream="best"``, the default): encode both ways and send the one that reaches the
higher quality within the target (ties go to the full stream). In practice the full
stream wins at 1024 px (its optimised Huffman tables save more than its ~0.3-0.6 kbit of
headers cost), the abbreviated stream wins at 64 px (headers alone exceed the budget) and
at 128 px it gains a few quality steps. ``stream="full"`` reproduces plain JFIF files
(the paper's setting), ``stream="abbreviated"`` forces the abbreviated form. When no
quality fits the target, the smallest stream of the allowed kind(s) (q = 1) is sent and
its true bpp (> target) is reported.

bpp counts every byte sent: 8·len(data)/(H·W). The quality, the stream type and the image
size are side information (a few bytes the receiver is assumed to know).

Receiver: ``decode`` returns what libjpeg can reconstruct from a damaged stream (as with
``ImageFile.LOAD_TRUNCATED_IMAGES``: corrupt entropy-coded data and premature ends are
decoded as far as possible), converts any mode to RGB, resizes a wrong-sized result to the
expected size, and returns None when nothing can be decoded; it never raises.
``placeholder(size)`` (mid-grey 128) is the documented fallback image for None.
"""
from __future__ import annotations

import functools
import io
import math
import threading
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFile

MIN_QUALITY, MAX_QUALITY = 1, 95
SUBSAMPLING = 2  # 4:2:0
STREAMS = ("best", "full", "abbreviated")
PLACEHOLDER_VALUE = 128
_MAX_PIXEL_RATIO = 4  # a damaged header claiming more pixels than this x the expected size is not decoded
_TRUNCATED_LOCK = threading.Lock()

# Paper (Sec. V-A): 0.7 bpp at 128x128 and 0.2 bpp at 1024x1024.
_ANCHORS = ((128 * 128, 0.7), (1024 * 1024, 0.2))


@dataclass
class JpegPayload:
    data: bytes
    quality: int
    bpp: float
    abbreviated: bool
    size: tuple[int, int]  # (height, width)


def default_target_bpp(size) -> float:
    """Target bpp for a `size` (int for square, or (H, W)) image.

    Log-log (power-law) interpolation in the pixel count between the paper's anchors
    (128², 0.7) and (1024², 0.2), clamped outside: <= 128² pixels -> 0.7, >= 1024² -> 0.2
    (e.g. 256 px -> 0.461, 512 px -> 0.304, 64 px -> 0.7).
    """
    h, w = _hw(size)
    (p0, b0), (p1, b1) = _ANCHORS
    t = (math.log(h * w) - math.log(p0)) / (math.log(p1) - math.log(p0))
    t = min(max(t, 0.0), 1.0)
    return float(math.exp(math.log(b0) + t * (math.log(b1) - math.log(b0))))


def placeholder(size) -> np.ndarray:
    """The fallback image a receiver shows when nothing decodes: uniform mid-grey (128)."""
    h, w = _hw(size)
    return np.full((h, w, 3), PLACEHOLDER_VALUE, dtype=np.uint8)


def _hw(size) -> tuple[int, int]:
    if isinstance(size, (int, np.integer)):
        h = w = int(size)
    else:
        try:
            h, w = (int(v) for v in size)
        except (TypeError, ValueError):
            raise ValueError(f"size must be an int or (height, width), got {size!r}") from None
    if h < 1 or w < 1:
        raise ValueError(f"size must be positive, got {size!r}")
    return h, w


def _check_image(img) -> np.ndarray:
    if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
        shape = getattr(img, "shape", None)
        dtype = getattr(img, "dtype", type(img).__name__)
        raise ValueError(f"JPEG encoder needs a uint8 (H, W, 3) array, got shape {shape} dtype {dtype}")
    return img


def _strip_app0(data: bytes) -> bytes:
    if data[2:4] == b"\xff\xe0":
        seg = 2 + int.from_bytes(data[4:6], "big")
        return data[:2] + data[2 + seg:]
    return data


def encode_full(img: np.ndarray, quality: int) -> bytes:
    """A complete JFIF stream with optimised Huffman tables."""
    buf = io.BytesIO()
    Image.fromarray(_check_image(img)).save(buf, "JPEG", quality=int(quality), optimize=True, subsampling=SUBSAMPLING)
    return buf.getvalue()


def encode_abbreviated(img: np.ndarray, quality: int) -> bytes:
    """An abbreviated image datastream (no tables, no JFIF marker), standard Huffman tables."""
    buf = io.BytesIO()
    Image.fromarray(_check_image(img)).save(
        buf, "JPEG", quality=int(quality), optimize=False, subsampling=SUBSAMPLING, streamtype=2
    )
    return _strip_app0(buf.getvalue())


@functools.lru_cache(maxsize=128)
def tables_header(quality: int) -> bytes:
    """SOI + DQT + DHT for `quality` (standard Huffman tables), without the closing EOI."""
    buf = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buf, "JPEG", quality=int(quality), optimize=False, subsampling=SUBSAMPLING, streamtype=1)
    data = buf.getvalue()
    return data[:-2] if data.endswith(b"\xff\xd9") else data


def _search(img, encoder, target_bits: float):
    """Highest quality in [1, 95] whose stream has at most `target_bits` bits: (quality, data) or None."""
    lo, hi = MIN_QUALITY, MAX_QUALITY
    data = encoder(img, lo)
    if 8 * len(data) > target_bits:
        return None
    best = (lo, data)
    lo += 1
    while lo <= hi:
        mid = (lo + hi) // 2
        data = encoder(img, mid)
        if 8 * len(data) <= target_bits:
            best, lo = (mid, data), mid + 1
        else:
            hi = mid - 1
    return best


def encode_to_bpp(img: np.ndarray, target_bpp: float, stream: str = "best") -> JpegPayload:
    """Encode at the highest quality meeting `target_bpp` (see the module doc for `stream`)."""
    img = _check_image(img)
    if not (isinstance(target_bpp, (int, float, np.floating)) and math.isfinite(target_bpp) and target_bpp > 0):
        raise ValueError(f"target_bpp must be a positive number, got {target_bpp!r}")
    if stream not in STREAMS:
        raise ValueError(f"stream must be one of {STREAMS}, got {stream!r}")
    h, w = img.shape[:2]
    budget = float(target_bpp) * h * w
    kinds = {"best": (False, True), "full": (False,), "abbreviated": (True,)}[stream]
    found = []
    for abbreviated in kinds:
        hit = _search(img, encode_abbreviated if abbreviated else encode_full, budget)
        if hit is not None:
            found.append((hit[0], not abbreviated, abbreviated, hit[1]))
    if found:
        quality, _, abbreviated, data = max(found)  # highest quality; ties -> full stream
    else:  # unreachable target: the smallest stream allowed
        options = [(len(enc(img, MIN_QUALITY)), ab) for ab, enc in ((False, encode_full), (True, encode_abbreviated)) if ab in kinds]
        _, abbreviated = min(options)
        quality = MIN_QUALITY
        data = (encode_abbreviated if abbreviated else encode_full)(img, quality)
    return JpegPayload(data=data, quality=int(quality), bpp=8.0 * len(data) / (h * w),
                       abbreviated=bool(abbreviated), size=(h, w))


def rebuild_stream(data: bytes, quality: int) -> bytes:
    """Full JPEG stream from an abbreviated one: tables for `quality`, then `data` after its SOI."""
    return tables_header(int(quality)) + bytes(data[2:])


def decode(data, quality: int, size, abbreviated: bool) -> np.ndarray | None:
    """Decode a (possibly damaged) stream to uint8 (H, W, 3); None when nothing decodes. Never raises."""
    try:
        h, w = _hw(size)
    except ValueError:
        return None
    try:
        data = bytes(data)
        if abbreviated:
            q = int(quality)
            if not MIN_QUALITY <= q <= 100:
                return None
            data = rebuild_stream(data, q)
        if len(data) < 4:
            return None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            im = Image.open(io.BytesIO(data), formats=["JPEG"])
            iw, ih = im.size
            if iw < 1 or ih < 1 or iw * ih > _MAX_PIXEL_RATIO * h * w:
                return None
            with _TRUNCATED_LOCK:
                old = ImageFile.LOAD_TRUNCATED_IMAGES
                ImageFile.LOAD_TRUNCATED_IMAGES = True
                try:
                    im.load()
                finally:
                    ImageFile.LOAD_TRUNCATED_IMAGES = old
            im = im.convert("RGB")
            if im.size != (w, h):
                im = im.resize((w, h), Image.BILINEAR)
            out = np.asarray(im, dtype=np.uint8)
        if out.shape != (h, w, 3):
            return None
        return np.ascontiguousarray(out)
    except Exception:  # noqa: BLE001 - a damaged bitstream must never crash the receiver
        return None
