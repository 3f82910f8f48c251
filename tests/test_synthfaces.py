"""Tests for the SynthFaces procedural face world (datasets/synthfaces)."""
from __future__ import annotations

import os

import numpy as np
import pytest
from PIL import Image
from scipy.ndimage import binary_dilation

from bench.errors import UserError
from bench.registry import DATASETS
from datasets.base import Item
from datasets.synthfaces import (
    ATTRIBUTES,
    CONSERVATIVE_COUNT,
    FACTORS,
    IDENTITY_COUNT,
    SPLITS,
    SynthFaces,
    attribute_mask,
    build_split_cache,
    contact_sheet,
    default_cache_root,
    edited_target,
    identity_from_id,
    load_split_cache,
    render,
    sample_attributes,
    split_identity,
)
from datasets.synthfaces.geometry import geometry
from datasets.synthfaces.identity import factor_digits, permute
from datasets.synthfaces.render import make_canvas
from datasets.synthfaces.sheet import main as sheet_main

# Visibility criterion for one degree step at 64x64 (see test_degree_steps_visible_and_localised):
# inside the attribute's region the mean absolute difference (max over RGB) must be at least
# MIN_REGION_MAD grey levels, and at least MIN_STRONG_PX pixels must change by >= STRONG levels.
# 16 levels is ~6% of the range (several JNDs even for small features); 10 pixels is a 3x3 blob or
# a short line at 64 px; MAD 1.0 over the region (e.g. ~350 px for Smiling) is a total change of
# ~350 levels, i.e. at least the equivalent of ~20 pixels changing by a clearly visible 16 levels.
# With random other attributes some combinations are low-contrast by nature (a smile inside
# stubble on dark skin), so there only MIN_STRONG_PX_ANY strong pixels are required; over 150
# random contexts per attribute the observed minimum was 7 and the 5th percentile >= 13.
MIN_REGION_MAD = 1.0
STRONG = 16
MIN_STRONG_PX = 10
MIN_STRONG_PX_ANY = 5


def _diff(a, b):
    return np.abs(a.astype(np.int16) - b.astype(np.int16)).max(-1)


# ---------------------------------------------------------------------- determinism
def test_render_is_deterministic():
    a = render(12345, [1, 2, 3, 4, 5], 64)
    b = render(12345, (1, 2, 3, 4, 5), 64)
    assert np.array_equal(a, b)
    assert np.array_equal(render(7, [0] * 5, 48, "art"), render(7, [0] * 5, 48, "art"))
    assert identity_from_id(99) == identity_from_id(99)


def test_items_are_deterministic_and_seeded():
    ds = SynthFaces("test", world=1)
    first = list(ds.items(4, 32, seed=3))
    again = list(ds.items(4, 32, seed=3))
    assert [i.id for i in first] == ["test-000000", "test-000001", "test-000002", "test-000003"]
    for x, y in zip(first, again):
        assert np.array_equal(x.image, y.image) and x.labels == y.labels
    other = list(ds.items(4, 32, seed=4))
    assert [x.labels["identity"] for x in other] == [x.labels["identity"] for x in first]
    assert [x.labels["attributes"] for x in other] != [x.labels["attributes"] for x in first]


# ---------------------------------------------------------------------- identities and splits
def test_identity_space_is_large_and_injective():
    assert IDENTITY_COUNT == int(np.prod([n for _, n in FACTORS]))
    assert CONSERVATIVE_COUNT >= 10**6 and IDENTITY_COUNT >= 10**6
    ids = list(range(0, 20_000)) + list(range(IDENTITY_COUNT - 5_000, IDENTITY_COUNT))
    perm = [permute(i) for i in ids]
    assert len(set(perm)) == len(ids) and all(0 <= v < IDENTITY_COUNT for v in perm)
    assert len({factor_digits(i) for i in ids[:5000]}) == 5000
    # every level of every factor is used
    digits = np.array([factor_digits(i) for i in range(3000)])
    for k, (_, n) in enumerate(FACTORS):
        assert set(digits[:, k]) == set(range(n))


def test_identities_look_different():
    imgs = [render(i, [0, 0, 0, 0, 3], 64).astype(np.int16) for i in range(1000, 1030)]
    for i in range(len(imgs)):
        for j in range(i + 1, len(imgs)):
            assert np.abs(imgs[i] - imgs[j]).mean() > 3.0, (i, j)


