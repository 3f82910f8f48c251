"""The "ideal separate" reference (issue 14): JPEG at the rate a capacity-achieving channel code would
deliver at each SNR, over the same channel uses a real separate scheme spends.

This is a bound, not a scheme. Shannon's separation theorem says a source code followed by a
capacity-achieving channel code can deliver ``uses * log2(1 + SNR)`` bits error-free over ``uses``
complex AWGN channel uses (arbitrarily long codes). No real code does that, so the receiver is
handed, as declared side information, the JPEG stream such a link would deliver: the highest-quality
stream (full or abbreviated, ``channels.source_coding.jpeg``) whose size fits the capacity budget;
below the smallest stream nothing decodes (the mid-grey placeholder, counted as a decode failure,
outcome ``below-capacity``). The channel still carries ``uses`` unit-power symbols so that the
channel uses and the CBR are counted like everyone else's.

Budget (``uses``): ``auto`` = what JPEG+LDPC spends at its default target (bpp 0.7 at <= 128 px,
0.2 at 1024 px; rate-1/2 code, 4-QAM: bpp·H·W complex uses), so the curve answers "what could the
paper's separate baseline reach with perfect channel coding"; or a number of complex uses per image;
or ``cbr=X`` in the paper's convention (reals / (H·W·C)), e.g. ``cbr=0.0104`` for Editable-DeepSC's
budget or ``cbr=0.0833`` for DeepSC's. Capacity is the AWGN one at the sweep's SNR whatever the
channel (over Rayleigh fading that is still an upper bound: by Jensen, the ergodic capacity at the
same average SNR is lower).
"""
from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from bench.errors import UserError
from bench.options import float_option, int_option
from bench.registry import METHODS
from channels.base import Received
from channels.source_coding import jpeg
from methods.schemes.base import Decoded, Method, Prepared, Request

STREAM = "ideal"
MAX_USES = 10 ** 9


def capacity_bits(uses: int, snr_db: float) -> float:
    """Bits a capacity-achieving code carries over `uses` complex AWGN channel uses at `snr_db`."""
    return float(uses) * math.log2(1.0 + 10.0 ** (float(snr_db) / 10.0))


def jpeg_ladder(img: np.ndarray) -> list[tuple[int, int, bool, bytes]]:
    """Every JPEG stream of `img` worth sending: (bits, quality, abbreviated, data), sorted by size,
    keeping only streams that beat every smaller one in quality (a stream that is larger but not
    better is never the best fit)."""
    streams = []
    for q in range(jpeg.MIN_QUALITY, jpeg.MAX_QUALITY + 1):
        for abbreviated, enc in ((False, jpeg.encode_full), (True, jpeg.encode_abbreviated)):
            data = enc(img, q)
            streams.append((8 * len(data), q, abbreviated, data))
    streams.sort(key=lambda s: (s[0], -s[1]))
    ladder, best_q = [], 0
    for s in streams:
        if s[1] > best_q:
            ladder.append(s)
            best_q = s[1]
    return ladder


@METHODS.register("ideal-separate", "a bound, not a scheme: JPEG at the rate a capacity-achieving code delivers "
                                    "over the same channel uses (uses=auto: JPEG+LDPC's; or uses=N / cbr=X); "
                                    "the receiver is handed that stream")
class IdealSeparate(Method):
    task = "transmit"

    def __init__(self, uses: int | str = "auto", cbr: float | None = None) -> None:
        if cbr is not None and str(uses) != "auto":
            raise UserError("ideal-separate takes uses= or cbr=, not both")
        self.cbr = None if cbr is None else float_option(cbr, "ideal-separate cbr", 0, 48, lo_open=True,
                                                         note=" (paper convention: reals / (H·W·C))")
        self.uses = None if str(uses) == "auto" else int_option(uses, "ideal-separate uses", 1, MAX_USES,
                                                                note=" (complex channel uses per image) or 'auto'")
        self.spec = "ideal-separate:" + (f"cbr={self.cbr:g}" if self.cbr is not None else
                                         f"uses={self.uses if self.uses is not None else 'auto'}")

    def budget(self, hw: tuple[int, int]) -> int:
        h, w = hw
        if self.cbr is not None:
            return max(1, int(round(self.cbr * h * w * 3 / 2)))
        if self.uses is not None:
            return self.uses
        return max(1, int(math.ceil(jpeg.default_target_bpp(hw) * h * w)))  # bpp·HW bits / (1/2 · 2 bits/use)

    def prepare(self, request: Request) -> Prepared:
        img = request.image
        if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f"ideal-separate needs a uint8 (H, W, 3) image, got {getattr(img, 'shape', None)}")
        hw = (int(img.shape[0]), int(img.shape[1]))
        t0 = time.perf_counter()
        ladder = jpeg_ladder(img)
        t1 = time.perf_counter()
        uses = self.budget(hw)
        phase = np.random.default_rng(len(ladder)).integers(0, 4, uses)
        symbols = (np.exp(1j * (np.pi / 4 + np.pi / 2 * phase))).astype(np.complex64)  # unit-power filler
        return Prepared(streams={STREAM: symbols}, side_info={"ladder": ladder, "size": hw, "uses": uses},
                        stage_times={"source_encode": t1 - t0},
                        info={"declared": "bound: the receiver is handed the stream a capacity-achieving code "
                                          "would deliver"})

    def receive(self, received: dict[str, Received], side_info: dict[str, Any], snr_db: float) -> Decoded:
        if STREAM not in received:
            raise ValueError(f"ideal-separate expects a received stream named '{STREAM}', got {sorted(received)}")
        hw, uses = tuple(side_info["size"]), int(side_info["uses"])
        t0 = time.perf_counter()
        budget = capacity_bits(uses, snr_db)
        fits = [s for s in side_info["ladder"] if s[0] <= budget]
        info = {"capacity_bits": round(budget, 1), "uses": uses,
                "smallest_stream_bits": int(side_info["ladder"][0][0])}
        if not fits:
            info.update(outcome="below-capacity", delivered_bpp=0.0)
            return Decoded(image=jpeg.placeholder(hw), decode_failures=1,
                           stage_times={"source_decode": time.perf_counter() - t0}, info=info)
        bits, quality, abbreviated, data = fits[-1]
        image = jpeg.decode(data, quality, hw, abbreviated)
        info.update(jpeg_quality=int(quality), delivered_bpp=round(bits / (hw[0] * hw[1]), 4),
                    abbreviated=bool(abbreviated))
        return Decoded(image=image, stage_times={"source_decode": time.perf_counter() - t0}, info=info)
