"""Editing timings on CPU, one thread (issue 11: the edit routine excluding inversion <= 0.3 s per
image; Talk2Edit editor time per image at batch 1 and 8; issue 12: Editable-DeepSC's transmitter).

Skipped by default; run with ``pytest tests/benchmarks/test_bench_editing.py --benchmark-only``.
Uses the shipped generator, predictor and field functions (skipped when they are not shipped).
Each result's ``extra_info['s_per_image']`` is the figure the targets refer to.
"""
import numpy as np
import pytest
import torch

pytestmark = [pytest.mark.usefixtures("one_thread"), pytest.mark.zoo_component("field-functions")]


@pytest.fixture(scope="module")
def nets():
    from methods.zoo import weights_path

    for name in ("stylegan2", "attribute-predictor", "field-functions"):
        if not weights_path(name).exists():
            pytest.skip(f"{name} is not shipped")
    from methods.nets.attribute_predictor import load_predictor
    from methods.nets.field_function import load_fields_for
    from methods.nets.stylegan2 import load_generator

    return load_generator(), load_predictor(), load_fields_for()


@pytest.fixture(scope="module")
def faces():
    from datasets.synthfaces.dataset import SynthFaces

    return [it for it in SynthFaces(split="test").items(8, size=64)]


@pytest.mark.parametrize("batch", [1, 8])
def test_edit_routine_matching(benchmark, nets, batch):
    """Iterative attribute matching (parse excluded): P on the current image, field steps until P reads
    the expected degree or max_trials (20), from latents of the generator; +1 degree of each attribute."""
    from methods.editing.matching import iterative_matching

    G, P, M = nets
    w = G.mapping(torch.randn(batch, G.z_dim, generator=torch.Generator().manual_seed(0))).detach()
    attrs = [i % 5 for i in range(batch)]

    def run():
        return iterative_matching(G, P, M, w, attrs, [1] * batch, [1] * batch, max_trials=20)

    r = benchmark.pedantic(run, rounds=3, warmup_rounds=1)
    benchmark.extra_info["s_per_image"] = benchmark.stats.stats.mean / batch
    benchmark.extra_info["mean_trials"] = float(np.mean(r.trials))
    assert len(r.outcomes) == batch


@pytest.mark.parametrize("batch", [1, 8])
def test_talk2edit_editor(benchmark, nets, faces, batch):
    """The whole Talk2Edit editor (600 inversion steps with generator fine-tuning, matching, decoding); a
    batch inverts as one, each image with its own generator copy (what the M1 receiver does per image)."""
    from bench.registry import EDITORS, load_builtin
    from methods.nets.instruction_encoder import parse

    load_builtin()
    G, P, M = nets
    ed = EDITORS.create("talk2edit").use(G=G, P=P, fields=M, parse=parse)
    imgs = [f.image for f in faces[:batch]]
    texts = ["make the bangs longer"] * batch

    def run():
        return ed.edit_batch(imgs, texts)

    out = benchmark.pedantic(run, rounds=1, warmup_rounds=0)
    benchmark.extra_info["s_per_image"] = benchmark.stats.stats.mean / batch
    assert len(out) == batch


def test_editable_deepsc_transmitter(benchmark, nets, faces):
    """Editable-DeepSC's SNR-independent transmitter per image: parse, inversion (r_inv 110, encoder
    start), matching; the per-SNR part (adapter + normalisation) is separate and tiny."""
    from bench.registry import METHODS, load_builtin
    from methods.schemes.base import Request

    load_builtin()
    m = METHODS.create("editable-deepsc:variant=conference")
    m.setup(64)
    reqs = [Request(f.id, f.image, f.instruction) for f in faces[:4]]

    def run():
        return [m.prepare(r) for r in reqs]

    out = benchmark.pedantic(run, rounds=1, warmup_rounds=0)
    benchmark.extra_info["s_per_image"] = benchmark.stats.stats.mean / len(reqs)
    for stage in ("parse", "inversion", "editing"):
        vals = [p.stage_times.get(stage, 0.0) for p in out]
        benchmark.extra_info[f"{stage}_s_per_image"] = float(np.mean(vals))
