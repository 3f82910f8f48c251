"""Spec options of the registered channels, methods and datasets: a value of the wrong type, a
non-finite number or an absurd size is a one-line error (exit 2) that names the option and the
allowed range, never a traceback, a huge allocation or a 'method failure' mid-run."""
import numpy as np
import pytest

from bench.cli import main


def run(tmp_path, *, methods="uncoded", channel="awgn", dataset="testkit-gradients"):
    return main(["--plugin", "bench_testkit", "run", "--snr", "0", "--methods", methods, "--channel", channel,
                 "--dataset", dataset, "--n", "1", "--out", str(tmp_path / "o"), "--no-progress",
                 "--no-set-metrics"])


def one_line(capsys) -> str:
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("bench: error: "), lines[0]
    return lines[0]


@pytest.mark.parametrize("spec,needles", [
    ("rayleigh:fading=block,block=abc", ["rayleigh block must be an integer >= 0", "got 'abc'"]),
    ("rayleigh:fading=block,block=1.5", ["rayleigh block must be an integer", "got 1.5"]),
    ("rayleigh:fading=block,block=-3", ["rayleigh block must be an integer >= 0", "got -3"]),
    ("rayleigh:fading=block,block=inf", ["rayleigh block must be an integer", "got inf"]),
    ("rayleigh:fading=block,block=true", ["rayleigh block must be an integer", "got True"]),
])
def test_bad_channel_options(tmp_path, capsys, spec, needles):
    assert run(tmp_path, channel=spec) == 2
    line = one_line(capsys)
    for needle in needles:
        assert needle in line, line


@pytest.mark.parametrize("spec,needles", [
    ("jpeg-ldpc:n=100000", ["jpeg-ldpc n must be an integer in [2, 4096]", "got 100000"]),
    ("jpeg-ldpc:n=abc", ["jpeg-ldpc n must be an integer in [2, 4096]", "got 'abc'"]),
    ("jpeg-ldpc:n=100.5", ["jpeg-ldpc n must be an integer", "got 100.5"]),
    ("jpeg-ldpc:n=1", ["jpeg-ldpc n must be an integer in [2, 4096]", "got 1"]),
    ("jpeg-ldpc:bpp=inf", ["jpeg-ldpc bpp must be a finite number in (0, 24]", "got inf"]),
    ("jpeg-ldpc:bpp=nan", ["jpeg-ldpc bpp must be a finite number", "got nan"]),
    ("jpeg-ldpc:bpp=-1", ["jpeg-ldpc bpp must be a finite number in (0, 24]", "got -1"]),
    ("jpeg-ldpc:bpp=1e9", ["jpeg-ldpc bpp must be a finite number in (0, 24]"]),
    ("jpeg-ldpc:bpp=abc", ["jpeg-ldpc bpp must be", "'auto'", "got 'abc'"]),
    ("jpeg-ldpc:rate=abc", ["jpeg-ldpc rate must be a finite number in (0, 1)", "got 'abc'"]),
    ("jpeg-ldpc:rate=inf", ["jpeg-ldpc rate must be a finite number in (0, 1)"]),
    ("jpeg-ldpc:maxiter=abc", ["jpeg-ldpc maxiter must be an integer in [1, 1000]", "got 'abc'"]),
    ("jpeg-ldpc:maxiter=1000000000", ["jpeg-ldpc maxiter must be an integer in [1, 1000]"]),
    ("jpeg-ldpc:maxiter=0", ["jpeg-ldpc maxiter must be an integer in [1, 1000]"]),
])
def test_bad_method_options(tmp_path, capsys, spec, needles):
    assert run(tmp_path, methods=spec) == 2
    line = one_line(capsys)
    for needle in needles:
        assert needle in line, line


@pytest.mark.parametrize("spec,needles", [
    ("celeba:root=/nonexistent,crop=abc", ["celeba crop must be an integer >= 0", "got 'abc'"]),
    ("celeba:root=/nonexistent,crop=-5", ["celeba crop must be an integer >= 0", "got -5"]),
    ("celeba:root=/nonexistent,shuffle=maybe", ["celeba shuffle must be true or false", "got 'maybe'"]),
    ("metfaces:root=/nonexistent,allow_clamp=2", ["metfaces allow_clamp must be true or false", "got 2"]),
    ("celeba-dialog:root=/nonexistent,invert_beard=yes please",
     ["celeba-dialog invert_beard must be true or false", "got 'yes please'"]),
    ("synthfaces:cache_dir=5", ["synthfaces cache_dir must be a directory path", "got 5"]),
])
def test_bad_dataset_options(tmp_path, capsys, spec, needles):
    assert run(tmp_path, dataset=spec) == 2
    line = one_line(capsys)
    for needle in needles:
        assert needle in line, line


def test_good_options_still_pass():
    from bench.registry import CHANNELS, METHODS, load_builtin

    load_builtin()
    assert METHODS.create("jpeg-ldpc:n=1e3,bpp=0.5,maxiter=20").link.code.n == 1002  # 1e3 is integral; n rounds up to 6k
    assert CHANNELS.create("rayleigh:fading=block,block=64").block == 64


def test_a_block_longer_than_the_transmission_costs_nothing():
    """block=10^15 is one coefficient per transmission, exactly like block=0 (same draws), not 16 PB."""
    from channels.analog import Rayleigh

    huge, whole = Rayleigh(fading="block", block=10**15), Rayleigh(fading="block", block=0)
    for k in (0, 1, 7, 1000):
        a = huge.coefficients(k, np.random.default_rng(3))
        b = whole.coefficients(k, np.random.default_rng(3))
        assert a.shape == (k,) and np.array_equal(a, b)
    short = Rayleigh(fading="block", block=4).coefficients(10, np.random.default_rng(0))
    assert len(set(short[:4])) == 1 and short[3] != short[4] and short[8] == short[9]


def test_ldpc_length_bound():
    from channels.channel_coding.ldpc import MAX_N, LDPCCode

    with pytest.raises(ValueError, match=f"at most {MAX_N}"):
        LDPCCode(n=MAX_N + 1)
