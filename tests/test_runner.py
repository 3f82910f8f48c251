"""Sweep runner: SNR-independent work once per image, resumable, deterministic rows."""
import sqlite3

import numpy as np
import pytest

from bench.errors import UserError
from bench.runner import MethodError, SweepConfig, run_sweep
from bench.registry import METHODS
from bench.store import ResultStore

SNRS = [-6, 0, 6, 12, 18]


def cfg(tmp_path, **kw):
    base = dict(methods=["testkit-counting"], dataset="testkit-gradients", snrs=SNRS, n=3,
                out=tmp_path / "run", metrics=["psnr"], set_metrics=False, progress=False)
    base.update(kw)
    return SweepConfig(**base)


def prepare_calls(env_log):
    return env_log.read_text().splitlines() if env_log.exists() else []


@pytest.fixture
def log(tmp_path, monkeypatch, registries):
    path = tmp_path / "prepare.log"
    monkeypatch.setenv("TESTKIT_LOG", str(path))
    return path


def test_prepare_runs_once_per_image_and_is_reused_across_snrs(tmp_path, log):
    res = run_sweep(cfg(tmp_path))
    assert res.rows_written == 3 * len(SNRS)
    assert prepare_calls(log) == ["prepare g0000", "prepare g0001", "prepare g0002"]
    rows = ResultStore(res.db_path).rows()
    assert sorted({r.snr for r in rows}) == SNRS
    # uncoded: CBR 1/2 in complex channel uses, 1 in the paper's real-value count
    assert all(r.cbr_complex == pytest.approx(0.5) and r.cbr_paper == pytest.approx(1.0) for r in rows)
    # PSNR of analog transmission rises with SNR
    by_snr = {s: np.mean([r.metrics["psnr"] for r in rows if r.snr == s]) for s in SNRS}
    assert all(by_snr[a] < by_snr[b] for a, b in zip(SNRS, SNRS[1:]))
    for r in rows:
        assert (tmp_path / "run" / r.received_path).exists()
        assert {"tx.prepare", "channel", "rx.receive", "metrics"} <= set(r.times)


def test_rerun_does_no_work_and_extends_only_missing(tmp_path, log):
    run_sweep(cfg(tmp_path, snrs=[0, 6]))
    assert len(prepare_calls(log)) == 3
    again = run_sweep(cfg(tmp_path, snrs=[0, 6]))
    assert again.rows_written == 0 and again.prepares == 0 and len(prepare_calls(log)) == 3
    more = run_sweep(cfg(tmp_path, snrs=[0, 6, 12], n=4))
    # 3 old images need only SNR 12; the new image needs all three
    assert more.rows_written == 3 + 3 and more.prepares == 4
    with sqlite3.connect(tmp_path / "run" / "results.sqlite") as c:
        assert c.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 4 * 3


def test_rows_are_identical_whatever_the_order_of_work(tmp_path, log):
    a = run_sweep(cfg(tmp_path / "a", snrs=[0, 6]))
    run_sweep(cfg(tmp_path / "b", snrs=[6]))
    b = run_sweep(cfg(tmp_path / "b", snrs=[0, 6]))
    ra = {(r.image_id, r.snr): r.metrics["psnr"] for r in ResultStore(a.db_path).rows()}
    rb = {(r.image_id, r.snr): r.metrics["psnr"] for r in ResultStore(b.db_path).rows()}
    assert ra == rb


def test_seed_changes_noise(tmp_path, log):
    a = run_sweep(cfg(tmp_path, snrs=[0], seed=0))
    b = run_sweep(cfg(tmp_path, snrs=[0], seed=1))
    rows = ResultStore(a.db_path).rows()
    assert len(rows) == 6  # seed is part of the key
    assert {r.seed for r in rows} == {0, 1}


def test_bad_snr_values(tmp_path, registries):
    for bad in (["x"], ["inf"], ["nan"], []):
        with pytest.raises(UserError, match="SNR"):
            run_sweep(cfg(tmp_path, snrs=bad))


def test_metric_size_limits_checked_before_any_work(tmp_path, log):
    with pytest.raises(UserError, match="lpips-alex.*at least 31 px.*--size is 16"):
        run_sweep(cfg(tmp_path, size=16, metrics=["psnr", "lpips-alex"]))
    assert prepare_calls(log) == []


def test_unknown_names_suggest_closest(tmp_path, registries):
    with pytest.raises(UserError, match="did you mean 'uncoded'"):
        run_sweep(cfg(tmp_path, methods=["uncoed"]))
    with pytest.raises(UserError, match="unknown channel 'awgm'.*did you mean 'awgn'"):
        run_sweep(cfg(tmp_path, channel="awgm"))
    with pytest.raises(UserError, match="unknown dataset"):
        run_sweep(cfg(tmp_path, dataset="celebb-x"))


def test_power_violation_is_reported_not_transmitted(tmp_path, registries):
    from methods.schemes.uncoded import Uncoded

    class Loud(Uncoded):
        def transmit(self, prepared, snr_db):
            return {k: v * 2 for k, v in prepared.streams.items()}

    if "testkit-loud" not in METHODS.names():
        METHODS.register("testkit-loud", "test")(Loud)
    with pytest.raises(MethodError, match="power constraint"):
        run_sweep(cfg(tmp_path, methods=["testkit-loud"]))


