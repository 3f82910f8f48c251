"""Editable-DeepSC (issue 12): the latent's channel map, the SNR-aware adapters and their trainer, the
method under the scheme contract (transmitter work once per image, per-SNR adapters, outcomes), and
a sweep on the shipped networks."""
import json

import numpy as np
from tiny_editing import StuckP, parsed, tiny_generator
import pytest
import torch

from bench.errors import UserError
from bench.registry import METHODS
from channels.base import Received
from methods.editing.base import Outcome
from methods.nets.channel_adapter import Adapter, ChannelAdapters, LatentLink, latent_stats
from methods.nets.field_function import FieldFunctions
from methods.schemes.base import Request

torch.set_num_threads(1)
TINY = {"resolution": 32, "z_dim": 8, "w_dim": 8, "n_mlp": 2, "channels": {4: 8, 8: 8, 16: 8, 32: 8}}


def tiny_g():
    return tiny_generator(TINY)


REQUESTS = {"make her smile": parsed(), "hello there": parsed(False),
            "set smile to 2": parsed(mode="target", target=2, direction=None, delta=None)}


def method(spec="editable-deepsc:variant=conference,r_inv=3,init=mean,max_trials=4", adapters=None):
    m = METHODS.create(spec)
    G = tiny_g()
    m.use(G=G, P=StuckP(), fields=FieldFunctions(w_dim=8, hidden=8, layers=2), parse=lambda t: REQUESTS[t],
          adapters=adapters)
    m.size = 32
    return m


def image(seed=0, size=32):
    return (np.random.default_rng(seed).random((size, size, 3)) * 255).astype(np.uint8)


# ----------------------------------------------------------------------------- the channel map

def test_latent_link_sends_unit_power_and_only_loses_the_norm():
    G = tiny_g()
    link = LatentLink.for_generator(G)
    w = G.mapping(torch.randn(50, G.z_dim, generator=torch.Generator().manual_seed(1))).detach()
    x = link.encode(w)
    assert x.shape == w.shape
    power = x.reshape(50, -1, 2).pow(2).sum(-1).mean(-1)  # mean |x|^2 per complex symbol, per latent
    assert torch.allclose(power, torch.ones(50), atol=1e-5)  # eq. (4) with equality
    s = (w - link.mean) / link.std
    back = (link.decode(x) - link.mean) / link.std
    # the direction survives exactly; the norm becomes c * sqrt(k), the typical norm of a standardised latent
    assert torch.allclose(torch.nn.functional.cosine_similarity(back, s, dim=-1), torch.ones(50), atol=1e-5)
    k = w.shape[-1] // 2
    assert torch.allclose(back.norm(dim=-1), torch.full((50,), link.c * k ** 0.5), rtol=1e-5)
    _, _, c = latent_stats(G)
    assert c == pytest.approx(float(torch.sqrt(s.pow(2).sum(-1).mean() / k)), rel=0.15)  # 50 vs 10000 samples


def test_adapters_start_as_the_identity_and_pick_the_nearest_snr():
    a = Adapter(8, 4)
    x = torch.randn(3, 8)
    assert torch.equal(a(x), x)
    A = ChannelAdapters(w_dim=8, hidden=4, snrs=[-6, 0, 6, 12, 18])
    assert A.nearest(-10) == -6 and A.nearest(4) == 6 and A.nearest(3) == 0 and A.nearest(30) == 18
    assert A.pair(7)[0] is A.ce["p6"] and A.pair(-5)[1] is A.cd["m6"]
    assert A.parameters_per_snr() == 2 * (8 * 4 + 4 + 4 * 8 + 8)
    with pytest.raises(ValueError, match="distinct"):
        ChannelAdapters(w_dim=8, snrs=[0, 0])


# ----------------------------------------------------------------------------- the method