def test_splits_are_disjoint_and_finetune_small():
    ranges = sorted(SPLITS.values())
    for (lo1, hi1), (lo2, hi2) in zip(ranges, ranges[1:]):
        assert hi1 <= lo2
    assert SPLITS["finetune"][1] - SPLITS["finetune"][0] < 20
    assert SPLITS["train"][1] == IDENTITY_COUNT
    ft = SynthFaces("finetune", world=1)
    assert len(list(ft.items(None, 16))) == len(ft) < 20
    assert len(list(ft.items(100, 16))) == len(ft)
    test_ids = {split_identity("test", i) for i in range(50)}
    train_ids = {split_identity("train", i) for i in range(50)}
    ft_ids = {it.labels["identity"] for it in ft.items(None, 8)}
    assert not (test_ids & train_ids) and not (test_ids & ft_ids) and not (train_ids & ft_ids)


def test_attribute_degrees_roughly_uniform():
    attrs = np.array([sample_attributes("train", i, 0) for i in range(6000)])
    assert attrs.min() == 0 and attrs.max() == 5
    for a in range(5):
        counts = np.bincount(attrs[:, a], minlength=6)
        assert np.all(np.abs(counts - 1000) < 120), counts
    assert sample_attributes("test", 5, 0) == sample_attributes("test", 5, 0)
    same = np.mean([sample_attributes("test", i, 0) == sample_attributes("train", i, 0) for i in range(300)])
    assert same < 0.05


# ---------------------------------------------------------------------- sizes
@pytest.mark.parametrize("size", [1, 7, 64, 128, 256, 1024])
def test_every_size_renders(size):
    img = render(42, [2, 3, 1, 4, 2], size)
    assert img.shape == (size, size, 3) and img.dtype == np.uint8
    if size >= 64:
        assert img.std() > 20  # not blank


def test_sizes_are_consistent_and_antialiased():
    big = render(42, [2, 3, 1, 4, 2], 256).astype(np.float32)
    small = render(42, [2, 3, 1, 4, 2], 64).astype(np.float32)
    down = big.reshape(64, 4, 64, 4, 3).mean((1, 3))
    assert np.abs(down - small).mean() < 6.0  # same picture at every resolution
    # anti-aliasing: edges contain intermediate values, not just two colours
    assert len(np.unique(small.reshape(-1, 3), axis=0)) > 500


# ---------------------------------------------------------------------- attributes
CONTEXT_IDS = [1000 + 37 * k for k in range(16)]


@pytest.mark.parametrize("attr", range(5), ids=ATTRIBUTES)
def test_degree_steps_visible_and_localised(attr):
    rng = np.random.default_rng(attr)
    for k, ident in enumerate(CONTEXT_IDS):
        base = [0, 0, 0, 0, 3] if k < 6 else rng.integers(0, 6, 5).tolist()
        mask = attribute_mask(ident, attr, 64)
        outside = ~binary_dilation(mask, iterations=1)
        imgs = []
        for d in range(6):
            attrs = list(base)
            attrs[attr] = d
            imgs.append(render(ident, attrs, 64))
        for d in range(5):
            diff = _diff(imgs[d], imgs[d + 1])
            where = f"{ATTRIBUTES[attr]} {d}->{d + 1}, identity {ident}, others {base}"
            assert diff[mask].mean() >= MIN_REGION_MAD, where
            assert (diff >= STRONG).sum() >= (MIN_STRONG_PX if k < 6 else MIN_STRONG_PX_ANY), where
            assert diff[outside].max() == 0, f"change leaks outside the {ATTRIBUTES[attr]} region: {where}"


def test_regions_are_small_for_local_attributes():
    for attr, limit in ((0, 0.35), (1, 0.25), (2, 0.45), (3, 0.2)):
        assert attribute_mask(1000, attr, 64).mean() < limit


def test_beard_keeps_identity_features():
    base = [0, 0, 0, 2, 3]
    clean = render(2024, base, 64)
    bearded = edited_target(2024, base, "Beard", 5, 64)
    diff = _diff(clean, bearded)
    ident = identity_from_id(2024)
    g = geometry(ident)
    canvas = make_canvas(ident, 64)
    eyes = canvas.mask_box(-g.ex - g.erx, g.ey - g.ery, g.ex + g.erx, g.ey + g.ery)
    forehead = canvas.mask_box(-g.a - 0.1, -1.0, g.a + 0.1, g.brow_y)  # hair, forehead and brows
    assert eyes.sum() > 20
    assert diff[eyes | forehead].max() == 0  # eyes, brows, hair, forehead untouched
    assert np.array_equal(clean[:, :6], bearded[:, :6])  # background untouched
    assert diff.sum() > 0


