"""Field functions and iterative attribute matching (issue 11), checked on a latent world whose
ground truth is exact: the 'generator' passes w through, the 'predictor' reads degree a_i =
floor(w_i) (clipped 0..5), and field i moves w_i by a known step."""
import json

import numpy as np
from tiny_editing import StuckP, parsed, tiny_generator
import pytest
import torch

from bench.errors import UserError
from methods.editing.base import Outcome
from methods.editing.matching import expected_degree, iterative_matching
from methods.nets.field_function import FieldFunctions

torch.set_num_threads(1)


class PassG:
    def synthesis(self, w, noise="const"):
        return w


class FloorP:
    def predict(self, x):
        return np.clip(np.floor(x[:, :5].numpy() + 1e-6), 0, 5).astype(np.int64)


def constant_fields(step: float, w_dim: int = 8) -> FieldFunctions:
    """M_i(w) = step * e_i for every w."""
    M = FieldFunctions(w_dim=w_dim, hidden=4, layers=2)
    with torch.no_grad():
        for i, f in enumerate(M.fields):
            for p in f.parameters():
                p.zero_()
            f[-1].bias[i] = step
    return M


def latents(degrees):
    w = torch.zeros(len(degrees), 8)
    w[:, :5] = torch.tensor(degrees, dtype=torch.float32) + 0.5  # mid-degree
    return w


def test_expected_degree_is_eq_10():
    assert expected_degree(2, +1, 2) == 4 and expected_degree(4, +1, 3) == 5 and expected_degree(1, -1, 3) == 0
    assert expected_degree(3, None, None, target=1) == 1 and expected_degree(3, target=9) == 5
    with pytest.raises(UserError, match="direction"):
        expected_degree(2, 0, 1)


def test_matching_lands_on_the_expected_degree_with_the_right_trials():
    G, P, M = PassG(), FloorP(), constant_fields(0.5)  # two steps per degree
    w = latents([[2, 0, 0, 0, 0], [0, 3, 0, 0, 0], [0, 0, 5, 0, 0], [0, 0, 0, 1, 0], [0, 0, 0, 0, 4]])
    r = iterative_matching(G, P, M, w, attributes=[0, 1, 2, 3, 4], directions=[+1, -1, +1, None, +1],
                           deltas=[2, 1, 1, None, 0], targets=[None, None, None, 4, None])
    assert list(r.before) == [2, 3, 5, 1, 4] and list(r.expected) == [4, 2, 5, 4, 4]
    assert r.outcomes == [Outcome.EDITED, Outcome.EDITED, Outcome.AT_LIMIT, Outcome.EDITED, Outcome.EDITED]
    assert list(r.after) == list(r.expected)
    # from the middle of a degree (x.5) steps of 0.5: up, the first reaches the next degree's edge, then
    # 2 per degree (2.5 -> 4.0: 3 steps; 1.5 -> 4.0: 5); down, 3.5 -> 3.0 is still degree 3 (2 steps)
    assert list(r.trials) == [3, 2, 0, 5, 0]
    # only the requested attribute moved
    changed = r.degrees_after != r.degrees_before
    assert all(changed[i].sum() <= 1 and (not changed[i].any() or changed[i, i]) for i in range(5))


def test_gave_up_on_overshoot_and_on_max_trials():
    G, P = PassG(), FloorP()
    w = latents([[1, 0, 0, 0, 0]] * 2)
    jump = iterative_matching(G, P, constant_fields(2.0), w, [0, 0], [+1, +1], [1, 1])  # jumps two degrees
    assert jump.outcomes == [Outcome.GAVE_UP] * 2 and list(jump.after) == [3, 3] and list(jump.trials) == [1, 1]
    slow = iterative_matching(G, P, constant_fields(0.1), w, [0, 0], [+1, +1], [3, 3], max_trials=5)
    assert slow.outcomes == [Outcome.GAVE_UP] * 2 and list(slow.trials) == [5, 5] and list(slow.after) == [2, 2]  # 1.5 -> 2.0


