"""Regular (d_v, d_c) LDPC codes from pyldpc, with exact-LLR belief-propagation decoding.

Construction: ``pyldpc.make_ldpc(n, d_v, d_c, systematic=True, sparse=True, seed)``
(Gallager's random regular construction; d_c = d_v / (1 - rate)). pyldpc reorders the
columns of H so that the generator is systematic: a codeword is ``x = G·m mod 2`` with
``x[:k] == m``, which we check when the code is built. Gallager matrices have a few
dependent rows, so k is slightly above n·rate; ``.rate`` reports the actual k/n.

Encoding computes ``G·m mod 2`` here (``pyldpc.encode`` adds its own channel noise).

Decoding uses pyldpc's log-domain sum-product kernel (``pyldpc.decoder._logbp_numba``,
pinned pyldpc==0.7.9). ``pyldpc.decode(H, y, snr)`` starts from Lc = 2·y/var with
var = 10^(-snr/10) and decides bit 0 where the posterior LLR is > 0, i.e. it expects
LLR = log P(0)/P(1) (bit 0 <-> +1). Feeding it y = LLR/2 at snr = 0 dB is therefore the
same as starting the kernel from Lc = LLR, which is what ``decode`` below does directly so
that it can (a) test the parity checks with a sparse H (pyldpc uses a dense integer
product each iteration, about half the run time), (b) freeze each codeword as soon as it
satisfies its checks, (c) avoid pyldpc's non-convergence warnings and (d) cap the
messages. The cap matters: the kernel computes a check message as log((1+X)/(1-X)) with
X = Π tanh(L/2) and, when X rounds to exactly ±1 (any |L| > ~38 in float64), it returns
±1 instead of a large value. With exact LLRs at high SNR (|LLR| ~ 100 at 18 dB) every
strong neighbour then sends only ±1, too weak to overturn a confidently wrong bit (e.g.
in a Rayleigh fade), and decoding fails at high SNR. Clipping the channel LLRs and, after
every iteration, the variable-to-check messages (edges only) to ±LLR_CLIP = 25 keeps
|X| < 1, so the kernel computes the exact sum-product update. Without the cap, and for
converged codewords, the result equals ``pyldpc.decode(H, LLR/2, snr=0)`` (checked in
tests/test_ldpc.py).

Default length n = 1008 (k = 506 for rate 1/2). Measured on AWGN with 4-QAM (Eb/N0 =
Es/N0 at rate 1/2; the (3, 6) BP threshold is 1.1 dB), 4·10^4 bits, 50 iterations:
  n =  504: BER 1.8e-2 / 3.8e-3 / 0 at 1.5 / 2.0 / 2.5 dB, 23 % / 6 % / 0 of codewords failed
  n = 1008: BER 9.8e-3 / 1.2e-3 / 0,                     16 % / 1 % / 0
  n = 2016: BER 6.7e-3 / 0      / 0,                     15 % / 0   / 0  (1.5-2x slower)
so 1008 gets most of the gain of 2016 at about half the decoding time, keeps pyldpc's dense
(m, n, N) message arrays small (~8 MB per codeword in flight) and a 128 px JPEG at
0.7 bpp fills ~23 codewords with < 3 % padding. On the paper's SNR grid the cliff lies
between 0 dB (all codewords fail) and 3 dB (error-free) either way. Decoding is
vectorised over chunks of codewords (columns) sized to keep the message arrays near
``_CHUNK_BYTES``.
"""
from __future__ import annotations

import math
import threading

import numpy as np
import scipy.sparse as sp

DEFAULT_N = 1008
DEFAULT_MAXITER = 50
LLR_CLIP = 25.0  # |message| cap, see the module doc (P(error) ~ e^-25: no practical loss)
_CHUNK_BYTES = 128 * 2**20
# Longest code we build. Memory grows with n^2: pyldpc's construction (dense H, G and its Gaussian
# elimination) peaks at ~24 n^2 bytes and takes seconds to tens of seconds (measured n = 1008 / 2016
# / 4032: 25 / 98 / 391 MB, 0.9 / 4.3 / 18 s), the dense int64 H kept for decoding is (n-k)·n·8
# ~ 4 n^2 bytes, and BP's two (n-k, n) float64 message arrays take ~8 n^2 bytes per codeword in flight.
# At n = 4096 that is ~0.4 GB once, 64 MiB and 128 MiB (= _CHUNK_BYTES, one codeword per chunk):
# the most a small machine should spend on one code. n = 100000 would need ~240 GB.
MAX_N = 4096

