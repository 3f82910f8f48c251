"""The instruction encoder (methods/nets/instruction_encoder/; trainer methods/training/instruction_encoder.py):
tokenizer, training plumbing, the shipped checkpoint's held-out accuracy and its refusals."""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from bench.errors import UserError  # noqa: E402
from methods.nets import instruction_encoder as ie  # noqa: E402
from methods.training import instruction_encoder as ie_training  # noqa: E402
from methods.nets.text_vocab import negative_sentence, tokenize  # noqa: E402
from methods.zoo import WEIGHTS_DIR, TrainContext, load_model  # noqa: E402


@pytest.fixture(scope="module")
def enc():
    torch.set_num_threads(1)
    return ie.load_encoder()


def test_tokenizer():
    assert tokenize("Make HIS bangs 2 levels longer, please!") == \
        ["make", "his", "bangs", "two", "levels", "longer", ",", "please", "!"]
    assert tokenize("the person's fringe...") == ["the", "person", "'", "s", "fringe", ".", ".", "."]
    assert tokenize("twenty-five 25 3") == ["twenty", "-", "five", "<num>", "three"]
    assert tokenize("Mach ihn JÜNGER") == ["mach", "ihn", "jünger"]
    assert tokenize("   ") == []


def test_quick_training_exports_and_loads(tmp_path):
    ctx = TrainContext(name="instruction-encoder", seed=0, device="cpu", steps=None, work_dir=tmp_path / "w",
                       out=tmp_path / "out", quick=True)
    ie_training.train(ctx)
    model = load_model("instruction-encoder", path=tmp_path / "out" / "instruction-encoder.pt")
    assert model.vocab[:2] == ["<pad>", "<unk>"] and "bangs" in model.index
    p = model.parse("make him smile more")
    assert isinstance(p, ie.Parsed)
    card = (tmp_path / "out" / "instruction-encoder.json").read_text()
    assert "heldout_exact_accuracy" in card


def test_checkpoint_is_plain_data_with_vocab():
    from methods.zoo import weights_path

    blob = torch.load(weights_path("instruction-encoder"), weights_only=True)
    assert isinstance(blob["config"]["vocab"], list) and all(isinstance(w, str) for w in blob["config"]["vocab"])


def test_missing_and_corrupt_checkpoint(tmp_path):
    with pytest.raises(UserError, match="bench train instruction-encoder"):
        ie.load_encoder(tmp_path / "missing.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00garbage" * 100)
    with pytest.raises(UserError, match="bench train instruction-encoder"):
        ie.load_encoder(bad)


def test_encode_shapes_and_determinism(enc):
    e1 = enc.encode(["make his bangs longer", "add glasses"])
    e2 = enc.encode("make his bangs longer")
    assert e1.shape == (2, enc.dim) and e1.dtype == np.float32
    np.testing.assert_allclose(e1[0], e2[0], atol=1e-5)
    assert not np.allclose(e1[0], e1[1])


#: (min exact, max wrong) on held-out templates that the shipped parser must keep. With both readers
#: (encoder + grammar) it reaches 0.865 exact / 0.055 wrong on the card's 3000 sentences; the encoder
#: alone ~0.73-0.74 / ~0.11-0.12 (988-template language with world 2's smile degrees, direction rule).
HELDOUT_GUARD = (0.82, 0.08)
HELDOUT_GUARD_ENCODER_ALONE = (0.68, 0.13)


def _accuracy(enc, split, seed, n=500):
    from datasets.instructions import generate

    rng = np.random.default_rng(seed)  # a fresh sample, not the card's
    ins = [generate(rng, None, split=split) for _ in range(n)]
    parsed = enc.parse_many([i.text for i in ins])
    exact = np.array([ie.is_exact(p, i) for p, i in zip(parsed, ins)])
    wrong = np.array([p.understood for p in parsed]) & ~exact
    return float(exact.mean()), float(wrong.mean())


