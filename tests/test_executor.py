"""The executor seam and the driver: isolation of the transmitter, provenance, workers, batching,
claims shared by concurrent runs, metrics added to finished sweeps, and refusals that touch nothing."""
import hashlib
import os
import socket
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from bench.cli import main
from bench.errors import UserError
from bench.registry import METHODS
from bench.runner import SweepConfig, run_sweep
from bench.store import ResultStore

VOLATILE = ("times", "created", "id")


def cfg(tmp_path, **kw):
    base = dict(methods=["uncoded"], dataset="testkit-gradients", snrs=[0, 12], n=3, out=tmp_path / "run",
                metrics=["psnr"], set_metrics=False, progress=False)
    base.update(kw)
    return SweepConfig(**base)


def rows_of(out):
    store = ResultStore(out / "results.sqlite")
    try:
        return store.rows()
    finally:
        store.close()


def comparable(rows, out):
    table = {}
    for r in rows:
        d = {k: v for k, v in vars(r).items() if k not in VOLATILE}
        d["pixels"] = hashlib.sha256(Image.open(out / r.received_path).tobytes()).hexdigest()
        table[r.key()] = d
    return table


def test_transmitter_cannot_reach_the_answer(tmp_path, registries):
    import bench_testkit

    bench_testkit.SEEN.clear()
    run_sweep(cfg(tmp_path, methods=["testkit-peek"], dataset="synthfaces:requests=train", n=2, snrs=[0]))
    assert len(bench_testkit.SEEN) == 2
    for seen in bench_testkit.SEEN:
        assert seen["type"] == "Request" and seen["fields"] == ["id", "image", "instruction"]
        assert seen["target"] == "unreachable" and seen["labels"] == "unreachable"
    with pytest.raises(Exception):
        from methods.schemes.base import Request

        Request("a", np.zeros((2, 2, 3), np.uint8)).target = 1  # frozen, slotted: nothing can be attached


def test_two_workers_give_the_sequential_rows(tmp_path, registries):
    methods = ["uncoded", "jpeg-ldpc", "m1:codec=[uncoded],editor=[testkit-brighten],text=huffman-rs"]
    seq = cfg(tmp_path / "a", methods=methods, dataset="testkit-text", n=3, snrs=[-6, 18])
    par = cfg(tmp_path / "b", methods=methods, dataset="testkit-text", n=3, snrs=[-6, 18], workers=2,
              plugins=["bench_testkit"])
    r_seq, r_par = run_sweep(seq), run_sweep(par)
    assert r_seq.rows_written == r_par.rows_written == 3 * 3 * 2
    a = comparable(rows_of(tmp_path / "a" / "run"), tmp_path / "a" / "run")
    b = comparable(rows_of(tmp_path / "b" / "run"), tmp_path / "b" / "run")
    assert a == b


def test_batched_and_one_by_one_receive_give_the_same_rows(tmp_path, registries, monkeypatch):
    log = tmp_path / "edit.log"
    monkeypatch.setenv("TESTKIT_LOG", str(log))
    spec = "m1:codec=[uncoded],editor=[testkit-brighten]"
    run_sweep(cfg(tmp_path / "a", methods=[spec], dataset="testkit-text", snrs=[-6, 0, 6], n=3))
    assert log.read_text().split("\n")[:3] == ["edit_batch 3"] * 3  # one edit call per image: all SNRs at once
    log.unlink()
    run_sweep(cfg(tmp_path / "b", methods=[spec], dataset="testkit-text", snrs=[-6, 0, 6], n=3, batch_receive=False))
    assert set(log.read_text().split()) == {"edit_batch", "1"}
    a = comparable(rows_of(tmp_path / "a" / "run"), tmp_path / "a" / "run")
    b = comparable(rows_of(tmp_path / "b" / "run"), tmp_path / "b" / "run")
    assert a == b


