"""Generative prior v2 (issue 10): the projected discriminator, DiffAugment, the latent encoder and
its generator pinning, `--set` training options, init='encoder' and `bench invert`."""
import json
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from bench.cli import main
from bench.errors import UserError

torch.set_num_threads(1)
TINY = {"resolution": 32, "z_dim": 24, "w_dim": 16, "n_mlp": 2, "channels": {4: 16, 8: 16, 16: 8, 32: 8}}


# ----------------------------------------------------------------------------- DiffAugment

def test_translation_is_an_exact_integer_shift_with_zero_fill():
    from methods.training.diffaugment import translation

    x = torch.arange(2 * 3 * 16 * 16, dtype=torch.float32).view(2, 3, 16, 16) + 1
    g = torch.Generator().manual_seed(3)
    y = translation(x, ratio=0.25, generator=g)
    g = torch.Generator().manual_seed(3)
    ty = torch.randint(-4, 5, (2,), generator=g)
    tx = torch.randint(-4, 5, (2,), generator=g)
    for i in range(2):
        dy, dx = int(ty[i]), int(tx[i])
        ref = torch.zeros_like(x[i])
        src = x[i][:, max(0, -dy):16 - max(0, dy), max(0, -dx):16 - max(0, dx)]
        ref[:, max(0, dy):max(0, dy) + src.shape[1], max(0, dx):max(0, dx) + src.shape[2]] = src
        torch.testing.assert_close(y[i], ref)


def test_cutout_zeroes_one_square_and_colour_keeps_gradients():
    from methods.training.diffaugment import color, cutout, diff_augment

    x = torch.ones(64, 3, 16, 16)
    y = cutout(x, 0.5, generator=torch.Generator().manual_seed(0))
    zero = (y == 0).all(1).float().sum((1, 2))
    # one 8x8 square centred anywhere, clipped at the border: 16..64 pixels, whole where it fits
    assert zero.max() == 64 and zero.min() >= 16 and (zero == 64).float().mean() > 0.2
    for img in y:
        rows, cols = np.nonzero((img == 0).all(0).numpy())
        assert len(rows) == (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)  # a rectangle
    x = torch.rand(4, 3, 8, 8, requires_grad=True)
    color(x, generator=torch.Generator().manual_seed(0)).sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="unknown DiffAugment policy"):
        diff_augment(x, "colour")


# ----------------------------------------------------------------------------- projected D

def test_projected_discriminator_trunk_is_lpips_alexnet_and_only_heads_train():
    """The frozen trunk's taps equal the ImageNet AlexNet inside lpips (relu1, relu2, relu5)."""
    from bench.metrics.perceptual import lpips_model
    from methods.nets.projected_discriminator import ProjectedDiscriminator

    D = ProjectedDiscriminator()
    x = torch.rand(2, 3, 128, 128) * 2 - 1
    ours = D.trunk(x)
    net = lpips_model("alex", "cpu").net
    z = ((x + 1) / 2 - D.trunk.mean) / D.trunk.std
    with torch.no_grad():
        ref = net(z)  # lpips' alexnet: relu1..relu5 of the same ImageNet weights
    for a, b in zip(ours, (ref[0], ref[1], ref[4])):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
    trainable = {id(p) for p in D.parameters() if p.requires_grad}
    assert trainable == {id(p) for p in D.heads.parameters()}
    logits = D(torch.rand(3, 3, 64, 64) * 2 - 1)
    assert logits.shape == (3, 27)
    # the random projections are fixed by the seed (a resumed run projects identically)
    D2 = ProjectedDiscriminator(pretrained=False)
    assert all(torch.equal(a.weight, b.weight) for a, b in zip(D.ccm, D2.ccm))


