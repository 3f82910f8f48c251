"""Plugins (--plugin MODULE, BENCH_PLUGINS): whatever a module raises at import is one line, exit 2."""
import pytest

from bench.cli import main


def one_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("bench: error: "), lines[0]
    return lines[0]


@pytest.mark.parametrize("module,needles", [
    ("bench_broken_plugin", ["plugin module 'bench_broken_plugin'", "RuntimeError", "this plugin is broken on purpose",
                             "bench_broken_plugin.py:2"]),
    ("bench_syntax_error_plugin", ["plugin module 'bench_syntax_error_plugin'", "SyntaxError",
                                   "bench_syntax_error_plugin.py:2"]),
    ("no_such_plugin_module", ["cannot import plugin module 'no_such_plugin_module'"]),
])
def test_a_failing_plugin_is_one_line(capsys, monkeypatch, tmp_path, module, needles):
    # written here, not kept in tests/plugins: a source file that does not parse would trip linters
    (tmp_path / "bench_syntax_error_plugin.py").write_text("x = 1\ndef broken(:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("BENCH_PLUGINS", raising=False)
    assert main(["--plugin", module, "list"]) == 2
    line = one_line(capsys)
    for needle in needles:
        assert needle in line, line


def test_a_failing_plugin_from_the_environment_is_one_line(capsys, monkeypatch):
    monkeypatch.setenv("BENCH_PLUGINS", "bench_testkit,bench_broken_plugin")
    assert main(["list"]) == 2
    assert "plugin module 'bench_broken_plugin' (from BENCH_PLUGINS)" in one_line(capsys)


def test_a_good_plugin_still_loads(capsys, monkeypatch):
    monkeypatch.delenv("BENCH_PLUGINS", raising=False)
    assert main(["--plugin", "bench_testkit", "list"]) == 0
    assert "testkit-gradients" in capsys.readouterr().out
