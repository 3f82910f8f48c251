"""`bench check`: goldens written deliberately, an unchanged system passes, planted regressions (a
shifted noise variance, a broken LDPC decoder) fail with the moved metric named."""
import json

import numpy as np
import pytest

from bench.check import CHECK_CONFIG, GOLDENS, compare, run_check, tolerance
from bench.errors import UserError

SMALL = {"methods": ["uncoded", "jpeg-ldpc"], "dataset": "synthfaces", "snrs": [6.0], "n": 1, "seed": 0,
         "channel": "awgn", "metrics": ["psnr", "ssim"]}


def test_unchanged_passes_and_planted_regressions_fail(tmp_path, monkeypatch, registries):
    goldens = tmp_path / "g.json"
    lines = []
    assert run_check(update=True, goldens=goldens, config=SMALL, echo=lines.append) == 0
    g = json.loads(goldens.read_text())
    assert set(g["values"]) == {"uncoded", "jpeg-ldpc:bpp=auto,rate=0.5,n=1008"} and g["config"] == SMALL
    assert g["values"]["uncoded"]["6"]["psnr"] > 10
    lines.clear()
    assert run_check(goldens=goldens, echo=lines.append) == 0  # the same system: nothing moved
    assert "0 moved" in lines[0]

    import channels.analog as analog

    real_noise = analog.complex_noise
    monkeypatch.setattr(analog, "complex_noise", lambda shape, n0, rng: real_noise(shape, 2 * n0, rng))  # +3 dB noise
    lines.clear()
    assert run_check(goldens=goldens, echo=lines.append) == 1
    text = "\n".join(lines)
    assert "REGRESSION uncoded @ 6 dB psnr" in text
    monkeypatch.setattr(analog, "complex_noise", real_noise)

    from channels.channel_coding.ldpc import LDPCCode

    real_decode = LDPCCode.decode

    def broken(self, llr, n_bits, clip=None):  # a decoder that flips every 50th message bit
        bits, failures = real_decode(self, llr, n_bits)
        bits = np.array(bits)
        bits[::50] ^= 1
        return bits, failures
    monkeypatch.setattr(LDPCCode, "decode", broken)
    lines.clear()
    assert run_check(goldens=goldens, echo=lines.append) == 1
    assert "REGRESSION jpeg-ldpc:bpp=auto,rate=0.5,n=1008 @ 6 dB" in "\n".join(lines)


def test_missing_goldens_and_missing_rows_are_reported():
    with pytest.raises(UserError, match="bench check --update"):
        run_check(goldens=GOLDENS.with_name("nope.json"))
    rows, problems = compare({"values": {"x": {"0": {"psnr": 20.0}}}}, {})
    assert problems and "no rows" in problems[0]
    rows, problems = compare({"values": {"x": {"0": {"psnr": 20.0}}}}, {"x": {"0": {"psnr": 20.0 + tolerance("psnr")}}})
    assert not problems and rows[0]["ok"]


def test_the_committed_goldens_cover_every_paper_method():
    g = json.loads(GOLDENS.read_text())
    assert g["config"] == CHECK_CONFIG
    names = {m.split(":")[0] for m in g["values"]}
    assert {"editable-deepsc", "deepsc+talk2edit", "jpeg-ldpc+talk2edit", "talk2edit+deepsc",
            "talk2edit+jpeg-ldpc"} <= names
    assert all(len(v) == len(CHECK_CONFIG["snrs"]) for v in g["values"].values())


@pytest.mark.check
def test_bench_check_passes_on_this_checkout():
    """The CI guard itself: the fixed sweep against the committed goldens (about two minutes)."""
    assert run_check(echo=print) == 0


def test_goldens_are_kept_per_cpu_family(monkeypatch, tmp_path):
    import bench.check as check

    key = check.cpu_key()
    assert "-" in key and key.split("-")[-1] in ("avx512", "noavx512")
    monkeypatch.setattr(check, "GOLDENS", tmp_path / "check.json")
    assert check.default_goldens() == tmp_path / "check.json"  # no file for this family: the committed default
    assert check.default_goldens(update=True) == tmp_path / f"check-{key}.json"  # --update writes this family's
    (tmp_path / f"check-{key}.json").write_text("{}")
    assert check.default_goldens() == tmp_path / f"check-{key}.json"


def test_goldens_of_another_cpu_family_are_compared_with_the_measured_cross_family_spread():
    """A move as large as the one measured between an AMD EPYC and an Intel Xeon (Talk2Edit PSNR 0.52 dB) fails
    against this family's own goldens and passes against another family's; a regression several times larger
    fails against both."""
    from bench.check import CROSS_FAMILY_TOLERANCES

    golden = {"values": {"t2e": {"12": {"psnr": 25.0, "id-distance": 0.5, "edit-success": 1.0}}}}
    near = {"t2e": {"12": {"psnr": 25.52, "id-distance": 0.59, "edit-success": 1.0}}}
    assert len(compare(golden, near)[1]) == 2
    assert not compare(golden, near, cross_family=True)[1]
    far = {"t2e": {"12": {"psnr": 23.0, "id-distance": 0.5, "edit-success": 1 / 3}}}
    assert [p.split()[4] for p in compare(golden, far, cross_family=True)[1]] == ["psnr:", "edit-success:"]
    assert all(CROSS_FAMILY_TOLERANCES[m] >= tolerance(m) for m in CROSS_FAMILY_TOLERANCES)