def test_specs_options_and_variants(registries):
    m = METHODS.create("editable-deepsc")
    assert m.spec == "editable-deepsc" and m.adapters and m.task == "edit" and m.init == "encoder"
    c = METHODS.create("editable-deepsc:variant=conference")
    assert c.spec == "editable-deepsc:variant=conference" and not c.adapters
    a = METHODS.create("editable-deepsc:adapters=false,r_inv=70,matching=false")
    assert a.spec == "editable-deepsc:variant=journal,r_inv=70,adapters=false,matching=false"
    assert METHODS.create(a.spec).spec == a.spec
    r = METHODS.create("editable-deepsc:radius=0")
    assert r.radius == 0.0 and r.spec == "editable-deepsc:variant=journal,radius=0.0" and METHODS.create(r.spec).radius == 0
    from methods.editing.matching import RADIUS_SCALE

    assert METHODS.create("editable-deepsc").radius == RADIUS_SCALE  # the scheme's default is matching's
    assert METHODS.create(f"editable-deepsc:radius={RADIUS_SCALE}").spec == "editable-deepsc"
    for bad, words in [("radius=-1", "radius must be a finite number"), ("radius=wide", "radius must be"),("variant=vtc", "variant must be one of"), ("r_inv=-1", "r_inv must be an integer"),
                       ("space=z", "space must be one of"), ("init=zero", "init must be one of"),
                       ("adapters=maybe", "adapters must be true or false")]:
        with pytest.raises(UserError, match=words):
            METHODS.create(f"editable-deepsc:{bad}")


def test_transmitter_edits_once_and_each_snr_only_adds_the_channel(registries):
    m = method()
    p = m.prepare(Request("a", image(), "make her smile"))
    assert p.info["outcome"] == Outcome.GAVE_UP and p.info["trials"] == 4  # StuckP never reads degree 3
    assert p.info["expected_degree"] == 3 and {"parse", "inversion", "editing"} <= set(p.stage_times)
    streams = {snr: m.transmit(p, snr) for snr in (-6, 6, 18)}
    for s in streams.values():
        x = s["latent"]
        assert x.shape == (4,) and x.dtype == np.complex128 and np.mean(np.abs(x) ** 2) == pytest.approx(1.0)
    # without adapters the symbols do not depend on the SNR: the sweep reuses one transmitter run
    assert np.array_equal(streams[-6]["latent"], streams[18]["latent"])
    rx = [({"latent": Received(y=s["latent"], noise_var=0.0)}, p.side_info, snr) for snr, s in streams.items()]
    out = m.receive_batch(rx)
    assert len(out) == 3 and all(d.image.shape == (32, 32, 3) and d.image.dtype == np.uint8 for d in out)
    single = m.receive(*rx[0])
    assert np.array_equal(single.image, out[0].image)  # batching changes nothing
    # a noiseless reception decodes the sent latent up to its norm (eq. 4 removes it; see LatentLink)
    w_sent = p.state.reshape(1, -1)
    w_back = m.link.decode(torch.from_numpy(np.stack([streams[6]["latent"].real, streams[6]["latent"].imag], -1)
                                            .reshape(1, -1)).float())
    cos = torch.nn.functional.cosine_similarity((w_back - m.link.mean) / m.link.std,
                                                (w_sent - m.link.mean) / m.link.std)
    assert float(cos) == pytest.approx(1.0, abs=1e-5)


def test_requests_that_do_not_edit_send_the_unedited_latent(registries):
    m = method()
    img = image(1)
    nu = m.prepare(Request("a", img, "hello there"))
    assert nu.info["outcome"] == Outcome.NOT_UNDERSTOOD and nu.info["trials"] == 0 and "editing" not in nu.stage_times
    met = m.prepare(Request("a", img, "set smile to 2"))  # P reads 2 already
    assert met.info["outcome"] == Outcome.EDITED and met.info["trials"] == 0
    assert torch.equal(nu.state, met.state)  # both are the inversion itself
    with pytest.raises(UserError, match="uint8"):
        m.prepare(Request("a", img.astype(np.float32), "make her smile"))


def test_other_sizes_are_resized_and_said_so(registries):
    m = method()
    p = m.prepare(Request("a", image(2, size=40), "hello there"))
    assert p.info["resized_from"] == [40, 40]
    d = m.receive({"latent": Received(y=m.transmit(p, 6)["latent"], noise_var=0.0)}, p.side_info, 6)
    assert d.image.shape == (40, 40, 3) and d.info["resized"]


