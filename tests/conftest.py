import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = Path(__file__).resolve().parent / "plugins"
sys.path.insert(0, str(PLUGINS))
os.environ.setdefault("OMP_NUM_THREADS", "2")


@pytest.fixture(scope="session")
def registries():
    from bench.registry import load_builtin

    load_builtin()
    import bench_testkit  # noqa: F401

    return True


@pytest.fixture
def bench_env(tmp_path):
    """Environment for running `bench` in a subprocess with the test plugin importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(PLUGINS), str(ROOT), env.get("PYTHONPATH", "")])
    env["BENCH_PLUGINS"] = "bench_testkit"
    env["TESTKIT_LOG"] = str(tmp_path / "testkit.log")
    return env


@pytest.fixture
def one_thread():
    """Run a test on one torch thread (the 2-core machine also runs other work), then restore."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)