@pytest.mark.parametrize("recipe", ["projected", "stylegan2"])
def test_quick_train_of_each_recipe_records_its_options(tmp_path, recipe):
    from methods.zoo import TrainContext, component

    ctx = TrainContext(name="stylegan2", seed=0, device="cpu", steps=None, work_dir=tmp_path / "w",
                       out=tmp_path / "o", quick=True, options={"recipe": recipe})
    component("stylegan2").train(ctx)
    card = json.loads((tmp_path / "o" / "stylegan2.json").read_text())
    assert card["quality"]["recipe"] == recipe and card["quality"]["world"] == 2
    assert card["command"].endswith(f"--set recipe={recipe}")
    log = [json.loads(x) for x in (tmp_path / "w" / "log.jsonl").read_text().splitlines()]
    assert all(np.isfinite(x["d_loss"]) and np.isfinite(x["g_loss"]) for x in log if "d_loss" in x)
    d_path = tmp_path / "o" / "stylegan2-discriminator.pt"
    if recipe == "projected":  # its D is not a StyleGAN2 discriminator: nothing to export
        assert not d_path.exists()
        return
    # the D trained with this G is exported beside it, naming the generator file it judged
    from bench.provenance import file_digest
    from methods.nets.stylegan2 import load_discriminator
    from methods.zoo import remake_hint

    D = load_discriminator(d_path)
    assert D.generator_sha256 == file_digest(tmp_path / "o" / "stylegan2.pt")
    state = torch.load(tmp_path / "w" / "last.pt", weights_only=True)["D"]
    for k, v in D.state_dict().items():  # fp16 copy of the final training state
        torch.testing.assert_close(v, state[k].half().float())
    with torch.no_grad():
        assert D(torch.zeros(2, 3, 16, 16)).shape == (2, 1)
    assert "bench train stylegan2' (it exports stylegan2-discriminator too)" in remake_hint("stylegan2-discriminator")


def test_set_options_are_checked_before_anything_is_written(tmp_path, capsys):
    work = tmp_path / "w"
    cases = [(["stylegan2", "--set", "recipe"], "expected KEY=VALUE"),
             (["stylegan2", "--set", "r1_gamma=3"], "no training option 'r1_gamma'"),
             (["stylegan2", "--set", "lr=3"], "expected a learning rate in (0, 0.1]"),
             (["deepsc", "--set", "batch=3"], "takes no training options"),
             (["stylegan2", "--set", "recipe=fast"], "known recipes are projected, stylegan2"),
             (["stylegan2", "--set", "batch=two"], "expected a int")]
    for args, msg in cases:
        assert main(["train", *args, "--work", str(work), "--steps", "1"]) == 2
        assert msg in capsys.readouterr().err
    # the training-config errors are raised by the trainer before its first log line
    assert not (work / "log.jsonl").exists() and not (work / "last.pt").exists()


# ----------------------------------------------------------------------------- latent encoder

@pytest.fixture(scope="module")
def tiny_generator_and_encoder(tmp_path_factory):
    """A tiny 16-px generator written as a zoo checkpoint, and an encoder quick-trained against it."""
    from methods.nets.stylegan2 import Generator, normalize_config
    from methods.zoo import TrainContext, component, save_checkpoint

    d = tmp_path_factory.mktemp("enc")
    torch.manual_seed(0)
    G = Generator(TINY)
    G.w_avg.copy_(G.mean_latent(64)[0])
    gpath = d / "stylegan2.pt"
    save_checkpoint(gpath, "stylegan2", normalize_config(TINY), G.state_dict(), None)
    ctx = TrainContext(name="stylegan2-encoder", seed=0, device="cpu", steps=3, work_dir=d / "w", out=d / "o",
                       quick=True, options={"generator": str(gpath)})
    component("stylegan2-encoder").train(ctx)
    return SimpleNamespace(G=G, gpath=gpath, epath=d / "o" / "stylegan2-encoder.pt", dir=d)


def test_encoder_is_pinned_to_its_generator(tiny_generator_and_encoder, tmp_path):
    from methods.nets.latent_encoder import generator_digest, load_encoder_for
    from methods.nets.stylegan2 import Generator, normalize_config
    from methods.zoo import save_checkpoint

    t = tiny_generator_and_encoder
    card = json.loads(t.epath.with_suffix(".json").read_text())
    assert card["quality"]["generator_sha256"] == generator_digest(t.gpath)
    assert card["command"].endswith(f"--set generator={t.gpath}")
    E = load_encoder_for(t.gpath, t.epath)
    assert E.generator_sha256 == generator_digest(t.gpath)
    torch.manual_seed(1)
    other = tmp_path / "other.pt"
    save_checkpoint(other, "stylegan2", normalize_config(TINY), Generator(TINY).state_dict(), None)
    with pytest.raises(UserError, match="trained against generator .* not the one in use"):
        load_encoder_for(other, t.epath)
    with pytest.raises(UserError, match="no latent encoder"):
        load_encoder_for(t.gpath, tmp_path / "missing.pt")


