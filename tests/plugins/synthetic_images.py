"""Natural-looking synthetic test images shared by the JPEG/LDPC tests and benchmarks."""
import numpy as np
from scipy.special import expit


def natural_image(size, seed=0):
    """Smooth gradients + soft-edged ellipses + a striped 'hair' texture + mild noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    img = np.stack([150 + 80 * xx - 30 * yy, 110 + 50 * np.sin(3 * xx + 2 * yy), 190 - 140 * yy], axis=-1)
    for _ in range(8):
        cx, cy = rng.uniform(0.15, 0.85, 2)
        ax, ay = rng.uniform(0.04, 0.3, 2)
        alpha = expit(-12.0 * (((xx - cx) / ax) ** 2 + ((yy - cy) / ay) ** 2 - 1.0))[..., None]
        img = img * (1 - 0.7 * alpha) + 0.7 * alpha * rng.uniform(0, 255, 3)
    hair = ((yy < 0.35) * 20 * np.sin(2 * np.pi * (xx * 40 + 3 * np.sin(6 * yy))))[..., None]
    return np.clip(img + hair + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)
