"""Zoo networks are module-level classes: fresh and shipped models survive pickle with identical
outputs; and the inference code (methods.nets, the zoo registry) never imports a trainer."""
from __future__ import annotations

import pickle
import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")

from methods import zoo  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")

SHIPPED = ("deepsc", "instruction-encoder", "attribute-predictor", "identity-embedder", "stylegan2")
TEXTS = ["make his bangs two levels longer", "add glasses", "make the sky bluer", "", "mach ihn jünger"]


def _config(name: str, comp) -> dict:
    config = dict(comp.default_config)
    if name == "instruction-encoder":  # the vocabulary comes from training data; any small one builds
        config["vocab"] = ["<pad>", "<unk>", "<num>", "make", "his", "bangs", "longer", "add", "glasses"]
    return config


def _outputs(name: str, model) -> list:
    """Outputs on a fixed input (fresh generators, so a call is repeatable)."""
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        if name == "deepsc":
            x = torch.rand(2, 3, 64, 64, generator=g)
            snr = torch.tensor([-3.0, 12.0])
            return [model.encode(x, snr), model(x, snr, generator=torch.Generator().manual_seed(1))]
        if name == "instruction-encoder":
            batch = model.batch([t.split() for t in TEXTS if t])
            parsed = [(p.understood, p.reason, p.attribute, p.direction, p.delta, p.mode, p.target, p.confidence)
                      for p in model.parse_many(TEXTS)]
            return [torch.from_numpy(model.encode(TEXTS[:3])), *model(batch).values(), parsed]
        if name in ("attribute-predictor", "identity-embedder"):
            return [model(torch.rand(3, 3, 64, 64, generator=g) * 2 - 1)]
        if name == "stylegan2":
            return [model(torch.randn(2, model.z_dim, generator=g))]
    return []


def _assert_same(a: list, b: list) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b):
        if isinstance(x, torch.Tensor):
            assert torch.equal(x, y)
        else:
            assert x == y


def _roundtrip(model):
    data = pickle.dumps(model)
    assert b"methods.training" not in data  # the pickle needs only the network modules
    return pickle.loads(data)


def _components() -> list[str]:
    zoo.load_components()
    names = [n for n in zoo.COMPONENTS.names() if zoo.component(n).build.__module__.startswith("methods.")]
    assert set(SHIPPED) <= set(names)
    return names


@pytest.mark.parametrize("name", SHIPPED)
def test_fresh_model_pickles_with_identical_outputs(name):
    assert name in _components()
    comp = zoo.component(name)
    torch.manual_seed(0)
    model = comp.build(_config(name, comp)).eval()
    copy = _roundtrip(model)
    assert type(copy) is type(model) and type(model).__module__.startswith("methods.nets.")
    assert copy.state_dict().keys() == model.state_dict().keys()
    assert all(torch.equal(v, copy.state_dict()[k]) for k, v in model.state_dict().items())
    _assert_same(_outputs(name, model), _outputs(name, copy))


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_pickles_with_identical_outputs(name):
    if not zoo.weights_path(name).exists():
        pytest.skip(f"{name} is not shipped here")
    model = zoo.load_model(name)
    copy = _roundtrip(model)
    assert not copy.training
    before = _outputs(name, model)
    assert before, name
    _assert_same(before, _outputs(name, copy))


def test_other_registered_components_pickle():
    for name in _components():
        if name in SHIPPED:
            continue
        comp = zoo.component(name)
        model = comp.build(_config(name, comp))
        copy = _roundtrip(model)
        assert all(torch.equal(v, copy.state_dict()[k]) for k, v in model.state_dict().items())


def test_inference_code_imports_no_trainer():
    code = ("import sys\n"
            "import methods.nets.deepsc, methods.nets.instruction_encoder, methods.nets.attribute_predictor\n"
            "import methods.nets.identity_embedder, methods.nets.stylegan2, methods.nets.stylegan2.official\n"
            "from methods import zoo\n"
            "zoo.load_components()\n"
            "m = zoo.load_model('deepsc'); p = zoo.load_model('instruction-encoder').parse('add glasses')\n"
            "bad = sorted(k for k in sys.modules if k.startswith('methods.training'))\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], check=True)

