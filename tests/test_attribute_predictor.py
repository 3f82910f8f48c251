"""Attribute predictor: smoke training, resume, the shipped checkpoint against fresh ground
truth, differentiability, and refusal of bad checkpoint files."""
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from bench.errors import UserError
from datasets.synthfaces import ATTRIBUTES
from methods.nets import attribute_predictor as ap
from methods.training import attribute_predictor as ap_training
from methods.zoo import TrainContext, card_path, load_model, save_checkpoint, weights_path


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    torch.set_num_threads(1)
    root = tmp_path_factory.mktemp("ap")
    ctx = TrainContext(name=ap.NAME, seed=0, device="cpu", steps=None, work_dir=root / "work", out=root / "out",
                       quick=True)
    ap_training.train(ctx)
    return root, ctx


def test_quick_training_exports_loadable_checkpoint(quick_run):
    root, _ = quick_run
    path = root / "out" / f"{ap.NAME}.pt"
    assert path.exists() and path.with_suffix(".json").exists()
    model = load_model(ap.NAME, path)
    assert isinstance(model, ap.AttributePredictor) and not model.training
    blob = torch.load(path, weights_only=True)
    assert all(v.dtype == torch.float16 for v in blob["state"].values() if v.is_floating_point())
    x = torch.zeros(2, 3, 64, 64)
    assert model(x).shape == (2, len(ATTRIBUTES), 6)
    import json

    card = json.loads(path.with_suffix(".json").read_text())
    assert {"bangs_exact", "young_within1", "art_min_exact"} <= set(card["quality"])
    assert card["wall_time_s"] > 0


def test_resume_picks_up_saved_state(quick_run):
    root, first = quick_run
    ctx = TrainContext(name=ap.NAME, seed=0, device="cpu", steps=None, work_dir=root / "work", out=root / "out2",
                       quick=True)
    ap_training.train(ctx)
    lines = (root / "work" / "log.jsonl").read_text().splitlines()
    assert any('"event": "resume"' in ln for ln in lines)
    assert ctx.prior_wall_s > 0  # wall time carried over from the first run
    a = load_model(ap.NAME, root / "out" / f"{ap.NAME}.pt").state_dict()
    b = load_model(ap.NAME, root / "out2" / f"{ap.NAME}.pt").state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)  # nothing retrained


def _fresh_test_sample(n=300, seed=7, start=50_000, size=64):
    """Held-out world-2 test identities rendered now (not the evaluation arrays the card was made on):
    uniform degrees, a random nuisance each."""
    from methods.training.world_data import uniform_faces

    d = uniform_faces("test", n, size, "photo", seed, start, cache=False)
    return d["images"], d["attributes"].astype(np.int64)


@pytest.fixture(scope="module")
def shipped():
    if not weights_path(ap.NAME).exists():
        pytest.skip("no shipped attribute-predictor checkpoint (make it with 'bench train attribute-predictor')")
    return ap.load_predictor()


@pytest.mark.xfail(strict=True, reason="the shipped P (9600 steps) reads Bangs 93.9 % exactly on the card's 3000 "
                   "held-out faces (95.0 % on 1000 fresh ones), below the 95 % bar: Bangs 2 and 3 are confusable on "
                   "low hairlines (datasets/synthfaces/README.md)")
def test_shipped_predictor_meets_bars_on_held_out_faces(shipped):
    """Issue bar: exact degree >= 95% for every attribute on held-out identities (and +-1 >= 99%), on
    the card's 3000 held-out faces (the largest sample, made by the training command) and on 1000
    faces rendered now: both must hold (300 fresh faces were too few: a P at 93.9 % passed on them)."""
    card = json.loads(card_path(ap.NAME).read_text())["quality"]
    imgs, ys = _fresh_test_sample(n=1000, seed=11, start=60_000)
    err = np.abs(shipped.predict(imgs) - ys)
    for i, name in enumerate(ATTRIBUTES):
        exact, within1 = (err[:, i] == 0).mean(), (err[:, i] <= 1).mean()
        assert card[f"{name.lower()}_exact"] >= 0.95, f"{name}: card exact {card[f'{name.lower()}_exact']:.3f}"
        assert exact >= 0.95, f"{name}: exact {exact:.3f}"
        assert within1 >= 0.99, f"{name}: within-one {within1:.3f}"


def test_shipped_predictor_regression_guard(shipped):
    """What the shipped P reads on fresh held-out faces (measured 2026-11-30 on these 300: Bangs 95.3,
    Young 98.3, the others >= 99.3 %), guarded a little below."""
    imgs, ys = _fresh_test_sample()
    err = np.abs(shipped.predict(imgs) - ys)
    floor = {"Bangs": 0.93, "Young": 0.96}
    for i, name in enumerate(ATTRIBUTES):
        assert (err[:, i] == 0).mean() >= floor.get(name, 0.98), name
        assert (err[:, i] <= 1).mean() >= 0.99, name


def test_shipped_predictor_other_resolution(shipped):
    # a 128 px render is resized inside the module
    imgs, ys = _fresh_test_sample(n=40, start=70_000, size=128)
    assert (np.abs(shipped.predict(imgs) - ys) <= 1).mean() >= 0.97


def test_expected_degrees_differentiable(shipped):
    img, _ = _fresh_test_sample(n=2, start=80_000)
    x = (torch.from_numpy(img).permute(0, 3, 1, 2).float() / 127.5 - 1).requires_grad_(True)
    e = shipped.expected_degrees(x)
    assert e.shape == (2, 5) and torch.all((e >= 0) & (e <= 5))
    e[:, 0].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    # softmax . [0..5] equals the probability-weighted degree
    p = shipped.probabilities(x.detach())
    assert torch.allclose(e.detach(), (p * torch.arange(6.0)).sum(-1), atol=1e-5)


def test_missing_checkpoint_names_train_command(tmp_path):
    with pytest.raises(UserError, match="bench train attribute-predictor"):
        ap.load_predictor(tmp_path / "nope.pt")


def test_truncated_checkpoint_refused(quick_run, tmp_path):
    root, _ = quick_run
    data = (root / "out" / f"{ap.NAME}.pt").read_bytes()
    bad = tmp_path / "trunc.pt"
    bad.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="truncated or corrupted"):
        ap.load_predictor(bad)


def test_wrong_architecture_refused(tmp_path):
    other = ap.AttributePredictor(widths=[8, 8, 16, 32, 48], hidden=32)
    path = save_checkpoint(tmp_path / "wrong.pt", ap.NAME, dict(ap.DEFAULT_CONFIG), other.state_dict())
    with pytest.raises(UserError, match="does not match"):
        ap.load_predictor(path)
    emb = tmp_path / "emb.pt"
    save_checkpoint(emb, "identity-embedder", {}, {"w": torch.zeros(1)})
    with pytest.raises(UserError, match="not 'attribute-predictor'"):
        ap.load_predictor(emb)


def test_bad_image_input(shipped):
    with pytest.raises(UserError):
        shipped.predict(np.zeros((64, 64), np.uint8))
    with pytest.raises(UserError):
        shipped.predict(np.zeros((1, 64, 64, 3), np.float32))