def test_a_reused_edit_still_costs_the_scheme_its_time(tmp_path, registries):
    """An edit handed over from an identical earlier request (the Talk2Edit memo) is nearly free to the
    benchmark, but the row's time is what the scheme costs: the edit's computation time is added back to
    `tx.prepare` (M2) or `rx.receive` (M1)."""
    editor = "testkit-brighten:reused_cost=100"
    specs = [f"m2:editor=[{editor}],codec=[uncoded]", f"m1:codec=[uncoded],editor=[{editor}]"]
    run_sweep(cfg(tmp_path / "a", methods=specs, dataset="testkit-text", snrs=[-6, 6], n=2))
    rows = rows_of(tmp_path / "a" / "run")
    assert len(rows) == 8
    for r in rows:
        edited = r.info.get("outcome", r.info.get("tx.outcome")) == "edited"
        assert edited and r.info.get("reused", r.info.get("tx.reused")) is True
        stage = "tx.prepare" if r.method.startswith("m2") else "rx.receive"
        assert 100 <= r.times[stage] < 101, (r.method, r.times)


def test_retrained_weights_make_old_rows_not_count_and_reports_keep_them_apart(tmp_path, registries):
    from reports.aggregate import load_rows, load_set_metrics
    from reports.summary import summary_table

    w = tmp_path / "net.pt"
    w.write_bytes(b"weights v1")
    c = cfg(tmp_path, methods=[f"testkit-weighted:weights={w}"], n=2, set_metrics=True)
    first = run_sweep(c)
    assert first.rows_written == 4 and run_sweep(c).rows_written == 0
    w.write_bytes(b"weights v2, retrained")
    second = run_sweep(c)
    assert second.rows_written == 4 and second.rows_skipped == 0
    rows = rows_of(tmp_path / "run")
    assert len({r.provenance for r in rows}) == 2
    assert {r.weights["net"] for r in rows} == {hashlib.sha256(b"weights v1").hexdigest(),
                                                 hashlib.sha256(b"weights v2, retrained").hexdigest()}
    labels = {r.method for r in load_rows(tmp_path / "run" / "results.sqlite")}
    assert len(labels) == 2 and all("[w " in x for x in labels)  # one curve per set of weights
    assert {d["method"] for d in load_set_metrics(tmp_path / "run" / "results.sqlite")} == labels
    assert all(x in summary_table(tmp_path / "run" / "results.sqlite") for x in labels)


def test_adding_a_metric_computes_it_for_finished_rows(tmp_path, registries):
    run_sweep(cfg(tmp_path, metrics=["psnr"]))
    res = run_sweep(cfg(tmp_path, metrics=["psnr", "ssim"]))
    assert res.rows_written == 0 and res.rescored == 6 and any("ssim" in n for n in res.notes)
    from bench_testkit import gradient_image

    from bench.metrics.pixel import ssim

    for r in rows_of(tmp_path / "run"):
        img = np.asarray(Image.open(tmp_path / "run" / r.received_path))
        ref = gradient_image(int(r.image_id[1:]), 32)
        assert r.metrics["ssim"] == pytest.approx(float(ssim(img[None], ref[None])[0]))
        assert r.metric_refs["ssim"] == "original"


def test_stale_claim_of_a_killed_run_is_taken_over(tmp_path, registries):
    c = cfg(tmp_path)
    run_sweep(cfg(tmp_path, snrs=[0]))  # creates the database
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    from bench.executor import Unit
    from bench.provenance import method_provenance

    prov, _ = method_provenance(METHODS.create("uncoded"))
    store = ResultStore(tmp_path / "run" / "results.sqlite")
    for i in range(3):
        with store.conn:
            store.conn.execute("INSERT INTO claims VALUES (?,?,?,?)",
                               (Unit("uncoded", prov, f"g{i:04d}", (12.0,)).key, socket.gethostname(), dead.pid,
                                time.time()))
    store.close()
    res = run_sweep(c)
    assert res.rows_written == 3 and len(rows_of(tmp_path / "run")) == 6


