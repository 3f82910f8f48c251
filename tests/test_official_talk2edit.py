"""Official-tier loaders for Talk2Edit's attribute predictor (ResNet-50, predictor_*.pth.tar) and
language encoder (LSTM, language_encoder.pth.tar): fabricated files in the official formats,
safe loading, strict key/shape checks, and the mapping of official labels to the project's
degrees and edit requests. Fixtures: the official vocab.json and metadata_fsm.json (small JSON)."""
import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bench.errors import UserError
from methods.nets.attribute_predictor_official import (OfficialAttributePredictor, load_official_predictor,
                                                       read_official_state)
from methods.nets.instruction_encoder_official import (OfficialLanguageEncoder, load_official_parser,
                                                       tokenize)

torch.set_num_threads(1)
FIX = Path(__file__).resolve().parent / "fixtures" / "talk2edit"
VOCAB, META = FIX / "vocab.json", FIX / "metadata_fsm.json"


class Gadget:  # a custom class: pickling it makes the file name code, which weights_only refuses
    def __reduce__(self):
        return (print, ("this must never run",))


def _randomise_bn(model):
    g = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=g) * 0.2 - 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)
                m.bias.copy_(torch.rand(m.bias.shape, generator=g) * 0.2 - 0.1)


def _force(state, head, k, n=None):
    """Make a classifier head output label k whatever the input (final Linear: zero weights, one-hot bias)."""
    w = state[f"{head}.1.weight"]
    state[f"{head}.1.weight"] = torch.zeros_like(w)
    b = torch.zeros(w.shape[0])
    b[k] = 30.0
    state[f"{head}.1.bias"] = b


# ----------------------------------------------------------------------------- attribute predictor

@pytest.fixture(scope="module")
def predictor_file(tmp_path_factory):
    """A full-size official predictor file: random trunk, Young head forced to official label 1
    (age: teenager) and No_Beard head forced to label 3 (beard degree 3)."""
    torch.manual_seed(0)
    ref = OfficialAttributePredictor()
    _randomise_bn(ref)
    state = {k: v.clone() for k, v in ref.state_dict().items()}
    _force(state, "classifier40Young", 1)
    _force(state, "classifier25No_Beard", 3)
    ref.load_state_dict(state)
    path = tmp_path_factory.mktemp("pred") / "predictor_128.pth.tar"
    torch.save({"epoch": 7, "state_dict": state, "best_acc": torch.tensor(88.5)}, path)
    return path, ref.eval(), state


def test_official_predictor_loads_and_matches_the_official_pipeline(predictor_file):
    path, ref, _ = predictor_file
    P = load_official_predictor(path)
    x = torch.rand(2, 3, 128, 128) * 2 - 1
    deg = P.predict(x)
    assert deg.dtype == np.int64 and deg.shape == (2, 5)
    # the official pipeline written out: transform_image, then the file's heads in project order
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    inp = (torch.clamp((x + 1) * 255 / 2 + 0.5, 0, 255) / 255 - mean) / std
    with torch.no_grad():
        heads = ref.official_logits(inp)
        logits = P(x)
    assert logits.shape == (2, 5, 6)
    expect = torch.stack([heads[0], heads[1], heads[2], heads[3], heads[4].flip(-1)], 1)
    torch.testing.assert_close(logits, expect, rtol=1e-4, atol=1e-4)
    assert (deg == logits.argmax(-1).numpy()).all()
    # forced heads: official No_Beard 3 is our Beard 3, official Young (age) 1 is our Young 4
    assert (P.official_labels(x)[:, 2:5:2] == [3, 1]).all()
    assert (deg[:, 2] == 3).all() and (deg[:, 4] == 4).all()
    # a 1024 px-style input is area-resized to 128 first
    big = torch.rand(1, 3, 256, 256) * 2 - 1
    small = F.interpolate(torch.clamp((big + 1) * 127.5 + 0.5, 0, 255) / 255, (128, 128), mode="area")
    torch.testing.assert_close(P.preprocess(big), (small - mean) / std)


