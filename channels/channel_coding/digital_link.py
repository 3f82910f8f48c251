"""Digital chain: bits -> LDPC -> Gray 4-QAM symbols, and received symbols -> LLRs -> BP -> bits.

The receiver demaps with the exact 4-QAM LLR using ``Received.noise_var`` (N0, or the
per-symbol N0/|h|² after zero-forcing equalisation when the receiver has CSI). Without
CSI on a fading channel (``received.csi`` False) the raw y is demapped with N0 only: the
unknown phase rotation makes decoding fail, as it would in a real receiver.
"""
from __future__ import annotations

import numpy as np

from channels.base import Received
from channels.channel_coding.ldpc import LDPCCode
from channels.channel_coding.qam import qam4_llr, qam4_map


class DigitalLink:
    def __init__(self, code: LDPCCode | None = None) -> None:
        self.code = code if code is not None else LDPCCode()

    def n_symbols(self, n_bits: int) -> int:
        """Channel uses taken by `n_bits` information bits."""
        return -(-self.code.coded_length(n_bits) // 2)

    def to_symbols(self, bits) -> np.ndarray:
        """LDPC-encode `bits` (zero-padded to whole codewords) and map to 4-QAM (one zero bit pads an odd length)."""
        coded = self.code.encode(bits)
        if coded.size % 2:
            coded = np.concatenate([coded, np.zeros(1, dtype=np.uint8)])
        return qam4_map(coded)

    def from_received(self, received: Received, n_bits: int) -> tuple[np.ndarray, int]:
        """Return (the first `n_bits` decoded information bits, number of failed codewords). Never raises on corrupted y."""
        y = np.asarray(received.y).ravel()
        nv = received.noise_var
        if np.ndim(nv) and np.size(nv) != y.size:
            nv = np.resize(np.asarray(nv, dtype=np.float64).ravel(), y.size) if np.size(nv) else 1.0
        llr = qam4_llr(y, nv)
        return self.code.decode(llr, n_bits)
