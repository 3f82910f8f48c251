"""Robust image reading shared by every image-backed dataset.

``load_rgb(path, size)`` returns ``(image, None)`` with ``image`` a uint8 ``(size, size, 3)``
array, or ``(None, reason)`` when the file cannot be used. It never raises for a bad file.

What it handles (PNG, JPEG, BMP, WebP, TIFF, GIF — whatever Pillow decodes):

* colour modes: grayscale (L, 1), palette (P), RGBA/LA/PA (alpha composited over white),
  CMYK/YCbCr/LAB, 16-bit grayscale (``I;16*``) and 32-bit integer/float images (scaled to 8 bit);
* EXIF orientation (on by default, ``exif=False`` to ignore);
* multi-frame files: the first frame;
* geometry: the shorter side is resized to ``size`` and the centre ``size x size`` square is
  kept (non-square images are centre-cropped). An image smaller than ``size`` is upsampled
  with a ``UserWarning`` naming the file; one whose shorter side is below ``min_side`` pixels
  is rejected. ``size=None`` keeps the native resolution (still converted to RGB uint8).
* failures: a missing, empty, truncated, corrupted or unrecognised file, or a decompression
  bomb, gives ``(None, reason)``; callers record the reason (``Dataset.skipped``) and go on.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".gif"})

#: background used when flattening transparent images
ALPHA_BACKGROUND = (255, 255, 255)


def is_image_file(path: str | Path) -> bool:
    p = Path(path)
    return p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith(".")


def _high_depth_to_uint8(arr: np.ndarray, mode: str) -> np.ndarray:
    """Scale a 16/32-bit integer or float single-channel array to uint8."""
    if mode.startswith("I;16") or arr.dtype == np.uint16:
        return (arr.astype(np.uint32) // 257).astype(np.uint8)  # 65535 -> 255 exactly
    if np.issubdtype(arr.dtype, np.floating):
        arr = np.nan_to_num(arr.astype(np.float64))
        top = 1.0 if arr.size and arr.max() <= 1.0 and arr.min() >= 0.0 else 255.0
        return np.clip(np.rint(arr * (255.0 / top)), 0, 255).astype(np.uint8)
    # mode "I" (int32): Pillow uses it for 16-bit PNGs on some versions
    arr = arr.astype(np.int64)
    if arr.size and arr.max() > 255:
        return (np.clip(arr, 0, 65535) // 257).astype(np.uint8)
    return np.clip(arr, 0, 255).astype(np.uint8)


def to_rgb(img: Image.Image) -> Image.Image:
    """Convert any Pillow image to 8-bit RGB (alpha over white, 16-bit scaled down)."""
    mode = img.mode
    if mode == "RGB":
        return img
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, ALPHA_BACKGROUND + (255,))
        return Image.alpha_composite(background, rgba).convert("RGB")
    if mode.startswith("I") or mode == "F":
        arr = _high_depth_to_uint8(np.asarray(img), mode)
        if arr.ndim == 3:  # e.g. a 16-bit multi-channel array surfaced by a newer Pillow
            arr = arr[..., :3] if arr.shape[2] >= 3 else np.repeat(arr[..., :1], 3, axis=2)
            return Image.fromarray(np.ascontiguousarray(arr), "RGB")
        return Image.fromarray(arr, "L").convert("RGB")
    return img.convert("RGB")


def resize_center_crop(img: Image.Image, size: int) -> Image.Image:
    """Resize so the shorter side equals ``size``, then keep the centre square."""
    w, h = img.size
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    if (nw, nh) != (w, h):
        resample = Image.Resampling.LANCZOS if scale < 1 else Image.Resampling.BICUBIC
        img = img.resize((nw, nh), resample)
    left, top = (nw - size) // 2, (nh - size) // 2
    if (nw, nh) != (size, size):
        img = img.crop((left, top, left + size, top + size))
    return img


def load_rgb(path: str | Path, size: int | None, *, exif: bool = True, min_side: int = 8,
             center_box: int | None = None) -> tuple[np.ndarray | None, str | None]:
    """Read ``path`` as a ``(size, size, 3)`` uint8 RGB array.

    Returns ``(array, None)`` or ``(None, reason)``. ``center_box``, when given, first cuts a
    centred ``center_box x center_box`` square (clipped to the image) before resizing, e.g.
    CelebA's customary 178-px face crop. Upsampling an image smaller than ``size`` emits a
    ``UserWarning``.
    """
    p = Path(path)
    try:
        if not p.is_file():
            return None, "file not found"
        if p.stat().st_size == 0:
            return None, "empty file (0 bytes)"
        with Image.open(p) as im:
            im.load()  # forces the full decode: truncated/corrupted data fails here
            if exif:
                try:
                    im = ImageOps.exif_transpose(im)
                except Exception:  # a broken EXIF block must not cost the image
                    pass
            img = to_rgb(im)
    except Image.DecompressionBombError as exc:
        return None, f"refused as a decompression bomb ({exc})"
    except UnidentifiedImageError:
        return None, "not a readable image (unknown or corrupted format)"
    except (OSError, SyntaxError, ValueError, TypeError, EOFError) as exc:
        text = str(exc) or type(exc).__name__
        if "truncated" in text.lower():
            return None, f"truncated image data ({text})"
        return None, f"corrupted or unreadable image ({text})"

    w, h = img.size
    if min(w, h) < min_side:
        return None, f"image too small ({w}x{h}, need at least {min_side} px on the shorter side)"
    if center_box is not None and center_box > 0:
        box = min(center_box, w, h)
        left, top = (w - box) // 2, (h - box) // 2
        img = img.crop((left, top, left + box, top + box))
        w, h = img.size
    if size is not None:
        if min(w, h) < size:
            warnings.warn(f"{p}: {w}x{h} is smaller than the requested {size}x{size}; upsampling",
                          UserWarning, stacklevel=2)
        img = resize_center_crop(img, int(size))
    arr = np.asarray(img, dtype=np.uint8)
    if arr.ndim != 3 or arr.shape[2] != 3:  # defensive: should not happen after to_rgb
        return None, f"unexpected decoded shape {arr.shape}"
    return np.ascontiguousarray(arr), None