def test_shipped_encoder_fresh_train_template_sentences(enc):
    """The encoder fits the training language (>= 99% exact with the direction rule off); the
    direction rule (sign_max, chosen on validation) refuses a few percent of them rather than guess."""
    acc, wrong = _accuracy(enc, "train", 20260102)
    assert acc >= 0.95 and wrong <= 0.005, (acc, wrong)
    sign_max, enc.sign_max = enc.sign_max, 1.0
    enc.readers = "encoder"  # the encoder alone (the grammar's disagreements are refusals too)
    try:
        acc, wrong = _accuracy(enc, "train", 20260102)
    finally:
        enc.sign_max, enc.readers = sign_max, "both"
    assert acc >= 0.985 and wrong <= 0.01, (acc, wrong)


@pytest.mark.xfail(strict=True, reason="known gap (issue 4 open): HELD-OUT template families (new sentence "
                   "structures from known words) parse exactly 86.5% of the time with both readers (8% rejected, "
                   "5.5% wrong; card), the encoder alone ~73%; the 98% bar is not met (a fine-tuned MiniLM "
                   "reached ~80% on validation). strict: passing means the gap closed and this mark must go")
def test_shipped_encoder_heldout_accuracy(enc):
    acc, _wrong = _accuracy(enc, "heldout", 20260101)
    assert acc >= 0.98, acc


def test_shipped_encoder_heldout_regression_guard(enc):
    """What the shipped parser does reach on held-out wordings (guards against regressions), with
    both readers and with the encoder alone."""
    acc, wrong = _accuracy(enc, "heldout", 20260101)
    assert acc >= HELDOUT_GUARD[0] and wrong <= HELDOUT_GUARD[1], (acc, wrong)
    enc.readers = "encoder"
    try:
        acc, wrong = _accuracy(enc, "heldout", 20260101)
    finally:
        enc.readers = "both"
    assert acc >= HELDOUT_GUARD_ENCODER_ALONE[0] and wrong <= HELDOUT_GUARD_ENCODER_ALONE[1], (acc, wrong)


def test_validation_split_is_carved_from_train_by_family():
    from datasets.instructions.templates import _words, templates, validation_split

    fit, val = validation_split()
    train = templates("train")
    assert {t.id for t in fit} | {t.id for t in val} == {t.id for t in train}
    assert not {t.family for t in fit} & {t.family for t in val}
    assert not any(t.heldout for t in (*fit, *val))
    n_val = len({t.family for t in val}) / len({t.family for t in train})
    assert 0.10 <= n_val <= 0.20, n_val
    fit_words = set().union(*(_words(t.pattern) for t in fit))
    assert all(_words(t.pattern) <= fit_words for t in val)
    # every (attribute, mode, direction / target degree) of train keeps a fit template
    assert {t.group for t in fit} == {t.group for t in train}
    assert validation_split() == validation_split()


def test_ensemble_members_average_and_concatenate():
    model = ie.build({"vocab": ["<pad>", "<unk>", "<num>", "make", "him", "smile"], "emb": 8, "hidden": 8,
                      "dim": 8, "bow": 8, "members": 3})
    model.eval()
    b = model.batch([tokenize("make him smile")])
    with torch.no_grad():
        out = model(b)
    assert out["attribute"].shape == (1, 6) and abs(float(out["attribute"].sum()) - 1.0) < 1e-5
    assert model.encode("make him smile").shape == (1, 24) and model.dim == 24


@pytest.mark.parametrize("text,attr,mode,direction,delta,target", [
    ("Make his bangs two levels longer, please.", 0, "definite", 1, 2, None),
    ("take her glasses off", 1, "target", None, None, 0),  # held-out family, read since issue 9
    ("remove the glasses", 1, "target", None, None, 0),
    ("could you trim the beard", 2, "indefinite", -1, 1, None),
    ("make him smile a lot more", 3, "definite", 1, 4, None),  # the encoder alone refuses it (direction rule)
    ("make his smile two levels bigger", 3, "definite", 1, 2, None),
    ("give him a very long, thick full beard", 2, "target", None, None, 5),
    ("make her look older", 4, "indefinite", -1, 1, None),
])
def test_known_requests(enc, text, attr, mode, direction, delta, target):
    p = enc.parse(text)
    assert p.understood and p.reason is None, p
    assert (p.attribute, p.mode, p.direction, p.delta, p.target) == (attr, mode, direction, delta, target)
    assert 0.5 <= p.confidence <= 1.0


