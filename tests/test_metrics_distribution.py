import numpy as np
import pytest
import torch
from PIL import Image

from bench.errors import UserError
from bench.metrics import features
from bench.metrics.distribution import (distances_from_features, distribution_distance,
                                        folder_distribution_distance, frechet_distance,
                                        frechet_distance_cleanfid, frechet_distance_fast, kernel_distance)
from metrics_images import add_noise, blur, crops

torch.set_num_threads(1)
N, SIZE = 48, 32


@pytest.fixture(scope="module")
def space():
    return features.feature_space("vgg16", device="cpu")


@pytest.fixture(scope="module")
def sets(space):
    a = crops(N, SIZE, seed=10)
    b = crops(N, SIZE, seed=11)  # a second sample of the same patch distribution
    out = {"a": a, "fa": space.features(a), "fb": space.features(b)}
    out["noise"] = [space.features(add_noise(a, s, seed=1)) for s in (4, 12, 30, 60)]
    out["blur"] = [space.features(blur(a, s)) for s in (0.6, 1.2, 2.5)]
    return out


def test_feature_space_is_vgg16_without_inception(space, sets):
    assert space.fd_name == "FD-VGG16" and space.kd_name == "KD-VGG16"
    assert sets["fa"].shape == (N, 512) and sets["fa"].dtype == np.float64
    if not features.inception_available():
        assert features.feature_space("auto").backend == "vgg16"


def test_identical_sets(sets):
    fa = sets["fa"]
    d = distances_from_features(fa, fa.copy())
    assert abs(d["FD"]) < 1e-6 * np.trace(np.cov(fa, rowvar=False))
    # the unbiased MMD^2 of a set with itself is -(2/m)(mean k_ii - mean k_ij): O(1/m), not exactly 0
    k = (fa @ fa.T / fa.shape[1] + 1) ** 3
    expected = -(2 / N) * (np.diag(k).mean() - (k.sum() - np.trace(k)) / (N * (N - 1)))
    assert d["KD"] == pytest.approx(expected, rel=1e-9)


def test_distances_grow_with_corruption(sets):
    for kind in ("noise", "blur"):
        fds = [frechet_distance(sets["fa"], f) for f in sets[kind]]
        kds = [kernel_distance(sets["fa"], f) for f in sets[kind]]
        assert np.all(np.diff(fds) > 0), (kind, fds)
        assert np.all(np.diff(kds) > 0), (kind, kds)


def test_kd_unbiased_for_two_samples_of_one_distribution(sets):
    kd_same = kernel_distance(sets["fa"], sets["fb"])
    kd_bad = kernel_distance(sets["fa"], sets["noise"][-1])
    assert abs(kd_same) < 0.15 * kd_bad, (kd_same, kd_bad)
    # FD, in contrast, is biased upward at small n: it is clearly positive for the same distribution
    assert frechet_distance(sets["fa"], sets["fb"]) > 0


def test_kd_is_reproducible_and_leaves_global_rng_alone(sets):
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    fa, fb = sets["fa"], sets["fb"][:40]  # unequal sizes -> random subsets
    v1 = kernel_distance(fa, fb, num_subsets=20, seed=3)
    assert kernel_distance(fa, fb, num_subsets=20, seed=3) == v1
    assert kernel_distance(fa, fb, num_subsets=20, seed=4) != v1
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_fast_fd_equals_cleanfid_fd(sets):
    rng = np.random.default_rng(0)
    for fa, fb in [(sets["fa"], sets["fb"]), (sets["fa"], sets["noise"][1][:30]),
                   (rng.normal(size=(200, 20)), rng.normal(0.3, 1.2, size=(150, 20))),
                   (rng.normal(size=(30, 20)), rng.normal(0.3, 1.2, size=(150, 20)))]:
        ref = frechet_distance_cleanfid(fa, fb)
        assert frechet_distance_fast(fa, fb) == pytest.approx(ref, rel=1e-6)
        assert frechet_distance(fa, fb) == pytest.approx(ref, rel=1e-6)
    big_a, big_b = rng.normal(size=(60, 20)), rng.normal(size=(70, 20))  # n > d: clean-fid's own value
    assert frechet_distance(big_a, big_b) == frechet_distance_cleanfid(big_a, big_b)


@pytest.mark.parametrize("n_a,n_b", [(1, 5), (5, 1), (0, 3)])
def test_too_few_images(n_a, n_b):
    f = np.random.default_rng(0).normal(size=(6, 8))
    for fn in (frechet_distance, kernel_distance, frechet_distance_fast, frechet_distance_cleanfid):
        with pytest.raises(UserError, match=f"at least 2 images in each set \\(got {n_a} and {n_b}\\)"):
            fn(f[:n_a], f[:n_b])


