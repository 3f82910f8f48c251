"""`bench parse`: the shipped instruction encoder's reading of requests, checked against the
instruction language's own labels (through the CLI entry point, in process)."""
import json
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from bench.cli import main


@pytest.fixture
def bench(capsys):
    def run(args, env=None):
        code = main(list(args))
        out = capsys.readouterr()
        return SimpleNamespace(returncode=code, stdout=out.out, stderr=out.err)
    return run


def test_train_template_sentences_parse_to_their_labels(bench, bench_env):
    from datasets.instructions import ATTRIBUTES, generate

    rng = np.random.default_rng(2024)
    sentences = [generate(rng, None, split="train") for _ in range(10)]
    assert {s.mode for s in sentences} == {"definite", "indefinite", "target"}  # every mode is exercised
    proc = bench(["parse", "--json", *[s.text for s in sentences]], bench_env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert len(lines) == len(sentences)
    for ins, line in zip(sentences, lines):
        got = json.loads(line)
        assert got["text"] == ins.text and got["understood"] is True and got["reason"] is None
        assert got["attribute"] == ins.attribute and got["attribute_name"] == ATTRIBUTES[ins.attribute]
        assert got["mode"] == ins.mode
        if ins.mode == "target":  # direction/Δ depend on the current degree: unresolved
            assert got["target"] == ins.target and got["direction"] is None and got["delta"] is None
            assert isinstance(got["target_meaning"], str) and got["target_meaning"]
        else:
            assert (got["direction"], got["delta"], got["target"]) == (ins.direction, ins.delta, None)
        assert 0.6 <= got["confidence"] <= 1.0  # the parser's acceptance threshold

    # the plain output: one line per sentence, same reading
    first = sentences[0]
    proc = bench(["parse", first.text], bench_env)
    assert proc.returncode == 0, proc.stderr
    [line] = proc.stdout.splitlines()
    assert line.startswith(json.dumps(first.text) + ": ")
    assert f"attribute={ATTRIBUTES[first.attribute]}" in line and f"mode={first.mode}" in line


def test_non_request_exits_2_with_a_reason(bench, bench_env):
    clear = "make her smile a bit more"
    proc = bench(["parse", clear, "what is the weather in Paris"], bench_env)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    [err] = proc.stderr.splitlines()
    assert err.startswith('bench: error: "what is the weather in Paris": not understood: ')
    assert "not a request to edit a known attribute" in err
    [out] = proc.stdout.splitlines()  # the understood one is still reported
    assert out.startswith(json.dumps(clear)) and "attribute=Smiling" in out and "direction=+1" in out

    proc = bench(["parse", "--json", "what is the weather in Paris", "", "glasses please"], bench_env)
    assert proc.returncode == 2 and proc.stderr == ""
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["text"] for r in rows] == ["what is the weather in Paris", "", "glasses please"]
    for r in rows[:2]:
        assert r["understood"] is False and r["reason"]
        assert r["attribute"] is None and r["mode"] is None and r["direction"] is None
    assert rows[1]["reason"] == "empty request"


def test_no_text_is_a_usage_error(bench_env):
    proc = subprocess.run([sys.executable, "-m", "bench.cli", "parse"], env=bench_env, capture_output=True,
                          text=True, timeout=180)  # argparse exits: run it as a user does
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
