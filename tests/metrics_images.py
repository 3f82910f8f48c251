"""Natural test images for the metrics tests (scikit-image's bundled samples; no downloads)."""
from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=1)
def sources() -> tuple[np.ndarray, ...]:
    from skimage import data

    return (data.astronaut(), data.chelsea(), data.coffee(), data.rocket(),
            data.immunohistochemistry(), data.hubble_deep_field())


def face(size: int = 128) -> np.ndarray:
    """The astronaut's face region, resized to size x size (uint8 RGB)."""
    from PIL import Image

    crop = sources()[0][20:220, 150:350]
    return np.array(Image.fromarray(crop).resize((size, size), Image.BICUBIC))


def crops(n: int, size: int, seed: int) -> np.ndarray:
    """n random size x size crops from the sample images: one 'distribution' of natural patches."""
    rng = np.random.default_rng(seed)
    imgs = sources()
    out = []
    for _ in range(n):
        im = imgs[rng.integers(len(imgs))]
        y = rng.integers(0, im.shape[0] - size)
        x = rng.integers(0, im.shape[1] - size)
        out.append(im[y:y + size, x:x + size])
    return np.stack(out)


def add_noise(images: np.ndarray, sigma: float, seed: int = 0) -> np.ndarray:
    z = np.random.default_rng(seed).standard_normal(images.shape)
    return np.clip(np.rint(images + sigma * z), 0, 255).astype(np.uint8)


def blur(images: np.ndarray, sigma: float) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    if sigma == 0:
        return images.copy()
    out = gaussian_filter(images.astype(np.float64), sigma=(0, sigma, sigma, 0))
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)