def test_distribution_distance_api(sets):
    a = sets["a"]
    with pytest.raises(UserError, match="FD-VGG16 needs at least 2 images"):
        distribution_distance(a[:1], a[:4], backend="vgg16")
    with pytest.raises(UserError, match="uint8"):
        distribution_distance(a.astype(np.float32), a, backend="vgg16")
    with pytest.raises(UserError, match="at least 16x16"):
        distribution_distance(a[:, :12, :12], a[:, :12, :12], backend="vgg16")
    with pytest.raises(UserError, match="unknown feature backend"):
        distribution_distance(a, a, backend="clip")
    d = distribution_distance(a[:8], add_noise(a[:8], 30), backend="vgg16", device="cpu")
    assert set(d) == {"FD-VGG16", "KD-VGG16"} and d["FD-VGG16"] > 0
    # list input and resizing
    d2 = distribution_distance(list(a[:4]), list(a[4:8]), backend="vgg16", size=24)
    assert set(d2) == {"FD-VGG16", "KD-VGG16"}


def test_set_bootstrap(sets):
    d = distances_from_features(sets["fa"], sets["noise"][2], "FD-VGG16", "KD-VGG16", n_boot=30, seed=1)
    for name in ("FD-VGG16", "KD-VGG16"):
        value, lo, hi = d[name]
        assert lo < hi and np.isfinite([value, lo, hi]).all()
    assert d == distances_from_features(sets["fa"], sets["noise"][2], "FD-VGG16", "KD-VGG16", n_boot=30, seed=1)
    p = distances_from_features(sets["fa"], sets["noise"][2], n_boot=30, seed=1, paired=True)
    assert p["FD"][0] == d["FD-VGG16"][0] and p["FD"][1:] != d["FD-VGG16"][1:]


def test_folder_variant_matches_arrays(tmp_path, sets):
    a = sets["a"][:6]
    b = add_noise(a, 20, seed=4)
    for name, imgs in (("a", a), ("b", b)):
        (tmp_path / name / "sub").mkdir(parents=True)
        for i, im in enumerate(imgs):
            Image.fromarray(im).save(tmp_path / name / "sub" / f"{i:02d}.png")
    from_folder = folder_distribution_distance(str(tmp_path / "a"), str(tmp_path / "b"), backend="vgg16")
    from_arrays = distribution_distance(a, b, backend="vgg16")
    assert from_folder.keys() == from_arrays.keys()
    for k in from_arrays:
        assert from_folder[k] == pytest.approx(from_arrays[k], rel=1e-5)
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no images found"):
        folder_distribution_distance(str(tmp_path / "empty"), str(tmp_path / "a"), backend="vgg16")
    Image.fromarray(crops(1, 40, seed=0)[0]).save(tmp_path / "a" / "odd.png")
    with pytest.raises(UserError, match="different sizes"):
        folder_distribution_distance(str(tmp_path / "a"), str(tmp_path / "b"), backend="vgg16")
    with pytest.raises(UserError, match="does not exist"):
        folder_distribution_distance(str(tmp_path / "nope"), str(tmp_path / "b"), backend="vgg16")


# ---- the Inception branch, with the presence check and clean-fid's extractor faked ----
@pytest.fixture
def fake_inception(monkeypatch):
    import bench.torchvision_compat  # noqa: F401
    import cleanfid.downloads_helper
    import cleanfid.features

    calls = {"shapes": [], "build": []}

    def fake_build(data, device):
        calls["build"].append(data)

        def model_fn(x):
            calls["shapes"].append(tuple(x.shape))
            assert x.dtype == torch.float32 and float(x.max()) <= 255.0
            return torch.cat([x.mean(dim=(2, 3)), x.std(dim=(2, 3))], dim=1)  # (N, 6)
        return model_fn

    def no_download(*a, **k):
        raise AssertionError("must never download")

    monkeypatch.setattr(features, "inception_available", lambda: True)
    monkeypatch.setattr(features, "_read_inception", lambda path: b"verified bytes")
    monkeypatch.setattr(features, "_inception_model", fake_build)
    monkeypatch.setattr(cleanfid.downloads_helper, "check_download_inception", no_download)
    return calls


def test_inception_branch_when_weights_present(fake_inception):
    a = crops(5, 40, seed=1)
    d = distribution_distance(a, add_noise(a, 40), backend="auto")
    assert set(d) == {"FID", "KID"} and d["FID"] > 0
    assert fake_inception["build"] == [b"verified bytes"]
    assert fake_inception["shapes"] and all(s[1:] == (3, 299, 299) for s in fake_inception["shapes"])
    with pytest.raises(UserError, match="FID needs at least 2 images"):
        distribution_distance(a[:1], a, backend="auto")
    assert features.feature_space("vgg16").fd_name == "FD-VGG16"  # explicit choice still honoured


