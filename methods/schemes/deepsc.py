"""The single-modal DeepSC baseline as a registered method (``deepsc``; paper Sec. V-A).

Uses the shipped ``deepsc`` zoo checkpoint (``methods/nets/deepsc.py``; make it with
``bench train deepsc``): an SNR-conditioned deep JSCC autoencoder that sends a 64x64x3 image as
512 complex symbols (1024 reals, ``cbr_paper`` = 1/12 as in the paper's Table I).

* ``setup(size)``: loads the checkpoint (UserError naming ``bench train deepsc`` if it is
  missing, truncated or for another architecture). The codec is trained at 64 px only; other
  sizes are refused with a UserError (no silent resizing, which would change what PSNR means).
* ``prepare(request)``: the SNR-independent encoder trunk (image -> 128x8x8 features).
* ``transmit(prepared, snr)``: the SNR-conditioned encoder head -> 1024 reals -> 512 complex
  symbols (consecutive reals as I/Q), power-normalised to mean |x|^2 = 1.
* ``receive(received, side_info, snr)``: the SNR-conditioned decoder on the received symbols
  ``received['image'].y``. The decoder is told the nominal SNR (``snr_db``); it was trained on
  AWGN with SNR uniform in [-8, 20] dB (the conditioning is clamped to [-10, 25] dB).

Side information (assumed error-free): the image shape only.
"""
from __future__ import annotations

import time
from typing import Any

import numpy as np

from bench.errors import UserError
from bench.registry import METHODS
from channels.analog import complex_to_reals, power_normalize, reals_to_complex
from channels.base import Received
from methods.schemes.base import Decoded, Method, Prepared, Request

STREAM = "image"


def _codec():
    """The network module, imported on first use so listing methods does not import torch."""
    from methods.nets import deepsc

    return deepsc


@METHODS.register("deepsc", "DeepSC baseline: SNR-conditioned deep JSCC autoencoder, CBR 1/12 (512 complex symbols at "
                            "64 px); trained at 64 px and applied fully convolutionally at other sizes (multiples "
                            "of 8); option checkpoint=PATH")
class DeepSC(Method):
    task = "transmit"

    def __init__(self, checkpoint: str | None = None) -> None:
        self.checkpoint = None if checkpoint in (None, "") else str(checkpoint)
        self.model = None
        self.size: int | None = None
        self.spec = "deepsc" + (f":checkpoint={self.checkpoint}" if self.checkpoint else "")

    def weights(self) -> dict[str, str]:
        from methods.zoo import weights_path

        return {_codec().NAME: str(self.checkpoint or weights_path(_codec().NAME))}

    def setup(self, size: int) -> None:
        size = int(size)
        if size % 8 or size < 16:
            raise UserError(f"deepsc works on square images whose side is a multiple of 8 (>= 16); got {size}: "
                            f"use e.g. --size {_codec().SIZE}")
        if self.model is None:
            import torch

            torch.set_num_threads(max(1, min(torch.get_num_threads(), 4)))
            self.model = _codec().load_codec(self.checkpoint)
        self.size = size

    def _check(self, img) -> np.ndarray:
        if self.model is None:
            raise UserError("deepsc: call setup(size) before prepare()")
        if not isinstance(img, np.ndarray) or img.dtype != np.uint8 or img.ndim != 3 or img.shape[2] != 3:
            raise UserError(f"deepsc needs a uint8 (H, W, 3) image, got {getattr(img, 'dtype', type(img))} "
                            f"{getattr(img, 'shape', '')}")
        if img.shape[:2] != (self.size, self.size):
            raise UserError(f"deepsc was set up for {self.size}x{self.size} images, got {img.shape[1]}x{img.shape[0]}")
        return img

    def prepare(self, request: Request) -> Prepared:
        import torch

        img = self._check(request.image)
        t0 = time.perf_counter()
        with torch.no_grad():
            feats = self.model.features(_codec().to_tensor(img))
        return Prepared(streams={}, side_info={"shape": tuple(img.shape)}, state=feats,
                        stage_times={"encoder_trunk": time.perf_counter() - t0})

    def transmit(self, prepared: Prepared, snr_db: float) -> dict[str, np.ndarray]:
        import torch

        with torch.no_grad():
            z = self.model.head(prepared.state, float(snr_db))[0].double().numpy()
        x = power_normalize(reals_to_complex(z))  # exact float64 unit power per symbol
        return {STREAM: x}

    def receive(self, received: dict[str, Received], side_info: dict[str, Any], snr_db: float) -> Decoded:
        import torch

        if STREAM not in received:
            raise ValueError(f"deepsc expects a received stream named '{STREAM}', got {sorted(received)}")
        t0 = time.perf_counter()
        y = np.asarray(received[STREAM].y)
        reals = complex_to_reals(y)
        expect = self.model.lat * (self.size // 8) ** 2
        if reals.size != expect:
            raise ValueError(f"deepsc received {y.size} symbols, expected {expect // 2}")
        with torch.no_grad():
            out = self.model.decode(torch.from_numpy(reals[None]).float(), float(snr_db))
        image = _codec().to_uint8(out)[0]
        info = {} if self.size == _codec().SIZE else {"applied_at_px": self.size, "trained_at_px": _codec().SIZE}
        return Decoded(image=image, stage_times={"decoder": time.perf_counter() - t0}, info=info)