def test_concurrent_runs_share_the_units(tmp_path, registries, bench_env):
    out = tmp_path / "run"
    args = ["run", "--snr", "0", "6", "--methods", "testkit-counting:delay=0.15", "--dataset", "testkit-gradients",
            "--n", "8", "--metrics", "psnr", "--no-set-metrics", "--no-progress", "--out", str(out)]
    log = tmp_path / "testkit.log"
    other = subprocess.Popen([sys.executable, "-m", "bench.cli", *args], env=bench_env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not (log.exists() and log.read_text().strip()) and time.time() < deadline:
        time.sleep(0.05)
    os.environ["TESTKIT_LOG"] = str(log)
    try:
        res = run_sweep(SweepConfig(methods=["testkit-counting:delay=0.15"], dataset="testkit-gradients", snrs=[0, 6],
                                    n=8, out=out, metrics=["psnr"], set_metrics=False, progress=False))
    finally:
        os.environ.pop("TESTKIT_LOG", None)
    _, err = other.communicate(timeout=120)
    assert other.returncode == 0, err
    prepares = log.read_text().split("\n")
    prepares = [p for p in prepares if p.startswith("prepare")]
    assert sorted(prepares) == sorted(set(prepares)) and len(prepares) == 8  # no unit done twice
    assert len(rows_of(out)) == 16 and res.prepares < 8


# ----------------------------------------------------------------------------- refusals that touch nothing

def test_foreign_database_is_refused_untouched(tmp_path, registries):
    db = tmp_path / "run" / "results.sqlite"
    db.parent.mkdir(parents=True)
    with sqlite3.connect(db) as c:
        c.execute("CREATE TABLE inventory (item TEXT)")
    before = db.read_bytes()
    with pytest.raises(UserError, match="other tables \\(inventory\\).*left untouched"):
        run_sweep(cfg(tmp_path))
    assert db.read_bytes() == before and not (db.parent / "results.sqlite-wal").exists()


def test_read_only_database_is_refused_before_writing(tmp_path, registries, monkeypatch):
    run_sweep(cfg(tmp_path, snrs=[0]))
    db = tmp_path / "run" / "results.sqlite"
    before = db.read_bytes()
    real_access = os.access
    # root ignores permission bits, so make the check see what an ordinary user would
    monkeypatch.setattr(os, "access", lambda p, mode: False if str(p) == str(db) and mode == os.W_OK
                        else real_access(p, mode))
    with pytest.raises(UserError, match="read-only"):
        run_sweep(cfg(tmp_path, snrs=[0, 6]))
    assert db.read_bytes() == before
    monkeypatch.undo()
    from reports.aggregate import load_rows

    assert len(load_rows(db)) == 3  # reports read it as it is


@pytest.mark.parametrize("snr", ["1e6", "-1e6", "61", "-51"])
def test_snr_outside_the_stated_range_is_refused(snr, tmp_path, capsys, registries):
    assert main(["run", "--snr", snr, "--out", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "outside the supported range -50 ... 60 dB" in err and "Traceback" not in err


def test_workers_option_is_checked(tmp_path, capsys, registries):
    assert main(["run", "--snr", "0", "--workers", "-1", "--out", str(tmp_path), "--no-progress"]) == 2
    assert "--workers must be" in capsys.readouterr().err


def test_datasets_fetch_items_by_id_exactly(registries, tmp_path):
    from bench.registry import DATASETS

    ds = DATASETS.create("synthfaces:requests=train")
    items = list(ds.items(3, 64, 5))
    for it in items:
        again = ds.get(it.id, 64, 5)
        assert np.array_equal(again.image, it.image) and np.array_equal(again.target, it.target)
        assert again.instruction == it.instruction
    (tmp_path / "imgs").mkdir()
    for i in range(3):
        Image.fromarray(np.full((20, 20, 3), 40 * i, np.uint8)).save(tmp_path / "imgs" / f"{i}.png")
    folder = DATASETS.create(f"folder:{tmp_path / 'imgs'}")
    for it in folder.items(None, 16):
        assert np.array_equal(folder.get(it.id, 16).image, it.image)
    with pytest.raises(KeyError):
        folder.get("../secret.png", 16)
