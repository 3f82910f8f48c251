"""The prepared GPU run (scripts/device/prior_on_gpu.sh) and its unpacking, dry-run on the CPU.

A lent GPU comes with 15 minutes and no second try, so the script must work the first time: this
runs it end to end with DEVICE=cpu on 64 images for two seconds of training, then unpacks what it
would bring back and checks that the result continues the shipped pair and resumes.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def _env(tmp_path, **extra):
    env = {**os.environ, "PYTHON": sys.executable, "EDITSC_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    env.update(extra)
    return env


def test_prior_on_gpu_dry_run_on_cpu_then_unpack(tmp_path):
    from bench.provenance import file_digest
    from methods.zoo import weights_path

    out, work = tmp_path / "out", tmp_path / "work"
    out.mkdir()
    run = subprocess.run(["bash", "scripts/device/prior_on_gpu.sh"], cwd=ROOT, capture_output=True, text=True,
                         env=_env(tmp_path, OUT=str(out), DEVICE="cpu", GEN_S="2", N_TRAIN="64", WORK=str(work)),
                         timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    names = sorted(p.name for p in out.iterdir())
    assert "prior.tgz" in names and "run.log" in names and any(n.startswith("last.pt.part-") for n in names)
    assert len(names) <= 8 and all((out / n).stat().st_size <= 16 * 2**20 for n in names)  # the tool's limits

    dest = tmp_path / "restored"
    unpack = subprocess.run(["bash", "scripts/device/unpack_prior.sh", str(out), str(dest)], cwd=ROOT,
                            capture_output=True, text=True, env=_env(tmp_path), timeout=300)
    assert unpack.returncode == 0, unpack.stdout[-3000:] + unpack.stderr[-3000:]
    assert "bench zoo ship stylegan2 --from" in unpack.stdout
    card = json.loads((dest / "stylegan2.json").read_text())
    record = card["quality"]["continued_from"]
    staged = ROOT / "methods" / "weights" / "staging" / "stylegan2.pt"
    start = staged if staged.exists() else weights_path("stylegan2")  # the script prefers a staged pair
    assert record["generator_sha256"] == file_digest(start)
    assert record["discriminator_sha256"] == file_digest(start.with_name("stylegan2-discriminator.pt"))
    steps = card["steps"]
    assert steps >= 1 and card["quality"]["stopped_by_time_budget"]["step"] == steps
    assert f"--steps {steps} " in card["command"] and "time_budget_s" not in card["command"]
    state = torch.load(dest / "last.pt", map_location="cpu", weights_only=True)
    assert state["step"] == steps and state["init_record"] == record  # reassembled from its parts, resumable
    pre = json.loads((dest / "preflight.json").read_text())
    assert pre["renders_world2_as_pinned"] is True


def test_prior_on_gpu_refuses_without_cuda_before_training(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    out = tmp_path / "out"
    out.mkdir()
    run = subprocess.run(["bash", "scripts/device/prior_on_gpu.sh"], cwd=ROOT, capture_output=True, text=True,
                         env=_env(tmp_path, OUT=str(out), WORK=str(tmp_path / "work")), timeout=300)
    assert run.returncode != 0 and "no CUDA device" in run.stdout + run.stderr
    assert not (tmp_path / "work" / "last.pt").exists()


def test_unpack_prior_names_what_is_missing(tmp_path):
    (tmp_path / "run.log").write_text("boom")
    run = subprocess.run(["bash", "scripts/device/unpack_prior.sh", str(tmp_path), str(tmp_path / "w")], cwd=ROOT,
                         capture_output=True, text=True, env=_env(tmp_path), timeout=60)
    assert run.returncode == 2 and "no prior.tgz" in run.stderr and "run.log" in run.stderr
