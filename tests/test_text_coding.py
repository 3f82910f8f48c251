"""Huffman (optimality, prefix-freeness), Reed-Solomon (t-error correction, failure beyond t), text link."""
import heapq
import string

import numpy as np
import pytest

from channels.analog import AWGN
from channels.source_coding.huffman import HuffmanCode, default_frequencies, default_text_code
from channels.channel_coding.reed_solomon import RSCode
from channels.channel_coding.text_link import TextLink, normalize_text


def optimal_total_length(weights):
    """Minimum Σ w·len over prefix codes = sum of all merge weights of the Huffman procedure."""
    heap = list(map(float, weights))
    if len(heap) == 1:
        return heap[0]
    heapq.heapify(heap)
    total = 0.0
    while len(heap) > 1:
        merged = heapq.heappop(heap) + heapq.heappop(heap)
        total += merged
        heapq.heappush(heap, merged)
    return total


def random_freqs(rng, n):
    symbols = rng.choice(list(string.ascii_letters + string.digits + " .,"), n, replace=False)
    kind = rng.integers(3)
    w = {0: rng.integers(1, 1000, n), 1: rng.integers(1, 4, n), 2: 2 ** rng.integers(0, 12, n)}[kind]
    return {str(s): int(v) for s, v in zip(symbols, w)}


def check_prefix_free(codebook):
    words = sorted(codebook.values())
    for a, b in zip(words, words[1:]):  # a prefix sorts right before some word it prefixes
        assert not b.startswith(a), (a, b)


@pytest.mark.parametrize("trial", range(12))
def test_huffman_is_optimal_complete_and_prefix_free(trial):
    rng = np.random.default_rng(trial)
    freqs = random_freqs(rng, int(rng.integers(2, 60)))
    code = HuffmanCode.from_frequencies(freqs)
    total = sum(freqs[s] * len(code.codebook[s]) for s in freqs)
    assert total == pytest.approx(optimal_total_length(freqs.values()))
    assert sum(2.0 ** -len(w) for w in code.codebook.values()) == pytest.approx(1.0)  # Kraft equality
    check_prefix_free(code.codebook)
    assert all(len(code.codebook[s]) == code.lengths[s] for s in freqs)
    text = "".join(rng.choice(list(freqs), 500))
    bits = code.encode(text)
    assert bits.dtype == np.uint8 and set(np.unique(bits)) <= {0, 1}
    assert code.decode(bits) == text


def test_huffman_deterministic_and_edge_cases():
    freqs = {"a": 5, "b": 5, "c": 5, "d": 5, "e": 1}
    a = HuffmanCode.from_frequencies(freqs).codebook
    b = HuffmanCode.from_frequencies(dict(reversed(list(freqs.items())))).codebook
    assert a == b
    one = HuffmanCode.from_frequencies({"x": 3})
    assert one.decode(one.encode("xxx")) == "xxx"
    assert one.decode(np.array([1, 0])) == ""  # no codeword starts with 1: stop gracefully
    with pytest.raises(ValueError):
        HuffmanCode.from_frequencies({})
    with pytest.raises(ValueError):
        HuffmanCode.from_frequencies({"a": -1, "b": 2})
    with pytest.raises(ValueError, match="alphabet"):
        HuffmanCode.from_frequencies(freqs).encode("abz")


def test_default_text_code():
    code = default_text_code()
    assert set(code.codebook) == set(string.printable[:-5] + "\n")
    freqs = default_frequencies()
    total = sum(freqs[s] * code.lengths[s] for s in freqs)
    assert total == pytest.approx(optimal_total_length(freqs.values()))
    check_prefix_free(code.codebook)
    text = "Make the bangs longer. What about trying extremely long fringe? 100% sure!"
    bits = code.encode(text)
    assert bits.size < 5.5 * len(text)  # much better than 8-bit ASCII on English
    assert code.decode(bits) == text
    # truncation returns the decoded prefix, garbage never raises
    assert text.startswith(code.decode(bits[:-3])) and len(code.decode(bits[:-3])) == len(text) - 1
    assert code.decode(bits, max_symbols=4) == text[:4]
    assert isinstance(code.decode(np.random.default_rng(0).integers(0, 2, 300)), str)
    assert code.decode(np.array([[2, 0], [1, 7]])) == code.decode(np.array([1, 0, 1, 1]))