def test_official_predictor_follows_the_attributes_file_order(predictor_file, tmp_path):
    path, _, _ = predictor_file
    info = {"40": {"name": "Young", "value": list(range(6))}, "6": {"name": "Bangs", "value": list(range(6))},
            "16": {"name": "Eyeglasses", "value": list(range(6))}, "25": {"name": "No_Beard", "value": list(range(6))},
            "32": {"name": "Smiling", "value": list(range(6))}}
    (tmp_path / "attrs.json").write_text(json.dumps({"attr_info": info}))
    P = load_official_predictor(path, tmp_path / "attrs.json")
    x = torch.rand(1, 3, 128, 128) * 2 - 1
    assert P.official_labels(x)[0, 0] == 1 and P.predict(x)[0, 4] == 4  # Young's head is first in the file
    info["25"]["name"] = "Male"
    (tmp_path / "bad.json").write_text(json.dumps({"attr_info": info}))
    with pytest.raises(UserError, match="'Male' is not one of Talk2Edit's"):
        load_official_predictor(path, tmp_path / "bad.json")


def _cheap_copy(state):
    """Every tensor a view of one shared buffer: the file stays a few MB (values do not matter)."""
    big = max(v.numel() for v in state.values())
    fbuf, ibuf = torch.ones(big), torch.zeros(1, dtype=torch.long)
    return {k: (fbuf[:v.numel()].view(v.shape) if v.is_floating_point() else ibuf[:v.numel()].view(v.shape))
            for k, v in state.items()}


def test_official_predictor_refuses_bad_files(predictor_file, tmp_path):
    _, _, state = predictor_file
    with pytest.raises(UserError, match="no such Talk2Edit attribute-predictor"):
        load_official_predictor(tmp_path / "absent.pth.tar")
    torch.save([1, 2, 3], tmp_path / "list.pth")
    with pytest.raises(UserError, match="list.pth: expected a .* state dict"):
        load_official_predictor(tmp_path / "list.pth")
    (tmp_path / "text.pth").write_text("not a torch file")
    with pytest.raises(UserError, match="text.pth: unreadable"):
        load_official_predictor(tmp_path / "text.pth")
    cheap = _cheap_copy(state)
    renamed = dict(cheap)
    renamed["layer1.0.conv9.weight"] = renamed.pop("layer1.0.conv1.weight")
    torch.save({"state_dict": renamed}, tmp_path / "key.pth")
    with pytest.raises(UserError, match=r"key.pth: .*unexpected key\(s\) 'layer1.0.conv9.weight'.*"
                                        r"missing key\(s\) 'layer1.0.conv1.weight'"):
        load_official_predictor(tmp_path / "key.pth")
    shaped = dict(cheap)
    shaped["classifier32Smiling.1.weight"] = torch.zeros(5, 256)
    torch.save({"state_dict": shaped}, tmp_path / "shape.pth")
    with pytest.raises(UserError, match=r"classifier32Smiling.1.weight has shape \(5, 256\), expected \(6, 256\)"):
        load_official_predictor(tmp_path / "shape.pth")
    torch.save({"state_dict": {"conv1.weight": torch.zeros(64, 3, 7, 7)}, "extra": Gadget()}, tmp_path / "code.pth")
    with pytest.raises(UserError, match="code.pth: refusing to load"):
        load_official_predictor(tmp_path / "code.pth")
    (tmp_path / "system.pth").write_bytes(b"\x80\x04cos\nsystem\n.")
    with pytest.raises(UserError, match="system.pth: (refusing|unreadable)"):
        load_official_predictor(tmp_path / "system.pth")
    # DataParallel prefixes are removed; a bare state dict is accepted
    torch.save({"module.conv1.weight": torch.zeros(2)}, tmp_path / "dp.pth")
    assert list(read_official_state(tmp_path / "dp.pth", "x")) == ["conv1.weight"]


# ----------------------------------------------------------------------------- language encoder

