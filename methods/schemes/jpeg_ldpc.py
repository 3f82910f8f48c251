"""The separate-coding baseline: JPEG at a target bpp -> LDPC -> Gray 4-QAM (paper Sec. V-A).

Transmitter: JPEG-encode the image at the highest quality within the target bpp
(``channels.source_coding.jpeg``; default target from ``default_target_bpp(size)``: 0.7 at 128 px, 0.2 at
1024 px), LDPC-encode the bytes (``channels.channel_coding.ldpc``, rate 1/2 regular (3, 6) by default)
and map to 4-QAM. Receiver: exact-LLR demapping with the channel's noise variance, BP
decoding, JPEG decoding; an undecodable stream becomes the mid-grey placeholder and counts
as a decode failure. Side information (assumed error-free): payload length in bits,
JPEG quality, stream type (full/abbreviated) and image size.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from bench.errors import UserError
from bench.options import float_option, int_option
from bench.registry import METHODS
from channels.source_coding import jpeg
from channels.base import Received
from channels.channel_coding.digital_link import DigitalLink
from channels.channel_coding.ldpc import DEFAULT_MAXITER, DEFAULT_N, MAX_N, LDPCCode
from methods.schemes.base import Decoded, Method, Prepared, Request

STREAM = "image"
MAX_BPP = 24  # raw 8-bit RGB; a JPEG target above it is meaningless
MAX_ITER = 1000  # BP iterations: 50 by default; beyond ~1000 a failing codeword only burns time


@METHODS.register("jpeg-ldpc", "JPEG at target bpp -> LDPC -> 4-QAM (paper baseline)")
class JpegLdpc(Method):
    """Options: bpp (default: 0.7 at 128 px, 0.2 at 1024 px, interpolated), rate (0.5),
    n (LDPC length), jpeg_stream (best|full|abbreviated), maxiter (BP iterations)."""

    task = "transmit"

    def __init__(self, bpp: float | str | None = None, rate: float = 0.5, n: int = DEFAULT_N,
                 jpeg_stream: str = "best", maxiter: int = DEFAULT_MAXITER) -> None:
        # Types and ranges are checked up front (bench.options): a bad value is a one-line error
        # naming the option, not a traceback, a huge allocation or a failure on the first image.
        if isinstance(bpp, str) and bpp.lower() == "auto":
            bpp = None
        if bpp is not None:
            bpp = float_option(bpp, "jpeg-ldpc bpp", 0, MAX_BPP, lo_open=True,
                               note=" (bits per pixel; 24 = raw 8-bit RGB) or 'auto'")
        if jpeg_stream not in jpeg.STREAMS:
            raise UserError(f"jpeg-ldpc jpeg_stream='{jpeg_stream}' is not known: use one of {', '.join(jpeg.STREAMS)}")
        n = int_option(n, "jpeg-ldpc n", 2, MAX_N,
                       note=" (LDPC code length in bits; memory and build time grow as n^2)")
        rate = float_option(rate, "jpeg-ldpc rate", 0, 1, lo_open=True, hi_open=True)
        maxiter = int_option(maxiter, "jpeg-ldpc maxiter", 1, MAX_ITER, note=" (belief-propagation iterations)")
        try:
            code = LDPCCode(n=n, rate=rate, maxiter=maxiter)
        except (ValueError, TypeError) as exc:
            raise UserError(f"bad LDPC options for jpeg-ldpc: {exc}") from None
        self.bpp = None if bpp is None else float(bpp)
        self.jpeg_stream = jpeg_stream
        self.link = DigitalLink(code)
        self.size: int | None = None
        opts = [f"bpp={self.bpp if self.bpp is not None else 'auto'}", f"rate={rate}", f"n={code.n}"]
        if jpeg_stream != "best":
            opts.append(f"jpeg_stream={jpeg_stream}")
        if int(maxiter) != DEFAULT_MAXITER:
            opts.append(f"maxiter={int(maxiter)}")
        self.spec = "jpeg-ldpc:" + ",".join(opts)

    def setup(self, size: int) -> None:
        self.size = int(size)

    def target_bpp(self, hw: tuple[int, int]) -> float:
        return self.bpp if self.bpp is not None else jpeg.default_target_bpp(hw)

    def prepare(self, request: Request) -> Prepared:
        img = request.image
        if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise ValueError(f"jpeg-ldpc needs a uint8 (H, W, 3) image, got {getattr(img, 'shape', None)}")
        hw = (int(img.shape[0]), int(img.shape[1]))
        t0 = time.perf_counter()
        payload = jpeg.encode_to_bpp(img, self.target_bpp(hw), stream=self.jpeg_stream)
        t1 = time.perf_counter()
        bits = np.unpackbits(np.frombuffer(payload.data, dtype=np.uint8))
        symbols = self.link.to_symbols(bits)
        t2 = time.perf_counter()
        side = {"n_bits": int(bits.size), "quality": payload.quality, "abbreviated": payload.abbreviated, "size": hw}
        return Prepared(streams={STREAM: symbols}, side_info=side, bpp=payload.bpp,
                        stage_times={"source_encode": t1 - t0, "channel_encode": t2 - t1})

    def receive(self, received: dict[str, Received], side_info: dict[str, Any], snr_db: float) -> Decoded:
        if STREAM not in received:
            raise ValueError(f"jpeg-ldpc expects a received stream named '{STREAM}', got {sorted(received)}")
        hw = tuple(side_info["size"])
        n_bits = int(side_info["n_bits"])
        t0 = time.perf_counter()
        bits, failed_cw = self.link.from_received(received[STREAM], n_bits)
        t1 = time.perf_counter()
        data = np.packbits(bits).tobytes()
        image = jpeg.decode(data, side_info["quality"], hw, side_info["abbreviated"])
        failures = 0
        if image is None:
            image, failures = jpeg.placeholder(hw), 1
        t2 = time.perf_counter()
        return Decoded(image=image, decode_failures=failures,
                       stage_times={"channel_decode": t1 - t0, "source_decode": t2 - t1},
                       info={"ldpc_failed_codewords": int(failed_cw),
                             "ldpc_codewords": self.link.code.n_codewords(n_bits),
                             "jpeg_quality": int(side_info["quality"])})
