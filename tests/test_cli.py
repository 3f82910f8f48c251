"""The `bench` command line as a user meets it: subprocesses, exit codes, one-line errors."""
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SNRS = ["-6", "0", "6", "12", "18"]


def bench(args, env, cwd=None, timeout=180):
    return subprocess.run([sys.executable, "-m", "bench.cli", *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def assert_clean_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_method_specs_with_options_split_correctly():
    from bench.cli import split_specs

    assert split_specs("jpeg-ldpc:bpp=0.5,rate=0.5,uncoded") == ["jpeg-ldpc:bpp=0.5,rate=0.5", "uncoded"]
    assert split_specs("uncoded, jpeg-ldpc") == ["uncoded", "jpeg-ldpc"]
    assert split_specs("a:x=1,b:y=2,z=3") == ["a:x=1", "b:y=2,z=3"]


def test_list_shows_every_registry(bench_env):
    proc = bench(["list"], bench_env)
    assert proc.returncode == 0, proc.stderr
    for name in ("uncoded", "awgn", "rayleigh", "folder", "testkit-gradients"):
        assert name in proc.stdout
    assert "methods:" in proc.stdout and "channels:" in proc.stdout and "datasets:" in proc.stdout


@pytest.mark.parametrize("args,needles", [
    (["--methods", "uncodd"], ["unknown method 'uncodd'", "did you mean 'uncoded'"]),
    (["--channel", "rayleigh-x"], ["unknown channel"]),
    (["--dataset", "foldr:/x"], ["unknown dataset 'foldr'", "did you mean 'folder'"]),
    (["--snr", "abc"], ["SNR value 'abc' is not a number"]),
    (["--snr", "-inf"], ["SNR value '-inf' is not finite"]),
    (["--snr", "6", "nan"], ["'nan' is not finite"]),
    (["--dataset", "folder:/no/such/dir"], ["/no/such/dir does not exist"]),
    (["--channel", "rayleigh:fading=slow"], ["fading='slow'"]),
    (["--channel", "rayleigh:fadingblock"], ["key=value"]),
])
def test_bad_input_is_one_line_exit_2(bench_env, tmp_path, args, needles):
    base = ["run", "--snr", "0", "--methods", "uncoded", "--dataset", "testkit-gradients", "--n", "1",
            "--out", str(tmp_path / "o"), "--no-progress"]
    # later flags override earlier ones in argparse
    proc = bench(base + args, bench_env)
    assert_clean_error(proc, *needles)


def test_empty_folder_and_unwritable_out(bench_env, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = bench(["run", "--snr", "0", "--methods", "uncoded", "--dataset", f"folder:{empty}", "--out", str(tmp_path / "o")], bench_env)
    assert_clean_error(proc, "holds no images")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = bench(["run", "--snr", "0", "--methods", "uncoded", "--dataset", "testkit-gradients",
                  "--out", str(blocker / "sub")], bench_env)
    assert_clean_error(proc, "not writable")


def test_incompatible_database(bench_env, tmp_path):
    out = tmp_path / "o"
    out.mkdir()
    with sqlite3.connect(out / "results.sqlite") as c:
        c.execute("CREATE TABLE results (a)")
        c.execute("PRAGMA user_version = 7")
    proc = bench(["run", "--snr", "0", "--methods", "uncoded", "--dataset", "testkit-gradients",
                  "--out", str(out)], bench_env)
    assert_clean_error(proc, "schema version 7")


def test_folder_dataset_run_and_report(bench_env, tmp_path):
    folder = tmp_path / "imgs"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 255, (40, 50, 3), dtype=np.uint8)).save(folder / f"{i}.png")
    (folder / "broken.png").write_bytes(b"\x89PNG not really")
    out = tmp_path / "o"
    proc = bench(["run", "--snr", "-6", "0", "6", "12", "18", "--methods", "uncoded", "--dataset",
                  f"folder:{folder}", "--size", "32", "--metrics", "psnr", "--out", str(out), "--no-progress"],
                 bench_env)
    assert proc.returncode == 0, proc.stderr
    assert "broken.png" in proc.stderr  # skipped with a warning naming it
    assert "15 new rows" in proc.stdout and "uncoded" in proc.stdout
    rep = bench(["report", "--out", str(out)], bench_env)
    assert rep.returncode == 0, rep.stderr
    written = [Path(p) for p in rep.stdout.split()]
    names = {p.name for p in written}
    assert {"snr_psnr.png", "snr_psnr.csv", "cbr.csv", "cbr.md", "timing.csv", "timing.md",
            "snr_decode_failure_rate.png"} <= names
    assert {"snr_FD-VGG16.png", "snr_KD-VGG16.csv"} <= names or {"snr_FID.png", "snr_KID.csv"} <= names
    assert all(p.stat().st_size > 0 for p in written)
    cbr = (out / "report" / "cbr.csv").read_text()
    assert "uncoded" in cbr and "0.5000" in cbr and "1.0000" in cbr


def test_kill_9_then_resume_loses_and_duplicates_nothing(bench_env, tmp_path):
    out = tmp_path / "o"
    args = ["run", "--snr", *SNRS, "--methods", "testkit-counting:delay=0.04", "--dataset", "testkit-gradients",
            "--n", "8", "--metrics", "psnr", "--out", str(out), "--no-progress", "--no-set-metrics"]
    proc = subprocess.Popen([sys.executable, "-m", "bench.cli", *args], env=bench_env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    db = out / "results.sqlite"
    deadline = time.time() + 120
    done = 0
    while time.time() < deadline and proc.poll() is None:
        if db.exists():
            try:
                with sqlite3.connect(db) as c:
                    done = c.execute("SELECT COUNT(*) FROM results").fetchone()[0]
            except sqlite3.OperationalError:
                pass
        if done >= 12:
            break
        time.sleep(0.02)
    assert proc.poll() is None, "run finished before it could be killed; raise the delay"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(db) as c:
        before = c.execute("SELECT method, image_id, snr FROM results").fetchall()
    assert 12 <= len(before) < 40
    finished_images = {i for i, n in Counter(i for _, i, _ in before).items() if n == len(SNRS)}

    again = bench(args, bench_env)
    assert again.returncode == 0, again.stderr
    with sqlite3.connect(db) as c:
        rows = c.execute("SELECT method, image_id, snr FROM results").fetchall()
    assert len(rows) == 8 * len(SNRS) == len(set(rows))
    assert set(before) <= set(rows)
    prepares = Counter(Path(bench_env["TESTKIT_LOG"]).read_text().split()[1::2])
    for image in finished_images:  # finished work is not redone
        assert prepares[image] == 1
    assert set(prepares) == {f"g{i:04d}" for i in range(8)}
