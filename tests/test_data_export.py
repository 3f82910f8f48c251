"""`bench data export`: the files hold exactly what the dataset yields (pixels, labels, ground-truth
edits), and the command never leaves a half-written or clobbered folder."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bench.errors import UserError


def bench(args, env):
    return subprocess.run([sys.executable, "-m", "bench.cli", *args], env=env, capture_output=True, text=True,
                          timeout=180)


def png(path):
    return np.asarray(Image.open(path).convert("RGB"))


def listing(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def leftovers(parent: Path) -> list[str]:
    return [p.name for p in parent.iterdir() if ".partial-" in p.name or ".old-" in p.name]


def assert_clean_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("bench: error: "), proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_synthfaces_export_equals_the_dataset(bench_env, tmp_path, registries):
    from bench.registry import DATASETS

    out = tmp_path / "export"
    proc = bench(["data", "export", "synthfaces", "--n", "3", "--size", "32", "--seed", "5", "--out", str(out)],
                 bench_env)
    assert proc.returncode == 0, proc.stderr
    assert "exported 3 item(s)" in proc.stdout
    items = list(DATASETS.create("synthfaces").items(3, 32, 5))
    lines = [json.loads(line) for line in (out / "labels.jsonl").read_text().splitlines()]
    assert [line["id"] for line in lines] == [it.id for it in items]
    for item, line in zip(items, lines):
        image = png(out / line["file"])
        assert image.shape == (32, 32, 3) and np.array_equal(image, item.image)
        assert line["instruction"] == item.instruction and item.instruction
        assert line["labels"] == json.loads(json.dumps(item.labels))  # identity, attributes, request, expected degree
        assert line["labels"]["request"]["text"] == item.instruction
        assert item.target is not None
        assert line["target"] and np.array_equal(png(out / line["target"]), item.target)
    meta = json.loads((out / "dataset.json").read_text())
    assert (meta["spec"], meta["dataset"], meta["n"], meta["items"], meta["targets"], meta["size"], meta["seed"]) \
        == ("synthfaces", "synthfaces:split=test,world=2", 3, 3, 3, 32, 5)
    from importlib.metadata import version

    assert meta["bench_version"] == version("editsc-bench")
    assert sorted(p.name for p in out.iterdir()) == ["dataset.json", "images", "labels.jsonl", "targets"]
    assert leftovers(tmp_path) == []


def test_non_empty_out_is_refused_and_untouched(bench_env, tmp_path):
    out = tmp_path / "mine"
    (out / "sub").mkdir(parents=True)
    (out / "notes.txt").write_text("precious")
    (out / "sub" / "x.png").write_bytes(b"not an export")
    before = listing(out)
    proc = bench(["data", "export", "synthfaces", "--n", "1", "--size", "16", "--out", str(out)], bench_env)
    assert_clean_error(proc, "exists and is not empty", "--force")
    assert listing(out) == before
    # --force replaces only a previous export, never another folder
    proc = bench(["data", "export", "synthfaces", "--n", "1", "--size", "16", "--out", str(out), "--force"],
                 bench_env)
    assert_clean_error(proc, "not a previous 'bench data export'")
    assert listing(out) == before
    assert leftovers(tmp_path) == []


def test_bad_spec_and_bad_numbers_exit_2_writing_nothing(bench_env, tmp_path):
    out = tmp_path / "o"
    for args, needle in [(["synthfacez"], "unknown dataset 'synthfacez'"),
                         (["synthfaces:split=nope"], "split"),
                         (["folder:/no/such/dir"], "does not exist"),
                         (["synthfaces", "--n", "0"], "--n must be"),
                         (["synthfaces", "--seed", "-1"], "--seed must be")]:
        proc = bench(["data", "export", *args, "--out", str(out)], bench_env)
        assert_clean_error(proc, needle)
        assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_folder_ids_with_slashes_get_safe_unique_file_names(tmp_path, registries):
    from bench.commands.data import export_dataset
    from bench.registry import DATASETS

    src = tmp_path / "src"
    for sub in ("a", "A", ".hid", "A_b"):
        (src / sub).mkdir(parents=True)
    rng = np.random.default_rng(1)
    for rel in ("a/b.png", "a_b.png", "A/b.png", ".hid/x.png", "c d#1.png", "A_b/x.png"):
        Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(src / rel)
    out = tmp_path / "out"
    meta = export_dataset(f"folder:{src}", 10, 16, out)
    items = list(DATASETS.create(f"folder:{src}").items(10, 16))
    lines = [json.loads(line) for line in (out / "labels.jsonl").read_text().splitlines()]
    assert meta["items"] == len(items) == len(lines) and meta["targets"] == 0
    assert [line["id"] for line in lines] == [it.id for it in items]
    assert any("/" in line["id"] for line in lines)
    files = [line["file"] for line in lines]
    assert len({f.lower() for f in files}) == len(files)  # unique, even on case-insensitive file systems
    for item, line in zip(items, lines):
        name = line["file"].split("/", 1)[1]
        assert line["file"].startswith("images/") and "/" not in name and not name.startswith(".")
        assert line["target"] is None and line["instruction"] is None and line["labels"] == {}
        assert np.array_equal(png(out / line["file"]), item.image)
    assert not (out / "targets").exists()


def test_force_replaces_a_previous_export(tmp_path):
    from bench.commands.data import export_dataset

    out = tmp_path / "e"
    export_dataset("synthfaces", 3, 16, out)
    export_dataset("synthfaces-art:split=train", 2, 16, out, seed=1, force=True)
    meta = json.loads((out / "dataset.json").read_text())
    assert (meta["dataset"], meta["items"], meta["seed"]) == ("synthfaces-art:split=train,world=2", 2, 1)
    assert len((out / "labels.jsonl").read_text().splitlines()) == 2
    assert sorted(p.name for p in (out / "images").iterdir()) == ["train-000000.png", "train-000001.png"]
    assert leftovers(tmp_path) == []
    with pytest.raises(UserError, match="not empty"):
        export_dataset("synthfaces", 1, 16, out)


@pytest.mark.parametrize("exc", [KeyboardInterrupt, OSError(28, "No space left on device")])
def test_interrupted_export_leaves_nothing_behind(tmp_path, monkeypatch, exc):
    import bench.commands.data as data

    calls = []
    real = data._write_png

    def failing(array, path, what):
        calls.append(path)
        if len(calls) == 3:  # after the first item's image and target
            raise exc
        real(array, path, what)

    monkeypatch.setattr(data, "_write_png", failing)
    out = tmp_path / "e"
    with pytest.raises(KeyboardInterrupt if exc is KeyboardInterrupt else UserError):
        data.export_dataset("synthfaces", 3, 16, out)
    assert list(tmp_path.iterdir()) == []  # neither the export nor its partial folder

    # a previous export survives a failed --force
    monkeypatch.setattr(data, "_write_png", real)
    data.export_dataset("synthfaces", 1, 16, out)
    before = listing(out)
    calls.clear()
    monkeypatch.setattr(data, "_write_png", failing)
    with pytest.raises(KeyboardInterrupt if exc is KeyboardInterrupt else UserError):
        data.export_dataset("synthfaces", 3, 16, out, force=True)
    assert listing(out) == before and leftovers(tmp_path) == []


def test_safe_name():
    from bench.commands.data import MAX_NAME, safe_name

    taken: set[str] = set()
    assert safe_name("test-000001", taken) == "test-000001"
    assert safe_name("a/b.png", taken) == "a_b"
    assert safe_name("A_B.jpg", taken) == "A_B-2"
    assert safe_name("../..", taken) == "item"
    long = safe_name("x" * 500, taken)
    assert len(long) <= MAX_NAME and long != safe_name("x" * 499 + "y", taken)
