"""Composed separate schemes (M1/M2), nested specs, the editor registry and text over the channel."""
import math

import numpy as np
import pytest
from PIL import Image
from scipy.stats import binom, norm

from bench.cli import main, split_specs
from bench.errors import UserError
from bench.registry import EDITORS, METHODS, parse_options
from bench.runner import SweepConfig, run_sweep
from bench.store import ResultStore
from channels.analog import AWGN
from methods.schemes.base import Request

SF = "synthfaces:requests=train"


def sweep(tmp_path, methods, snrs=(-6, 6), n=3, **kw):
    cfg = SweepConfig(methods=list(methods), dataset=SF, snrs=list(snrs), n=n, out=tmp_path / "run",
                      metrics=["psnr"], set_metrics=False, progress=False, **kw)
    res = run_sweep(cfg)
    store = ResultStore(res.db_path)
    try:
        return res, store.rows()
    finally:
        store.close()


def by_method(rows):
    out = {}
    for r in rows:
        out.setdefault(r.method, {})[(r.image_id, r.snr)] = r
    return out


def pixels(tmp_path, row):
    return np.asarray(Image.open(tmp_path / "run" / row.received_path))


# ----------------------------------------------------------------------------- nested specs

def test_nested_options_keep_their_commas():
    opts = parse_options("editor=[identity],codec=[jpeg-ldpc:bpp=0.5,rate=0.5]", "method")
    assert opts == {"editor": "identity", "codec": "jpeg-ldpc:bpp=0.5,rate=0.5"}
    assert split_specs("uncoded,m2:editor=[identity],codec=[jpeg-ldpc:bpp=0.5,rate=0.5],deepsc") == [
        "uncoded", "m2:editor=[identity],codec=[jpeg-ldpc:bpp=0.5,rate=0.5]", "deepsc"]


@pytest.mark.parametrize("spec", [
    "m1:codec=[jpeg-ldpc:bpp=0.5,rate=0.5],editor=[identity]",
    "m1:editor=[identity],codec=[uncoded],text=huffman-rs",
    "m2:codec=[jpeg-ldpc:rate=0.5],editor=[identity]",
])
def test_composed_specs_round_trip(spec, registries):
    m = METHODS.create(spec)
    assert METHODS.create(m.spec).spec == m.spec  # canonical and stable
    assert m.spec.startswith(spec[:3]) and "[" in m.spec and m.task == "edit"


