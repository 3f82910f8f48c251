"""Tests for SynthFaces world 2 (datasets/synthfaces/v2, opt-in as synthfaces:world=2)."""
from __future__ import annotations

import hashlib
from dataclasses import replace

import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import binary_dilation

from bench.errors import UserError
from bench.registry import DATASETS
from datasets.synthfaces import ATTRIBUTES, SynthFaces, build_split_cache, load_split_cache
from datasets.synthfaces import render as render_any
from datasets.synthfaces.sheet import main as sheet_main
from datasets.synthfaces.v2 import (GEOMETRY_FACTORS, IDENTITY_COUNT, Nuisance, attribute_mask, edited_target,
                                    identity_from_id, lookalike, render, sample_nuisance)
from datasets.synthfaces.v2.identity import MASCULINE_SHARE, geometry_digits, permute
from datasets.synthfaces.v2.items import (AT_LIMIT_EVERY, Cell, build_request, cell_of, item_degrees,
                                          limit_cell_of, request_cell)
from datasets.synthfaces.v2.legibility import MAX_RATIO, MIN_STEP_PIXELS, contexts, step_sizes, summary
from datasets.synthfaces.v2.population import CELEBA_RATES, celeba_rates, marginals
from datasets.synthfaces.v2.splits import split_identity


def _diff(a, b):
    return np.abs(a.astype(np.int16) - b.astype(np.int16)).max(-1)


# ---------------------------------------------------------------------- world 1 stays the default
def test_world1_renders_are_pinned():
    """World 1 renders bit-identically to the renderer the shipped models were trained on."""
    pinned = {
        (1234, (1, 2, 3, 4, 5), 64, "photo"): "71157e1e6df4b0bb",
        (1234, (5, 0, 2, 3, 1), 64, "art"): "fc36d91f1b87dd30",
        (98765, (0, 5, 5, 0, 0), 128, "photo"): "160c16805a60b73e",
    }
    for (ident, attrs, size, style), digest in pinned.items():
        img = render_any(ident, list(attrs), size, style)
        assert hashlib.sha256(img.tobytes()).hexdigest()[:16] == digest, (ident, attrs, size, style)
    assert SynthFaces("test", world=1).spec == "synthfaces:split=test,world=1"
    assert DATASETS.create("synthfaces-art:world=1").spec == "synthfaces-art:split=test,world=1"
    with pytest.raises(UserError, match="world=2"):
        render_any(1, [0] * 5, 64, nuisance=Nuisance())


def test_world2_renders_are_pinned():
    """World 2 renders bit-identically to the renderer the shipped zoo learned from: these digests were
    taken when a fresh render still equalled the 2026-11-29 caches every image model was trained on
    (train item 0 is the first image of the generator's training set). A change of the world-2 painter
    is a new world version (datasets/synthfaces/README.md), never an edit of world 2."""
    photo, art = sample_nuisance(np.random.default_rng(5), "photo"), sample_nuisance(np.random.default_rng(6), "art")
    pinned = {
        "frontal photo": (render(1234, [1, 2, 3, 4, 5], 64, "photo"), "1baf0f0ad1f47581"),
        "photo under a nuisance": (render(98765, [0, 5, 5, 0, 0], 64, "photo", photo), "c30564ae28956af9"),
        "art under a nuisance": (render(4321, [5, 0, 2, 3, 1], 64, "art", art), "40a1babe8d3235fd"),
        "128-px photo": (render(777, [3, 3, 0, 5, 2], 128, "photo", photo), "a9439064b2491ea6"),
        "train item 0": (SynthFaces("train", requests="none", world=2).item(0, 64).image, "389780802ce36152"),
    }
    for name, (img, digest) in pinned.items():
        assert hashlib.sha256(np.ascontiguousarray(img).tobytes()).hexdigest()[:16] == digest, name


def test_default_world_is_the_world_the_zoo_learned():
    from datasets.synthfaces.dataset import DEFAULT_WORLD
    from methods.training.world_data import WORLD

    assert DEFAULT_WORLD == WORLD == SynthFaces().world


