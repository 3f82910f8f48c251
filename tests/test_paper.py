"""`bench paper`: the sweeps a paper needs run resumably into one database and the report puts our
numbers beside the published ones with verdicts (a tiny plan on the shipped networks)."""
import json

import pytest

import reports.paper as P


def test_paper_values_are_data_with_sources():
    pv = json.loads(P.PAPER_VALUES.read_text())
    assert pv["journal"]["table_I_cbr_128"]["values"]["editable-deepsc"] == 0.0104
    assert pv["journal"]["table_V_time_s"]["values"]["editable-deepsc"]["128"] == 14.6
    assert all("source" in c for c in pv["journal"]["claims"] + pv["conference"]["claims"])
    assert set(P.JOURNAL_METHODS) == set(pv["journal"]["table_I_cbr_128"]["values"])


def test_plans_cover_the_papers_figures_and_tables():
    names = {s.name for s in P.plan("journal", 4, None, 128)}
    assert {"fig4_main", "fig6_hires", "fig8_ood", "table3_r_inv", "table4_adapters", "fig10_matching"} <= names
    conf = P.plan("conference", 4, None, 128)
    assert conf[0].snrs == [-6.0, -3.0, 0.0, 6.0, 12.0, 18.0] and set(conf[0].methods) == set(P.CONFERENCE_METHODS)
    with pytest.raises(Exception, match="paper must be one of"):
        P.plan("thesis", 4, None, 128)


def test_the_sets_are_options_for_the_official_tier(tmp_path):
    sets = P.PaperSets(main="celeba-dialog:root=/data/cd", hires="celeba-hq:root=/data/hq", ood="metfaces:root=/data/mf")
    by_name = {s.name: s for s in P.plan("journal", 4, None, 1024, sets)}
    assert by_name["fig4_main"].dataset == by_name["table3_r_inv"].dataset == by_name["add_links"].dataset \
        == "celeba-dialog:root=/data/cd"
    assert (by_name["fig6_hires"].dataset, by_name["fig6_hires"].size) == ("celeba-hq:root=/data/hq", 1024)
    assert by_name["fig8_ood"].dataset == by_name["table4_adapters_ood"].dataset == "metfaces:root=/data/mf"
    assert P.plan("journal", 4, None, 128)[1].dataset == "synthfaces"  # default: the main set at --hires-size
    assert sets.flags("journal") == ("--dataset celeba-dialog:root=/data/cd --hires-dataset celeba-hq:root=/data/hq "
                                     "--ood-dataset metfaces:root=/data/mf") and P.PaperSets().flags("journal") == ""
    assert P.plan("conference", 4, None, 128, P.PaperSets(main="celeba:root=/x"))[0].dataset == "celeba:root=/x"
    with pytest.raises(Exception, match="conference paper uses one set"):
        P.plan("conference", 4, None, 128, P.PaperSets(ood="metfaces:root=/x"))
    # a set that cannot be read is refused before any sweep runs, naming the problem
    with pytest.raises(Exception, match="does not exist"):
        P.run_paper("journal", out=tmp_path / "p", n=1, sets=P.PaperSets(main=f"metfaces:root={tmp_path}/nowhere"))
    assert not (tmp_path / "p" / "results.sqlite").exists()