@pytest.mark.parametrize("spec, words", [
    ("m2:editor=[identity,codec=[uncoded]", "unclosed '\\['"),
    ("m2:editor=[identity]],codec=[uncoded]", "unbalanced '\\]'"),
    ("m2:editor=[identity]x,codec=[uncoded]", "after the closing"),
    ("m2:editor=[],codec=[uncoded]", "empty nested"),
    ("m2:editor=[nosuch],codec=[uncoded]", "unknown editor 'nosuch'"),
    ("m2:editor=[identity]", "needs both codec"),
    ("m1:codec=[m2:editor=[identity],codec=[uncoded]],editor=[identity]", "not a codec"),
    ("m1:codec=[uncoded],editor=[identity],text=smoke", "text='smoke' is not known"),
])
def test_bad_nesting_is_one_line_exit_2(spec, words, tmp_path, capsys, registries):
    with pytest.raises(UserError, match=words):
        METHODS.create(spec)
    assert main(["run", "--snr", "0", "--methods", spec, "--out", str(tmp_path), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("bench: error:") and "\n" not in err and "Traceback" not in err


def test_list_shows_editors_and_composition(capsys, registries):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    assert "editors:" in out and "identity" in out and "m1 " in out and "m2 " in out
    assert "identity" in EDITORS.names()


# ----------------------------------------------------------------------------- composition == plain codec

def test_identity_composition_gives_the_plain_codec_rows(tmp_path, registries):
    specs = ["uncoded", "jpeg-ldpc", "m1:codec=[uncoded],editor=[identity]", "m2:editor=[identity],codec=[uncoded]",
             "m1:codec=[jpeg-ldpc],editor=[identity]", "m2:editor=[identity],codec=[jpeg-ldpc]",
             "m1:codec=[uncoded],editor=[identity],text=huffman-rs",
             # the papers' names are the same compositions
             "jpeg-ldpc+talk2edit:editor=[identity]", "talk2edit+jpeg-ldpc:editor=[identity]",
             "jpeg-ldpc-huffman-rs:editor=[identity]"]
    res, rows = sweep(tmp_path, specs)
    from reports.summary import summary_table

    table = summary_table(res.db_path)
    assert all(METHODS.create(spec).spec in table for spec in specs)  # canonical specs reach the report
    rows = by_method(rows)
    plain = {"uncoded": rows["uncoded"], "jpeg-ldpc": rows[METHODS.create("jpeg-ldpc").spec]}
    for spec in specs[2:]:
        m = METHODS.create(spec)
        codec = "jpeg-ldpc" if "jpeg" in spec else "uncoded"
        for key, r in rows[m.spec].items():
            p = plain[codec][key]
            assert np.array_equal(pixels(tmp_path, r), pixels(tmp_path, p)), (spec, key)
            assert r.metrics["psnr@original"] == p.metrics["psnr"] and r.metric_refs["psnr@original"] == "original"
            assert r.metric_refs["psnr"] == "target"  # edit rows score against the ground-truth edit too
            assert r.bpp == p.bpp and r.decode_failures == p.decode_failures
            if "huffman" in spec:
                text_uses = r.channel_uses - p.channel_uses
                assert text_uses > 0 and r.text_sent and r.cbr_paper > p.cbr_paper
            else:
                assert r.channel_uses == p.channel_uses and r.cbr_paper == p.cbr_paper
            if getattr(m, "text", None) == "error-free":
                assert r.info["tx.text"] == "error-free"
            outcome = r.info.get("outcome", r.info.get("tx.outcome"))
            if spec.startswith(("m1", "jpeg-ldpc+", "jpeg-ldpc-huffman")) and r.decode_failures:
                assert outcome == "undecodable"  # the receiver had only the placeholder: nothing edited
            else:
                assert outcome == "no-edit"


def test_m1_edits_at_the_receiver_and_m2_at_the_transmitter(tmp_path, registries, monkeypatch):
    log = tmp_path / "log"
    monkeypatch.setenv("TESTKIT_LOG", str(log))
    req = Request("x", np.full((8, 8, 3), 100, np.uint8), "make it brighter")
    m2 = METHODS.create("m2:editor=[testkit-brighten],codec=[uncoded]")
    m2.setup(8)
    prep = m2.prepare(req)
    assert prep.info["outcome"] == "edited" and "editor.edit" in prep.stage_times
    m1 = METHODS.create("m1:codec=[uncoded],editor=[testkit-brighten]")
    m1.setup(8)
    prep1 = m1.prepare(req)
    assert prep1.side_info["instruction"] == "make it brighter"  # declared error-free side information
    rx = {k: AWGN()(v, 60.0, np.random.default_rng(0)) for k, v in m1.transmit(prep1, 60.0).items()}
    out = m1.receive(rx, prep1.side_info, 60.0)
    assert out.info["outcome"] == "edited" and abs(float(out.image.mean()) - 140) < 1.0


def test_m1_does_not_edit_an_undecodable_image(registries):
    """Past the JPEG+LDPC cliff the receiver holds only the grey placeholder: it is not edited (the
    brightening editor would lift it to ~160) and the outcome says why."""
    from channels.source_coding import jpeg

    img = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)
    m1 = METHODS.create("m1:codec=[jpeg-ldpc],editor=[testkit-brighten]")
    m1.setup(64)
    prep = m1.prepare(Request("x", img, "make it brighter"))
    receptions = []
    for snr in (-10.0, 60.0):
        rx = {k: AWGN()(v, snr, np.random.default_rng(1)) for k, v in m1.transmit(prep, snr).items()}
        receptions.append((rx, prep.side_info, snr))
    low, high = m1.receive_batch(receptions)
    assert low.decode_failures == 1 and low.info["outcome"] == "undecodable"
    assert np.array_equal(low.image, jpeg.placeholder((64, 64))) and low.stage_times["editor.edit"] == 0.0
    assert high.decode_failures == 0 and high.info["outcome"] == "edited"


def test_m1_edits_identical_receptions_once_and_keeps_their_cost(registries, monkeypatch):
    """Above the cliff JPEG+LDPC delivers the same pixels at every SNR: the receiver's Talk2Edit runs once
    for them, the copies say so, and each row still reports the editor's cost (not ~0)."""
    from tiny_editing import StuckP, parsed, tiny_generator

    import methods.editing.inversion as inversion
    from methods.nets.field_function import FieldFunctions

    calls = []
    real = inversion.invert
    monkeypatch.setattr(inversion, "invert", lambda G, t, cfg, **kw: calls.append(len(t)) or real(G, t, cfg, **kw))
    img = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)
    m1 = METHODS.create("m1:codec=[jpeg-ldpc],editor=[talk2edit:steps=3,max_trials=2]")
    m1.codec.setup(64)
    G = tiny_generator({"resolution": 32, "z_dim": 24, "w_dim": 16, "n_mlp": 2, "channels": {4: 16, 8: 16, 16: 8,
                                                                                           32: 8}})
    m1.editor.use(G=G, P=StuckP(), fields=FieldFunctions(w_dim=16, hidden=8, layers=2), parse=lambda t: parsed())
    prep = m1.prepare(Request("x", img, "make her smile"))
    receptions = []
    for snr in (-10.0, 40.0, 60.0):
        rx = {k: AWGN()(v, snr, np.random.default_rng(1)) for k, v in m1.transmit(prep, snr).items()}
        receptions.append((rx, prep.side_info, snr))
    cliff, a, b = m1.receive_batch(receptions)
    assert calls == [1]  # the placeholder is not edited; the two error-free receptions share one edit
    assert cliff.info["outcome"] == "undecodable" and "reused" not in a.info and b.info["reused"] is True
    assert np.array_equal(a.image, b.image) and a.info["outcome"] == b.info["outcome"] == "gave-up"
    assert b.stage_times["editor.edit"] == pytest.approx(a.stage_times["editor.inversion"]
                                                         + a.stage_times["editor.parse"]
                                                         + a.stage_times["editor.editing"]
                                                         + a.stage_times["editor.decoding"])
    assert a.stage_times["editor.edit"] >= b.stage_times["editor.edit"] * 0.9 > 0
    assert (cliff.reused_s, a.reused_s) == (0.0, 0.0) and b.reused_s == pytest.approx(b.stage_times["editor.edit"])


