"""Zoo checkpoints: round trip, all-or-nothing loading, clear errors, resumable training context."""
import json

import pytest
import torch

from bench.errors import UserError
from methods import zoo


def _build(config):
    return torch.nn.Sequential(torch.nn.Linear(config["width"], config["width"]), torch.nn.ReLU(),
                               torch.nn.Linear(config["width"], 2))


def _train(ctx):
    torch.manual_seed(ctx.seed)
    state = ctx.load_state()
    model = _build({"width": 4})
    step = 0
    if state:
        model.load_state_dict(state["model"])
        step = state["step"]
        ctx.prior_wall_s = state["wall_s"]
    target = ctx.steps or 6
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    while step < target:
        loss = model(torch.ones(3, 4)).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        step += 1
        ctx.log(step=step, loss=loss.item())
        ctx.save_state({"model": model.state_dict(), "step": step, "wall_s": ctx.wall_s()})
        if step == 3 and ctx.quick:
            return  # simulate an interrupted run
    ctx.export({"width": 4}, model.state_dict(), {"final_loss": loss.item()}, step, "ones")


NAME = "testkit-tiny"
if NAME not in zoo.COMPONENTS.names():
    zoo.register_component(zoo.Component(NAME, "test-only tiny MLP", _build, _train, {"width": 4}))


@pytest.fixture
def weights(tmp_path, monkeypatch):
    monkeypatch.setenv("EDITSC_WEIGHTS", str(tmp_path / "weights"))
    return tmp_path / "weights"


def test_round_trip_fp16_and_card(weights):
    model = _build({"width": 4})
    path = zoo.save_checkpoint(zoo.weights_path(NAME), NAME, {"width": 4}, model.state_dict(),
                               card={"quality": {"x": 1.0}}, fp16=True)
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
    ctx = zoo.TrainContext(NAME, seed=0, device="cpu", steps=6, work_dir=tmp_path / "work", quick=True)
    _train(ctx)  # stops after step 3
    assert not zoo.weights_path(NAME).exists()
    ctx2 = zoo.TrainContext(NAME, seed=0, device="cpu", steps=6, work_dir=tmp_path / "work")
    _train(ctx2)
    steps = [json.loads(line)["step"] for line in (tmp_path / "work" / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4, 5, 6]  # resumed, nothing redone
    card = zoo.read_card(NAME)
    assert card["steps"] == 6 and card["command"] == f"bench train {NAME} --seed 0 --steps 6"
    assert card["wall_time_s"] >= 0 and card["device"] == "cpu"
    zoo.load_model(NAME)


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