@pytest.mark.parametrize("text,why", [
    ("", "empty"),
    ("    ", "empty"),
    ("?!...", "no words"),
    ("make the sky bluer", "not a request"),
    ("change her shoes", "not a request"),
    ("paint the wallpaper green", ""),
    ("give him a red hat", ""),
    ("what is the weather like tomorrow", ""),
    ("mach ihn jünger", "unknown"),
    ("hazla sonreír más, por favor", "unknown"),
    ("rends-le plus jeune", "unknown"),
    ("сделай его моложе", "unknown"),
    ("让他看起来更年轻", "unknown"),
    ("florp zindle quasmo the wib", "unknown"),
    ("banana violin purple kettle seriously gravity", ""),
])
def test_rejects(enc, text, why):
    p = enc.parse(text)
    assert not p.understood, p
    assert p.reason and why in p.reason
    assert p.attribute is None and p.direction is None and p.delta is None and p.target is None
    assert p.expected_degree(3) is None


def test_non_text_input(enc):
    p = enc.parse(None)
    assert not p.understood and "not text" in p.reason


def test_generated_negatives_rejected(enc):
    rng = np.random.default_rng(99)
    texts = [negative_sentence(rng)[0] for _ in range(300)]
    rate = np.mean([not p.understood for p in enc.parse_many(texts)])
    assert rate >= 0.97, rate


def test_expected_degree_eq10(enc):
    p = enc.parse("make his bangs two levels longer")
    assert p.expected_degree(4) == 5 and p.resolve(4) == (1, 1)
    t = enc.parse("remove the glasses")  # a train-template wording (this test is about eq. 10)
    assert t.expected_degree(3) == 0 and t.resolve(3) == (-1, 3)


def test_optional_subword_features_build_and_run():
    model = ie.build({"vocab": ["<pad>", "<unk>", "<num>", "make", "him", "smile"], "emb": 8, "hidden": 8,
                      "dim": 8, "subword_buckets": 64})
    b = model.batch([tokenize("make him smile"), tokenize("make him grin")], drop=[[0, 1, 2], [0, 0, 0]])
    assert b["sub"].shape[:2] == (2, 3) and int(b["ids"][0, 1]) == 1 and int(b["sub"][0, 2].sum()) == 0
    out = model(b)
    assert out["attribute"].shape == (2, 6)
    assert ie.char_grams("smile", 64) == ie.char_grams("smile", 64)  # stable hashing


def test_shipped_word_vectors_carry_lexical_knowledge():
    """The MiniLM vectors put synonyms closer than unrelated attribute words (cosine)."""
    f = np.load(WEIGHTS_DIR / ie_training.WORD_VECTORS)
    words = f["words"].tolist()
    v = f["vectors"].astype(np.float64)
    v /= np.linalg.norm(v, axis=1, keepdims=True)

    def cos(a, b):
        return float(v[words.index(a)] @ v[words.index(b)])

    for word, synonym, other in [("grin", "smile", "beard"), ("older", "old", "glasses"),
                                 ("fringe", "bangs", "smile"), ("chunky", "thick", "young"),
                                 ("whiskers", "beard", "glasses")]:
        assert cos(word, synonym) > cos(word, other), (word, synonym, other)
    assert set(words) <= set(ie_training.build_vocab(0, 2000)) | set(ie_training.build_vocab(0, 30000))


def test_pretrained_word_embeddings_projection():
    vocab = ["<pad>", "<unk>", "smile", "grin", "beard", "notaword"]
    torch.manual_seed(0)
    emb, covered = ie_training.pretrained_word_embeddings(vocab, 16)
    assert emb.shape == (6, 16) and covered == 3
    assert torch.all(emb[0] == 0)
    # the covered rows are the PCA projection: "grin" nearer "smile" than "beard", as in 384-d
    c = torch.nn.functional.cosine_similarity
    assert c(emb[3], emb[2], dim=0) > c(emb[3], emb[4], dim=0)


def test_word_init_option_is_checked():
    cfg = {"vocab": ["<pad>", "<unk>", "<num>", "smile"], "emb": 8, "hidden": 8, "dim": 8, "bow": 8, "members": 1}
    with pytest.raises(ValueError, match="word_init"):
        ie_training.fit(cfg, {"word_init": "glove", "steps": 1, "batch": 4}, [], 0)