def test_two_m2_schemes_share_the_transmitter_edit(registries, monkeypatch, tmp_path):
    """Both edit-then-send schemes edit the same original with the same editor and weights: it is computed
    once per process, and the second scheme's row reports the computation's cost."""
    from tiny_editing import StuckP, parsed, tiny_generator

    import methods.editing.inversion as inversion
    from methods.editing.base import MEMO
    from methods.nets.field_function import FieldFunctions

    calls = []
    real = inversion.invert
    monkeypatch.setattr(inversion, "invert", lambda G, t, cfg, **kw: calls.append(len(t)) or real(G, t, cfg, **kw))
    G = tiny_generator({"resolution": 32, "z_dim": 24, "w_dim": 16, "n_mlp": 2, "channels": {4: 16, 8: 16, 16: 8,
                                                                                           32: 8}})
    M = FieldFunctions(w_dim=16, hidden=8, layers=2)
    (tmp_path / "w").write_bytes(b"weights")
    img = (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)
    MEMO.clear()
    preps = []
    for codec in ("uncoded", "jpeg-ldpc"):
        m2 = METHODS.create(f"m2:editor=[talk2edit:steps=3,max_trials=2],codec=[{codec}]")
        m2.codec.setup(64)
        m2.editor.use(G=G, P=StuckP(), fields=M, parse=lambda t: parsed())._paths = {"generator": str(tmp_path / "w")}
        preps.append(m2.prepare(Request("x", img, "make her smile")))
    MEMO.clear()
    assert calls == [1] and "reused" not in preps[0].info and preps[1].info["reused"] is True
    assert preps[0].reused_s == 0.0 and preps[1].reused_s == pytest.approx(preps[1].stage_times["editor.edit"])
    assert preps[1].stage_times["editor.edit"] == pytest.approx(
        sum(preps[0].stage_times[f"editor.{k}"] for k in ("parse", "inversion", "editing", "decoding")))


# ----------------------------------------------------------------------------- text over the channel

def qam4_bit_error(snr_db):
    """Gray 4-QAM, hard decisions: each bit sees a BPSK with Eb = Es/2, so BER = Q(sqrt(Es/N0))."""
    return norm.sf(math.sqrt(10 ** (snr_db / 10)))


def predicted_block_error(snr_db, n_bytes, t):
    """RS corrects t byte errors; bits err independently, so byte errors are Binomial(n, 1-(1-p)^8)."""
    p_byte = 1 - (1 - qam4_bit_error(snr_db)) ** 8
    return binom.sf(t, n_bytes, p_byte)


