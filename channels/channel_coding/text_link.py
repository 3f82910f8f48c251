"""Text over the digital channel: text -> Huffman -> bytes -> Reed-Solomon -> bits (and back).

Frame (all inside the RS protection): 2-byte big-endian character count, then the
Huffman bits of the text (``default_text_code()``) packed MSB-first, zero-padded to a
byte. Characters outside the code's alphabet (printable ASCII + newline) are first
normalised by ``normalize_text`` (typographic quotes/dashes -> ASCII, accents stripped,
anything else -> '?'). Symbols: uncoded Gray 4-QAM with hard decisions — RS is the only
error protection on this path.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

from channels.base import Received
from channels.source_coding.huffman import HuffmanCode, default_text_code
from channels.channel_coding.qam import qam4_hard, qam4_map
from channels.channel_coding.reed_solomon import RSCode

MAX_CHARS = 0xFFFF
_TYPOGRAPHIC = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                              "\u2014": "-", "\u2026": "...", "\u00a0": " ", "\t": " ", "\r": ""})


@dataclass
class TextResult:
    text: str  # best effort: the uncorrected systematic bytes are decoded when RS fails
    failed: bool  # RS could not correct the frame
    corrected: int  # byte errors RS corrected


def normalize_text(text: str, code: HuffmanCode | None = None) -> str:
    code = code or default_text_code()
    text = unicodedata.normalize("NFKD", text.translate(_TYPOGRAPHIC))
    out = []
    for ch in text:
        if ch in code.codebook:
            out.append(ch)
        elif not unicodedata.combining(ch):
            out.append("?")
    return "".join(out)


class TextLink:
    def __init__(self, nsym: int = 16, code: HuffmanCode | None = None) -> None:
        self.rs = RSCode(nsym)
        self.code = code or default_text_code()

    def encode(self, text: str) -> np.ndarray:
        """Bits (uint8) carrying `text` (normalised to the code's alphabet)."""
        if not isinstance(text, str):
            raise ValueError(f"text must be a str, got {type(text).__name__}")
        text = normalize_text(text, self.code)
        if len(text) > MAX_CHARS:
            raise ValueError(f"text has {len(text)} characters; the frame carries at most {MAX_CHARS}")
        payload = len(text).to_bytes(2, "big") + np.packbits(self.code.encode(text)).tobytes()
        return np.unpackbits(np.frombuffer(self.rs.encode(payload), dtype=np.uint8))

    def decode(self, bits) -> TextResult:
        """Inverse of `encode`; never raises on corrupted bits."""
        try:
            b = (np.asarray(bits).ravel() != 0).astype(np.uint8)
            coded = np.packbits(b).tobytes()
        except (TypeError, ValueError):
            return TextResult("", True, 0)
        res = self.rs.decode(coded)
        data = res.data if not res.failed else self.rs.systematic_part(coded)
        if len(data) < 2:
            return TextResult("", True, 0)
        n_chars = int.from_bytes(data[:2], "big")
        text = self.code.decode(np.unpackbits(np.frombuffer(data[2:], dtype=np.uint8)), max_symbols=n_chars)
        return TextResult(text, res.failed, res.corrected)

    def to_symbols(self, text: str) -> np.ndarray:
        bits = self.encode(text)
        if bits.size % 2:
            bits = np.concatenate([bits, np.zeros(1, dtype=np.uint8)])
        return qam4_map(bits)

    def from_received(self, received: Received, n_bits: int) -> TextResult:
        """Hard-decision demap (equalised y) and decode the first `n_bits` bits."""
        return self.decode(qam4_hard(received.y)[: int(n_bits)])
