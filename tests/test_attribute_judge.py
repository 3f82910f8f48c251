"""The attribute judge J: an evaluation-only second attribute predictor, independent of P."""
import json

import numpy as np
import pytest
import torch

from datasets.synthfaces import ATTRIBUTES
from methods.nets import attribute_judge as aj
from methods.nets import attribute_predictor as ap
from methods.training import attribute_judge as aj_training
from methods.zoo import TrainContext, load_model

pytestmark = pytest.mark.usefixtures("one_thread")


def test_quick_training_exports_a_loadable_checkpoint_with_its_card(tmp_path):
    ctx = TrainContext(name=aj.NAME, seed=1, device="cpu", steps=None, work_dir=tmp_path / "work",
                       out=tmp_path / "out", quick=True)
    aj_training.train(ctx)
    path = tmp_path / "out" / f"{aj.NAME}.pt"
    model = load_model(aj.NAME, path)
    assert isinstance(model, aj.AttributeJudge) and not model.training
    assert model(torch.zeros(2, 3, 64, 64)).shape == (2, len(ATTRIBUTES), 6)
    assert model(torch.zeros(1, 3, 128, 128)).shape == (1, len(ATTRIBUTES), 6)  # any size is resized
    card = json.loads(path.with_suffix(".json").read_text())
    assert {"bangs_exact", "smiling_within1", "art_min_exact"} <= set(card["quality"])


def test_judge_shares_no_design_with_p():
    j = aj.build(aj.DEFAULT_CONFIG)
    p = ap.build(ap.DEFAULT_CONFIG)
    j_kinds = {type(m).__name__ for m in j.modules()}
    p_kinds = {type(m).__name__ for m in p.modules()}
    assert "BatchNorm2d" in p_kinds and "BatchNorm2d" not in j_kinds and "GroupNorm" in j_kinds
    assert "ResBlock" in p_kinds and "ResBlock" not in j_kinds
    assert not set(j.state_dict()) & set(p.state_dict())


def test_corner_erasing_leaves_the_face_centre_alone():
    x = torch.zeros(64, 3, 64, 64)
    out = aj_training.erase_corners(x, np.random.default_rng(0), p=1.0)
    changed = (out != 0).any(dim=1)
    assert changed.any(dim=(1, 2)).all()
    assert not changed[:, 16:48, 16:48].any()  # patches sit in the corners, at most 16 px


def fresh_test_faces(n=1000, seed=11, start=60_000):
    """Held-out world-2 test identities rendered now (not the arrays the card was measured on)."""
    from methods.training.world_data import uniform_faces

    d = uniform_faces("test", n, 64, "photo", seed, start, cache=False)
    return d["images"], d["attributes"].astype(np.int64)


def test_shipped_judge_reads_ground_truth_and_agrees_with_p():
    """Issue bars: exact degree >= 95% for every attribute on held-out identities, agreement with P >= 93%."""
    judge, predictor = aj.load_judge(), ap.load_predictor()
    images, truth = fresh_test_faces()
    pred = judge.predict(images)
    exact = (pred == truth).mean(axis=0)
    agree = (pred == predictor.predict(images)).mean(axis=0)
    report = {a: (round(float(e), 3), round(float(g), 3)) for a, e, g in zip(ATTRIBUTES, exact, agree)}
    assert (exact >= 0.95).all() and (agree >= 0.93).all(), report
