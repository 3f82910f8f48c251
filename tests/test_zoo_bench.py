"""`bench zoo --bench`: benchmark timings filed on the component cards."""
import json
import shutil
from pathlib import Path

import pytest

from bench.errors import UserError
from methods.zoo import bench as zoo_bench
from methods.zoo import read_card


def _bench_json(tmp_path: Path) -> Path:
    """A pytest-benchmark JSON in the format pytest-benchmark 4/5 writes (trimmed to the keys read)."""
    def entry(name, comp, mean, extra=None):
        info = {"component": comp, **(extra or {})} if comp else dict(extra or {})
        return {"group": None, "name": name, "fullname": f"tests/benchmarks/x.py::{name}", "params": None,
                "param": None, "extra_info": info, "options": {},
                "stats": {"min": mean * 0.9, "max": mean * 1.1, "mean": mean, "stddev": mean * 0.05, "rounds": 10,
                          "median": mean, "iqr": 0.0, "q1": mean, "q3": mean, "iqr_outliers": 0,
                          "stddev_outliers": 0, "outliers": "0;0", "ld15iqr": mean, "hd15iqr": mean,
                          "ops": 1 / mean, "total": 10 * mean, "iterations": 1}}

    data = {"machine_info": {"python_version": "3.11.7", "cpu": {"brand_raw": "Test CPU", "count": 2}},
            "commit_info": {}, "datetime": "2026-11-22T00:00:00+00:00", "version": "5.1.0",
            "benchmarks": [entry("test_generator_forward[1]", "stylegan2", 0.009, {"ms_per_image": 9.0}),
                           entry("test_generator_forward[8]", "stylegan2", 0.064, {"ms_per_image": 8.0}),
                           entry("test_bench_deepsc_encode[1]", "deepsc", 0.004, {"images_per_s": 250.0}),
                           entry("test_bench_qam4", None, 0.02)]}
    p = tmp_path / "bench.json"
    p.write_text(json.dumps(data))
    return p


def test_results_are_grouped_by_component_with_derived_figures(tmp_path):
    res = zoo_bench.results_by_component(_bench_json(tmp_path), load_avg=0.5)
    assert set(res) == {"stylegan2", "deepsc"}  # the unmarked benchmark belongs to no card
    g = res["stylegan2"]
    assert g["machine"] == {"cpu": "Test CPU", "cores": 2, "torch_threads": 1, "python": "3.11.7",
                            "load_avg_at_start": 0.5}
    assert g["results"]["test_generator_forward[8]"] == {"mean_ms": 64.0, "min_ms": 57.6, "stddev_ms": 3.2,
                                                         "rounds": 10, "ms_per_image": 8.0}
    assert res["deepsc"]["results"]["test_bench_deepsc_encode[1]"]["images_per_s"] == 250.0


def test_timings_are_filed_on_shipped_cards_only(tmp_path, monkeypatch):
    src = Path(zoo_bench.__file__).resolve().parents[1] / "weights"
    dst = tmp_path / "weights"
    dst.mkdir()
    shutil.copy(src / "deepsc.json", dst / "deepsc.json")  # stylegan2's card is absent: not shipped here
    monkeypatch.setenv("EDITSC_WEIGHTS", str(dst))
    before = read_card("deepsc")
    done = zoo_bench.file_on_cards(zoo_bench.results_by_component(_bench_json(tmp_path)))
    assert done == ["deepsc"]
    after = read_card("deepsc")
    assert after["benchmarks"]["results"]["test_bench_deepsc_encode[1]"]["mean_ms"] == 4.0
    assert {k: v for k, v in after.items() if k != "benchmarks"} == \
        {k: v for k, v in before.items() if k != "benchmarks"}  # nothing else on the card changed
    assert "deepsc_encode[1]=4 ms" in zoo_bench.benchmark_summary(after)


def test_bad_benchmark_json_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("{not json")
    with pytest.raises(UserError, match="not a pytest-benchmark JSON"):
        zoo_bench.results_by_component(bad)


def test_cli_files_an_existing_json(tmp_path, monkeypatch, capsys):
    from bench.cli import main

    dst = tmp_path / "weights"
    dst.mkdir()
    for f in ("deepsc.json", "deepsc.pt"):
        shutil.copy(Path(zoo_bench.__file__).resolve().parents[1] / "weights" / f, dst / f)
    monkeypatch.setenv("EDITSC_WEIGHTS", str(dst))
    assert main(["zoo", "--bench-json", str(_bench_json(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "filed on the cards of: deepsc" in out and "bench (Test CPU, 1 thread): deepsc_encode[1]=4 ms" in out


def test_missing_benchmark_files_are_a_clear_error(tmp_path):
    with pytest.raises(UserError, match="run 'bench zoo --bench' from a checkout"):
        zoo_bench.run_benchmarks(tmp_path / "o.json", files=("tests/benchmarks/nope.py",))