def test_world2_spec_is_canonical_and_distinct():
    ds = DATASETS.create("synthfaces:world=2")
    assert ds.world == 2 and ds.spec == "synthfaces:split=test,world=2"
    assert DATASETS.create(ds.spec).spec == ds.spec
    art = DATASETS.create("synthfaces-art:requests=none,world=2,split=finetune")
    assert art.style == "art" and art.spec == "synthfaces-art:split=finetune,world=2,requests=none"
    assert DATASETS.create(art.spec).spec == art.spec
    assert DATASETS.create("synthfaces:world=1").spec == "synthfaces:split=test,world=1"  # the world is always named
    assert DATASETS.create("synthfaces").spec == "synthfaces:split=test,world=2"  # world 2 is the default
    for bad in ("synthfaces:world=3", "synthfaces:world=two", "synthfaces-art:world=0"):
        with pytest.raises(UserError, match="world"):
            DATASETS.create(bad)
    with pytest.raises(UserError, match="world"):
        render_any(1, [0] * 5, 64, world=3)


# ---------------------------------------------------------------------- identity vs nuisance
def test_identity_space_bijective_and_separate_from_nuisance():
    assert IDENTITY_COUNT == int(np.prod([n for _, n in GEOMETRY_FACTORS]))
    ids = list(range(0, 5000)) + list(range(IDENTITY_COUNT - 2000, IDENTITY_COUNT))
    assert len({permute(i) for i in ids}) == len(ids)
    assert len({geometry_digits(i) for i in ids}) == len(ids)  # distinct ids: distinct face geometry
    digits = np.array([geometry_digits(i) for i in range(3000)])
    for k, (_, n) in enumerate(GEOMETRY_FACTORS):
        assert set(digits[:, k]) == set(range(n))
    masc = np.mean([identity_from_id(i).masculine for i in range(4000)])
    assert abs(masc - MASCULINE_SHARE) < 0.03
    # one identity under many nuisances: the face is the same, the photograph is not
    rng = np.random.default_rng(0)
    a, b = sample_nuisance(rng), sample_nuisance(rng)
    assert a != b
    img_a, img_b = render(1500, [0, 0, 0, 1, 3], 64, nuisance=a), render(1500, [0, 0, 0, 1, 3], 64, nuisance=b)
    assert _diff(img_a, img_b).mean() > 10
    assert np.array_equal(render(1500, [0, 0, 0, 1, 3], 64, nuisance=a.to_dict()), img_a)


def test_face_geometry_is_visible_at_64px():
    """Changing one geometry factor (same person otherwise, same photograph) is visible."""
    rng = np.random.default_rng(1)
    changed, whole = [], []
    for ident, base, nuis in contexts(30, seed=1):
        face = identity_from_id(ident)
        img = render(face, base, 64, nuisance=nuis)
        changed.append((_diff(img, render(lookalike(face, 1, rng), base, 64, nuisance=nuis)) > 24).sum())
        whole.append((_diff(img, render(lookalike(face, len(GEOMETRY_FACTORS), rng), base, 64, nuisance=nuis)) > 24).sum())
    assert np.median(changed) >= 25, np.median(changed)
    assert np.median(whole) >= 250, np.median(whole)


@pytest.mark.xfail(strict=True, reason="world-2 gap (docs/identity-embedder-experiments.md): ear size, cheekbones, lip "
                   "fullness and nose width move 0-3 pixels at 64 px (median; mouth width is borderline), so 2-7% of "
                   "3-factor look-alikes cannot "
                   "be told from the original; widening them is a world change that retrains every image model")
def test_every_geometry_factor_is_visible_at_64px():
    """Issue 9: identity is the face, and face geometry must be visible at 64 px - factor by factor,
    not only on average: each factor moved alone changes at least 20 pixels in most photographs."""
    rng = np.random.default_rng(3)
    pixels = {name: [] for name, _ in GEOMETRY_FACTORS}
    for ident, base, nuis in contexts(12, seed=3):
        face = identity_from_id(ident)
        img = render(face, base, 64, nuisance=nuis)
        for name, levels in GEOMETRY_FACTORS:
            moved = replace(face, **{name: (getattr(face, name) + 1 + int(rng.integers(levels - 1))) % levels})
            pixels[name].append(int((_diff(img, render(moved, base, 64, nuisance=nuis)) > 24).sum()))
    hidden = {name: float(np.median(v)) for name, v in pixels.items() if np.median(v) < 20}
    assert not hidden, f"geometry factors whose move changes < 20 pixels (median): {hidden}"


