"""``edit-stress``: the bad-input corpus every edit scheme must survive (issue 12/13).

Requests and images a deployed system meets and the benchmark's clean test split does not: an
empty or blank request, requests in other languages, chit-chat, gibberish, an over-long request,
emoji, a request that is already at the end of its scale (at-limit), and images that are not faces
(flat grey, noise, stripes) with a well-formed request. Faces come from the SynthFaces test split
(world 2), so every face case keeps its exact labels; the ground-truth edit of a request that
should not change anything is the original image itself (``target_attributes`` = the degrees).

Each item's ``labels['stress']`` names its case; a sweep over this set must finish with one row per
item and SNR, the row recording the outcome (``not-understood``, ``at-limit``, ...) and the image
being the system's output without an edit. ``bench report`` counts the outcomes per method.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from bench.registry import DATASETS
from datasets.base import Dataset, Item

# (case, request, face?) -- the at-limit request is filled in per face
CASES = (
    ("empty", "", True),
    ("blank", "   \t ", True),
    ("german", "Lass sie bitte ein bisschen mehr lächeln", True),
    ("chinese", "让她笑得更开心一点", True),
    ("chit-chat", "what a lovely day, how are you?", True),
    ("gibberish", "qzx vlorp mmmf trrrk", True),
    ("very-long", "please " * 200 + "make the bangs longer", True),
    ("emoji", "😀😀😀 🙂", True),
    ("at-limit", None, True),
    ("non-face-flat", "make her smile", False),
    ("non-face-noise", "add glasses", False),
    ("non-face-stripes", "make the bangs longer", False),
)
# a relative request one degree down, per attribute (at degree 0 it is at the limit)
DOWN = {"Bangs": "make the bangs a bit shorter", "Eyeglasses": "make the glasses a bit less visible",
        "Beard": "make the beard a bit shorter", "Smiling": "make her smile a bit less",
        "Young": "make them look a bit older"}


def _non_face(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "non-face-flat":
        return np.full((size, size, 3), 128, np.uint8)
    if kind == "non-face-noise":
        return rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
    stripes = ((np.arange(size) // max(1, size // 8)) % 2 * 255).astype(np.uint8)
    img = np.repeat(np.repeat(stripes[None, :, None], size, 0), 3, 2)
    img[..., 1] = img[..., 1] // 2
    return img


@DATASETS.register("edit-stress", "bad-input corpus for edit schemes: empty / non-English / chit-chat / gibberish / "
                                  "over-long / emoji / at-limit requests and non-face images (12 cases, SynthFaces "
                                  "faces); every row must record an outcome, none may crash")
class EditStress(Dataset):
    default_size = 64

    def __init__(self) -> None:
        super().__init__()
        self.spec = "edit-stress"

    def __len__(self) -> int:
        return len(CASES)

    def items(self, n: int | None, size: int | None = None, seed: int = 0) -> Iterator[Item]:
        from datasets.synthfaces.dataset import SynthFaces

        size = int(size or self.default_size)
        faces = SynthFaces(split="test", requests="none")
        count = len(CASES) if n is None else min(int(n), len(CASES))
        for i, (case, text, face) in enumerate(CASES[:count]):
            item_id = f"stress-{i:02d}-{case}"
            if not face:
                img = _non_face(case, size, np.random.default_rng([seed, i]))
                yield Item(id=item_id, image=img, instruction=text, target=img,
                           labels={"stress": case, "face": False})
                continue
            base = faces.item(i, size, seed)
            labels = dict(base.labels)
            attrs = list(labels["attributes"])
            labels.update(stress=case, face=True, target_attributes=attrs)
            if case == "at-limit":
                names = labels["attribute_names"]
                a = next((k for k, d in enumerate(attrs) if d == 0), None)
                if a is None:  # no attribute at 0 on this face: take the lowest and say so
                    a = int(np.argmin(attrs))
                text = DOWN[names[a]]
                labels["request"] = {"text": text, "attribute": a, "attribute_name": names[a], "direction": -1,
                                     "delta": 1, "mode": "definite", "target": None}
                labels["expected_degree"] = max(attrs[a] - 1, 0)
                tgt = list(attrs)
                tgt[a] = labels["expected_degree"]
                labels["target_attributes"] = tgt
                labels["at_limit"] = attrs[a] == 0
            yield Item(id=item_id, image=base.image, instruction=text,
                       target=base.image if labels["target_attributes"] == attrs else None, labels=labels)

    def get(self, item_id: str, size: int | None = None, seed: int = 0) -> Item:
        for it in self.items(None, size, seed):
            if it.id == item_id:
                return it
        raise KeyError(f"dataset '{self.spec}' has no item '{item_id}'")