@pytest.mark.parametrize("snr_db", [-6.0, 6.0])
def test_text_link_corrupts_at_the_rate_its_ber_predicts(snr_db, registries):
    m = METHODS.create("m1:codec=[uncoded],editor=[identity],text=huffman-rs")
    m.setup(8)
    text = "make her smile a bit more"
    prep = m.prepare(Request("t", np.zeros((8, 8, 3), np.uint8), text))
    n_bytes = prep.side_info["text_bits"] // 8
    pred = predicted_block_error(snr_db, n_bytes, m.link.rs.nsym // 2)
    trials, failed, corrupted = 400, 0, 0
    ch = AWGN()
    for i in range(trials):
        streams = m.transmit(prep, snr_db)
        rx = {k: ch(v, snr_db, np.random.default_rng([i, 7])) for k, v in streams.items()}
        out = m.receive(rx, prep.side_info, snr_db)
        failed += out.info["text.rs_failed"]
        corrupted += out.text_received != text
    sigma = math.sqrt(max(pred * (1 - pred), 1e-4) / trials)
    assert abs(failed / trials - pred) < 4 * sigma + 0.01, (failed / trials, pred)
    # a frame RS cannot correct is (almost always) a corrupted text; a corrected one is exact
    assert failed - 2 <= corrupted <= failed
    if snr_db == -6.0:
        assert pred > 0.99 and corrupted / trials > 0.97


def test_corrupted_text_is_not_understood_and_leaves_the_image_unedited(tmp_path, registries, monkeypatch):
    monkeypatch.setenv("TESTKIT_LOG", str(tmp_path / "log"))
    spec = METHODS.create("m1:codec=[uncoded],editor=[testkit-brighten],text=huffman-rs").spec
    plain = "m1:codec=[uncoded],editor=[identity],text=huffman-rs"
    cfg = SweepConfig(methods=[spec, plain], dataset="testkit-text", snrs=[-6, 30], n=4, out=tmp_path / "run",
                      metrics=["psnr"], set_metrics=False, progress=False)
    run_sweep(cfg)
    rows = by_method(ResultStore(tmp_path / "run" / "results.sqlite").rows())
    ident = rows[METHODS.create(plain).spec]
    outcomes = {"edited": 0, "not-understood": 0}
    for key, r in rows[spec].items():
        outcomes[r.info["outcome"]] += 1
        unedited = np.array_equal(pixels(tmp_path, r), pixels(tmp_path, ident[key]))
        understood = (r.text_received or "").strip().lower().startswith("make")
        assert unedited == (not understood), key
        if key[1] == 30:
            assert r.text_received == r.text_sent and r.info["outcome"] == "edited"
    assert outcomes["not-understood"] >= 3  # at -6 dB the text rarely survives


def test_paper_scheme_names_expand_to_their_compositions(registries, capsys):
    from methods.schemes.compose import PAPER_SCHEMES

    for name, (kind, codec, editor, text, _summary) in PAPER_SCHEMES.items():
        m = METHODS.create(name)
        assert m.spec == name and m.task == "edit" and m.kind == kind
        assert m.codec.spec == METHODS.create(codec).spec
        if kind == "m1":
            assert m.text == text
        # the expansion is a spec that builds the same composition
        same = METHODS.create(m.expands_to)
        assert (same.codec.spec, same.editor.spec) == (m.codec.spec, m.editor.spec)
    assert METHODS.create("deepjscc").editor.spec.startswith("talk2edit:steps=110,lr_generator=0")
    changed = METHODS.create("talk2edit+deepsc:editor=[identity]")
    assert changed.spec == "talk2edit+deepsc:codec=[deepsc],editor=[identity]"
    assert METHODS.create(changed.spec).spec == changed.spec
    with pytest.raises(UserError, match="takes codec"):
        METHODS.create("talk2edit+deepsc:text=huffman-rs")
    main(["list"])
    out = capsys.readouterr().out
    assert all(f"  {name}" in out for name in PAPER_SCHEMES) and "journal M1" in out and "conference baseline" in out


def test_cbr_in_the_papers_table_convention():
    """Tables I/II: 0.0389 for JPEG+LDPC at 0.7 bpp (128 px), 0.0111 at 0.2 bpp (1024 px), 0.0833 for
    DeepSC and 0.0104 for Editable-DeepSC's 512 reals at 128 px: info bits / (6 HWC) for source-coded
    schemes, real values / HWC for analog ones."""
    from bench.cbr import cbr_paper, cbr_table_convention

    assert round(cbr_table_convention(0.7, 10**6, 128, 128), 4) == 0.0389
    assert round(cbr_table_convention(0.2, 10**6, 1024, 1024), 4) == 0.0111
    assert round(cbr_table_convention(None, 2048, 128, 128), 4) == 0.0833 == round(cbr_paper(2048, 128, 128), 4)
    assert round(cbr_table_convention(None, 256, 128, 128), 4) == 0.0104