def test_lookalike_changes_exactly_k_geometry_factors():
    rng = np.random.default_rng(2)
    face = identity_from_id(4321)
    for k in (0, 1, 3, len(GEOMETRY_FACTORS)):
        other = lookalike(face, k, rng)
        diff = [n for n in face.geometry_factors() if getattr(face, n) != getattr(other, n)]
        assert len(diff) == k
        assert {f: getattr(other, f) for f in ("masculine", "skin", "hair_colour", "hair_style", "eye_colour")} == \
            {f: getattr(face, f) for f in ("masculine", "skin", "hair_colour", "hair_style", "eye_colour")}
    assert np.array_equal(render(lookalike(face, 0, rng), [0] * 5, 32), render(face, [0] * 5, 32))
    with pytest.raises(UserError):
        lookalike(face, 99, rng)


# ---------------------------------------------------------------------- rendering
def test_render_deterministic_all_sizes_and_styles():
    nuis = sample_nuisance(np.random.default_rng(3))
    art = sample_nuisance(np.random.default_rng(3), "art")
    assert np.array_equal(render(77, [1, 2, 3, 4, 5], 64, nuisance=nuis), render(77, (1, 2, 3, 4, 5), 64, nuisance=nuis))
    assert np.array_equal(render(77, [1, 2, 3, 4, 5], 48, "art", art), render(77, [1, 2, 3, 4, 5], 48, "art", art))
    for size in (1, 7, 64, 128, 256):
        for style, n in (("photo", nuis), ("art", art)):
            img = render(77, [2, 3, 1, 4, 2], size, style, n)
            assert img.shape == (size, size, 3) and img.dtype == np.uint8
            if size >= 64:
                assert img.std() > 15
    big = render(77, [2, 3, 1, 4, 2], 256, nuisance=nuis).astype(np.float32)
    small = render(77, [2, 3, 1, 4, 2], 64, nuisance=nuis).astype(np.float32)
    assert np.abs(big.reshape(64, 4, 64, 4, 3).mean((1, 3)) - small).mean() < 6.0
    assert np.array_equal(render_any(77, [2, 3, 1, 4, 2], 64, world=2, nuisance=nuis), small.astype(np.uint8))


def test_edited_target_is_the_same_photo_with_one_degree_changed():
    nuis = sample_nuisance(np.random.default_rng(4))
    attrs = [1, 0, 2, 3, 4]
    assert np.array_equal(edited_target(555, attrs, "Eyeglasses", 5, 64, nuisance=nuis),
                          render(555, [1, 5, 2, 3, 4], 64, nuisance=nuis))


# ---------------------------------------------------------------------- legibility and locality
def test_every_step_is_legible_and_balanced():
    """Issue 9: every step of every attribute changes >= 60 px by > 24 levels at 64 px (median over
    50 identities in realistic contexts), and per-attribute medians are within 10x of each other."""
    counts = step_sizes(50)
    s = summary(counts)
    for name, steps in s["step_median"].items():
        for d, med in enumerate(steps):
            assert med >= MIN_STEP_PIXELS, f"{name} {d}->{d + 1}: median {med} px"
    assert s["ratio"] <= MAX_RATIO, s["attribute_median"]


@pytest.mark.parametrize("style", ["photo", "art-pose"])
def test_edits_stay_inside_the_attribute_region(style):
    rng = np.random.default_rng(5)
    for k, (ident, base, nuis) in enumerate(contexts(24, seed=9)):
        if style == "art-pose":  # the wider art pose range, rendered as a photo
            nuis = sample_nuisance(rng, "art")
        for a in range(5):
            mask = attribute_mask(ident, a, 64, base, nuis)
            outside = ~binary_dilation(mask, iterations=1)
            prev = None
            for d in range(6):
                attrs = list(base)
                attrs[a] = d
                img = render(ident, attrs, 64, "photo", nuis)
                if prev is not None and outside.any():
                    assert _diff(prev, img)[outside].max() == 0, f"{ATTRIBUTES[a]} {d - 1}->{d} leaks, context {k}"
                prev = img


def test_regions_of_local_attributes_are_local():
    for a, limit in ((0, 0.5), (1, 0.25), (2, 0.55), (3, 0.4)):
        assert np.mean([attribute_mask(i, a, 64, b, n).mean() for i, b, n in contexts(10)]) < limit


