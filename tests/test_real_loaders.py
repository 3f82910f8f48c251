"""Official-tier loaders on tiny fixtures fabricated in each dataset's published layout."""
import json

import numpy as np
import pytest
from PIL import Image

from bench.errors import UserError
from bench.registry import DATASETS
from datasets.real import CelebA, CelebADialog, CelebAHQ, MetFaces

CELEBA_ATTRS = ("5_o_Clock_Shadow Arched_Eyebrows Attractive Bags_Under_Eyes Bald Bangs Big_Lips Big_Nose "
                "Black_Hair Blond_Hair Blurry Brown_Hair Bushy_Eyebrows Chubby Double_Chin Eyeglasses Goatee "
                "Gray_Hair Heavy_Makeup High_Cheekbones Male Mouth_Slightly_Open Mustache Narrow_Eyes No_Beard "
                "Oval_Face Pale_Skin Pointy_Nose Receding_Hairline Rosy_Cheeks Sideburns Smiling Straight_Hair "
                "Wavy_Hair Wearing_Earrings Wearing_Hat Wearing_Lipstick Wearing_Necklace Wearing_Necktie "
                "Young").split()


def _img(path, h, w, value=128, mode="RGB"):
    path.parent.mkdir(parents=True, exist_ok=True)
    a = np.full((h, w, 3), value, np.uint8)
    a[h // 2, w // 2] = 255 - value
    im = Image.fromarray(a)
    if mode != "RGB":
        im = im.convert(mode)
    im.save(path)


def _attr_file(path, files, n_attr=40, names=CELEBA_ATTRS):
    rows = []
    for i, f in enumerate(files):
        vals = ["1" if (i + j) % 3 == 0 else "-1" for j in range(n_attr)]
        rows.append(f"{f} " + " ".join(f"{v:>2}" for v in vals))
    path.write_text(f"{len(files)}\n" + " ".join(names) + " \n" + "\n".join(rows) + "\n")


@pytest.fixture
def celeba_root(tmp_path):
    root = tmp_path / "celeba"
    files = [f"{i:06d}.jpg" for i in range(1, 7)]
    for f in files:
        _img(root / "img_align_celeba" / f, 218, 178)
    _attr_file(root / "list_attr_celeba.txt", files)
    (root / "list_eval_partition.txt").write_text("".join(f"{f} {min(i // 2, 2)}\n" for i, f in enumerate(files)))
    return root


def test_celeba_parse_labels_and_size(celeba_root):
    ds = CelebA(root=str(celeba_root))
    assert len(ds) == 6
    items = list(ds.items(None, 32, seed=0))
    assert [it.id for it in items] == [f"{i:06d}.jpg" for i in range(1, 7)]
    it = items[0]
    assert it.image.shape == (32, 32, 3) and it.image.dtype == np.uint8
    attrs = it.labels["binary_attributes"]
    assert len(attrs) == 40 and attrs["5_o_Clock_Shadow"] is True and attrs["Arched_Eyebrows"] is False
    assert it.labels["partition"] == "train"
    assert isinstance(it.instruction, str) and it.labels["request"]["attribute_name"]
    assert "attributes" not in it.labels  # CelebA has no degrees
    assert ds.default_size == 128 and ds.skipped == []


def test_celeba_splits_subset_and_determinism(celeba_root):
    test = CelebA(root=str(celeba_root), split="test")
    assert [e.id for e in test.entries] == ["000005.jpg", "000006.jpg"]
    ds = CelebA(root=str(celeba_root))
    a = [(it.id, it.instruction) for it in ds.items(3, 16, seed=4)]
    b = [(it.id, it.instruction) for it in ds.items(3, 16, seed=4)]
    c = [(it.id, it.instruction) for it in ds.items(3, 16, seed=5)]
    assert a == b and len(a) == 3 and a != c
    # an item's request depends on seed and image, not on n
    full = {it.id: it.instruction for it in ds.items(None, 16, seed=4)}
    assert all(full[i] == txt for i, txt in a)
    first = [it.id for it in CelebA(root=str(celeba_root), shuffle=False).items(2, 16)]
    assert first == ["000001.jpg", "000002.jpg"]


def test_celeba_nested_kaggle_layout_and_csv(tmp_path):
    root = tmp_path / "k"
    _img(root / "img_align_celeba" / "img_align_celeba" / "000001.jpg", 218, 178)
    (root / "list_attr_celeba.csv").write_text("image_id," + ",".join(CELEBA_ATTRS) + "\n"
                                               + "000001.jpg," + ",".join(["1"] * 40) + "\n")
    ds = CelebA(root=str(root))
    (it,) = list(ds.items(None, 8))
    assert it.labels["binary_attributes"]["Young"] is True


def test_celeba_skips_corrupted_and_missing(celeba_root):
    (celeba_root / "img_align_celeba" / "000002.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (celeba_root / "img_align_celeba" / "000003.jpg").unlink()
    data = (celeba_root / "img_align_celeba" / "000004.jpg").read_bytes()
    (celeba_root / "img_align_celeba" / "000004.jpg").write_bytes(data[: len(data) // 3])
    ds = CelebA(root=str(celeba_root))
    with pytest.warns(UserWarning, match="skipped"):
        items = list(ds.items(None, 16))
    assert [it.id for it in items] == ["000001.jpg", "000005.jpg", "000006.jpg"]
    assert len(ds.skipped) == 3
    assert any("000002.jpg" in s for s in ds.skipped) and any("000003.jpg" in s and "not found" in s for s in ds.skipped)
    # n items are still delivered when enough readable ones exist
    with pytest.warns(UserWarning):
        assert len(list(ds.items(3, 16, seed=1))) == 3


def test_celeba_missing_files_errors(tmp_path, celeba_root):
    with pytest.raises(UserError, match="root=PATH"):
        CelebA()
    with pytest.raises(UserError, match="does not exist"):
        CelebA(root=str(tmp_path / "nope"))
    (celeba_root / "list_attr_celeba.txt").unlink()
    with pytest.raises(UserError, match="list_attr_celeba.txt.*CelebA project page"):
        CelebA(root=str(celeba_root))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserError, match="img_align_celeba"):
        CelebA(root=str(empty))


def test_celeba_split_needs_partition_file(celeba_root):
    (celeba_root / "list_eval_partition.txt").unlink()
    assert len(CelebA(root=str(celeba_root))) == 6
    with pytest.raises(UserError, match="list_eval_partition"):
        CelebA(root=str(celeba_root), split="test")


def test_celeba_hq_mask_layout_with_conversions(tmp_path):
    root = tmp_path / "CelebAMask-HQ"
    d = root / "CelebA-HQ-img"
    _img(d / "0.jpg", 64, 64)
    _img(d / "1.jpg", 64, 64, mode="L")                       # grayscale
    a = np.zeros((64, 64, 4), np.uint8); a[..., 3] = 255       # RGBA png
    Image.fromarray(a, "RGBA").save(d / "2.png")
    Image.fromarray(np.full((40, 60), 40000, np.uint16)).save(d / "10.png")  # 16-bit, non-square
    _img(d / "3.jpg", 20, 20)                                  # smaller than requested
    (d / "4.jpg").write_bytes(b"")                             # empty
    _attr_file(root / "CelebAMask-HQ-attribute-anno.txt", ["0.jpg", "1.jpg"])
    (root / "CelebA-HQ-to-CelebA-mapping.txt").write_text("idx orig_idx orig_file\n0 119613 119614.jpg\n")
    ds = CelebAHQ(root=str(root))
    assert ds.default_size == 1024
    assert [e.id for e in ds.entries] == ["0.jpg", "1.jpg", "2.png", "3.jpg", "4.jpg", "10.png"]
    with pytest.warns(UserWarning):
        items = {it.id: it for it in ds.items(None, 32)}
    assert set(items) == {"0.jpg", "1.jpg", "2.png", "3.jpg", "10.png"}
    assert all(it.image.shape == (32, 32, 3) for it in items.values())
    assert items["10.png"].image[0, 0, 0] == 40000 // 257
    assert items["0.jpg"].labels["celeba_file"] == "119614.jpg"
    assert items["1.jpg"].labels["binary_attributes"]["Attractive"] is True
    assert len(ds.skipped) == 1 and "4.jpg" in ds.skipped[0]


def test_celeba_hq_other_layouts(tmp_path):
    r1 = tmp_path / "a"
    _img(r1 / "celeba_hq" / "train" / "female" / "x.jpg", 30, 30)
    _img(r1 / "celeba_hq" / "val" / "male" / "y.jpg", 30, 30)
    ds = CelebAHQ(root=str(r1))
    assert {e.labels["subset"] for e in ds.entries} == {"train/female", "val/male"}
    r2 = tmp_path / "b"
    for i in (0, 2, 11):
        _img(r2 / f"imgHQ{i:05d}.png", 24, 24)
    assert [e.id for e in CelebAHQ(root=str(r2)).entries] == ["imgHQ00000.png", "imgHQ00002.png", "imgHQ00011.png"]
    (tmp_path / "c").mkdir()
    with pytest.raises(UserError, match="no images.*NVIDIA"):
        CelebAHQ(root=str(tmp_path / "c"))


def test_metfaces(tmp_path):
    root = tmp_path / "metfaces"
    for name in ("00000-00.png", "00001-00.png", "00002-01.png"):
        _img(root / "images" / name, 48, 48)
    (root / "metfaces.json").write_text(json.dumps([
        {"obj_id": "437", "image_path": "images/00000-00.png", "title": "Portrait", "artist_display_name": "X"},
    ]))
    ds = MetFaces(root=str(root))
    assert ds.default_size == 128
    items = list(ds.items(None, 24))
    assert len(items) == 3 and items[0].labels["metadata"]["title"] == "Portrait"
    assert "metadata" not in items[1].labels and items[0].image.shape == (24, 24, 3)
    assert len(MetFaces(root=str(root / "images"))) == 3  # pointing at images/ works too
    (tmp_path / "e").mkdir()
    with pytest.raises(UserError, match="images/.*MetFaces"):
        MetFaces(root=str(tmp_path / "e"))


@pytest.fixture
def dialog_root(tmp_path):
    root = tmp_path / "CelebA-Dialog"
    rows = {"0.jpg": (2, 0, 0, 3, 1), "1.jpg": (0, 5, 4, 0, 4), "2.jpg": (5, 5, 5, 5, 5), "3.jpg": (0, 0, 0, 0, 0)}
    for f in rows:
        _img(root / "image" / f, 64, 64)
    lab = root / "classification_label"
    lab.mkdir()
    # columns deliberately reordered to check header-driven parsing
    names = ["Smiling", "Bangs", "Young", "No_Beard", "Eyeglasses"]
    order = {"Bangs": 0, "Eyeglasses": 1, "No_Beard": 2, "Smiling": 3, "Young": 4}
    body = "".join(f"{f} " + " ".join(str(v[order[n]]) for n in names) + "\n" for f, v in rows.items())
    (lab / "fine_grained_attribute.txt").write_text(f"{len(rows) + 2}\n" + " ".join(names) + "\n" + body
                                                    + "4.jpg 9 0 0 0 0\n5.jpg 1 2\n")
    text = root / "text"
    text.mkdir()
    (text / "captions_hq.json").write_text(json.dumps({
        "0.jpg": {"overall_caption": "She has medium bangs.",
                  "attribute_wise_captions": {"Bangs": "Bangs reach mid-forehead.", "No_Beard": "",
                                              "Smiling": "A broad grin."}},
        "1.jpg": ["caption one", "caption two"],
    }))
    (text / "request_hq.json").write_text(json.dumps({"0.jpg": "make the bangs shorter"}))
    (text / "request_annotated_hq.json").write_text(json.dumps({"0.jpg": {"attribute": "Bangs",
                                                                          "request_mode": "change_indefinite"}}))
    return root


def test_celeba_dialog_degrees_captions_requests(dialog_root):
    with pytest.warns(UserWarning, match="bad row"):
        ds = CelebADialog(root=str(dialog_root))
    assert len(ds.skipped) == 2  # the out-of-range and the short row
    items = {it.id: it for it in ds.items(None, 16)}
    assert set(items) == {"0.jpg", "1.jpg", "2.jpg", "3.jpg"}
    # the file's Young column counts age; ours counts youth (5 - v)
    assert items["0.jpg"].labels["attributes"] == [2, 0, 0, 3, 4]
    assert items["1.jpg"].labels["attributes"] == [0, 5, 4, 0, 1]
    kept = {it.id: it for it in CelebADialog(root=str(dialog_root), young="youth").items(None, 16)}
    assert kept["0.jpg"].labels["attributes"] == [2, 0, 0, 3, 1]
    assert items["0.jpg"].labels["captions"] == ["She has medium bangs.", "Bangs reach mid-forehead.", "A broad grin."]
    assert items["0.jpg"].labels["attribute_captions"]["Beard"] == ""
    assert items["1.jpg"].labels["captions"] == ["caption one", "caption two"]
    assert items["0.jpg"].labels["dataset_request"]["text"] == "make the bangs shorter"
    assert items["2.jpg"].labels["captions"] == []
    for it in items.values():
        req, degs = it.labels["request"], it.labels["attributes"]
        assert it.instruction == req["text"]
        assert it.labels["expected_degree"] != degs[req["attribute"]]  # a feasible change
    assert len(ds.skipped) == 2


def test_celeba_dialog_invert_beard_and_label_discovery(dialog_root):
    lab = dialog_root / "classification_label"
    (lab / "fine_grained_attribute.txt").rename(lab / "some_other_name.txt")
    (lab / "CelebAMask-HQ-attribute-anno.txt").write_text("1\n" + " ".join(CELEBA_ATTRS) + "\n0.jpg " + " ".join(["1"] * 40) + "\n")
    with pytest.warns(UserWarning):
        ds = CelebADialog(root=str(dialog_root), invert_beard=True)
    assert ds.entries[1].degrees == [0, 5, 1, 0, 1]
    assert ds.entries[0].labels["label_file"].endswith("some_other_name.txt")


def test_celeba_dialog_missing_pieces(dialog_root, tmp_path):
    with pytest.raises(UserError, match="image/.*CelebA-Dialog"):
        CelebADialog(root=str(tmp_path))
    (dialog_root / "classification_label" / "fine_grained_attribute.txt").unlink()
    with pytest.raises(UserError, match="fine_grained_attribute.txt"):
        CelebADialog(root=str(dialog_root))
    with pytest.raises(UserError, match="labels="):
        CelebADialog(root=str(dialog_root), labels=str(tmp_path / "none.txt"))
    bad = tmp_path / "bad.txt"
    bad.write_text("2\nfoo bar baz\n0.jpg 1 2 3\n")
    with pytest.raises(UserError, match="five attributes"):
        CelebADialog(root=str(dialog_root), labels=str(bad))


def test_registered_specs(celeba_root, dialog_root):
    import datasets.real  # noqa: F401  (registers)

    ds = DATASETS.create(f"celeba:root={celeba_root},split=val,requests=none")
    assert isinstance(ds, CelebA) and len(ds) == 2
    items = list(ds.items(None, 8))
    assert items[0].instruction is None and "request" not in items[0].labels
    assert DATASETS.create(ds.spec).spec == ds.spec
    with pytest.warns(UserWarning):
        dd = DATASETS.create(f"celeba-dialog:root={dialog_root},requests=heldout")
    assert isinstance(dd, CelebADialog)
    for name in ("celeba", "celeba-hq", "metfaces", "celeba-dialog"):
        with pytest.raises(UserError, match="root=PATH"):
            DATASETS.create(name)
    with pytest.raises(UserError, match="requests"):
        DATASETS.create(f"celeba:root={celeba_root},requests=bogus")


def test_spec_recreates_options(celeba_root, tmp_path):
    import datasets.real  # noqa: F401

    ds = CelebA(root=str(celeba_root), split="test", requests="heldout", shuffle=False, crop=140)
    again = DATASETS.create(ds.spec)
    assert again.spec == ds.spec and (again.requests, again.shuffle, again.crop) == ("heldout", False, 140)
    assert [e.id for e in again.entries] == [e.id for e in ds.entries]


def test_items_can_be_fetched_by_id_as_workers_do(celeba_root, dialog_root):
    for ds in (CelebA(root=str(celeba_root)), CelebADialog(root=str(dialog_root))):
        items = list(ds.items(4, 32, seed=3))
        for it in items:
            again = ds.get(it.id, 32, seed=3)
            assert np.array_equal(again.image, it.image)
            assert again.instruction == it.instruction and again.labels == it.labels
        with pytest.raises(KeyError):
            ds.get("no-such-image.jpg", 32)