_CACHE: dict[tuple, "_CodeData"] = {}
_LOCK = threading.Lock()


class _CodeData:
    def __init__(self, n: int, d_v: int, d_c: int, seed: int) -> None:
        import pyldpc
        from pyldpc import utils

        H, G = pyldpc.make_ldpc(n, d_v, d_c, systematic=True, sparse=True, seed=seed)
        H = np.asarray(H.toarray() if sp.issparse(H) else H, dtype=np.int64)
        G = np.asarray(G.toarray() if sp.issparse(G) else G, dtype=np.int64)
        k = G.shape[1]
        if G.shape[0] != n or not np.array_equal(G[:k], np.eye(k, dtype=np.int64)):
            raise RuntimeError("pyldpc did not return a systematic generator (x[:k] == m); check the pyldpc version")
        if ((H @ G) % 2).any():
            raise RuntimeError("pyldpc returned a generator that does not satisfy H·G = 0")
        self.H = H
        self.H_csr = sp.csr_matrix(H.astype(np.int32))
        self.parity = G[k:].astype(np.float64)  # (n-k, k); float so the product uses BLAS (exact: sums <= k)
        self.k = k
        self.graph = utils._bitsandnodes(H)  # (bits_hist, bits_values, nodes_hist, nodes_values), int64
        self.edges = np.nonzero(H)  # (check index, bit index) of every edge


def design_degrees(rate: float, d_v: int) -> int:
    """Check-node degree d_c = d_v / (1 - rate) for a regular code; ValueError if not integral."""
    if not 0.0 < float(rate) < 1.0:
        raise ValueError(f"LDPC rate must lie in (0, 1), got {rate}")
    if int(d_v) < 2:
        raise ValueError(f"LDPC variable degree d_v must be >= 2, got {d_v}")
    exact = d_v / (1.0 - rate)
    d_c = int(round(exact))
    if abs(exact - d_c) > 1e-6 or d_c <= d_v:
        near = sorted({round(1 - d_v / c, 4) for c in range(d_v + 1, 4 * d_v + 1)}, key=lambda r: abs(r - rate))[:3]
        raise ValueError(
            f"rate {rate} with d_v={d_v} needs a non-integral check degree {exact:.3g}; "
            f"regular codes with d_v={d_v} offer rates such as {near}"
        )
    return d_c