def test_matching_off_applies_a_fixed_number_of_steps():
    G, P = PassG(), FloorP()
    w = latents([[1, 0, 0, 0, 0], [0, 4, 0, 0, 0]])
    r = iterative_matching(G, P, constant_fields(0.5), w, [0, 1], [+1, -1], [2, 3], matching=False,
                           steps_per_degree=2)
    assert list(r.trials) == [4, 6] and r.outcomes == [Outcome.EDITED] * 2
    assert list(r.after) == [3, 1]  # 1.5 + 2.0 = 3.5; 4.5 - 3.0 = 1.5
    # without looking, a field that is too strong overshoots and is still reported as applied
    r2 = iterative_matching(G, P, constant_fields(1.0), w[:1], [0], [+1], [2], matching=False, steps_per_degree=2)
    assert list(r2.after) == [5] and list(r2.trials) == [4]


def test_field_function_shapes_rows_and_step():
    torch.manual_seed(0)
    M = FieldFunctions(w_dim=16, hidden=32, layers=8)
    assert len(M.fields) == 5 and sum(isinstance(m, torch.nn.Linear) for m in M.fields[0]) == 8
    w = torch.randn(6, 16)
    attr = torch.tensor([0, 1, 2, 3, 4, 0])
    out = M(w, attr)
    for i in range(6):  # each row through its own attribute's field
        torch.testing.assert_close(out[i], M.fields[int(attr[i])](w[i:i + 1])[0])
    torch.testing.assert_close(M.step(w, attr, torch.tensor([1, -1, 1, -1, 1, -1])),
                               w + torch.tensor([1, -1, 1, -1, 1, -1.0]).view(-1, 1) * out)
    with pytest.raises(UserError, match="no field function for attribute 'Hat'"):
        M(w, "Hat")


def test_quick_training_exports_fields_pinned_to_the_generator(tmp_path):
    from methods.nets.field_function import load_fields
    from methods.zoo import TrainContext, component

    ctx = TrainContext(name="field-functions", seed=0, device="cpu", steps=None, work_dir=tmp_path / "w",
                       out=tmp_path / "o", quick=True)
    component("field-functions").train(ctx)
    M = load_fields(tmp_path / "o" / "field-functions.pt")
    card = json.loads((tmp_path / "o" / "field-functions.json").read_text())
    assert M.generator_sha256 == card["quality"]["generator_sha256"] == "quick-random-generator"
    assert card["quality"]["weights"] == {"pred": 1.0, "id": 5.0, "disc": 1.0}
    log = [json.loads(x) for x in (tmp_path / "w" / "log.jsonl").read_text().splitlines()]
    assert all(np.isfinite(x["loss_pred"]) for x in log if "loss_pred" in x)


def test_fields_for_another_generator_are_refused(tmp_path):
    from methods.nets.field_function import build, load_fields_for
    from methods.nets.stylegan2 import Generator, normalize_config
    from methods.zoo import save_checkpoint

    tiny = {"resolution": 32, "z_dim": 24, "w_dim": 16, "n_mlp": 2, "channels": {4: 16, 8: 16, 16: 8, 32: 8}}
    g = tmp_path / "g.pt"
    save_checkpoint(g, "stylegan2", normalize_config(tiny), Generator(tiny).state_dict(), None)
    cfg = {"w_dim": 16, "hidden": 8, "layers": 2, "attributes": ["Bangs", "Eyeglasses", "Beard", "Smiling", "Young"],
           "generator_sha256": "0" * 64}
    f = tmp_path / "f.pt"
    save_checkpoint(f, "field-functions", cfg, build(cfg).state_dict(), None)
    with pytest.raises(UserError, match="trained against generator 000000000000, not the one in use"):
        load_fields_for(g, f)
    with pytest.raises(UserError, match="no field functions"):
        load_fields_for(g, tmp_path / "none.pt")


# ----------------------------------------------------------------------------- Talk2Edit editor

TINY = {"resolution": 32, "z_dim": 24, "w_dim": 16, "n_mlp": 2, "channels": {4: 16, 8: 16, 16: 8, 32: 8}}


def _tiny_g():
    return tiny_generator(TINY)


