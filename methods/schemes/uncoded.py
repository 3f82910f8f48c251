"""Uncoded analog transmission: pixel values sent directly as I/Q symbols (reference curve).

Each pixel channel value becomes one real (centred, scaled so the whole image meets the
power constraint with equality); consecutive reals form a complex symbol, so the scheme
uses H·W·C/2 complex channel uses (CBR 1/2 complex, 1 in the paper's real-value count).
The receiver undoes the scaling using the gain it is told as side information and clips.
"""
from __future__ import annotations

import time

import numpy as np

from bench.registry import METHODS
from channels.analog import complex_to_reals, reals_to_complex
from methods.schemes.base import Decoded, Method, Prepared, Request


@METHODS.register("uncoded", "pixels sent as analog I/Q symbols, no coding (reference curve; CBR 1/2 complex)")
class Uncoded(Method):
    def prepare(self, request: Request) -> Prepared:
        t0 = time.perf_counter()
        img = np.asarray(request.image, dtype=np.float64)
        centred = img / 127.5 - 1.0  # [-1, 1]
        rms = float(np.sqrt(np.mean(centred ** 2))) or 1.0
        # Two reals per symbol: mean |x|^2 = 2 * mean(real^2); scale to unit symbol energy.
        gain = 1.0 / (rms * np.sqrt(2.0))
        x = reals_to_complex(centred.ravel() * gain)
        return Prepared(streams={"image": x}, side_info={"shape": img.shape, "gain": gain},
                        stage_times={"source_encode": time.perf_counter() - t0})

    def receive(self, received, side_info, snr_db):
        t0 = time.perf_counter()
        shape = tuple(side_info["shape"])
        reals = complex_to_reals(received["image"].y, int(np.prod(shape))) / side_info["gain"]
        img = np.clip(np.rint((reals + 1.0) * 127.5), 0, 255).astype(np.uint8).reshape(shape)
        return Decoded(image=img, stage_times={"source_decode": time.perf_counter() - t0})
