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


# ----------------------------------------------------------------------------- contract v2 test entries

from bench.registry import EDITORS  # noqa: E402
from methods.editing.base import Editor, EditResult, Outcome  # noqa: E402

SEEN: list[dict] = []  # what testkit-peek's transmitter could reach


if "testkit-brighten" not in EDITORS.names():

    @EDITORS.register("testkit-brighten", "test-only editor: 'make ...' brightens the image by 40 grey levels; "
                                          "anything else is not understood")
    class Brighten(Editor):
        def __init__(self, amount: int = 40, reused_cost: float = 0.0):
            self.amount = int(amount)
            self.reused_cost = float(reused_cost)  # > 0: every edit comes back as reused, computed earlier in that time
            self.spec = f"testkit-brighten:amount={self.amount}" + (f",reused_cost={self.reused_cost:g}"
                                                                    if self.reused_cost else "")

        def edit(self, image, instruction):
            return self.edit_batch([image], [instruction])[0]

        def edit_batch(self, images, instructions):
            log = os.environ.get("TESTKIT_LOG")
            if log:
                with open(log, "a") as f:
                    f.write(f"edit_batch {len(images)}\n")
            out = []
            for im, text in zip(images, instructions):
                if text and text.strip().lower().startswith("make"):
                    edited = np.clip(im.astype(np.int16) + self.amount, 0, 255).astype(np.uint8)
                    out.append(EditResult(edited, Outcome.EDITED, parsed={"verb": "make"}, trials=1,
                                          elapsed=self.reused_cost or None, reused=bool(self.reused_cost)))
                else:
                    out.append(EditResult(np.asarray(im), Outcome.NOT_UNDERSTOOD))
            return out

    @METHODS.register("testkit-peek", "test-only uncoded scheme that records what its transmitter can reach")
    class Peek(Uncoded):
        task = "edit"

        def prepare(self, request):
            seen = {"type": type(request).__name__,
                    "fields": sorted(getattr(request, "__dataclass_fields__", {}) or vars(request))}
            for name in ("target", "labels"):
                try:
                    seen[name] = getattr(request, name)
                except AttributeError:
                    seen[name] = "unreachable"
            SEEN.append(seen)
            return super().prepare(request)

    @METHODS.register("testkit-weighted", "test-only uncoded scheme that declares a trained weight file")
    class Weighted(Uncoded):
        def __init__(self, weights: str = ""):
            super().__init__()
            self.path = str(weights)
            self.spec = f"testkit-weighted:weights={self.path}"

        def weights(self):
            return {"net": self.path}

if "testkit-text" not in DATASETS.names():

    @DATASETS.register("testkit-text", "test-only gradient images with an instruction and no ground-truth edit")
    class GradientsWithText(Dataset):
        default_size = 16
        TEXTS = ("make it brighter", "make the sky bluer please", "make her smile", "make it pop")

        def items(self, n, size, seed=0):
            for i in range(min(n or 8, 8)):
                yield Item(id=f"t{i:04d}", image=gradient_image(i + 1000 * seed, size),
                           instruction=self.TEXTS[i % len(self.TEXTS)])