def test_edited_target_matches_render():
    attrs = [1, 0, 2, 3, 4]
    tgt = edited_target(555, attrs, 1, 5, 64)
    assert np.array_equal(tgt, render(555, [1, 5, 2, 3, 4], 64))
    assert np.array_equal(edited_target(555, attrs, "smiling", 0, 32, "art"), render(555, [1, 0, 2, 0, 4], 32, "art"))


# ---------------------------------------------------------------------- art style
def test_art_style_differs_but_keeps_layout():
    ident, attrs = 3030, [0, 0, 0, 2, 3]
    photo = render(ident, attrs, 64).astype(np.float32)
    art = render(ident, attrs, 64, "art").astype(np.float32)
    assert np.abs(photo - art).mean() > 20  # clearly different palette/texture
    # same layout: coarse luminance structure of the face (background removed) correlates
    def coarse_edges(im):
        lum = im @ np.array([0.3, 0.59, 0.11], np.float32)
        gy, gx = np.gradient(lum)
        return np.hypot(gx, gy).reshape(16, 4, 16, 4).mean((1, 3)).ravel()
    assert np.corrcoef(coarse_edges(photo), coarse_edges(art))[0, 1] > 0.5
    # and an attribute edit in art style changes the same region as in photo style
    edit = _diff(render(ident, attrs, 64, "art"), edited_target(ident, attrs, "Eyeglasses", 4, 64, "art"))
    mask = binary_dilation(attribute_mask(ident, "Eyeglasses", 64), iterations=3)
    assert edit[mask].sum() > 0.9 * edit.sum()


# ---------------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: render(1, [0, 6, 0, 0, 0], 64), ["6", "0..5", "Eyeglasses"]),
        (lambda: render(1, [0, -1, 0, 0, 0], 64), ["-1", "0..5"]),
        (lambda: render(1, [0, 0, 0, 0], 64), ["5", "Bangs"]),
        (lambda: render(1, [0] * 5, 0), ["size", "0", "1.."]),
        (lambda: render(1, [0] * 5, 64, "oil"), ["oil", "photo", "art"]),
        (lambda: render(-3, [0] * 5, 64), ["-3", "identity"]),
        (lambda: render(IDENTITY_COUNT, [0] * 5, 64), ["identity", str(IDENTITY_COUNT - 1)]),
        (lambda: SynthFaces("validation"), ["validation", "test", "train", "finetune"]),
        (lambda: edited_target(1, [0] * 5, "hat", 1), ["hat", "Bangs", "Young"]),
        (lambda: edited_target(1, [0] * 5, 0, 9), ["9", "0..5"]),
        (lambda: DATASETS.create("synthfaces:split=dev"), ["dev", "test"]),
        (lambda: DATASETS.create("synthfaces-art:split=test,colour=red"), ["synthfaces-art"]),
        (lambda: render(1, {"Bangs": 7}, 64), ["7", "Bangs"]),
    ],
)
def test_bad_input_raises_user_error(call, words):
    with pytest.raises(UserError) as err:
        call()
    for w in words:
        assert w in str(err.value), (w, str(err.value))


# ---------------------------------------------------------------------- dataset contract
def test_registry_entries_and_items():
    ds = DATASETS.create("synthfaces:split=test,world=1")
    assert isinstance(ds, SynthFaces) and ds.default_size == 64 and ds.spec == "synthfaces:split=test,world=1"
    assert DATASETS.create(ds.spec).spec == ds.spec
    art = DATASETS.create("synthfaces-art:split=finetune,world=1")
    assert art.style == "art" and art.spec == "synthfaces-art:split=finetune,world=1"
    it = next(iter(ds.items(1, 32, seed=0)))
    assert isinstance(it, Item)
    assert it.image.shape == (32, 32, 3) and it.image.dtype == np.uint8
    assert set(it.labels) >= {"identity", "attributes", "split"}
    assert it.labels["split"] == "test" and it.labels["identity"] == split_identity("test", 0)
    assert len(it.labels["attributes"]) == 5 and all(0 <= a <= 5 for a in it.labels["attributes"])
    assert np.array_equal(it.image, render(it.labels["identity"], it.labels["attributes"], 32))
    plain = next(iter(DATASETS.create("synthfaces:requests=none,world=1").items(1, 32, seed=0)))
    assert plain.instruction is None and plain.target is None
    assert np.array_equal(plain.image, it.image)


