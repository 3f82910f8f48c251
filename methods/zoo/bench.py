"""`bench zoo --bench`: run the zoo's CPU benchmarks and file each timing on its component's card.

The benchmarks live in ``tests/benchmarks`` (pytest-benchmark, one torch thread); those marked
``@pytest.mark.zoo_component("NAME")`` carry NAME in their ``extra_info``. This module runs
them in a subprocess (``--benchmark-only --benchmark-json``), then writes, per component, a
``benchmarks`` entry into ``methods/weights/NAME.json``: the machine (CPU, cores, threads), the
date, and per benchmark the mean / min / stddev in ms, rounds, and the benchmark's own derived
figures (ms per image, images per second, ...). Timings depend on the architecture, not the
weights, but a re-export of a checkpoint writes a fresh card: run ``bench zoo --bench`` after
``bench train``.
"""
from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from bench.errors import UserError

ROOT = Path(__file__).resolve().parents[2]
BENCH_FILES = ("tests/benchmarks/test_bench_stylegan2.py", "tests/benchmarks/test_bench_face_nets.py",
               "tests/benchmarks/test_bench_text_image_nets.py")


def run_benchmarks(out_json: Path, files=BENCH_FILES) -> Path:
    """Run the benchmark files (paths relative to the repository) into ``out_json``."""
    paths = [ROOT / f for f in files]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise UserError(f"benchmark files not found: {', '.join(missing)} - run 'bench zoo --bench' from a "
                        "checkout of the repository (the benchmarks live in tests/benchmarks)")
    try:
        import pytest_benchmark  # noqa: F401
    except ImportError:
        raise UserError("pytest-benchmark is not installed - install the test extra "
                        "(pip install -e '.[test]', or bash scripts/setup.sh)") from None
    out_json = Path(out_json)
    out_json.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pytest", *map(str, paths), "--benchmark-only", f"--benchmark-json={out_json}",
           "-p", "no:cacheprovider", "-q"]
    proc = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"})
    if proc.returncode != 0 or not out_json.exists():
        raise UserError(f"the benchmarks failed (pytest exit {proc.returncode}); rerun "
                        f"'{' '.join(cmd[2:])}' to see why")
    return out_json


def results_by_component(bench_json: Path, load_avg: float | None = None) -> dict[str, dict]:
    """pytest-benchmark JSON -> {component: {"machine", "measured", "results": {test: figures}}}.

    load_avg: the 1-minute load average when the run started (timings on a busy machine are
    slower; the card says so)."""
    try:
        data = json.loads(Path(bench_json).read_text())
        benches = data["benchmarks"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UserError(f"{bench_json} is not a pytest-benchmark JSON file ({type(exc).__name__}: {exc})") from None
    info = data.get("machine_info") or {}
    cpu = info.get("cpu") or {}
    machine = {"cpu": cpu.get("brand_raw") or info.get("processor") or platform.processor() or "?",
               "cores": cpu.get("count") or os.cpu_count(), "torch_threads": 1,
               "python": info.get("python_version") or platform.python_version()}
    if load_avg is not None:
        machine["load_avg_at_start"] = round(float(load_avg), 2)
    measured = data.get("datetime") or time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    out: dict[str, dict] = {}
    for b in benches:
        extra = dict(b.get("extra_info") or {})
        comp = extra.pop("component", None)
        if comp is None:
            continue
        st = b["stats"]
        fig = {"mean_ms": round(1000 * st["mean"], 3), "min_ms": round(1000 * st["min"], 3),
               "stddev_ms": round(1000 * st["stddev"], 3), "rounds": int(st["rounds"])}
        fig.update({k: round(float(v), 3) for k, v in extra.items() if isinstance(v, (int, float))})
        entry = out.setdefault(comp, {"machine": machine, "measured": measured, "results": {}})
        entry["results"][b["name"]] = fig
    return out


def file_on_cards(results: dict[str, dict]) -> list[str]:
    """Write each component's timings into its card; returns the components updated.

    A missing card (not shipped) or an invalid one is left alone: `bench zoo` reports the latter.
    """
    from bench.errors import UserError
    from methods.zoo import card_path, read_card, write_card

    done = []
    for name, entry in sorted(results.items()):
        try:
            card = read_card(name)
        except UserError:
            continue  # an invalid card is not rewritten (that would hide what is wrong with it)
        if card is None:
            continue  # not shipped: nothing to attach the timings to
        card["benchmarks"] = entry
        write_card(card_path(name), card)
        done.append(name)
    return done


def benchmark_summary(card: dict, limit: int = 4) -> str:
    """One line for `bench zoo`: the first few benchmarks' mean times."""
    res = (card.get("benchmarks") or {}).get("results") or {}
    parts = [f"{k.removeprefix('test_').removeprefix('bench_')}={v['mean_ms']:.4g} ms" for k, v in list(res.items())[:limit]]
    more = f" (+{len(res) - limit} more)" if len(res) > limit else ""
    return ", ".join(parts) + more