def _vocab():
    return json.loads(VOCAB.read_text())["text_token_to_idx"]


def _meta():
    return json.loads(META.read_text())


def _encoder_state(seed=0, emb=8, hidden=12, linear=6):
    torch.manual_seed(seed)
    enc = OfficialLanguageEncoder(len(_vocab()), {h: len(v) for h, v in _meta().items()}, emb, hidden, 2, linear)
    _randomise_bn(enc)
    return {k: v.clone() for k, v in enc.state_dict().items()}


def _save(state, path, wrap=True):
    blob = {"epoch": 3, "best_epoch_so_far": 2, "state_dict": state, "best_val_acc": torch.tensor(97.0),
            "optimizer": {"state": {}, "param_groups": [{"lr": 1e-3, "params": [0, 1]}]}} if wrap else state
    torch.save(blob, path)
    return path


def _forced_parser(tmp_path, system_mode="start", **labels):
    meta = _meta()
    state = _encoder_state()
    for head, label in labels.items():
        _force(state, head, meta[head][label])
    return load_official_parser(_save(state, tmp_path / "enc.pth.tar"), VOCAB, META, system_mode=system_mode)


def _lstm_by_hand(state, ids):
    """The 2-layer LSTM's last hidden state, from the cell equations (gates i, f, g, o)."""
    x = state["lstm.word2vec.weight"][ids]
    for layer in range(2):
        wi, wh = state[f"lstm.rnn.weight_ih_l{layer}"], state[f"lstm.rnn.weight_hh_l{layer}"]
        b = state[f"lstm.rnn.bias_ih_l{layer}"] + state[f"lstm.rnn.bias_hh_l{layer}"]
        h = c = torch.zeros(wh.shape[1])
        out = []
        for t in range(len(ids)):
            i, f, g, o = (wi @ x[t] + wh @ h + b).chunk(4)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            out.append(h)
        x = torch.stack(out)
    return x[-1]


def test_official_encoder_reads_text_as_the_official_code_does(tmp_path):
    state = _encoder_state()
    parse = load_official_parser(_save(state, tmp_path / "enc.pth.tar"), VOCAB, META)
    tok = _vocab()
    assert tokenize("Make the Bangs longer, please. Is it OK?") == \
        ["make", "the", "bangs", "longer", "please", "is", "it", "ok", "?"]
    ids = parse.encode("Make the bangs zzyzx longer.")
    assert ids == [tok["make"], tok["the"], tok["bangs"], tok["<UNK>"], tok["longer"]]
    with torch.no_grad():
        e = parse.encoder.embed(torch.tensor([ids]), torch.tensor([len(ids)]))[0]
    torch.testing.assert_close(e, _lstm_by_hand(state, torch.tensor(ids)), rtol=1e-4, atol=1e-5)
    # padding a batch with <NULL> does not change a sentence's heads (hidden state at its last token)
    texts = ["older", "Make the bangs much longer than they are now."]
    both = parse.head_probabilities(texts)
    for r, t in enumerate(texts):
        one = parse.head_probabilities([t])
        for h in both:
            np.testing.assert_allclose(both[h][r], one[h][0], rtol=1e-5, atol=1e-6)
    p = parse("Make the bangs longer.")
    assert set(p.probabilities) == set(_meta())
    assert isinstance(p.understood, bool) and 0.0 < p.confidence <= 1.0
    if p.understood:
        assert 0 <= p.attribute <= 4 and p.mode in ("definite", "indefinite", "target")