def test_inception_resize_is_cleanfids(fake_inception):
    from cleanfid.resize import build_resizer

    img = crops(1, 50, seed=2)[0]
    space = features.feature_space("inception")
    np.testing.assert_array_equal(space.prepare(img), build_resizer("clean")(img))


def test_inception_absent_is_clear(monkeypatch, tmp_path):
    monkeypatch.setattr(features, "inception_weights_path", lambda: str(tmp_path / "inception-2015-12-05.pt"))
    assert not features.inception_available()
    assert features.feature_space("auto").backend == "vgg16"
    with pytest.raises(UserError, match="Inception weights are not at .*backend='vgg16'"):
        features.feature_space("inception")


def test_inception_path_is_where_cleanfid_looks():
    import inspect

    import bench.torchvision_compat  # noqa: F401
    import cleanfid.features

    src = inspect.getsource(cleanfid.features.feature_extractor)
    assert '"/tmp"' in src and "InceptionV3W(path" in src
    assert features.inception_weights_path().endswith("inception-2015-12-05.pt")


# ---- trust in the Inception file: only clean-fid's published file (by SHA-256) is ever used ----
@pytest.fixture
def planted(monkeypatch, tmp_path):
    """clean-fid's Inception path pointed at a file of the test's making (it sits in world-writable /tmp)."""
    path = tmp_path / "inception-2015-12-05.pt"
    monkeypatch.setattr(features, "inception_weights_path", lambda: str(path))
    return path


def test_a_planted_inception_file_is_refused_and_vgg16_used(planted):
    planted.write_bytes(b"PK\x03\x04 anything but the published TorchScript file" * 100)
    with pytest.warns(UserWarning, match=f"{planted}.*SHA-256.*FD-VGG16/KD-VGG16"):
        assert not features.inception_available()
    with pytest.warns(UserWarning, match="not the published"):
        space = features.feature_space("auto", device="cpu")
    assert space.backend == "vgg16" and (space.fd_name, space.kd_name) == ("FD-VGG16", "KD-VGG16")
    with pytest.raises(UserError, match=f"{planted} has SHA-256 .*not the published.*backend='vgg16'"):
        features.feature_space("inception")


def test_set_metrics_fall_back_to_vgg16_with_a_planted_file(planted):
    planted.write_bytes(np.random.default_rng(0).bytes(4096))
    a = crops(5, 40, seed=1)
    with pytest.warns(UserWarning, match="Inception"):
        d = distribution_distance(a, add_noise(a, 40), backend="auto", device="cpu")
    assert set(d) == {"FD-VGG16", "KD-VGG16"}


@pytest.mark.parametrize("kind", ["directory", "huge"])
def test_an_unreadable_or_absurd_inception_file_is_refused(planted, kind):
    if kind == "directory":
        planted.mkdir()
        why = "not a regular file"
    else:
        with open(planted, "wb") as f:  # sparse: no disk used, and never read (size is checked first)
            f.truncate(features.INCEPTION_MAX_BYTES + 1)
        why = "larger than"
    with pytest.warns(UserWarning, match=why):
        assert features.feature_space("auto", device="cpu").backend == "vgg16"


def test_only_the_verified_bytes_are_loaded(planted, monkeypatch):
    import hashlib

    data = b"stand-in for the published file"
    planted.write_bytes(data)
    monkeypatch.setattr(features, "INCEPTION_SHA256", hashlib.sha256(data).hexdigest())
    loaded = []
    monkeypatch.setattr(features, "_inception_model", lambda blob, device: loaded.append(blob) or (lambda x: x))
    assert features.inception_available()
    assert features.feature_space("auto", device="cpu").backend == "inception" and loaded == [data]
    planted.write_bytes(data + b" changed after the check")  # swapped between the check and the load
    with pytest.raises(UserError, match="not the published"):
        features.feature_space("inception", device="cpu")
    assert loaded == [data]


def test_inception_model_is_cleanfids_loaded_from_a_private_copy(monkeypatch):
    import os

    import bench.torchvision_compat  # noqa: F401
    import cleanfid.downloads_helper

    seen = {}

    class FakeScript:
        layers = None

        def eval(self):
            return self

    def fake_jit_load(path, *a, **k):
        seen["path"] = str(path)
        seen["data"] = open(path, "rb").read()
        seen["mode"] = os.stat(os.path.dirname(path)).st_mode & 0o777
        return FakeScript()

    monkeypatch.setattr(torch.jit, "load", fake_jit_load)
    monkeypatch.setattr(cleanfid.downloads_helper, "check_download_inception",
                        lambda *a, **k: pytest.fail("must never download"))
    model = features._inception_model(b"the verified bytes", "cpu")
    assert type(model).__name__ == "InceptionV3W" and not model.resize_inside
    assert seen["data"] == b"the verified bytes" and seen["mode"] == 0o700
    assert seen["path"] != features.inception_weights_path() and not os.path.exists(seen["path"])