def test_adapters_are_chosen_per_snr_and_recorded(registries):
    A = ChannelAdapters(w_dim=8, hidden=4, snrs=[-6, 18])
    with torch.no_grad():
        A.ce["p18"].fc2.bias.fill_(0.5)  # make the 18 dB adapter visibly different
    m = method("editable-deepsc:r_inv=3,init=mean,max_trials=4", adapters=A)
    p = m.prepare(Request("a", image(), "hello there"))
    lo, hi = m.transmit(p, -6)["latent"], m.transmit(p, 15)["latent"]
    assert not np.allclose(lo, hi)
    d = m.receive_batch([({"latent": Received(y=lo, noise_var=0.0)}, p.side_info, -6.0),
                         ({"latent": Received(y=hi, noise_var=0.0)}, p.side_info, 15.0)])
    assert d[0].info == {"adapter_snr": -6.0, "adapter_nearest": False}
    assert d[1].info == {"adapter_snr": 18.0, "adapter_nearest": True}
    counts = m.parameter_counts()
    assert counts["tuned_total"] == A.parameters_per_snr() and 0 < counts["tuned_ratio"] < 1
    with pytest.raises(UserError, match="needs trained channel adapters"):
        method("editable-deepsc:r_inv=3,init=mean")


def test_received_stream_of_the_wrong_size_is_refused(registries):
    m = method()
    p = m.prepare(Request("a", image(), "hello there"))
    with pytest.raises(ValueError, match="expected 4"):
        m.receive({"latent": Received(y=np.zeros(5, complex), noise_var=0.0)}, p.side_info, 0)


# ----------------------------------------------------------------------------- trainer

def test_quick_adapter_training_exports_pinned_adapters_with_held_out_figures(tmp_path):
    from methods import zoo
    from methods.nets.channel_adapter import NAME

    ctx = zoo.TrainContext(NAME, seed=0, device="cpu", steps=3, work_dir=tmp_path / "w", quick=True,
                           options={"snrs": "-6,12"})
    zoo.component(NAME).train(ctx)
    card = json.loads((tmp_path / "w" / f"{NAME}.json").read_text())
    assert card["config"]["snrs"] == [-6.0, 12.0] and card["config"]["generator_sha256"] == "quick-random-generator"
    q = card["quality"]["per_snr"]
    assert set(q) == {"-6", "12"}
    for v in q.values():
        lo, hi = v["heldout_diff_ci95"]
        assert lo <= hi and len(v["loss_curve_every_25"]) == 1
        assert v["heldout_lpips_vgg_without"] > 0
    A = zoo.load_model(NAME, tmp_path / "w" / f"{NAME}.pt")
    assert A.snrs == [-6.0, 12.0]
    with pytest.raises(UserError, match="snrs must be"):
        zoo.component(NAME).train(zoo.TrainContext(NAME, seed=0, device="cpu", steps=1, work_dir=tmp_path / "x",
                                                   quick=True, options={"snrs": "loud"}))


# ----------------------------------------------------------------------------- a sweep on the shipped networks

def test_sweep_on_the_shipped_networks(tmp_path, registries):
    from bench.runner import SweepConfig, run_sweep
    from bench.store import ResultStore

    spec = "editable-deepsc:variant=conference,r_inv=4"
    cfg = SweepConfig(methods=[spec], dataset="synthfaces", snrs=[-6, 18], n=2, out=tmp_path / "run",
                      metrics=["psnr", "edit-success"], set_metrics=False, progress=False)
    res = run_sweep(cfg)
    store = ResultStore(res.db_path)
    try:
        rows = store.rows()
    finally:
        store.close()
    assert len(rows) == 4
    for r in rows:
        assert r.channel_uses == 64 and r.cbr_paper == pytest.approx(128 / (64 * 64 * 3))
        assert r.info["tx.outcome"] in Outcome.ALL and r.task == "edit"
        assert {"tx.inversion", "tx.parse", "rx.decoding"} <= set(r.times)
        assert set(r.weights) >= {"generator", "fields", "predictor", "parser", "encoder"}
    by_image = {}
    for r in rows:
        by_image.setdefault(r.image_id, []).append(r)
    for pair in by_image.values():  # one transmitter run per image, shared by both SNRs
        assert pair[0].times["tx.inversion"] == pair[1].times["tx.inversion"]
        assert pair[0].info["tx.trials"] == pair[1].info["tx.trials"]