def test_talk2edit_inversion_fine_tunes_a_copy_of_the_generator():
    from methods.editing.inversion import InversionConfig, invert, ramp_lr
    from bench.metrics.perceptual import lpips_model

    G = _tiny_g()
    before = {k: v.clone() for k, v in G.state_dict().items()}
    with torch.no_grad():
        target = G(torch.randn(1, 24, generator=torch.Generator().manual_seed(3)))
    lp = lpips_model("vgg", "cpu")
    base = dict(steps=40, lpips_net="vgg", lr_schedule="ramp", latent_noise=0.05, seed=1)
    plain = invert(G, target, InversionConfig(**base), lpips_model=lp)
    tuned = invert(G, target, InversionConfig(**base, lr_generator=1e-2), lpips_model=lp)
    assert plain.generator is None and tuned.generator is not None and tuned.generator is not G
    assert float(tuned.loss) < float(plain.loss)  # the fine-tuned generator fits the image better
    assert all(torch.equal(v, before[k]) for k, v in G.state_dict().items())  # the shared G is untouched
    with torch.no_grad():  # the returned image is the fine-tuned generator's
        torch.testing.assert_close(tuned.generator.synthesis(tuned.latents), tuned.images)
    assert ramp_lr(0.0, 0.1) == 0.0 and ramp_lr(0.5, 0.1) == pytest.approx(0.1) and ramp_lr(1.0, 0.1) == 0.0


def test_batched_fine_tuning_gives_each_image_the_generator_it_gets_alone():
    """M1's receiver inverts all SNRs of an image as one batch with per-image generator copies
    (torch.func.vmap): each image must end where its own one-image inversion ends - up to the
    rounding that Adam at lr 0.1 amplifies (the plain batched inversion, lr_generator=0, shows the
    same ~1e-3..1e-2 latent gaps between batch sizes), so weights and losses are compared, not bits."""
    from methods.editing.inversion import InversionConfig, invert
    from bench.metrics.perceptual import lpips_model

    G = _tiny_g()
    before = {k: v.clone() for k, v in G.state_dict().items()}
    with torch.no_grad():
        targets = G(torch.randn(3, 24, generator=torch.Generator().manual_seed(5)))
    lp = lpips_model("vgg", "cpu")
    cfg = InversionConfig(steps=25, lpips_net="vgg", lr_schedule="ramp", latent_noise=0.05, lr_generator=1e-2)
    batched = invert(G, targets, cfg, lpips_model=lp)
    assert batched.generator is None and len(batched.generators) == 3
    assert all(torch.equal(v, before[k]) for k, v in G.state_dict().items())
    tuned = [n for n, _ in G.named_parameters() if not n.startswith("style.")]

    def flat(g):
        params = dict(g.named_parameters())
        return torch.cat([params[n].detach().flatten() for n in tuned])

    base = flat(G)
    alone = [invert(G, targets[i:i + 1], cfg, lpips_model=lp) for i in range(3)]
    for i in range(3):
        mine, lone = flat(batched.generators[i]), flat(alone[i].generator)
        moved = (lone - base).norm()
        # each copy moved where its lone run moved, not where the other images' runs did
        assert (mine - lone).norm() < 0.1 * moved, (i, float((mine - lone).norm() / moved))
        for j in range(3):
            if j != i:
                assert (mine - lone).norm() < 0.5 * (mine - flat(alone[j].generator)).norm()
        assert float(batched.loss[i]) == pytest.approx(float(alone[i].loss), rel=0.05)
        with torch.no_grad():  # the returned image is that image's own fine-tuned generator's
            torch.testing.assert_close(batched.generators[i].synthesis(batched.latents[i:i + 1]),
                                       batched.images[i:i + 1], atol=1e-5, rtol=1e-4)
    # without latent noise and over few steps the two paths agree closely
    short = InversionConfig(steps=8, lpips_net="vgg", lr_schedule="ramp", latent_noise=0.0, lr_generator=1e-2)
    b8 = invert(G, targets, short, lpips_model=lp)
    for i in range(3):
        torch.testing.assert_close(b8.latents[i:i + 1], invert(G, targets[i:i + 1], short, lpips_model=lp).latents,
                                   atol=1e-4, rtol=0)


