"""Zoo checkpoints: round trip, all-or-nothing loading, clear errors, resumable training context."""
import json

import pytest
import torch

from bench.errors import UserError
from methods import zoo
from zoo_tiny import NAME  # tests/plugins: registers the tiny test component
from zoo_tiny import build as _build
from zoo_tiny import train as _train


@pytest.fixture
def weights(tmp_path, monkeypatch):
    monkeypatch.setenv("EDITSC_WEIGHTS", str(tmp_path / "weights"))
    return tmp_path / "weights"


def test_round_trip_fp16_and_card(weights):
    model = _build({"width": 4})
    card = zoo.base_card(NAME, {"width": 4}, 0, 1, 0.0, "cpu", "ones", {"x": 1.0}, f"bench train {NAME}")
    path = zoo.save_checkpoint(zoo.weights_path(NAME), NAME, {"width": 4}, model.state_dict(), card=card, fp16=True)
    loaded = zoo.load_model(NAME)
    for (k, a), b in zip(model.state_dict().items(), loaded.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-3), k  # fp16 storage
    assert json.loads(path.with_suffix(".json").read_text())["quality"] == {"x": 1.0}
    assert zoo.read_card(NAME)["quality"]["x"] == 1.0


def test_missing_checkpoint_names_file_and_command(weights):
    with pytest.raises(UserError, match=f"not found at .*{NAME}.pt.*'bench train {NAME}'"):
        zoo.load_model(NAME)


def test_truncated_and_foreign_files_are_refused(weights):
    model = _build({"width": 4})
    path = zoo.save_checkpoint(zoo.weights_path(NAME), NAME, {"width": 4}, model.state_dict())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(UserError, match="truncated or corrupted.*bench train"):
        zoo.load_model(NAME)
    torch.save({"weights": torch.zeros(3)}, path)
    with pytest.raises(UserError, match="not an editsc-bench checkpoint"):
        zoo.load_model(NAME)


def test_other_architecture_is_refused_not_half_loaded(weights):
    wide = _build({"width": 6})
    zoo.save_checkpoint(zoo.weights_path(NAME), NAME, {"width": 4}, wide.state_dict())
    with pytest.raises(UserError, match="does not match.*mis-shaped"):
        zoo.load_model(NAME)
    zoo.save_checkpoint(zoo.weights_path(NAME), NAME, {"width": 6}, wide.state_dict())
    with pytest.raises(UserError, match="another architecture.*width"):
        zoo.load_model(NAME, expect={"width": 4})


def test_pickled_code_in_checkpoint_is_not_executed(weights, tmp_path):
    import os

    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    weights.mkdir(parents=True)
    torch.save({"format": "editsc-ckpt", "state": Evil()}, zoo.weights_path(NAME))
    with pytest.raises(UserError, match="objects other than tensors.*refused"):
        zoo.load_model(NAME)
    assert not marker.exists()


def test_training_resumes_and_accumulates_wall_time(weights, tmp_path):
    work = tmp_path / "work"
    ctx = zoo.TrainContext(NAME, seed=0, device="cpu", steps=6, work_dir=work, quick=True)
    _train(ctx)  # stops after step 3
    assert not (work / f"{NAME}.pt").exists()
    ctx2 = zoo.TrainContext(NAME, seed=0, device="cpu", steps=6, work_dir=work)
    _train(ctx2)
    steps = [json.loads(line)["step"] for line in (work / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]  # resumed, nothing redone
    card = zoo.read_card(NAME, work / f"{NAME}.json")  # exported into the work dir ...
    assert card["steps"] == 6 and card["command"] == f"bench train {NAME} --seed 0 --steps 6"
    assert card["wall_time_s"] >= 0 and card["device"] == "cpu"
    zoo.load_model(NAME, work / f"{NAME}.pt")
    assert not zoo.weights_path(NAME).exists() and not weights.exists()  # ... never into the shipped weights


def test_unknown_component_suggests():
    with pytest.raises(UserError, match="did you mean 'testkit-tiny'.*run 'bench zoo' to see all"):
        zoo.component("testkit-tin")


def test_components_live_in_a_bench_registry():
    from bench.registry import Registry

    assert isinstance(zoo.COMPONENTS, Registry) and zoo.COMPONENTS.kind == "component"
    zoo.load_components()
    assert {"deepsc", "stylegan2", NAME} <= set(zoo.COMPONENTS.names())
    comp = zoo.component(NAME)
    assert isinstance(comp, zoo.Component) and comp.summary == "test-only tiny MLP"
    assert zoo.COMPONENTS.entry(NAME).summary == "test-only tiny MLP"
    with pytest.raises(ValueError, match="registered twice"):
        zoo.register_component(zoo.Component(NAME, "again", _build, _train))