def test_init_encoder_starts_where_the_encoder_points(tiny_generator_and_encoder):
    from methods.editing.inversion import InversionConfig, invert
    from methods.nets.latent_encoder import load_encoder_for

    t = tiny_generator_and_encoder
    E = load_encoder_for(t.gpath, t.epath)
    imgs = (np.random.default_rng(0).random((3, 32, 32, 3)) * 255).astype(np.uint8)
    res = invert(t.G, imgs, InversionConfig(steps=0, space="w", init="encoder"), encoder=E)
    torch.testing.assert_close(res.latents, E.encode(imgs))
    res_wp = invert(t.G, imgs, InversionConfig(steps=0, space="w+", init="encoder"), encoder=E)
    assert res_wp.latents.shape == (3, t.G.num_ws, t.G.w_dim)
    torch.testing.assert_close(res_wp.latents[:, 3], E.encode(imgs))
    with pytest.raises(UserError, match="needs a latent encoder"):
        invert(t.G, imgs, InversionConfig(steps=0, init="encoder"))
    with pytest.raises(UserError, match="init must be one of mean, random, encoder"):
        invert(t.G, imgs, InversionConfig(steps=0, init="zeros"))


# ----------------------------------------------------------------------------- bench invert

def _write_faces(tmp_path, n=2):
    from PIL import Image

    from datasets.synthfaces.v2 import render, sample_nuisance

    rng = np.random.default_rng(5)
    paths = []
    for i in range(n):
        img = render(1000 + i, rng.integers(0, 6, 5).tolist(), 96, "photo", sample_nuisance(rng))
        p = tmp_path / f"face{i}.png"
        Image.fromarray(img).save(p)
        paths.append(p)
    return paths


