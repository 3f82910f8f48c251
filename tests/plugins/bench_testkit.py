"""Test-only registry entries, loadable in a subprocess via BENCH_PLUGINS=bench_testkit.

* dataset ``testkit-gradients``: smooth synthetic RGB images (deterministic per index).
* method ``testkit-counting``: the uncoded scheme, but appends 'prepare <id>' to the file in
  $TESTKIT_LOG on each prepare() and sleeps `delay` seconds per receive().
"""
from __future__ import annotations

import os
import time

import numpy as np

from bench.registry import DATASETS, METHODS
from datasets.base import Dataset, Item
from methods.schemes.uncoded import Uncoded


def gradient_image(index: int, size: int) -> np.ndarray:
    rng = np.random.default_rng(index)
    yy, xx = np.mgrid[0:size, 0:size] / max(size - 1, 1)
    a, b, c = rng.uniform(0.2, 1.0, 3)
    img = np.stack([a * xx, b * yy, c * (1 - xx) * yy], axis=-1)
    cx, cy, r = rng.uniform(0.3, 0.7, 3) * [1, 1, 0.5]
    img[(xx - cx) ** 2 + (yy - cy) ** 2 < r ** 2] *= 0.5
    return np.clip(img * 255, 0, 255).astype(np.uint8)


if "testkit-gradients" not in DATASETS.names():

    @DATASETS.register("testkit-gradients", "test-only smooth gradient images")
    class Gradients(Dataset):
        default_size = 32

        def __init__(self, count: int = 1000):
            super().__init__()
            self.count = count

        def items(self, n, size, seed=0):
            for i in range(min(n or self.count, self.count)):
                yield Item(id=f"g{i:04d}", image=gradient_image(i + 1000 * seed, size))

    @METHODS.register("testkit-counting", "test-only uncoded scheme that logs prepare() calls")
    class Counting(Uncoded):
        def __init__(self, delay: float = 0.0):
            super().__init__()
            self.delay = float(delay)

        def prepare(self, item):
            log = os.environ.get("TESTKIT_LOG")
            if log:
                with open(log, "a") as f:
                    f.write(f"prepare {item.id}\n")
            return super().prepare(item)

        def receive(self, received, side_info, snr_db):
            if self.delay:
                time.sleep(self.delay)
            return super().receive(received, side_info, snr_db)