def test_items_carry_a_request_and_its_exact_target_edit():
    from datasets.instructions import expected_degree

    ds = DATASETS.create("synthfaces:world=1")
    for it in ds.items(40, 32, seed=3):
        req = it.labels["request"]
        attrs, goal = it.labels["attributes"], it.labels["expected_degree"]
        assert it.instruction == req["text"] and 0 <= goal <= 5
        assert goal != attrs[req["attribute"]]  # sample_request asks only for possible changes
        if req["mode"] != "target":
            assert goal == min(max(attrs[req["attribute"]] + req["delta"] * req["direction"], 0), 5)
        edited = list(attrs)
        edited[req["attribute"]] = goal
        assert it.labels["target_attributes"] == edited
        # the target is the same identity rendered at the requested degree, nothing else
        assert np.array_equal(it.target, render(it.labels["identity"], edited, 32))
        assert not np.array_equal(it.target, it.image)
    from datasets.instructions import templates

    held = next(iter(DATASETS.create("synthfaces:requests=heldout,world=1").items(1, 32)))
    assert held.labels["request"]["template_id"] in {t.id for t in templates("heldout")}


def test_cache_roundtrip_and_reuse(tmp_path, monkeypatch):
    path = build_split_cache("finetune", 6, 32, "photo", tmp_path)
    assert path.exists() and path.parent == tmp_path and path.suffix == ".npz"
    data = load_split_cache(path)
    assert data["images"].shape == (6, 32, 32, 3) and data["images"].dtype == np.uint8
    items = list(SynthFaces("finetune", world=1).items(6, 32))
    for i, it in enumerate(items):
        assert np.array_equal(data["images"][i], it.image)
        assert int(data["identity"][i]) == it.labels["identity"]
        assert data["attributes"][i].tolist() == it.labels["attributes"]
    mtime = os.stat(path).st_mtime_ns
    assert build_split_cache("finetune", 6, 32, "photo", tmp_path) == path
    assert os.stat(path).st_mtime_ns == mtime  # reused, not rebuilt
    cached = list(SynthFaces("finetune", world=1, cache=True, cache_dir=str(tmp_path)).items(6, 32))
    assert all(np.array_equal(a.image, b.image) and a.labels == b.labels for a, b in zip(cached, items))
    monkeypatch.setenv("EDITSC_CACHE", str(tmp_path / "env"))
    assert default_cache_root() == tmp_path / "env" / "synthfaces"
    with pytest.raises(UserError, match="pass n"):
        build_split_cache("train", None, 32, root=tmp_path)


def test_contact_sheet_and_script(tmp_path):
    imgs = [render(i, [0, 0, 0, 0, 3], 16) for i in range(5)]
    sheet = contact_sheet(imgs, 3, pad=2)
    assert sheet.shape == (2 * 18 + 2, 3 * 18 + 2, 3) and sheet.dtype == np.uint8
    assert np.array_equal(sheet[2:18, 2:18], imgs[0])
    out = tmp_path / "sheet.png"
    assert sheet_main([str(out), "--kind", "degrees", "--size", "16"]) == 0
    assert Image.open(out).size == (6 * 18 + 2, 5 * 18 + 2)


def test_world2_split_renders_the_same_images_in_parallel(monkeypatch):
    from datasets.synthfaces.cache import render_split, render_workers

    monkeypatch.setenv("EDITSC_RENDER_WORKERS", "1")
    serial = render_split("train", 23, 32, "photo", 0, 2, False)
    monkeypatch.setenv("EDITSC_RENDER_WORKERS", "3")
    parallel = render_split("train", 23, 32, "photo", 0, 2, False)
    assert all(np.array_equal(a, b) for a, b in zip(serial, parallel))
    monkeypatch.setenv("EDITSC_RENDER_WORKERS", "0")
    with pytest.raises(UserError, match="EDITSC_RENDER_WORKERS"):
        render_workers(10)
    monkeypatch.delenv("EDITSC_RENDER_WORKERS")
    assert render_workers(100) == 1