# ---------------------------------------------------------------------- population
def test_population_matches_celeba_marginals():
    """5,000 faces (plain test items) match the prior's per-degree marginals and CelebA's rates."""
    n = 5000
    degrees = np.array([item_degrees("test", i, 0) for i in range(n)])
    masc = np.array([identity_from_id(split_identity("test", i)).masculine for i in range(n)])
    table = marginals()["all"]
    for a, name in enumerate(ATTRIBUTES):
        freq = np.bincount(degrees[:, a], minlength=6) / n
        se = np.sqrt(table[name] * (1 - table[name]) / n)
        assert np.all(np.abs(freq - table[name]) <= 4.5 * se + 1e-3), (name, freq.round(3), table[name].round(3))
    rates = celeba_rates()
    for name, target in CELEBA_RATES.items():
        assert abs(rates[name] - target) < 0.01, (name, rates[name], target)
    assert abs(masc.mean() - 0.417) < 0.025
    beard = degrees[:, 2] > 0
    assert beard[~masc].mean() < 0.01 and 0.33 < beard[masc].mean() < 0.47   # beards on masculine faces
    assert (degrees[:, 1] > 0).mean() < 0.09                                  # most faces without glasses
    assert 0.70 < (degrees[:, 4] >= 3).mean() < 0.84                          # CelebA Young ~77 %


# ---------------------------------------------------------------------- edit items
def test_requests_are_balanced_and_feasible():
    n = 1000
    cells = [request_cell("test", i, 0) for i in range(n)]
    at_limit = [c for c in cells if c.at_limit]
    normal = [c for c in cells if not c.at_limit]
    assert len(at_limit) == n // AT_LIMIT_EVERY  # 5 %
    counts = {}
    for c in normal:
        counts[c] = counts.get(c, 0) + 1
    assert set(counts) == {cell_of(k) for k in range(50)} and set(counts.values()) == {19}
    lim = {}
    for c in at_limit:
        lim[c] = lim.get(c, 0) + 1
    assert set(lim) == {limit_cell_of(k) for k in range(10)} and set(lim.values()) == {5}
    # every prefix is balanced up to one item per cell
    first = [c for c in cells[:200] if not c.at_limit]
    per = [sum(c == cell_of(k) for c in first) for k in range(50)]
    assert max(per) - min(per) <= 1


@pytest.mark.parametrize("split", ["all", "train", "heldout"])
def test_every_cell_can_be_asked_from_every_feasible_degree(split):
    from datasets.instructions import expected_degree

    rng = np.random.default_rng(6)
    for k in range(50):
        cell = cell_of(k)
        for cur in range(6):
            if (cell.direction > 0 and cur >= cell.target) or (cell.direction < 0 and cur <= cell.target):
                continue
            degrees = [2, 0, 1, 3, 3]
            degrees[cell.attribute] = cur
            for masc in (True, False):
                ins, goal = build_request(rng, degrees, cell, split, masculine=masc)
                assert goal == cell.target == expected_degree(degrees, ins)
                assert ins.attribute == cell.attribute and ins.direction == cell.direction
    for k in range(10):
        cell = limit_cell_of(k)
        degrees = [2, 0, 1, 3, 3]
        degrees[cell.attribute] = cell.target
        ins, goal = build_request(rng, degrees, cell, split)
        assert goal == cell.target and ins.direction == cell.direction and ins.mode != "target"


def test_items_carry_exact_targets_and_labels():
    ds = SynthFaces("test", world=2)
    limit = 0
    for it in ds.items(60, 32, seed=2):
        lab = it.labels
        req, attrs, goal = lab["request"], lab["attributes"], lab["expected_degree"]
        cell = lab["requested"]
        assert lab["world"] == 2 and it.instruction == req["text"]
        assert req["attribute"] == cell["attribute"] and req["direction"] == cell["direction"]
        nuis = Nuisance.from_dict(lab["nuisance"])
        assert np.array_equal(it.image, render(lab["identity"], attrs, 32, nuisance=nuis))
        edited = list(attrs)
        edited[req["attribute"]] = goal
        assert lab["target_attributes"] == edited
        assert np.array_equal(it.target, render(lab["identity"], edited, 32, nuisance=nuis))
        if lab["at_limit"]:
            limit += 1
            assert goal == attrs[req["attribute"]] and np.array_equal(it.target, it.image)
        else:
            assert goal == cell["target"] != attrs[req["attribute"]]
            assert (goal > attrs[req["attribute"]]) == (cell["direction"] > 0)
        words = set(it.instruction.lower().replace(".", " ").replace("!", " ").split())
        if lab["identity_factors"]["masculine"]:
            assert not words & {"her", "woman", "lady"}
        else:
            assert not words & {"him", "his", "guy", "man"}
    assert 1 <= limit <= 6