def test_method_crash_keeps_earlier_rows(tmp_path, registries):
    from methods.schemes.uncoded import Uncoded

    class Flaky(Uncoded):
        def receive(self, received, side_info, snr_db):
            if snr_db > 10:
                raise ValueError("boom")
            return super().receive(received, side_info, snr_db)

    if "testkit-flaky" not in METHODS.names():
        METHODS.register("testkit-flaky", "test")(Flaky)
    with pytest.raises(MethodError, match="testkit-flaky.*receive.*12 dB.*boom"):
        run_sweep(cfg(tmp_path, methods=["testkit-flaky"]))
    rows = ResultStore(tmp_path / "run" / "results.sqlite").rows()
    assert {r.snr for r in rows} == {-6, 0, 6}


def test_incompatible_schema_is_refused(tmp_path, registries):
    db = tmp_path / "run" / "results.sqlite"
    db.parent.mkdir(parents=True)
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE results (x)")
        c.execute("PRAGMA user_version = 99")
    with pytest.raises(UserError, match="schema version 99"):
        run_sweep(cfg(tmp_path))


def test_not_a_database_is_refused(tmp_path, registries):
    db = tmp_path / "run" / "results.sqlite"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(UserError, match="results database"):
        run_sweep(cfg(tmp_path))


def test_one_image_sweep_says_set_metrics_were_skipped(tmp_path, log):
    res = run_sweep(cfg(tmp_path, snrs=[0], n=1, set_metrics=True))
    assert res.set_groups == 0 and "at least 2 images" in res.notes[0]


def test_set_metrics_per_method_and_snr(tmp_path, log):
    res = run_sweep(cfg(tmp_path, snrs=[-6, 18], n=4, set_metrics=True))
    assert res.set_groups == 2
    store = ResultStore(res.db_path)
    recs = store.set_metrics()
    names = {d["name"] for d in recs}
    assert names in ({"FD-VGG16", "KD-VGG16"}, {"FID", "KID"})
    fd = {d["snr"]: d for d in recs if d["name"].startswith("FD") or d["name"] == "FID"}
    assert fd[-6]["value"] > fd[18]["value"] >= 0  # noisier reception is further from the originals
    assert all(d["n"] == 4 and d["lo"] <= d["hi"] for d in recs)
    # nothing new -> nothing recomputed; a new SNR -> only its group
    assert run_sweep(cfg(tmp_path, snrs=[-6, 18], n=4, set_metrics=True)).set_groups == 0
    assert run_sweep(cfg(tmp_path, snrs=[-6, 6, 18], n=4, set_metrics=True)).set_groups == 1


def test_results_load_as_a_dataframe_and_tables_as_booktabs(tmp_path):
    from bench.results import load, to_latex
    from bench.runner import SweepConfig, run_sweep

    cfg = SweepConfig(methods=["uncoded", "m2:editor=[identity],codec=[uncoded]"], dataset="synthfaces", snrs=[0, 12],
                      n=2, out=tmp_path / "run", metrics=["psnr"], set_metrics=False, progress=False)
    run_sweep(cfg)
    df = load(tmp_path / "run")
    assert len(df) == 8 and {"method", "snr", "psnr", "channel_uses", "outcome", "time.channel"} <= set(df.columns)
    assert set(df.loc[df.method.str.startswith("m2"), "outcome"]) == {"no-edit"}
    # the identity composition is the plain codec (its edit rows also score against the original)
    df["psnr_vs_original"] = df["psnr@original"].fillna(df["psnr"])
    piv = df.groupby(["method", "snr"])["psnr_vs_original"].mean().unstack("method")
    assert (piv.iloc[:, 0] - piv.iloc[:, 1]).abs().max() == 0
    assert piv.loc[12.0].min() > piv.loc[0.0].max()  # more SNR, more PSNR
    tex = to_latex(piv, tmp_path / "t.tex", caption="PSNR_by SNR").read_text()
    assert "\\toprule" in tex and "\\bottomrule" in tex and "PSNR\\_by" in tex and tex.count("\\\\") == 3
    with pytest.raises(UserError, match="no results database"):
        load(tmp_path / "nothing")


def test_ray_executor_gives_the_sequential_rows(tmp_path):
    pytest.importorskip("ray")
    methods = ["uncoded", "jpeg-ldpc", "m2:editor=[identity],codec=[uncoded]"]

    def rows(out, **kw):
        cfg = SweepConfig(methods=methods, dataset="synthfaces", snrs=[0, 9], n=2, out=out, metrics=["psnr"],
                          set_metrics=False, progress=False, **kw)
        run_sweep(cfg)
        store = ResultStore(out / "results.sqlite")
        try:
            return {r.key(): r for r in store.rows()}
        finally:
            store.close()

    seq = rows(tmp_path / "seq")
    ray_rows = rows(tmp_path / "ray", executor="ray:num_cpus=2")
    assert set(seq) == set(ray_rows) and len(seq) == 12
    for k, r in seq.items():
        q = ray_rows[k]
        assert q.metrics == r.metrics and q.channel_uses == r.channel_uses and q.received_path == r.received_path
        assert (tmp_path / "ray" / q.received_path).read_bytes() == (tmp_path / "seq" / r.received_path).read_bytes()
    # resumable: a second ray run finds everything done
    again = SweepConfig(methods=methods, dataset="synthfaces", snrs=[0, 9], n=2, out=tmp_path / "ray",
                        metrics=["psnr"], set_metrics=False, progress=False, executor="ray:num_cpus=2")
    assert run_sweep(again).rows_written == 0
    with pytest.raises(UserError, match="--executor must be"):
        run_sweep(SweepConfig(methods=["uncoded"], dataset="synthfaces", snrs=[0], n=1, out=tmp_path / "x",
                              progress=False, set_metrics=False, executor="dask"))
