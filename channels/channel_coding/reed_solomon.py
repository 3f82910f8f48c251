"""Reed-Solomon byte code over GF(256) (wrapper over `reedsolo`).

``RSCode(nsym)`` appends `nsym` parity bytes per block of up to 255 - nsym data bytes
(reedsolo splits longer messages into 255-byte codewords); each block corrects up to
t = nsym // 2 byte errors. Beyond t the decoder reports failure (``failed=True``,
``data=None``) and never raises. As for any bounded-distance decoder, a pattern of more
than t errors can occasionally land within t of another codeword and be "corrected" to
it; the chance is roughly 1/t! per block, negligible for nsym >= 16.
"""
from __future__ import annotations

from dataclasses import dataclass

import reedsolo

BLOCK = 255


@dataclass
class RSResult:
    data: bytes | None
    corrected: int  # byte errors corrected (all blocks)
    failed: bool


class RSCode:
    def __init__(self, nsym: int = 16) -> None:
        if int(nsym) != nsym or not 2 <= int(nsym) <= 254:
            raise ValueError(f"nsym must be an integer in [2, 254], got {nsym}")
        self.nsym = int(nsym)
        self.t = self.nsym // 2
        self._codec = reedsolo.RSCodec(self.nsym, nsize=BLOCK)

    def encoded_length(self, n_data: int) -> int:
        blocks = -(-int(n_data) // (BLOCK - self.nsym))
        return int(n_data) + blocks * self.nsym

    def encode(self, data: bytes) -> bytes:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise ValueError(f"RS encode needs bytes, got {type(data).__name__}")
        return bytes(self._codec.encode(bytes(data)))

    def systematic_part(self, coded: bytes) -> bytes:
        """The data bytes of `coded` without correction (parity dropped block by block)."""
        coded = bytes(coded)
        out = bytearray()
        for i in range(0, len(coded), BLOCK):
            out += coded[i: i + BLOCK][: -self.nsym]
        return bytes(out)

    def decode(self, coded: bytes) -> RSResult:
        try:
            coded = bytes(coded)
            last = len(coded) % BLOCK
            if not coded or (last and last <= self.nsym):
                return RSResult(None, 0, True)  # a block too short to hold parity and data
            data, full, errata = self._codec.decode(coded)
            if len(errata) > self.t * -(-len(coded) // BLOCK) or not all(self._codec.check(full)):
                return RSResult(None, 0, True)
            return RSResult(bytes(data), len(errata), False)
        except Exception:  # noqa: BLE001 - reedsolo raises ReedSolomonError (and others) beyond t
            return RSResult(None, 0, True)
