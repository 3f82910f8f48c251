"""The SynthFaces datasets, registered as "synthfaces" (photo) and "synthfaces-art" (OOD).

``world=2`` (the default, ``DEFAULT_WORLD``: the world the shipped image models are trained on,
``methods.training.world_data.WORLD``) is SynthFaces world 2 (``datasets.synthfaces.v2``: identity
apart from nuisance, legible attributes, a CelebA-like population, a painted medium for the art
set); ``world=1`` renders the original world exactly as before. The canonical spec always names
the world, so result rows of the two worlds never mix.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from bench.errors import UserError
from bench.registry import DATASETS
from datasets.base import Dataset, Item

from .attributes import ATTRIBUTES
from .cache import build_split_cache, load_split_cache
from .render import check_size, check_style, render
from .splits import check_split, sample_attributes, split_identity, split_len


@DATASETS.register(
    "synthfaces",
    "procedural labelled faces (CelebA-like): 5 attributes x degrees 0-5, exact edit targets; "
    "options split=test|train|finetune, style=photo|art, requests=all|train|heldout|none, cache=false, "
    "world=2|1 (2, the default, is the world the shipped models learned)",
)
class SynthFaces(Dataset):
    """Procedural faces with known identity and attribute degrees.

    Item ``index`` of a split shows identity ``split start + index`` with attribute degrees
    sampled from (split, index, seed); labels hold ``identity``, ``attributes`` (5 degrees
    in the order Bangs, Eyeglasses, Beard, Smiling, Young), ``split`` and ``style``.
    With ``cache=True`` images are read from (and written to) the .npz split cache.

    Each item also carries an editing request from the instruction language (``requests``
    picks the template split; ``none`` for plain images): ``Item.instruction`` is its text,
    ``labels["request"]`` its labels, ``labels["expected_degree"]`` eq. (10)'s degree, and
    ``Item.target`` the exact ground-truth edit — the same identity rendered with that degree.

    ``world=2`` (see ``datasets.synthfaces.v2.items``): the identity is the face only, each
    item has its own nuisance (``labels["nuisance"]``: backdrop, clothing, pose, lighting),
    plain items follow the CelebA-like population prior, and items with a request are
    balanced over (attribute, direction, target degree) with a labelled 5 % at-the-limit
    share (``labels["at_limit"]``, ``labels["requested"]``).
    """

    default_size = 64

    def __init__(self, split: str = "test", style: str = "photo", cache: bool = False, cache_dir: str | None = None,
                 requests: str = "all", world: int | None = None):
        super().__init__()
        world = DEFAULT_WORLD if world is None else world
        self.world = check_world(world)
        self.split = check_split(split)
        self.style = check_style(style)
        from datasets.real.common import REQUEST_CHOICES  # lazy: the instruction language imports us

        if requests not in REQUEST_CHOICES:
            raise UserError(f"synthfaces option requests={requests!r} is not one of {', '.join(REQUEST_CHOICES)}")
        self.requests = requests
        if not isinstance(cache, bool):
            raise UserError(f"synthfaces option cache must be true or false, got {cache!r}")
        self.cache = cache
        if cache_dir is not None and not isinstance(cache_dir, str):  # e.g. cache_dir=5 parsed as a number
            raise UserError(f"synthfaces cache_dir must be a directory path, got {cache_dir!r} (for a directory "
                            f"named like that, write ./{cache_dir})")
        self.cache_dir = cache_dir
        name = "synthfaces-art" if style == "art" else "synthfaces"
        self.spec = f"{name}:split={self.split},world={self.world}" \
            + (",cache=true" if cache else "") + ("" if requests == "all" else f",requests={requests}")

    def _split_len(self) -> int:
        if self.world == 2:
            from .v2.splits import split_len as split_len2

            return split_len2(self.split)
        return split_len(self.split)

    def __len__(self) -> int:
        return self._split_len()

    def _count(self, n) -> int:
        total = self._split_len()
        if n is None:
            return total
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise UserError(f"number of items must be a non-negative integer or None, got {n!r}")
        return min(int(n), total)

    def item(self, index: int, size: int | None = None, seed: int = 0) -> Item:
        """Item `index` of the split (rendered, not cached)."""
        size = check_size(self.default_size if size is None else size)
        if self.world == 2:
            return self._make2(index, size, seed)
        ident = split_identity(self.split, index)
        attrs = sample_attributes(self.split, index, seed)
        return self._make(index, ident, attrs, render(ident, attrs, size, self.style), size, seed)

    def _make2(self, index: int, size: int, seed: int, image: np.ndarray | None = None) -> Item:
        """World-2 item `index` (`image`: the already rendered original, e.g. from the cache)."""
        from .v2.identity import identity_from_id as identity2
        from .v2.items import build_request, plan, request_rng
        from .v2.render import render as render2

        p = plan(self.split, index, seed, self.style, requests=self.requests != "none")
        attrs = [int(a) for a in p.degrees]
        if image is None:
            image = render2(p.identity, attrs, size, self.style, p.nuisance)
        labels = {"identity": int(p.identity), "attributes": attrs, "attribute_names": list(ATTRIBUTES),
                  "split": self.split, "style": self.style, "world": 2, "nuisance": p.nuisance.to_dict(),
                  "identity_factors": identity2(p.identity).factors()}
        item = Item(id=f"{self.split}-{index:06d}", image=image, labels=labels)
        if p.cell is not None:
            request, goal = build_request(request_rng(self.split, index, seed), attrs, p.cell, self.requests,
                                          masculine=labels["identity_factors"]["masculine"])
            target_attrs = list(attrs)
            target_attrs[request.attribute] = goal
            item.instruction = request.text
            labels["request"] = request.to_dict()
            labels["expected_degree"] = goal
            labels["target_attributes"] = target_attrs
            labels["requested"] = p.cell.to_dict()
            labels["at_limit"] = p.cell.at_limit
            item.target = image if target_attrs == attrs else render2(p.identity, target_attrs, size, self.style,
                                                                      p.nuisance)
        return item

    def _make(self, index: int, ident: int, attrs, image: np.ndarray, size: int, seed: int) -> Item:
        attrs = [int(a) for a in attrs]
        labels = {"identity": int(ident), "attributes": attrs, "attribute_names": list(ATTRIBUTES),
                  "split": self.split, "style": self.style}
        item = Item(id=f"{self.split}-{index:06d}", image=image, labels=labels)
        if self.requests != "none":
            from datasets.instructions import expected_degree, sample_request

            rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, int(index), 0x5EED])
            request = sample_request(rng, attrs, split=self.requests)
            goal = expected_degree(attrs, request)
            target_attrs = list(attrs)
            target_attrs[request.attribute] = goal
            item.instruction = request.text
            labels["request"] = request.to_dict()
            labels["expected_degree"] = goal
            labels["target_attributes"] = target_attrs
            item.target = image if target_attrs == attrs else render(int(ident), target_attrs, size, self.style)
        return item

    def get(self, item_id: str, size: int | None = None, seed: int = 0) -> Item:
        split, _, index = str(item_id).rpartition("-")
        if split != self.split or not index.isdigit() or not 0 <= int(index) < self._split_len():
            raise KeyError(f"dataset '{self.spec}' has no item '{item_id}'")
        return self.item(int(index), size, seed)

    def items(self, n: int | None, size: int | None = None, seed: int = 0) -> Iterator[Item]:
        count = self._count(n)
        size = check_size(self.default_size if size is None else size)
        if self.cache and count and self.world == 2:
            data = load_split_cache(build_split_cache(self.split, count, size, self.style, self.cache_dir, seed,
                                                      world=2, requests=self.requests != "none"))
            for i in range(count):
                yield self._make2(i, size, seed, data["images"][i])
            return
        if self.cache and count:
            data = load_split_cache(build_split_cache(self.split, count, size, self.style, self.cache_dir, seed))
            for i in range(count):
                yield self._make(i, data["identity"][i], data["attributes"][i], data["images"][i], size, seed)
            return
        for i in range(count):
            yield self.item(i, size, seed)


@DATASETS.register(
    "synthfaces-art",
    "SynthFaces painted as old portraits (MetFaces-like out-of-distribution test); "
    "options split=test|train|finetune, requests=all|train|heldout|none, cache=false, world=2|1",
)
def synthfaces_art(split: str = "test", cache: bool = False, cache_dir: str | None = None,
                   requests: str = "all", world: int | None = None) -> SynthFaces:
    return SynthFaces(split=split, style="art", cache=cache, cache_dir=cache_dir, requests=requests, world=world)


WORLDS = (1, 2)
DEFAULT_WORLD = 2  # must equal methods.training.world_data.WORLD (tests/test_synthfaces_v2.py checks)


def check_world(world) -> int:
    if isinstance(world, bool) or not isinstance(world, (int, np.integer)) or int(world) not in WORLDS:
        raise UserError(f"synthfaces option world={world!r} is not one of {', '.join(map(str, WORLDS))} "
                        "(2: SynthFaces world 2, the default; 1: the original world)")
    return int(world)