def test_get_by_id_matches_items_in_every_mode():
    for spec in ("synthfaces:world=2", "synthfaces-art:world=2,split=finetune", "synthfaces:world=2,requests=none"):
        ds = DATASETS.create(spec)
        items = list(ds.items(5, 24, seed=7))
        for it in items[::2]:
            got = ds.get(it.id, 24, seed=7)
            assert got.id == it.id and got.labels == it.labels and got.instruction == it.instruction
            assert np.array_equal(got.image, it.image)
            assert (got.target is None and it.target is None) or np.array_equal(got.target, it.target)
    plain = next(iter(DATASETS.create("synthfaces:world=2,requests=none").items(1, 24)))
    assert plain.instruction is None and plain.target is None and "at_limit" not in plain.labels
    with pytest.raises(KeyError):
        DATASETS.create("synthfaces:world=2").get("train-000001", 24)


def test_world2_cache_roundtrip(tmp_path):
    path = build_split_cache("finetune", 5, 24, "photo", tmp_path, world=2)
    assert "w2" in path.name and path.exists()
    data = load_split_cache(path)
    items = list(SynthFaces("finetune", world=2).items(5, 24))
    for i, it in enumerate(items):
        assert np.array_equal(data["images"][i], it.image)
        assert data["attributes"][i].tolist() == it.labels["attributes"]
    cached = list(SynthFaces("finetune", world=2, cache=True, cache_dir=str(tmp_path)).items(5, 24))
    assert all(np.array_equal(a.image, b.image) and a.labels == b.labels and np.array_equal(a.target, b.target)
               for a, b in zip(cached, items))
    plain = build_split_cache("finetune", 5, 24, "photo", tmp_path, world=2, requests=False)
    assert plain != path


# ---------------------------------------------------------------------- art
def test_art_is_another_medium_with_the_same_face_and_local_edits():
    rng = np.random.default_rng(8)
    for medium in (0, 1, 2):
        nuis = replace(sample_nuisance(rng, "art"), medium=medium)
        attrs = [0, 0, 0, 2, 3]
        photo = render(3030, attrs, 64, "photo", nuis).astype(np.float32)
        art = render(3030, attrs, 64, "art", nuis).astype(np.float32)
        assert np.abs(photo - art).mean() > 20  # a different medium, not a colour shift
        edit = _diff(render(3030, attrs, 64, "art", nuis), edited_target(3030, attrs, "Eyeglasses", 4, 64, "art", nuis))
        mask = binary_dilation(attribute_mask(3030, "Eyeglasses", 64, attrs, nuis), iterations=3)
        assert edit.sum() > 0 and edit[mask].sum() > 0.9 * edit.sum(), medium


def test_sheets_for_world2(tmp_path):
    assert sheet_main(["--all", str(tmp_path), "--world", "2", "--size", "16"]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(f"{k}.png" for k in ("random", "degrees", "nuisance", "lookalike", "art", "art-degrees"))
    assert Image.open(tmp_path / "degrees.png").size == (6 * 18 + 2, 15 * 18 + 2)
    assert sheet_main([str(tmp_path / "x.png"), "--world", "1", "--kind", "nuisance"]) == 2
    assert Cell(0, 1, 1) == cell_of(0)


@pytest.mark.parametrize("component", ["attribute-predictor", "attribute-judge", "identity-embedder", "deepsc"])
def test_shipped_image_models_learned_the_default_world(component):
    """Nothing trained on one world is silently used on another: every shipped image model's card
    names the world its data came from, and it is the default world."""
    import json

    from datasets.synthfaces.dataset import DEFAULT_WORLD
    from methods.zoo import card_path

    card = json.loads(card_path(component).read_text())
    assert f"world {DEFAULT_WORLD}" in card["data"], (component, card["data"][:200])