@pytest.mark.parametrize("labels, expect", [
    ({"request_mode": "change_indefinite", "attribute": "Young", "score_change_direction": "positive"},
     dict(attribute=4, direction=-1, delta=1, mode="indefinite", target=None)),  # "older" lowers our Young
    ({"request_mode": "change_definite", "attribute": "No_Beard", "score_change_direction": "positive",
      "score_change_value": "3"}, dict(attribute=2, direction=1, delta=3, mode="definite", target=None)),
    ({"request_mode": "change_definite", "attribute": "Smiling", "score_change_direction": "negative",
      "score_change_value": "2"}, dict(attribute=3, direction=-1, delta=2, mode="definite", target=None)),
    ({"request_mode": "target", "attribute": "Young", "target_score": "5"},
     dict(attribute=4, direction=None, delta=None, mode="target", target=0)),  # very old is our Young 0
    ({"request_mode": "target", "attribute": "Bangs", "target_score": "2"},
     dict(attribute=0, direction=None, delta=None, mode="target", target=2)),
])
def test_official_heads_decode_into_our_edit_requests(tmp_path, labels, expect):
    p = _forced_parser(tmp_path, **labels)("please change it a bit")
    assert p.understood and p.reason is None and p.confidence > 0.99
    assert {k: getattr(p, k) for k in expect} == expect
    assert p.attribute_name == ("Bangs", "Eyeglasses", "Beard", "Smiling", "Young")[expect["attribute"]]


def test_official_heads_that_ask_for_no_edit_are_refused(tmp_path):
    p = _forced_parser(tmp_path, request_mode="end", attribute="Bangs")("that's all, thanks")
    assert not p.understood and "'end'" in p.reason and p.attribute is None
    parse = _forced_parser(tmp_path, system_mode="suggestion", suggestion="no", request_mode="target",
                           attribute="Bangs")
    q = parse("no")
    assert not q.understood and "user mode 'no'" in q.reason
    assert parse("no", system_mode="start").understood  # the start head's only label is a request
    for text, why in [("", "empty"), ("   ", "empty"), ("qwerty asdfgh", "no word of the request"), (7, "not text")]:
        r = parse(text)
        assert not r.understood and why in r.reason


def test_official_encoder_refuses_bad_files(tmp_path):
    state = _encoder_state()
    good = _save(state, tmp_path / "enc.pth.tar")
    with pytest.raises(UserError, match="no such Talk2Edit language-encoder"):
        load_official_parser(tmp_path / "absent.pth.tar", VOCAB, META)
    (tmp_path / "v.json").write_text(json.dumps({"token_to_idx": {"<NULL>": 0}}))
    with pytest.raises(UserError, match="v.json: a Talk2Edit vocabulary is a JSON object with 'text_token_to_idx'"):
        load_official_parser(good, tmp_path / "v.json", META)
    meta = _meta()
    del meta["request_mode"]
    (tmp_path / "m.json").write_text(json.dumps(meta))
    with pytest.raises(UserError, match="m.json: the metadata has no 'request_mode' head"):
        load_official_parser(good, VOCAB, tmp_path / "m.json")
    short = dict(state, **{"lstm.word2vec.weight": state["lstm.word2vec.weight"][:-1]})
    with pytest.raises(UserError, match="word embedding has 228 rows but .* has 229 tokens"):
        load_official_parser(_save(short, tmp_path / "short.pth"), VOCAB, META)
    shaped = dict(state, **{"attribute.1.weight": torch.zeros(4, 6)})
    with pytest.raises(UserError, match=r"attribute.1.weight has shape \(4, 6\), expected \(5, 6\)"):
        load_official_parser(_save(shaped, tmp_path / "shape.pth", wrap=False), VOCAB, META)
    extra = dict(state, **{"lstm.rnn.weight_ih_l0_reverse": torch.zeros(48, 8)})
    with pytest.raises(UserError, match="unexpected key"):
        load_official_parser(_save(extra, tmp_path / "extra.pth"), VOCAB, META)
    torch.save({"state_dict": state, "args": Gadget()}, tmp_path / "code.pth")
    with pytest.raises(UserError, match="code.pth: refusing to load"):
        load_official_parser(tmp_path / "code.pth", VOCAB, META)
    (tmp_path / "pkl.pth").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(UserError, match="pkl.pth: (unreadable|expected)"):
        load_official_parser(tmp_path / "pkl.pth", VOCAB, META)
