"""Binary Huffman codes (canonical form, deterministic) and a fixed English text code.

``HuffmanCode.from_frequencies`` builds an optimal prefix code: code lengths come from the
classic two-smallest merge, ties broken deterministically (weight, then the order in
which nodes were created, leaves first in sorted-symbol order); codewords are then assigned
canonically (sorted by (length, symbol)), so a code is fully determined by its lengths.
"""
from __future__ import annotations

import functools
import heapq
import string

import numpy as np


class HuffmanCode:
    def __init__(self, lengths: dict[str, int]) -> None:
        """Canonical prefix code for the given code lengths (which must satisfy Kraft's inequality)."""
        if not lengths:
            raise ValueError("a Huffman code needs at least one symbol")
        for sym, ln in lengths.items():
            if not isinstance(sym, str) or len(sym) != 1:
                raise ValueError(f"symbols must be single characters, got {sym!r}")
            if int(ln) < 1:
                raise ValueError(f"code length of {sym!r} must be >= 1, got {ln}")
        if sum(2.0 ** -int(v) for v in lengths.values()) > 1 + 1e-12:
            raise ValueError("code lengths violate Kraft's inequality")
        self.lengths = {s: int(v) for s, v in lengths.items()}
        self.codebook: dict[str, str] = {}
        code, prev = 0, 0
        for sym in sorted(self.lengths, key=lambda s: (self.lengths[s], s)):
            ln = self.lengths[sym]
            code <<= ln - prev
            self.codebook[sym] = format(code, f"0{ln}b")
            code, prev = code + 1, ln
        # decoding tree as child arrays: node -> (child0, child1); leaves store a symbol
        self._child = [[-1, -1]]
        self._leaf: dict[int, str] = {}
        for sym, word in self.codebook.items():
            node = 0
            for ch in word:
                b = ord(ch) - 48
                if self._child[node][b] < 0:
                    self._child[node][b] = len(self._child)
                    self._child.append([-1, -1])
                node = self._child[node][b]
            self._leaf[node] = sym

    @classmethod
    def from_frequencies(cls, freqs: dict[str, float]) -> "HuffmanCode":
        """Optimal (minimum expected length) prefix code for symbol weights `freqs` (>= 0)."""
        if not freqs:
            raise ValueError("from_frequencies needs at least one symbol")
        for sym, f in freqs.items():
            if not np.isfinite(f) or f < 0:
                raise ValueError(f"frequency of {sym!r} must be a finite number >= 0, got {f}")
        symbols = sorted(freqs)
        if len(symbols) == 1:
            return cls({symbols[0]: 1})
        heap = [(float(freqs[s]), i, (s,)) for i, s in enumerate(symbols)]
        heapq.heapify(heap)
        depth = dict.fromkeys(symbols, 0)
        order = len(heap)
        while len(heap) > 1:
            w1, _, a = heapq.heappop(heap)
            w2, _, b = heapq.heappop(heap)
            for s in a + b:
                depth[s] += 1
            heapq.heappush(heap, (w1 + w2, order, a + b))
            order += 1
        return cls(depth)

    def expected_length(self, freqs: dict[str, float]) -> float:
        """Average code length (bits/symbol) under `freqs` (normalised)."""
        total = float(sum(freqs.values()))
        return sum(freqs[s] * self.lengths[s] for s in freqs) / total

    def encode(self, text: str) -> np.ndarray:
        """Concatenated codewords as a uint8 0/1 array; ValueError for a symbol the code lacks."""
        if not isinstance(text, str):
            raise ValueError(f"text must be a str, got {type(text).__name__}")
        try:
            s = "".join(self.codebook[c] for c in text)
        except KeyError as exc:
            raise ValueError(f"character {exc.args[0]!r} is not in this Huffman code's alphabet") from None
        return np.frombuffer(s.encode("ascii"), dtype=np.uint8) - np.uint8(48)

    def decode(self, bits, max_symbols: int | None = None) -> str:
        """Decode a 0/1 array. Stops after `max_symbols`, at a bit pattern no codeword starts
        with (possible only for an incomplete code), or at a truncated final codeword, and
        returns what was decoded so far. Nonzero values count as 1. Never raises on bad bits."""
        b = np.asarray(bits).ravel()
        try:
            b = (b != 0).astype(np.uint8).tolist()
        except (TypeError, ValueError):
            return ""
        child, leaf = self._child, self._leaf
        out: list[str] = []
        limit = len(b) if max_symbols is None else max(0, int(max_symbols))
        if limit == 0:
            return ""
        node = 0
        for bit in b:
            node = child[node][bit]
            if node < 0:
                break
            sym = leaf.get(node)
            if sym is not None:
                out.append(sym)
                if len(out) >= limit:
                    break
                node = 0
        return "".join(out)


# Relative character frequencies of English prose (letters per ~1e4 letters, space and
# punctuation added), fixed so both ends build the same code. Upper case = lower case / 20
# + 1; every printable ASCII character and '\n' gets at least weight 1.
_LOWER = {
    "e": 1000, "t": 720, "a": 650, "o": 600, "i": 560, "n": 560, "s": 510, "h": 490, "r": 480,
    "d": 340, "l": 320, "c": 220, "u": 220, "m": 190, "w": 190, "f": 180, "g": 160, "y": 160,
    "p": 150, "b": 120, "v": 78, "k": 62, "j": 12, "x": 12, "q": 8, "z": 6,
}
_OTHER = {" ": 1800, ".": 60, ",": 60, "'": 20, '"': 10, "?": 10, "!": 5, "-": 15, "\n": 5,
          ":": 4, ";": 3, "(": 2, ")": 2}


def default_frequencies() -> dict[str, int]:
    freqs = dict.fromkeys(string.printable[:-5] + "\n", 1)  # 32..126 and newline
    for ch, f in _LOWER.items():
        freqs[ch] = f
        freqs[ch.upper()] = f // 20 + 1
    for d in string.digits:
        freqs[d] = 20
    freqs.update(_OTHER)
    return freqs


@functools.lru_cache(maxsize=1)
def default_text_code() -> HuffmanCode:
    """The fixed Huffman code for printable ASCII + newline that both ends know."""
    return HuffmanCode.from_frequencies(default_frequencies())