def test_bench_invert_writes_sheets_and_true_figures(tmp_path, capsys):
    from PIL import Image

    from bench.commands.invert import load_image
    from bench.metrics.pixel import psnr

    paths = _write_faces(tmp_path)
    out = tmp_path / "out"
    assert main(["invert", *map(str, paths), "--out", str(out), "--steps", "2", "--json", "--init", "mean"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    rows, summary = lines[:-1], lines[-1]["summary"]
    assert len(rows) == 2 and summary["n"] == 2 and summary["latent_reals"] == 128 and summary["init"] == "mean"
    for p, row in zip(paths, rows):
        sheet = np.asarray(Image.open(row["sheet"]).convert("RGB"))[::4, ::4]  # undo the 4x nearest zoom
        orig, rec = sheet[:, :64], sheet[:, 66:]
        assert np.array_equal(orig, load_image(p, 64))  # the left half is the input as inverted
        assert abs(float(psnr(orig[None], rec[None])[0]) - row["psnr_db"]) < 0.01  # the figure is of that pair
        assert set(row["judged_original"]) == {"Bangs", "Eyeglasses", "Beard", "Smiling", "Young"}
        assert row["attributes_kept"] == sum(row["judged_original"][k] == row["judged_reconstruction"][k]
                                             for k in row["judged_original"])
        assert 0 <= row["lpips_vgg"] <= 1.5 and isinstance(row["identity_verified"], bool)


def test_bench_invert_refuses_bad_inputs_before_any_work(tmp_path, capsys):
    good = _write_faces(tmp_path, 1)[0]
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    out = tmp_path / "out"
    assert main(["invert", str(good), str(bad), str(tmp_path / "nope.jpg"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "notes.png: not a readable image" in err and "nope.jpg: no such file" in err
    assert not out.exists()
    assert main(["invert", str(good), "--out", str(out), "--steps", "-1"]) == 2
    assert "--steps must be >= 0" in capsys.readouterr().err


def test_init_from_starts_g_from_a_checkpoint_and_refuses_another_architecture(tmp_path):
    from methods.nets.stylegan2 import Generator, normalize_config
    from methods.training.stylegan2 import QUICK_CONFIG
    from methods.zoo import TrainContext, component, save_checkpoint

    torch.manual_seed(7)
    src = Generator(QUICK_CONFIG)
    good = tmp_path / "g.pt"
    save_checkpoint(good, "stylegan2", normalize_config(QUICK_CONFIG), src.state_dict(), None)
    ctx = TrainContext(name="stylegan2", seed=0, device="cpu", steps=1, work_dir=tmp_path / "w", out=tmp_path / "o",
                       quick=True, options={"init_from": str(good), "recipe": "stylegan2"})
    component("stylegan2").train(ctx)
    state = torch.load(tmp_path / "w" / "last.pt", weights_only=True)
    # one step with lr 0.0025 moves G only a little away from the source weights
    w_src, w_new = src.state_dict()["style.1.weight"], state["G"]["style.1.weight"]
    assert (w_new - w_src).abs().max() < 0.01 < (w_new - Generator(QUICK_CONFIG).state_dict()["style.1.weight"]).abs().max()
    bad = tmp_path / "bad.pt"
    save_checkpoint(bad, "stylegan2", normalize_config(TINY), Generator(TINY).state_dict(), None)
    ctx = TrainContext(name="stylegan2", seed=0, device="cpu", steps=1, work_dir=tmp_path / "w2", out=tmp_path / "o2",
                       quick=True, options={"init_from": str(bad)})
    with pytest.raises(UserError, match="architecture differs"):
        component("stylegan2").train(ctx)


def _quick_sg2(tmp_path, name, steps, seed=0, **options):
    from methods.zoo import TrainContext, component

    ctx = TrainContext(name="stylegan2", seed=seed, device="cpu", steps=steps, work_dir=tmp_path / name / "w",
                       out=tmp_path / name / "o", quick=True, options={"recipe": "stylegan2", **options})
    component("stylegan2").train(ctx)
    out = tmp_path / name / "o"
    return out, json.loads((out / "stylegan2.json").read_text()), torch.load(tmp_path / name / "w" / "last.pt",
                                                                             weights_only=True)


def test_init_d_from_continues_a_generator_with_its_own_discriminator(tmp_path):
    from bench.provenance import file_digest
    from methods.nets.stylegan2 import load_discriminator

    src, _, _ = _quick_sg2(tmp_path, "src", 2)
    g, d = src / "stylegan2.pt", src / "stylegan2-discriminator.pt"
    _, card, state = _quick_sg2(tmp_path, "cont", 1, init_from=str(g), init_d_from="paired")
    # one step moves D only a little away from the exported one, and far less than a fresh D differs
    d_src = load_discriminator(d).state_dict()
    moved = max((state["D"][k] - d_src[k].float()).abs().max().item() for k in d_src)
    _, _, fresh = _quick_sg2(tmp_path, "fresh", 1, seed=1)
    fresh_gap = max((fresh["D"][k] - d_src[k].float()).abs().max().item() for k in d_src)
    assert moved < 0.02 < fresh_gap
    record = card["quality"]["continued_from"]
    assert record["generator_sha256"] == file_digest(g) and record["discriminator_sha256"] == file_digest(d)
    assert record["generator_steps"] == 2 and "--set init_d_from=paired" in card["command"]

    other, _, _ = _quick_sg2(tmp_path, "other", 1, seed=1)  # a discriminator trained with another generator is refused
    with pytest.raises(UserError, match="trained with generator"):
        _quick_sg2(tmp_path, "mixed", 1, init_from=str(g), init_d_from=str(other / "stylegan2-discriminator.pt"))
    with pytest.raises(UserError, match="needs --set init_from"):
        _quick_sg2(tmp_path, "alone", 1, init_d_from=str(d))
    with pytest.raises(UserError, match="no discriminator checkpoint"):
        _quick_sg2(tmp_path, "missing", 1, init_from=str(g), init_d_from=str(tmp_path / "nope.pt"))


def test_time_budget_stops_early_and_the_card_names_the_command_that_reproduces_it(tmp_path):
    out, card, state = _quick_sg2(tmp_path, "budget", 50, time_budget_s=1e-9)
    assert card["steps"] == 1 and card["quality"]["stopped_by_time_budget"]["step"] == 1
    assert "--steps 1 " in card["command"] and "time_budget_s" not in card["command"]
    assert state["step"] == 1 and state["final"] is False  # a rerun with the same work dir resumes
    _, card2, state2 = _quick_sg2(tmp_path, "plain", 1)  # the card's command, run: the same weights
    assert card2["command"] == card["command"]
    assert all(torch.equal(state["g_ema"][k], state2["g_ema"][k]) for k in state2["g_ema"])
    with pytest.raises(UserError, match="time_budget_s"):
        _quick_sg2(tmp_path, "neg", 1, time_budget_s=-1.0)


def test_bool_training_options_take_true_and_false(tmp_path):
    from methods.zoo import TrainContext, component

    ctx = TrainContext(name="stylegan2", seed=0, device="cpu", steps=1, work_dir=tmp_path / "w", out=tmp_path / "o",
                       quick=True, options={"report": False, "recipe": "stylegan2"})
    component("stylegan2").train(ctx)
    card = json.loads((tmp_path / "o" / "stylegan2.json").read_text())
    assert card["quality"]["report"].startswith("not run at export") and "--set report=False" in card["command"]
    bad = TrainContext(name="stylegan2", seed=0, device="cpu", steps=1, work_dir=tmp_path / "w2", quick=True,
                       options={"report": 1})
    with pytest.raises(UserError, match="expected true or false"):
        component("stylegan2").train(bad)


def test_staged_generator_continues_the_shipped_one_with_its_own_discriminator():
    """methods/weights/staging holds a continuation that is not shipped yet (the components that pin the
    generator must be retrained first). It must load, its discriminator must pin it, and it must descend
    from the shipped generator: once another generator ships, the staged pair is stale and goes."""
    from pathlib import Path

    from bench.provenance import file_digest
    from methods.nets.stylegan2 import load_discriminator, load_generator
    from methods.zoo import read_card, weights_path

    staged = Path(__file__).resolve().parents[1] / "methods" / "weights" / "staging" / "stylegan2.pt"
    if not staged.exists():
        pytest.skip("nothing staged")
    load_generator(staged)
    D = load_discriminator(staged.with_name("stylegan2-discriminator.pt"))
    assert D.generator_sha256 == file_digest(staged)
    card = read_card("stylegan2", staged.with_suffix(".json"))
    lineage, record = [], card["quality"]["continued_from"]
    while isinstance(record, dict):
        lineage.append(record["generator_sha256"])
        record = record.get("generator_continued_from")
    assert file_digest(weights_path("stylegan2")) in lineage, (
        "the staged generator does not continue the shipped one: remove methods/weights/staging")
    assert card["quality"]["world"] == 2 and "staged" in card["quality"]
    assert Path(card["quality"]["sample_sheet"]).name == "samples.png"
    # components retrained for the staged generator wait beside it: each must load and pin it
    from methods.zoo import component, read_checkpoint

    digest = file_digest(staged)
    for path in sorted(staged.parent.glob("*.pt")):
        name = path.stem
        if name in ("stylegan2", "stylegan2-discriminator"):
            continue
        component(name)  # a registered zoo component
        assert read_checkpoint(path, name)["config"]["generator_sha256"] == digest, name
        assert "staged" in read_card(name, path.with_suffix(".json"))["quality"], name
    if (staged.parent / "stylegan2-encoder.pt").exists():
        from methods.nets.latent_encoder import load_encoder_for

        load_encoder_for(staged, staged.parent / "stylegan2-encoder.pt")


def test_lr_option_sets_both_optimisers_and_refuses_a_bad_rate(tmp_path):
    """--set lr=X (a learning-rate step for continuations) reaches G's Adam and D's (scaled by the lazy-R1
    ratio as in the recipe), is recorded in the card's command, and a non-positive rate is refused."""
    out, card, state = _quick_sg2(tmp_path, "lr", 1, lr=0.001)
    assert "--set lr=0.001" in card["command"]
    c = 2 / (2 + 1)  # QUICK_TRAIN d_reg_every=2: c = every / (every + 1)
    assert state["opt_g"]["param_groups"][0]["lr"] == pytest.approx(0.001)
    assert state["opt_d"]["param_groups"][0]["lr"] == pytest.approx(0.001 * c)
    for bad in (0.0, -0.1, 1.0):
        with pytest.raises(UserError, match="learning rate"):
            _quick_sg2(tmp_path, f"bad{bad}", 1, lr=bad)
    # resuming that work dir with another rate starts fresh (Adam's saved state would keep the old rate)
    _, card2, state2 = _quick_sg2(tmp_path, "lr", 2, lr=0.002)
    assert state2["step"] == 2 and state2["opt_g"]["param_groups"][0]["lr"] == pytest.approx(0.002)
    _, _, same = _quick_sg2(tmp_path, "lr", 3, lr=0.002)  # the same rate resumes
    events = [json.loads(line).get("event") for line in (tmp_path / "lr" / "w" / "log.jsonl").read_text().splitlines()]
    assert same["step"] == 3 and events.count("resumed") == 1


def test_recon_weight_trains_an_encoder_with_the_generator_and_exports_it_pinned(tmp_path):
    """--set recon_weight: the generator and an encoder learn to reconstruct the real batch together (the
    reconstruction loss falls), the encoder is exported beside the generator pinned to its digest (so inversions
    may start from it), and init_e_from only takes an encoder of the generator the run starts from."""
    from bench.provenance import file_digest
    from methods.nets.latent_encoder import load_encoder_for

    src, card, state = _quick_sg2(tmp_path, "src", 60, recon_weight=5.0, e_lr=0.005)
    lines = [json.loads(x) for x in (tmp_path / "src" / "w" / "log.jsonl").read_text().splitlines()]
    rec = [x["rec_loss"] for x in lines if "rec_loss" in x]
    assert len(rec) == 60 and np.mean(rec[-10:]) < 0.8 * np.mean(rec[:10])
    assert {"E", "opt_e"} <= set(state)
    g, e = src / "stylegan2.pt", src / "stylegan2-encoder.pt"
    enc = load_encoder_for(g, e)
    assert enc.generator_sha256 == file_digest(g)
    e_card = json.loads(e.with_suffix(".json").read_text())
    assert e_card["quality"]["trained_with_generator"] and "--set recon_weight=5.0" in e_card["command"]

    _, card2, state2 = _quick_sg2(tmp_path, "cont", 1, init_from=str(g), recon_weight=1.0, init_e_from=str(e))
    start = dict(enc.named_parameters())  # (BatchNorm statistics and counters move by design)
    moved = max((state2["E"][k].float() - start[k].float()).abs().max().item() for k in start)
    assert moved < 0.01  # one step from exactly the file's weights
    assert card2["quality"]["continued_from"]["encoder_sha256"] == file_digest(e)
    other, _, _ = _quick_sg2(tmp_path, "other", 1, seed=1, recon_weight=1.0)
    with pytest.raises(UserError, match="trained for generator"):
        _quick_sg2(tmp_path, "mixed", 1, init_from=str(g), recon_weight=1.0,
                   init_e_from=str(other / "stylegan2-encoder.pt"))
    from methods.training.stylegan2_report import main as report_main

    assert report_main([str(tmp_path / "rep"), "--ckpt", str(g), "--encoder", str(other / "stylegan2-encoder.pt")]) == 2
    assert not (tmp_path / "rep").exists()  # refused before any work
    with pytest.raises(UserError, match="needs --set recon_weight"):
        _quick_sg2(tmp_path, "norecon", 1, init_from=str(g), init_e_from=str(e))
    with pytest.raises(UserError, match="recon_weight"):
        _quick_sg2(tmp_path, "neg", 1, recon_weight=-1.0)