def test_talk2edit_editor_outcomes_and_stages():
    from methods.editing.talk2edit import Talk2EditEditor
    from bench.registry import EDITORS

    G = _tiny_g()
    M = FieldFunctions(w_dim=16, hidden=8, layers=2)
    requests = {"make her smile": parsed(), "hello there": parsed(False),
                "set smile to 2": parsed(mode="target", target=2, direction=None, delta=None)}
    ed = EDITORS.create("talk2edit:steps=3,max_trials=4")
    assert isinstance(ed, Talk2EditEditor)
    ed.use(G=G, P=StuckP(), fields=M, parse=lambda text: requests[text])
    img = (np.random.default_rng(0).random((48, 48, 3)) * 255).astype(np.uint8)
    r = ed.edit(img, "hello there")
    assert r.outcome == Outcome.NOT_UNDERSTOOD and r.image is img and "inversion" not in r.stage_times
    r = ed.edit(img, "make her smile")  # P never reads 3: matching gives up after max_trials
    assert r.outcome == Outcome.GAVE_UP and r.trials == 4 and r.image.shape == img.shape
    assert r.parsed["expected_degree"] == 3 and r.parsed["degree_before"] == 2
    assert {"parse", "inversion", "editing", "decoding"} <= set(r.stage_times)
    r = ed.edit(img, "set smile to 2")  # already at the target
    assert r.outcome == Outcome.EDITED and r.trials == 0
    # a batch (M1 hands over all SNRs of an image) gives what one-by-one editing gives
    img2 = (np.random.default_rng(1).random((48, 48, 3)) * 255).astype(np.uint8)
    texts = ["make her smile", "hello there", "set smile to 2"]
    batch = ed.edit_batch([img, img2, img2], texts)
    alone = [ed.edit(im, t) for im, t in zip([img, img2, img2], texts)]
    for b, a in zip(batch, alone):
        assert (b.outcome, b.trials, b.parsed) == (a.outcome, a.trials, a.parsed)
        assert np.abs(b.image.astype(int) - a.image.astype(int)).max() <= 1
        assert set(b.stage_times) == set(a.stage_times)
    with pytest.raises(UserError, match="talk2edit loss must be one of"):
        EDITORS.create("talk2edit:loss=l2")


def test_talk2edit_editor_computes_identical_requests_once(tmp_path, monkeypatch, registries):
    """An edit is a deterministic function of (spec, weights, pixels, text): identical requests in a batch
    are inverted once, and, on weights with a digest, across calls and editor instances through the memo;
    copies are marked reused and keep the computation's times."""
    import methods.editing.inversion as inversion
    from bench.registry import EDITORS
    from methods.editing.base import MEMO

    calls = []
    real = inversion.invert

    def counting(G, targets, cfg, **kw):
        calls.append(len(targets))
        return real(G, targets, cfg, **kw)

    monkeypatch.setattr(inversion, "invert", counting)
    G, M = _tiny_g(), FieldFunctions(w_dim=16, hidden=8, layers=2)
    requests = {"make her smile": parsed(), "make her smile a lot": parsed(delta=2)}

    def editor(spec="talk2edit:steps=3,max_trials=2", paths=None):
        ed = EDITORS.create(spec).use(G=G, P=StuckP(), fields=M, parse=lambda text: requests[text])
        ed._paths = dict(paths or {})
        return ed

    rng = np.random.default_rng(0)
    a, b = ((rng.random((48, 48, 3)) * 255).astype(np.uint8) for _ in range(2))
    ed = editor()
    out = ed.edit_batch([a, a.copy(), b, a], ["make her smile"] * 3 + ["make her smile a lot"])
    assert calls == [3]  # (a, smile) once, (b, smile), (a, a lot): three distinct requests
    assert [r.reused for r in out] == [False, True, False, False]
    assert np.array_equal(out[0].image, out[1].image) and out[1].image is not out[0].image
    assert out[1].stage_times == out[0].stage_times and out[1].elapsed == out[0].elapsed > 0
    assert out[1].info()["reused"] is True and "reused" not in out[0].info()
    ed.edit(a, "make her smile")
    assert calls == [3, 1]  # networks set directly have no digest: no memo across calls

    MEMO.clear()
    paths = {}
    for role in ("generator", "predictor", "fields", "parser"):
        (tmp_path / role).write_bytes(role.encode())
        paths[role] = str(tmp_path / role)
    first = editor(paths=paths).edit(a, "make her smile")
    again = editor(paths=paths).edit(a, "make her smile")  # another instance on the same weights
    assert calls == [3, 1, 1] and again.reused and np.array_equal(again.image, first.image)
    assert (again.outcome, again.trials, again.parsed) == (first.outcome, first.trials, first.parsed)
    editor("talk2edit:steps=3,max_trials=3", paths).edit(a, "make her smile")  # another spec
    (tmp_path / "fields").write_bytes(b"retrained")
    editor(paths=paths).edit(a, "make her smile")  # other weights
    assert calls == [3, 1, 1, 1, 1]
    MEMO.clear()