def test_a_small_paper_run_reuses_rows_and_reports_verdicts(tmp_path, monkeypatch, registries):
    from bench.registry import METHODS

    a = METHODS.create("m2:editor=[identity],codec=[uncoded]").spec
    b = METHODS.create("editable-deepsc:variant=conference,r_inv=2,max_trials=2").spec
    monkeypatch.setattr(P, "JOURNAL_METHODS", [a, b])
    monkeypatch.setitem(P.OURS, "journal", b)
    monkeypatch.setattr(P, "LINKS", ["uncoded", "ideal-separate:cbr=0.0104", "ideal-separate:uses=3000"])
    # the main set is not the default one: the report must follow the run's sets, not a built-in name
    sets = P.PaperSets(main="synthfaces:split=finetune")
    monkeypatch.setattr(P, "plan", lambda paper, n, snrs, hires, sets: [
        P.Sweep("fig4_main", [a, b], sets.main, [-6.0]),
        P.Sweep("fig6_hires", [a, "deepsc"], sets.main, [-6.0], size=hires),  # 100: not a multiple of 8, DeepSC refuses
        P.Sweep("add_links", P.LINKS, sets.main, [-6.0, 12.0], set_metrics=False, metrics=P.TRANSMIT_METRICS),
        P.Sweep("add_rayleigh", [a], sets.main, [-6.0], set_metrics=False, channel="rayleigh")])
    lines = []
    run = P.run_paper("journal", out=tmp_path / "p", n=2, echo=lines.append, sets=sets, hires_size=100)
    assert any("deepsc @ fig6_hires" in u and "multiple of 8" in u for u in run.unavailable)
    text = P.build_paper_report(run).read_text()
    assert "`bench paper journal --n 2 --dataset synthfaces:split=finetune`" in text
    assert "Sets: main `synthfaces:split=finetune,world=2` (64 px)" in text
    assert "## Fig. 4" in text and "LPIPS vs second best" in text and "paper −40.4 %" in text
    assert "LPIPS-vgg (a check: not the paper's metric) vs second best" in text  # not only the method's own loss
    assert "no verdict: n=2 is too few images" in text  # two images give a number, not a verdict
    assert "Not run" in text and "deepsc @ fig6_hires" in text
    assert (tmp_path / "p" / "tables" / "fig4_main_lpips-alex.tex").exists()
    assert (tmp_path / "p" / "figures" / "fig4_main_grid.png").exists()
    assert json.loads((tmp_path / "p" / "paper_run.json").read_text())["unavailable"] == run.unavailable
    # our additions: the links against the bound, equal bandwidth, Rayleigh (kept out of the paper's figures)
    # each section's FD is its own set's (the 100-px sweep is not averaged into the 64-px one)
    from bench.results import load_set_metrics

    fd = load_set_metrics(tmp_path / "p")
    fd = fd[(fd.name == "FD-VGG16") & (fd.method == a) & (fd.channel == "awgn")].set_index("size")["value"]
    hires = text.split("## Fig. 6")[1].split("\n## ")[0]
    assert f"| {a} | {fd[100]:.1f} |" in hires and f"{fd[64]:.1f}" not in hires and fd[64] != fd[100]
    assert "## Our additions" in text and "separation bound" in text and "Equal bandwidth" in text
    assert "| ideal-separate:cbr=0.0104 | 64 |" in text and "### Rayleigh fading (`rayleigh:" in text
    import pandas as pd

    from bench.results import load

    rows = load(tmp_path / "p")
    assert set(rows.channel) == {"awgn", "rayleigh:fading=fast,csi=perfect"}
    fig4 = pd.read_csv(tmp_path / "p" / "tables" / "fig4_main_lpips-alex.csv", index_col=0)
    awgn_a = rows[(rows.method == a) & (rows.channel == "awgn") & (rows["size"] == 64)]["lpips-alex"].mean()
    assert fig4.loc[a].iloc[0] == pytest.approx(awgn_a)
    # each figure draws its own methods only (not the links, ablations or other sweeps)
    curves = list((tmp_path / "p" / "figures" / "fig4_main").glob("*awgn_64px*/snr_lpips-alex.csv"))
    assert len(curves) == 1 and set(pd.read_csv(curves[0]).method) == {a, b}
    links = list((tmp_path / "p" / "figures" / "add_links").glob("*awgn_64px*/snr_psnr.csv"))
    assert len(links) == 1 and set(pd.read_csv(links[0]).method) == {METHODS.create(m).spec for m in P.LINKS}
    lines.clear()
    P.run_paper("journal", out=tmp_path / "p", n=2, echo=lines.append, sets=sets, hires_size=100)  # all reused
    assert all("0 new rows" in line for line in lines if "fig4_main" in line)
    # --report-only reads the sets back from the run's record
    again = P.load_run("journal", tmp_path / "p", 2, None)
    assert again.sets == sets and again.hires_size == 100
    rebuilt = P.build_paper_report(again).read_text()  # the second run's record: its own wall times
    assert "Sets: main `synthfaces:split=finetune,world=2` (64 px)" in rebuilt and rebuilt.count("**lpips-alex**") \
        == text.count("**lpips-alex**")