def test_norm_sent_costs_one_channel_use_and_returns_the_latent_exactly(registries):
    m = method("editable-deepsc:variant=conference,r_inv=3,init=mean,max_trials=4,norm=sent")
    assert m.spec.endswith("norm=sent")
    p = m.prepare(Request("a", image(), "hello there"))
    x = m.transmit(p, 6)["latent"]
    assert x.shape == (5,) and np.mean(np.abs(x) ** 2) <= 1.0 + 1e-9
    reals = torch.from_numpy(np.stack([x.real, x.imag], -1).reshape(1, -1)).float()
    back = m.link.decode(reals, send_norm=True)
    assert torch.allclose(back, p.state.reshape(1, -1), atol=1e-4)  # the norm came along
    d = m.receive({"latent": Received(y=x, noise_var=0.0)}, p.side_info, 6)
    assert d.image.shape == (32, 32, 3)
    A = ChannelAdapters(w_dim=8, hidden=4, snrs=[0])
    with pytest.raises(UserError, match="fine-tuned with norm=implicit"):
        method("editable-deepsc:r_inv=3,init=mean,norm=sent", adapters=A)
    with pytest.raises(UserError, match="norm must be implicit"):
        METHODS.create("editable-deepsc:norm=maybe")


def test_w_plus_sends_one_latent_per_layer(registries):
    m = method("editable-deepsc:variant=conference,r_inv=2,init=mean,max_trials=2,space=w+")
    p = m.prepare(Request("a", image(), "make her smile"))
    num = m.G.num_ws
    assert p.state.shape == (1, num, 8)
    x = m.transmit(p, 6)["latent"]
    assert x.shape == (num * 4,) and np.mean(np.abs(x) ** 2) == pytest.approx(1.0)
    d = m.receive({"latent": Received(y=x, noise_var=0.0)}, p.side_info, 6)
    assert d.image.shape == (32, 32, 3)


def test_the_bad_input_corpus_ends_in_recorded_outcomes_not_crashes(tmp_path, registries):
    from bench.runner import SweepConfig, run_sweep
    from bench.store import ResultStore
    from datasets.stress import CASES
    from reports.tables import outcome_of, outcome_table

    specs = ["editable-deepsc:variant=conference,r_inv=3,max_trials=3",
             "talk2edit+jpeg-ldpc:editor=[talk2edit:steps=2,max_trials=2]"]
    cfg = SweepConfig(methods=specs, dataset="edit-stress", snrs=[-6, 18], n=None, out=tmp_path / "run",
                      metrics=["psnr", "edit-success"], set_metrics=False, progress=False)
    res = run_sweep(cfg)
    store = ResultStore(res.db_path)
    try:
        rows = store.rows()
    finally:
        store.close()
    assert len(rows) == 2 * 2 * len(CASES)  # every item, every SNR, both methods
    by_case = {}
    for r in rows:
        assert outcome_of(r) in Outcome.ALL
        by_case.setdefault(r.image_id.split("-", 2)[2], set()).add(outcome_of(r))
    for case in ("empty", "blank", "emoji", "gibberish"):
        assert by_case[case] == {Outcome.NOT_UNDERSTOOD}, case
    assert by_case["at-limit"] == {Outcome.AT_LIMIT} or Outcome.AT_LIMIT in by_case["at-limit"]
    # a not-understood request sends the unedited latent: the image is the decoded inversion, not a blank
    eds = [r for r in rows if r.method.startswith("editable") and r.image_id.endswith("-empty") and r.snr == 18]
    assert eds and eds[0].metrics["psnr"] > 12
    written = outcome_table(rows, tmp_path / "outcomes")
    table = written[1].read_text()
    assert "not-understood" in table and "edit-stress" in table


def test_shipped_adapters_still_help_at_minus_6_db(tmp_path, registries):
    """Guard for the shipped channel adapters (docs/editable-deepsc.md: -0.060 LPIPS-vgg at -6 dB on 40
    test images): on 6 test images with a shorter inversion they must still lower LPIPS-vgg to the
    ground-truth edit by a clear margin."""
    from bench.results import load
    from bench.runner import SweepConfig, run_sweep

    specs = ["editable-deepsc:r_inv=40", "editable-deepsc:r_inv=40,adapters=false"]
    run_sweep(SweepConfig(methods=specs, dataset="synthfaces", snrs=[-6], n=6, out=tmp_path / "r",
                          metrics=["lpips-vgg"], set_metrics=False, progress=False))
    df = load(tmp_path / "r")
    means = df.groupby("method")["lpips-vgg"].mean()
    with_a = means[METHODS.create(specs[0]).spec]
    without = means[METHODS.create(specs[1]).spec]
    assert with_a < without - 0.03, (with_a, without)