# ----------------------------------------------------------------------------- bench edit

def test_bench_edit_writes_the_strip_and_record(tmp_path, bench_env):
    import subprocess
    import sys

    from PIL import Image

    from datasets.synthfaces.v2 import render, sample_nuisance

    face = render(123, [0, 0, 0, 2, 3], 64, "photo", sample_nuisance(np.random.default_rng(1)))
    Image.fromarray(face).save(tmp_path / "me.png")
    out = tmp_path / "out"

    def bench(*args):
        return subprocess.run([sys.executable, "-m", "bench.cli", *args], env=bench_env, capture_output=True,
                              text=True, timeout=300)

    p = bench("edit", str(tmp_path / "me.png"), "make it brighter", "--editor", "testkit-brighten", "--out", str(out),
              "--json")
    assert p.returncode == 0, p.stderr
    rec = json.loads(p.stdout)
    assert rec["outcome"] == "edited" and rec["editor"].startswith("testkit-brighten")
    strip = np.asarray(Image.open(out / "me-edit.png").convert("RGB"))[::4, ::4]
    assert np.array_equal(strip[:, :64], face)
    assert np.array_equal(strip[:, 66:], np.clip(face.astype(int) + 40, 0, 255).astype(np.uint8))
    assert json.loads((out / "me-edit.json").read_text())["sheet"] == str(out / "me-edit.png")
    assert set(rec["judged_before"]) == {"Bangs", "Eyeglasses", "Beard", "Smiling", "Young"}
    assert isinstance(rec["identity_verified"], bool)
    # not understood, unreadable, unknown editor: one line, exit 2, nothing written
    out2 = tmp_path / "out2"
    for args, msg in ((("what is the weather",), "not understood"),
                      (("make it brighter", "--editor", "testkit-brightn"), "testkit-brighten")):
        p = bench("edit", str(tmp_path / "me.png"), *args[:1], *(args[1:] or ("--editor", "testkit-brighten")),
                  "--out", str(out2))
        assert p.returncode == 2 and msg in p.stderr and "Traceback" not in p.stderr, p.stderr
        assert not out2.exists()
    p = bench("edit", str(tmp_path / "nope.png"), "make it brighter", "--editor", "testkit-brighten", "--out", str(out2))
    assert p.returncode == 2 and "no such file" in p.stderr and not out2.exists()


# ----------------------------------------------------------------------------- continuous editing

def test_continuous_editing_reinverts_only_on_the_image_path(monkeypatch):
    import methods.editing.inversion as inversion
    from methods.editing.continuous import continuous_editing, degree_schedule
    from methods.editing.inversion import InversionConfig
    from methods.nets.attribute_judge import build as build_j

    assert degree_schedule(np.array([4, 0]), [1, 2, -1]).tolist() == [[5, 1], [5, 2], [3, 0]]
    G = _tiny_g()
    calls = []
    real = inversion.invert_batched

    def counting(*a, **kw):
        calls.append(1)
        return real(*a, **kw)

    monkeypatch.setattr(inversion, "invert_batched", counting)
    torch.manual_seed(0)
    J = build_j({"widths": [8, 8, 8], "groups": 4}).eval()

    class E:
        @staticmethod
        def cosine(a, b):
            return torch.ones(len(a))

    imgs = (np.random.default_rng(0).random((2, 32, 32, 3)) * 255).astype(np.uint8)
    M = FieldFunctions(w_dim=16, hidden=8, layers=2)
    cfg = InversionConfig(steps=2)
    rows = continuous_editing(G, StuckP(), M, J, E, imgs, attribute=3, offsets=(0, 1), path="latent",
                              invert_config=cfg, max_trials=2)
    assert len(calls) == 1 and [r["round"] for r in rows] == [1, 2]
    assert rows[0]["p_at_target"] == 1.0 and rows[0]["mean_trials"] == 0  # offset 0: already there
    assert rows[1]["p_at_target"] == 0.0 and rows[1]["mean_trials"] == 2  # StuckP never reads 3
    assert all(r["id_score"] == 0.0 and r["attr_preservation_ce"] > 0 for r in rows)
    calls.clear()
    continuous_editing(G, StuckP(), M, J, E, imgs, attribute=3, offsets=(0, 1, 1), path="image",
                       invert_config=cfg, max_trials=1)
    assert len(calls) == 3  # every round re-inverts the stored image
    with pytest.raises(UserError, match="path must be one of latent, image"):
        continuous_editing(G, StuckP(), M, J, E, imgs, 3, path="pixels")