# ----------------------------------------------------------------------------- issue 9: direction safety

def _probs(attr=0, mode=1, up=0.9, target=None, conf=0.99):
    p = {"attribute": np.full(6, (1 - conf) / 5), "mode": np.full(3, (1 - conf) / 2),
         "direction": np.array([1 - up, up]), "delta": np.full(5, 0.2), "target": np.full(6, (1 - conf) / 5)}
    p["attribute"][attr] = conf
    p["mode"][mode] = conf
    if target is not None:
        p["target"][target] = conf
    return p


def test_decide_rejects_an_unsure_direction():
    sure = ie.decide("x", _probs(up=0.99), sign_max=0.2)
    assert sure.understood and sure.direction == 1
    # 30% of the way mass points down: guessing "up" is refused, not made
    unsure = ie.decide("x", _probs(up=0.7, conf=0.999), conf_min=0.5, sign_max=0.2)
    assert not unsure.understood and "direction" in unsure.reason
    assert ie.decide("x", _probs(up=0.7, conf=0.999), conf_min=0.5, sign_max=1.0).understood  # rule off
    # an ensemble member that would edit the other way is a refusal too
    down_member = _probs(up=0.1)
    split = ie.decide("x", _probs(up=0.99), sign_max=0.2, members=[_probs(up=0.99), down_member])
    assert not split.understood and "disagree" in split.reason
    # a removal (target 0) against mass on "more" is refused; a middle target has no fixed way
    p = _probs(mode=2, target=0, conf=0.95)
    p["mode"] = np.array([0.0, 0.3, 0.7])
    p["direction"] = np.array([0.0, 1.0])
    assert not ie.decide("x", p, conf_min=0.1, sign_max=0.2).understood
    mid = _probs(mode=2, target=3)
    assert ie.decide("x", mid, sign_max=0.02).understood


# ----------------------------------------------------------------------------- issue 9: the independent set

@pytest.fixture(scope="module")
def independent(enc):
    from methods.nets.instruction_encoder.evaluation import independent_accuracy

    return independent_accuracy(enc)


def test_independent_set_is_what_was_committed_before_tuning():
    """181 valid requests and 70 non-requests, hand-written apart from the templates (commit
    92eebd0) - never edited after results were seen."""
    from datasets.instructions.independent import PATH, load

    valid, invalid = load()
    assert (len(valid), len(invalid)) == (181, 70)
    assert {r.attribute for r in valid} == set(range(5)) and {r.mode for r in valid} == {"definite", "indefinite",
                                                                                        "target"}
    import hashlib

    assert hashlib.sha256(PATH.read_bytes()).hexdigest().startswith(INDEPENDENT_SHA256_PREFIX)


INDEPENDENT_SHA256_PREFIX = "c18a8204f19323ef"


#: the shipped parser's figures on the independent set (card: independent_*, both readers; and
#: encoder_alone_independent_*), guarded against regressions
INDEPENDENT_GUARD = {"exact": 0.95, "valid_rejected": 0.03, "opposite": 0, "nonrequests_rejected": 1.0}
INDEPENDENT_GUARD_ENCODER_ALONE = {"exact": 0.79, "valid_rejected": 0.19, "opposite": 1, "nonrequests_rejected": 0.98}


def test_independent_set_regression_guard(independent, enc):
    from methods.nets.instruction_encoder.evaluation import independent_accuracy

    enc.readers = "encoder"
    try:
        alone = independent_accuracy(enc)
    finally:
        enc.readers = "both"
    for r, guard in ((independent, INDEPENDENT_GUARD), (alone, INDEPENDENT_GUARD_ENCODER_ALONE)):
        assert r["exact"] >= guard["exact"], r["errors"]
        assert r["valid_rejected"] <= guard["valid_rejected"], r["errors"]
        assert r["opposite"] <= guard["opposite"], r["errors"]
        assert r["nonrequests_rejected"] >= guard["nonrequests_rejected"], r["accepted_nonrequests"]