class LDPCCode:
    """A regular binary LDPC code (cached per (n, rate, d_v, seed)).

    ``n`` is rounded up to a multiple of d_c (required by the construction); ``.n``,
    ``.k`` and ``.rate`` (= k/n) are the actual values.
    """

    def __init__(self, n: int = DEFAULT_N, rate: float = 0.5, d_v: int = 3, seed: int = 0,
                 maxiter: int = DEFAULT_MAXITER) -> None:
        if int(n) != n or n < 2:
            raise ValueError(f"LDPC length n must be an integer >= 2, got {n}")
        if n > MAX_N:
            raise ValueError(f"LDPC length n must be at most {MAX_N} (memory grows as n^2), got {n}")
        if int(maxiter) < 1:
            raise ValueError(f"maxiter must be >= 1, got {maxiter}")
        d_v = int(d_v)
        d_c = design_degrees(float(rate), d_v)
        n = int(math.ceil(int(n) / d_c) * d_c)
        key = (n, float(rate), d_v, int(seed))
        with _LOCK:
            data = _CACHE.get(key)
            if data is None:
                data = _CACHE[key] = _CodeData(n, d_v, d_c, int(seed))
        self._data = data
        self.n, self.k, self.d_v, self.d_c = n, data.k, d_v, d_c
        self.rate = self.k / self.n
        self.design_rate = float(rate)
        self.seed = int(seed)
        self.maxiter = int(maxiter)

    @property
    def H(self) -> np.ndarray:
        return self._data.H

    def n_codewords(self, n_bits: int) -> int:
        return -(-int(n_bits) // self.k)

    def coded_length(self, n_bits: int) -> int:
        return self.n_codewords(n_bits) * self.n

    def encode(self, bits) -> np.ndarray:
        """Zero-pad to a multiple of k and return the concatenated codewords (uint8)."""
        b = np.asarray(bits)
        if b.ndim != 1:
            raise ValueError(f"bits must be a 1-D array, got shape {b.shape}")
        if b.size and (not (np.issubdtype(b.dtype, np.integer) or b.dtype == np.bool_) or b.min() < 0 or b.max() > 1):
            raise ValueError("bits must be an integer/bool array of 0/1")
        n_cw = self.n_codewords(b.size)
        msg = np.zeros(n_cw * self.k, dtype=np.float64)
        msg[: b.size] = b
        msg = msg.reshape(n_cw, self.k)
        out = np.empty((n_cw, self.n), dtype=np.uint8)
        out[:, : self.k] = msg
        out[:, self.k:] = np.mod(msg @ self._data.parity.T, 2.0)
        return out.ravel()

    def syndrome_ok(self, codewords: np.ndarray) -> np.ndarray:
        """For an (n, N) array of hard bits, whether each column satisfies H·x = 0."""
        return ~(self._data.H_csr @ codewords.astype(np.int32) % 2).any(axis=0)

    def decode(self, llr, n_bits: int, clip: float | None = LLR_CLIP) -> tuple[np.ndarray, int]:
        """Belief-propagation decoding of ``ceil(n_bits/k)`` codewords from bit LLRs.

        llr: log P(b=0)/P(b=1) per coded bit, codewords concatenated. Missing trailing
        values count as erasures (LLR 0); extra ones (e.g. modulation padding) are ignored;
        NaN counts as an erasure. `clip` caps the messages (None: pyldpc's raw behaviour,
        for testing only). Returns (information bits[:n_bits] as uint8, number of
        codewords whose final hard decision violates a parity check). Never raises on
        corrupted values.
        """
        from pyldpc.decoder import _logbp_numba

        n_bits = int(n_bits)
        if n_bits < 0:
            raise ValueError(f"n_bits must be >= 0, got {n_bits}")
        n_cw = self.n_codewords(n_bits)
        if n_cw == 0:
            return np.zeros(0, dtype=np.uint8), 0
        llr = np.asarray(llr, dtype=np.float64).ravel()
        need = n_cw * self.n
        lc_all = np.zeros(need, dtype=np.float64)
        m = min(need, llr.size)
        lc_all[:m] = np.nan_to_num(llr[:m], nan=0.0, posinf=1e300, neginf=-1e300)
        if clip:
            np.clip(lc_all, -clip, clip, out=lc_all)
        lc_all = lc_all.reshape(n_cw, self.n).T  # (n, n_cw): one codeword per column

        data = self._data
        bh, bv, nh, nv = data.graph
        ei, ej = data.edges
        rows = data.H.shape[0]
        per_cw = 2 * rows * self.n * 8
        chunk = max(1, min(n_cw, _CHUNK_BYTES // per_cw))
        decided = np.empty((self.n, n_cw), dtype=np.uint8)
        failed = 0
        for start in range(0, n_cw, chunk):
            lc = np.ascontiguousarray(lc_all[:, start: start + chunk])
            width = lc.shape[1]
            x = (lc <= 0).astype(np.uint8)
            done = self.syndrome_ok(x)
            out = x.copy()
            if not done.all():
                lq = np.zeros((rows, self.n, width))
                lr = np.zeros((rows, self.n, width))
                for it in range(self.maxiter):
                    lq, lr, post = _logbp_numba(bh, bv, nh, nv, lc, lq, lr, it)
                    if clip:
                        msg = lq[ei, ej]
                        np.clip(msg, -clip, clip, out=msg)
                        lq[ei, ej] = msg
                    x = (post <= 0).astype(np.uint8)
                    ok = self.syndrome_ok(x)
                    newly = ok & ~done
                    out[:, newly] = x[:, newly]
                    done |= ok
                    if done.all():
                        break
                out[:, ~done] = x[:, ~done]
            failed += int((~done).sum())
            decided[:, start: start + width] = out
        info = decided[: self.k].T.ravel()  # systematic: message = x[:k]
        return info[:n_bits].copy(), failed