# ----------------------------------------------------------------------------- official tier

def _official_state(latent=16, hidden=12, layers=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    state = {}
    for k in range(layers):
        i, o = (latent if k == 0 else hidden), (latent if k == layers - 1 else hidden)
        state[f"field.{k}.Linear.weight"] = torch.randn(o, i, generator=g) * 0.1
        state[f"field.{k}.Linear.bias"] = torch.randn(o, generator=g) * 0.1
    return state


def test_official_field_files_load_and_step_as_talk2edit_does(tmp_path):
    """A fabricated file in the official format: field.<k>.Linear.* (LeakyReLU 0.2 between layers);
    one step adds mapping_mlp(field(w)) - mapping_mlp(0) to the first replaced_layers of W+."""
    import torch.nn.functional as F

    from methods.nets.field_function_official import load_official_field, load_official_fields

    from methods.nets.stylegan2 import Generator

    state = _official_state()
    torch.save(state, tmp_path / "smiling.pth")
    torch.manual_seed(0)
    G = Generator({**TINY, "z_dim": 16}).eval()  # official generators have z_dim == w_dim (512)
    M = load_official_fields({"Smiling": str(tmp_path / "smiling.pth")}, G, replaced_layers=5)
    w = torch.randn(3, 16)
    # the official forward, written out from the state dict
    h = w
    for k in range(4):
        h = F.linear(h, state[f"field.{k}.Linear.weight"], state[f"field.{k}.Linear.bias"])
        h = F.leaky_relu(h, 0.2) if k < 3 else h
    mlp = G.style[1:]
    delta = mlp(h) - mlp(torch.zeros_like(h))
    out = M.step(w, "Smiling", -1)
    assert out.shape == (3, G.num_ws, 16)
    torch.testing.assert_close(out[:, :5], (w - delta).unsqueeze(1).expand(-1, 5, -1))
    torch.testing.assert_close(out[:, 5:], w.unsqueeze(1).expand(-1, G.num_ws - 5, -1))
    # the next step reads the moved w from layer 0
    torch.testing.assert_close(M.step(out, 3, -1)[:, 0], out[:, 0] - M.delta(out[:, 0], 3))
    # matching runs on W+ latents unchanged
    r = iterative_matching(G, StuckP(), M, w, [3, 3, 3], targets=[2, 2, 2])
    assert r.latents.shape == (3, G.num_ws, 16) and r.outcomes == [Outcome.EDITED] * 3
    # bad files: one line naming the problem
    torch.save({"field.0.Linear.weight": torch.zeros(2, 2)}, tmp_path / "bad.pth")
    with pytest.raises(UserError, match="incomplete"):
        load_official_field(tmp_path / "bad.pth")
    torch.save({"net.weight": torch.zeros(2, 2)}, tmp_path / "other.pth")
    with pytest.raises(UserError, match="unexpected entry 'net.weight'"):
        load_official_field(tmp_path / "other.pth")
    (tmp_path / "code.pth").write_bytes(b"\x80\x04cos\nsystem\n.")
    with pytest.raises(UserError, match="not a Talk2Edit field-function state dict"):
        load_official_field(tmp_path / "code.pth")
    with pytest.raises(UserError, match="no official field function loaded for Bangs"):
        M.step(w, "Bangs", 1)


def test_fixed_step_norm_fields_choose_only_the_direction():
    torch.manual_seed(0)
    M = FieldFunctions(w_dim=16, hidden=8, layers=3, step_norm=0.75)
    w = torch.randn(5, 16)
    d = M(w, torch.tensor([0, 1, 2, 3, 4]))
    torch.testing.assert_close(d.norm(dim=1), torch.full((5,), 0.75))
    free = FieldFunctions(w_dim=16, hidden=8, layers=3)
    free.load_state_dict(M.state_dict())
    torch.testing.assert_close(d, 0.75 * torch.nn.functional.normalize(free(w, torch.tensor([0, 1, 2, 3, 4])), dim=1))


def test_bench_continuous_refuses_bad_arguments_in_one_line(capsys):
    from bench.cli import main

    for argv, words in [(["--attribute", "Hat"], "--attribute must be one of"),
                        (["--offsets", "1,x"], "comma-separated integers"),
                        (["--offsets", "9"], "offsets in -5..5"), (["--n", "0"], "--n must be")]:
        assert main(["continuous", "--out", "/nonexistent/never-written", *argv]) == 2
        assert words in capsys.readouterr().err


def test_quick_jecc_training_puts_the_channel_in_the_loop_and_records_it(tmp_path):
    from methods import zoo

    ctx = zoo.TrainContext("jecc-field-functions", seed=0, device="cpu", steps=3, work_dir=tmp_path / "j", quick=True)
    zoo.component("jecc-field-functions").train(ctx)
    card = json.loads((tmp_path / "j" / "jecc-field-functions.json").read_text())
    assert card["config"]["training_snrs"] == [12.0, 18.0] and card["quality"]["training_snrs"] == [12.0, 18.0]
    M = zoo.load_model("jecc-field-functions", tmp_path / "j" / "jecc-field-functions.pt")
    assert M.training_snrs == [12.0, 18.0]
    from methods.nets.field_function import field_component_of

    assert field_component_of(tmp_path / "j" / "jecc-field-functions.pt") == "jecc-field-functions"
    with pytest.raises(UserError, match="snrs must be"):
        zoo.component("field-functions").train(zoo.TrainContext("field-functions", seed=0, device="cpu", steps=1,
                                                                work_dir=tmp_path / "x", quick=True,
                                                                options={"snrs": "high"}))


def test_refine_halves_a_step_that_overshoots_instead_of_giving_up():
    G, P = PassG(), FloorP()
    w = latents([[1, 0, 0, 0, 0]])  # w_0 = 1.5: degree 1, one step of 2.0 lands on 3.5 (degree 3)
    plain = iterative_matching(G, P, constant_fields(2.0), w, [0], [+1], [1])
    assert plain.outcomes == [Outcome.GAVE_UP] and list(plain.after) == [3]
    r = iterative_matching(G, P, constant_fields(2.0), w, [0], [+1], [1], refine=True)
    # 1.5 + 2 overshoots (undone), + 1 -> 2.5: degree 2 = expected
    assert r.outcomes == [Outcome.EDITED] and list(r.after) == [2] and list(r.trials) == [2]
    assert float(r.latents[0, 0]) == pytest.approx(2.5)


def test_matching_never_walks_off_the_latent_distribution():
    """A field that never reaches the degree is stopped where the next step would leave the radius of
    the generator's latents (twice their 99th-percentile distance from w_avg), not after max_trials."""
    from methods.editing.matching import latent_radius

    G = _tiny_g()
    radius = latent_radius(G)
    M = FieldFunctions(w_dim=16, hidden=4, layers=2)
    with torch.no_grad():
        for f in M.fields:
            for p in f.parameters():
                p.zero_()
            f[-1].bias.fill_(radius / 8)  # a big constant step
    w = G.w_avg.view(1, -1).clone()
    r = iterative_matching(G, StuckP(), M, w, [3], [+1], [1], max_trials=100)
    assert r.outcomes == [Outcome.GAVE_UP] and r.trials[0] < 100
    assert float((r.latents[0] - G.w_avg).norm()) <= radius
    # the limit scales with radius_scale: here each step moves radius/2 straight out, so 2 steps reach the
    # radius and the third is undone; at 1.5x the radius one more step fits
    step = float((r.latents[0] - G.w_avg).norm()) / (int(r.trials[0]) - 1)
    assert step == pytest.approx(radius / 2, rel=1e-4) and latent_radius(G, 1.0) == pytest.approx(radius / 2)
    r3 = iterative_matching(G, StuckP(), M, w, [3], [+1], [1], max_trials=100, radius_scale=3.0)
    assert r3.outcomes == [Outcome.GAVE_UP] and list(r3.trials) == [int(r.trials[0]) + 1]
    assert float((r3.latents[0] - G.w_avg).norm()) == pytest.approx(1.5 * radius, rel=1e-4)
    # 0 turns it off: the papers' loop runs to max_trials
    off = iterative_matching(G, StuckP(), M, w, [3], [+1], [1], max_trials=40, radius_scale=0)
    assert off.outcomes == [Outcome.GAVE_UP] and list(off.trials) == [40]
    assert float((off.latents[0] - G.w_avg).norm()) == pytest.approx(40 * step, rel=1e-4)


def test_single_view_identity_loss_reads_the_aligned_image_once_and_leaves_the_embedder_alone():
    from methods.nets.identity_embedder import build as build_e
    from methods.training.field_functions import identity_loss_embedder

    torch.manual_seed(0)
    E = build_e({"widths": [8, 8, 8, 8, 8], "dim": 16, "reduce": 8, "flip_average": True, "shift_average": 1.0}).eval()
    x = torch.rand(3, 3, 64, 64)
    assert identity_loss_embedder(E, "tta") is E
    single = identity_loss_embedder(E, "single")
    assert E.flip_average and E.shift_average == 1.0  # the shipped embedder still verifies with its averaging
    E.flip_average, E.shift_average = False, 0.0
    plain = E.features(x)
    E.flip_average, E.shift_average = True, 1.0
    assert torch.allclose(single.features(x), plain) and not torch.allclose(E.features(x), plain)
    assert all(a is b for a, b in zip(single.parameters(), E.parameters()))
    with pytest.raises(UserError, match="id_views"):
        identity_loss_embedder(E, "both")


def test_fields_train_on_a_pool_of_encoded_latents_and_the_card_says_so(tmp_path):
    from methods.training.field_functions import _draw, evaluate  # noqa: F401  (evaluate takes the same pool)
    from methods.zoo import TrainContext, component

    ctx = TrainContext(name="field-functions", seed=0, device="cpu", steps=2, work_dir=tmp_path / "w",
                       out=tmp_path / "o", quick=True, options={"latents": "encoded", "id_views": "single"})
    component("field-functions").train(ctx)
    card = json.loads((tmp_path / "o" / "field-functions.json").read_text())
    assert card["quality"]["latents"] == "encoded" and "encoder's W" in card["data"]
    assert "--set latents=encoded" in card["command"]
    log = [json.loads(x) for x in (tmp_path / "w" / "log.jsonl").read_text().splitlines()]
    assert any(x.get("event") == "latent_pool" for x in log)

    class Rows(torch.nn.Module):  # draws come from the pool, never from the mapping network
        z_dim = 4

        def mapping(self, z):
            raise AssertionError("mapping called although a pool was given")

        def synthesis(self, w, noise="const"):
            return w

    class Reads(torch.nn.Module):
        def forward(self, x):
            return torch.nn.functional.one_hot(x[:, :5].long().clamp(0, 5), 6).float()

    pool = torch.tensor([[float(i % 6)] * 5 for i in range(12)])
    w, *_ = _draw(None, Rows(), Reads(), torch.Generator().manual_seed(0), 7, pool)
    assert all(any(torch.equal(r, p) for p in pool) for r in w)
    with pytest.raises(UserError, match="latents"):
        component("field-functions").train(TrainContext(name="field-functions", seed=0, device="cpu", steps=1,
                                                        work_dir=tmp_path / "x", quick=True,
                                                        options={"latents": "photos"}))


def test_the_identity_weight_is_an_option_recorded_on_the_card_and_checked(tmp_path):
    from methods.zoo import TrainContext, component

    ctx = TrainContext(name="field-functions", seed=0, device="cpu", steps=2, work_dir=tmp_path / "w",
                       out=tmp_path / "o", quick=True, options={"id_weight": 2})  # as --set parses it
    component("field-functions").train(ctx)
    card = json.loads((tmp_path / "o" / "field-functions.json").read_text())
    assert card["quality"]["weights"] == {"pred": 1.0, "id": 2.0, "disc": 1.0}
    assert "--set id_weight=2" in card["command"]
    for bad in (-1, "five", float("nan")):
        with pytest.raises(UserError, match="id_weight"):
            component("field-functions").train(TrainContext(name="field-functions", seed=0, device="cpu", steps=1,
                                                            work_dir=tmp_path / f"x{bad}", quick=True,
                                                            options={"id_weight": bad}))