def test_independent_set_exact_target(independent):
    assert independent["exact"] >= 0.85


def test_independent_set_no_opposite_direction_edit(independent):
    """Met since 2026-11-30, but not cleanly: the set's last two opposite-direction errors ("turn that
    frown upside down", "knock two levels off his age") were read before the grammar learned the two
    idioms, so this is now a regression guard; the fresh set below is the clean measure."""
    assert independent["opposite"] == 0, [e for e in independent["errors"] if e[1].startswith("OPPOSITE")]


def test_independent_set_valid_rejected_target(independent):
    assert independent["valid_rejected"] <= 0.10


def test_independent_set_nonrequests_all_rejected(independent):
    assert independent["nonrequests_rejected"] == 1.0, independent["accepted_nonrequests"]


# ----------------------------------------------------------------------------- the blind sets

#: Each written blind to the project by its own writer (datasets.instructions.independent), 150 valid requests
#: (30 per attribute: 12 indefinite, 10 target, 8 definite) and 50 non-requests (10 per kind), never edited after
#: the parser's results on it were seen. ``guard``: the shipped parser's figures, kept from regressing.
#: fresh (84.7 % exact, 2 opposite, 6.0 % rejected when scored once with the parser of d5789c3) and fresh2
#: (90.7 %, 1, 6.0 %) then taught the grammar (454c7d2): development sets since, guarded at their new figures.
#: fresh3 was unseen until scored once with the grammar of 454c7d2: the clean measure of issue 9's targets.
BLIND_SETS = {
    "fresh": {"sha": "6c8a8085bcc41134", "guard": {"exact": 0.98, "valid_rejected": 0.0067, "opposite": 0}},
    "fresh2": {"sha": "261b42f87e7c5bcc", "guard": {"exact": 0.98, "valid_rejected": 0.0134, "opposite": 0}},
    "fresh3": {"sha": "970bdc59b3f9e7b0", "guard": {"exact": 0.91, "valid_rejected": 0.06, "opposite": 0}},
}


def _blind_path(name):
    from datasets.instructions.independent import BLIND_PATHS

    return BLIND_PATHS[name]


@pytest.fixture(scope="module")
def blind(enc):
    from methods.nets.instruction_encoder.evaluation import independent_accuracy

    return {name: independent_accuracy(enc, _blind_path(name)) for name in BLIND_SETS}


@pytest.mark.parametrize("name", sorted(BLIND_SETS))
def test_blind_set_is_what_was_committed(name):
    import hashlib

    from datasets.instructions.independent import load

    valid, invalid = load(_blind_path(name))
    assert (len(valid), len(invalid)) == (150, 50)
    for a in range(5):
        modes = [r.mode for r in valid if r.attribute == a]
        assert (modes.count("indefinite"), modes.count("target"), modes.count("definite")) == (12, 10, 8)
    assert sorted({r.kind for r in invalid}) == ["chit-chat", "other-domain", "other-language", "question",
                                                 "word-salad"]
    assert hashlib.sha256(_blind_path(name).read_bytes()).hexdigest().startswith(BLIND_SETS[name]["sha"])


@pytest.mark.parametrize("name", sorted(BLIND_SETS))
def test_blind_set_regression_guard(blind, name):
    r, guard = blind[name], BLIND_SETS[name]["guard"]
    assert r["exact"] >= guard["exact"], r["errors"]
    assert r["valid_rejected"] <= guard["valid_rejected"] + 1e-9, r["errors"]
    assert r["opposite"] <= guard["opposite"], r["errors"]
    assert r["nonrequests_rejected"] == 1.0, r["accepted_nonrequests"]


def test_fresh3_set_issue9_language_targets(blind):
    """Issue 9: >= 85 % exact on independently written requests, 0 opposite-direction edits, <= 10 % of
    valid requests rejected, every non-request rejected - on the set nobody tuning had seen."""
    r = blind["fresh3"]
    assert r["exact"] >= 0.85, r["errors"]
    assert r["opposite"] == 0, [e for e in r["errors"] if e[1].startswith("OPPOSITE")]
    assert r["valid_rejected"] <= 0.10
    assert r["nonrequests_rejected"] == 1.0, r["accepted_nonrequests"]
