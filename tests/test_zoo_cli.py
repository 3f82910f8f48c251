"""`bench train`, `bench zoo ship` and `bench zoo` as a user meets them: exit codes, one-line errors,
and shipped weights that are only ever replaced on purpose."""
import hashlib
import json
import shutil
from pathlib import Path

import pytest
import torch

from bench.cli import main
from methods import zoo
from zoo_tiny import NAME  # tests/plugins: registers the tiny test component
from zoo_tiny import build

SHIPPED = Path(zoo.__file__).resolve().parents[1] / "weights"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line_error(capsys, *needles) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("bench: error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    """cwd = tmp_path (so runs/ lands there) and EDITSC_WEIGHTS = a copy of the shipped deepsc files."""
    weights = tmp_path / "weights"
    weights.mkdir()
    for f in ("deepsc.pt", "deepsc.json"):
        shutil.copy(SHIPPED / f, weights / f)
    monkeypatch.setenv("EDITSC_WEIGHTS", str(weights))
    monkeypatch.chdir(tmp_path)
    return weights


# ----------------------------------------------------------------------------- bench train

@pytest.mark.parametrize("args,needles", [
    (["--steps", "-5"], ["--steps must be >= 1", "got -5"]),
    (["--steps", "0"], ["--steps must be >= 1", "got 0"]),
    (["--seed", "-1"], ["--seed must be >= 0"]),
    (["--device", "tpu"], ["--device 'tpu'", "auto, cpu or cuda"]),
])
def test_train_refuses_bad_arguments_before_writing_anything(sandbox, capsys, args, needles):
    real_before, copy_before = _sha(SHIPPED / "deepsc.pt"), _sha(sandbox / "deepsc.pt")
    assert main(["train", "deepsc", *args]) == 2
    one_line_error(capsys, *needles)
    assert _sha(SHIPPED / "deepsc.pt") == real_before and _sha(sandbox / "deepsc.pt") == copy_before
    assert not (sandbox.parent / "runs").exists()  # no work dir, no log, no state


def test_train_refuses_cuda_without_a_gpu(sandbox, capsys, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert main(["train", "deepsc", "--device", "cuda"]) == 2
    one_line_error(capsys, "no CUDA device", "--device cpu")
    assert not (sandbox.parent / "runs").exists()


def test_train_context_refuses_non_positive_steps(tmp_path):
    from bench.errors import UserError

    for steps in (0, -5):
        with pytest.raises(UserError, match="steps must be >= 1"):
            zoo.TrainContext(NAME, seed=0, device="cpu", steps=steps, work_dir=tmp_path)


def test_train_writes_into_its_work_dir_never_the_weights(sandbox, capsys):
    assert main(["train", NAME, "--steps", "4", "--device", "cpu"]) == 0
    work = sandbox.parent / "runs" / "train" / NAME
    assert (work / f"{NAME}.pt").is_file() and (work / f"{NAME}.json").is_file()
    assert not (sandbox / f"{NAME}.pt").exists() and not (sandbox / f"{NAME}.json").exists()
    assert "bench zoo ship" in capsys.readouterr().out  # says how to ship it
    zoo.load_model(NAME, work / f"{NAME}.pt")
    card = json.loads((work / f"{NAME}.json").read_text())
    assert card["command"] == f"bench train {NAME} --seed 0 --steps 4" and card["steps"] == 4
    # --dest still overrides
    assert main(["train", NAME, "--steps", "4", "--fresh", "--dest", "elsewhere"]) == 0
    assert (sandbox.parent / "elsewhere" / f"{NAME}.pt").is_file()


# ----------------------------------------------------------------------------- bench zoo ship

def test_ship_lands_a_valid_checkpoint_with_its_card(sandbox, capsys):
    assert main(["train", NAME, "--steps", "4"]) == 0
    work = sandbox.parent / "runs" / "train" / NAME
    capsys.readouterr()
    assert main(["zoo", "ship", NAME]) == 0
    assert (sandbox / f"{NAME}.pt").read_bytes() == (work / f"{NAME}.pt").read_bytes()
    assert (sandbox / f"{NAME}.json").read_bytes() == (work / f"{NAME}.json").read_bytes()
    assert f"shipped {NAME}" in capsys.readouterr().out
    zoo.load_model(NAME)  # from the weights dir now
    assert not [p for p in sandbox.iterdir() if ".tmp" in p.name]  # no temporaries left behind


def test_ship_from_a_path(sandbox, tmp_path):
    src = tmp_path / "mine" / f"{NAME}.pt"
    zoo.save_checkpoint(src, NAME, {"width": 4}, build({"width": 4}).state_dict(),
                        card=zoo.base_card(NAME, {"width": 4}, 0, 1, 0.0, "cpu", "ones", {}, f"bench train {NAME}"))
    assert main(["zoo", "ship", NAME, "--from", str(src)]) == 0
    assert (sandbox / f"{NAME}.pt").read_bytes() == src.read_bytes()


@pytest.mark.parametrize("garbage", [b"not a checkpoint at all" * 10, b"PK\x03\x04" + b"\x00" * 200])
def test_ship_refuses_a_garbage_file_and_changes_nothing(sandbox, tmp_path, capsys, garbage):
    src = tmp_path / "g" / "deepsc.pt"
    src.parent.mkdir()
    src.write_bytes(garbage)
    shutil.copy(SHIPPED / "deepsc.json", src.with_suffix(".json"))
    before = _sha(sandbox / "deepsc.pt"), _sha(sandbox / "deepsc.json")
    assert main(["zoo", "ship", "deepsc", "--from", str(src)]) == 2
    one_line_error(capsys, str(src), "truncated or corrupted")
    assert (_sha(sandbox / "deepsc.pt"), _sha(sandbox / "deepsc.json")) == before
    assert sorted(p.name for p in sandbox.iterdir()) == ["deepsc.json", "deepsc.pt"]


def test_ship_refuses_another_components_checkpoint(sandbox, tmp_path, capsys):
    src = tmp_path / "x" / "deepsc.pt"
    src.parent.mkdir()
    shutil.copy(SHIPPED / "stylegan2.pt", src)
    shutil.copy(SHIPPED / "stylegan2.json", src.with_suffix(".json"))
    before = _sha(sandbox / "deepsc.pt")
    assert main(["zoo", "ship", "deepsc", "--from", str(src)]) == 2
    one_line_error(capsys, "'stylegan2' checkpoint, not 'deepsc'")
    assert _sha(sandbox / "deepsc.pt") == before


def test_ship_requires_a_valid_card_beside_the_checkpoint(sandbox, tmp_path, capsys):
    src = tmp_path / "c" / f"{NAME}.pt"
    zoo.save_checkpoint(src, NAME, {"width": 4}, build({"width": 4}).state_dict())
    assert main(["zoo", "ship", NAME, "--from", str(src)]) == 2
    one_line_error(capsys, "no card", str(src.with_suffix(".json")))
    src.with_suffix(".json").write_text("[1, 2]")
    assert main(["zoo", "ship", NAME, "--from", str(src)]) == 2
    one_line_error(capsys, "card", "not a JSON object")
    assert not (sandbox / f"{NAME}.pt").exists()


def test_ship_without_a_trained_checkpoint_names_the_train_command(sandbox, capsys):
    assert main(["zoo", "ship", NAME]) == 2
    one_line_error(capsys, f"runs/train/{NAME}/{NAME}.pt", f"'bench train {NAME}'")
    assert main(["zoo", "ship", "deepsx"]) == 2
    one_line_error(capsys, "unknown component 'deepsx'", "did you mean 'deepsc'")


# ----------------------------------------------------------------------------- bench zoo (listing)

def zoo_block(capsys, name: str) -> str:
    """`bench zoo`'s lines about `name` (its line and the indented ones after it)."""
    code = main(["zoo"])
    captured = capsys.readouterr()
    # exit 1 exactly when a shipped component is unusable, with a line saying so (not shipped: only listed)
    assert code in (0, 1) and (code == 1) == ("not usable" in captured.err)
    assert "Traceback" not in captured.err, captured.err
    block, inside = [], False
    for line in captured.out.splitlines():
        if line and not line[0].isspace():
            inside = line.split()[0] == name
        if inside:
            block.append(line)
    assert block, captured.out
    return "\n".join(block)


def test_zoo_shows_ok_and_quality_for_a_sound_component(sandbox, capsys):
    block = zoo_block(capsys, "deepsc")
    assert "status: ok" in block and "psnr_test_+18dB=" in block and "steps=" in block
    assert "not shipped: make it with 'bench train stylegan2' then 'bench zoo ship stylegan2'" in \
        zoo_block(capsys, "stylegan2")


@pytest.mark.parametrize("content,needles", [
    ("[1, 2, 3]", ["is an array, not a JSON object"]),
    ('{"component": "deepsc", "quality": "great", "steps": 1, "seed": 0, "command": "bench train deepsc"}',
     ["has 'quality' = a string, expected an object"]),
    ('{"component": "deepsc", "quality": {}, "seed": 0, "command": "x"}', ["has no 'steps' field"]),
    ('{"component": "stylegan2", "quality": {}, "steps": 1, "seed": 0, "command": "x"}',
     ["is the card of 'stylegan2', not 'deepsc'"]),
    ("{this is not json", ["is not valid JSON"]),
    (b"\xff\xfe\x00garbage", ["is not valid JSON"]),
])
def test_zoo_reports_an_invalid_card_without_figures(sandbox, capsys, content, needles):
    card = sandbox / "deepsc.json"
    card.write_bytes(content if isinstance(content, bytes) else content.encode())
    block = zoo_block(capsys, "deepsc")
    assert f"status: card invalid: card {card}" in block
    for needle in needles:
        assert needle in block, block
    assert "status: ok" not in block and "psnr" not in block and "status: weights broken" not in block


def test_zoo_reports_a_missing_card(sandbox, capsys):
    (sandbox / "deepsc.json").unlink()
    block = zoo_block(capsys, "deepsc")
    assert f"status: card missing: no card at {sandbox / 'deepsc.json'}" in block
    assert "status: ok" not in block and "psnr" not in block


@pytest.mark.parametrize("mangle", ["garbage", "truncated", "other-component"])
def test_zoo_reports_broken_weights_without_the_cards_figures(sandbox, capsys, mangle):
    pt = sandbox / "deepsc.pt"
    if mangle == "garbage":
        pt.write_bytes(b"garbage" * 1000)
    elif mangle == "truncated":
        pt.write_bytes(pt.read_bytes()[: pt.stat().st_size // 2])
    else:
        shutil.copy(SHIPPED / "stylegan2.pt", pt)
    block = zoo_block(capsys, "deepsc")
    assert "status: weights broken:" in block and str(pt) in block
    assert "'bench train deepsc' then 'bench zoo ship deepsc'" in block
    assert "status: ok" not in block and "psnr" not in block  # the card's figures are not the file's
    assert main(["zoo"]) == 1  # CI can gate on a sound zoo
    assert "1 shipped component(s) not usable: deepsc" in capsys.readouterr().err


def test_zoo_lists_every_shipped_component_as_ok(capsys):
    assert main(["zoo"]) == 0  # the repository's zoo is sound: exit 0
    out = capsys.readouterr().out
    assert out.count("status: ok") == len(list(SHIPPED.glob("*.pt")))


def test_benchmarks_are_not_filed_on_an_invalid_card(sandbox):
    from methods.zoo import bench as zoo_bench

    (sandbox / "deepsc.json").write_text("[]")
    assert zoo_bench.file_on_cards({"deepsc": {"machine": {}, "results": {}}}) == []
    assert (sandbox / "deepsc.json").read_text() == "[]"