@pytest.mark.parametrize("nsym,n_data", [(8, 40), (16, 200), (16, 600)])
def test_rs_corrects_up_to_t_errors(nsym, n_data):
    rng = np.random.default_rng(nsym + n_data)
    rs = RSCode(nsym)
    data = rng.bytes(n_data)
    coded = rs.encode(data)
    assert len(coded) == rs.encoded_length(n_data)
    assert rs.systematic_part(coded) == data
    for trial in range(8):
        damaged = bytearray(coded)
        n_err = 0
        for start in range(0, len(coded), 255):  # up to t errors in every 255-byte block
            block = min(255, len(coded) - start)
            e = int(rng.integers(1, rs.t + 1)) if trial else rs.t
            for pos in rng.choice(block, e, replace=False):
                damaged[start + pos] ^= int(rng.integers(1, 256))
            n_err += e
        res = rs.decode(bytes(damaged))
        assert not res.failed and res.data == data and res.corrected == n_err


def test_rs_reports_failure_beyond_t():
    rng = np.random.default_rng(99)
    rs = RSCode(32)  # t = 16; a miscorrection beyond t is then astronomically unlikely
    data = rng.bytes(150)
    coded = rs.encode(data)
    failures = 0
    for _ in range(20):
        damaged = bytearray(coded)
        for pos in rng.choice(len(coded), int(rng.integers(rs.t + 1, 3 * rs.t)), replace=False):
            damaged[pos] ^= int(rng.integers(1, 256))
        res = rs.decode(bytes(damaged))
        if res.failed:
            failures += 1
            assert res.data is None
        else:
            assert res.data == data  # never wrong data reported as a success
    assert failures == 20
    for junk in (b"", b"\x01" * 5, b"\x00" * len(coded), rng.bytes(len(coded)), coded[:-40]):
        res = rs.decode(junk)
        assert res.failed or res.data is not None
    assert rs.decode(b"\x01" * 5).failed and rs.decode(b"").failed
    with pytest.raises(ValueError):
        RSCode(1)
    with pytest.raises(ValueError):
        rs.encode("text")


def test_text_link_roundtrip_and_errors():
    link = TextLink(nsym=16)
    text = "I kind of want the smile to be \u201cless\u201d obvious \u2014 caf\u00e9 \u00fc\u4e2d"
    expected = normalize_text(text)
    assert expected == 'I kind of want the smile to be "less" obvious - cafe u?'
    bits = link.encode(text)
    assert link.decode(bits).text == expected and not link.decode(bits).failed
    # a few byte errors are corrected
    rng = np.random.default_rng(3)
    damaged = bits.copy()
    for byte in rng.choice(bits.size // 8, link.rs.t, replace=False):
        damaged[8 * byte + int(rng.integers(8))] ^= 1
    res = link.decode(damaged)
    assert res.text == expected and res.corrected == link.rs.t and not res.failed
    # heavy damage: reported, best-effort text, no exception
    res = link.decode(bits ^ (rng.random(bits.size) < 0.2))
    assert res.failed and isinstance(res.text, str)
    for junk in (np.zeros(0), np.ones(7), bits[:20]):
        assert isinstance(link.decode(junk).text, str)
    # over the channel
    x = link.to_symbols(text)
    assert np.mean(np.abs(x) ** 2) == pytest.approx(1.0)
    res = link.from_received(AWGN()(x, 12.0, rng), bits.size)
    assert res.text == expected and not res.failed
    assert link.decode(link.encode("")).text == ""
