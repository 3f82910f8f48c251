"""The main job's wall time (issue 14: `bench run --snr -6 0 6 12 18` with no other flag finishes in under
10 minutes on 2 CPU cores). Skipped by default; run with
``pytest tests/benchmarks/test_bench_main_job.py --benchmark-only`` (about 7 minutes at the default n = 2)."""
import pytest


def test_main_job(benchmark, tmp_path):
    from bench.cli import main

    def run():
        return main(["run", "--snr", "-6", "0", "6", "12", "18", "--out", str(tmp_path / "runs"), "--no-progress"])

    rc = benchmark.pedantic(run, rounds=1, warmup_rounds=0)
    benchmark.extra_info["wall_s"] = benchmark.stats.stats.mean
    assert rc == 0
