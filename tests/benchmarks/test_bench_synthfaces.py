"""Render throughput of SynthFaces (run with: pytest tests/benchmarks --benchmark-only)."""
from __future__ import annotations

import itertools

import pytest

from datasets.synthfaces import render
from datasets.synthfaces.splits import sample_attributes


@pytest.mark.parametrize("size", [64, 128])
@pytest.mark.parametrize("style", ["photo", "art"])
def test_render_throughput(benchmark, size, style):
    counter = itertools.count()

    def one():
        i = next(counter)
        return render(101_000 + i, sample_attributes("train", i, 0), size, style)

    img = benchmark(one)
    assert img.shape == (size, size, 3)


@pytest.mark.parametrize("size", [64, 128])
@pytest.mark.parametrize("style", ["photo", "art"])
def test_render_throughput_world2(benchmark, size, style):
    from datasets.synthfaces.v2 import render as render2
    from datasets.synthfaces.v2.items import plan

    counter = itertools.count()

    def one():
        p = plan("train", next(counter), 0, style, requests=False)
        return render2(p.identity, p.degrees, size, style, p.nuisance)

    img = benchmark(one)
    assert img.shape == (size, size, 3)
