"""What world-2 item `index` of a split shows: identity, degrees, nuisance and the request.

* **Identity**: ``split start + index`` (disjoint ranges, as in world 1).
* **Nuisance**: drawn per image from (split, index, seed, style); the art style draws from
  its wider ranges.
* **Plain items** (``requests=none``): the five degrees come from the CelebA-like population
  prior for the identity's face type (:mod:`.population`).
* **Items with a request** are balanced over the 50 cells (attribute, direction, target
  degree): up to 1..5 or down to 0..4, for each of the 5 attributes. The other degrees come
  from the prior; the requested attribute's current degree is drawn from the prior given the
  others, restricted to the values from which the request is feasible (below the target for
  "up", above it for "down"), so every request can be carried out exactly. One item in every
  20 (5 %) is a labelled **at-the-limit** request (``labels["at_limit"]``): "more" of an
  attribute already at 5, or "less" of one at 0, balanced over the 10 (attribute, direction)
  pairs; eq. (10) clamps, the expected degree is the current one and the target image is
  the original. Cells are assigned by shuffled rounds, so every prefix of a split is
  balanced up to one item per cell.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..attributes import ATTRIBUTES, MAX_DEGREE
from ..splits import splitmix64
from .identity import identity_from_id
from .nuisance import Nuisance, sample_nuisance
from .population import _draw, conditional, sample_degrees
from .splits import SPLIT_CODES, split_identity

AT_LIMIT_EVERY = 20          # one at-the-limit request per 20 items (5 %)
N_CELLS = len(ATTRIBUTES) * 2 * MAX_DEGREE   # 50: attribute x direction x target
N_LIMIT_CELLS = len(ATTRIBUTES) * 2          # 10: attribute x direction
_M32 = 0xFFFFFFFF


@dataclass(frozen=True)
class Cell:
    """The requested change: attribute index, direction (+1/-1) and target degree."""

    attribute: int
    direction: int
    target: int
    at_limit: bool = False

    def to_dict(self) -> dict:
        return {"attribute": self.attribute, "attribute_name": ATTRIBUTES[self.attribute],
                "direction": self.direction, "target": self.target, "at_limit": self.at_limit}


def cell_of(k: int) -> Cell:
    """Cell number k in 0..49: attribute k // 10; 0-4 up to 1..5, 5-9 down to 0..4."""
    a, r = divmod(int(k), 2 * MAX_DEGREE)
    return Cell(a, 1, r + 1) if r < MAX_DEGREE else Cell(a, -1, r - MAX_DEGREE)


def limit_cell_of(k: int) -> Cell:
    a, r = divmod(int(k), 2)
    return Cell(a, 1, MAX_DEGREE, True) if r == 0 else Cell(a, -1, 0, True)


def _key(split: str, seed: int, *parts: int) -> int:
    h = splitmix64((SPLIT_CODES[split] << 56) ^ splitmix64(int(seed) & 0xFFFFFFFFFFFF))
    for p in parts:
        h = splitmix64(h ^ (int(p) & 0xFFFFFFFFFFFFFFFF))
    return h


def _perm(n: int, split: str, seed: int, tag: int, round_: int) -> np.ndarray:
    return np.random.default_rng(_key(split, seed, tag, round_)).permutation(n)


def request_cell(split: str, index: int, seed: int = 0) -> Cell:
    """The cell of item `index`: 19 of every 20 items walk shuffled rounds of the 50 cells,
    one (at a seeded position in the block) walks shuffled rounds of the 10 limit cells."""
    block, pos = divmod(int(index), AT_LIMIT_EVERY)
    at_pos = _key(split, seed, 0xA7, block) % AT_LIMIT_EVERY
    if pos == at_pos:
        r, i = divmod(block, N_LIMIT_CELLS)
        return limit_cell_of(int(_perm(N_LIMIT_CELLS, split, seed, 0x11, r)[i]))
    k = block * (AT_LIMIT_EVERY - 1) + (pos if pos < at_pos else pos - 1)
    r, i = divmod(k, N_CELLS)
    return cell_of(int(_perm(N_CELLS, split, seed, 0x50, r)[i]))


def _rng(tag: int, split: str, index: int, seed: int, *extra: int) -> np.random.Generator:
    return np.random.default_rng([tag, SPLIT_CODES[split], int(index), int(seed) & _M32, *extra])


def item_nuisance(split: str, index: int, seed: int = 0, style: str = "photo") -> Nuisance:
    return sample_nuisance(_rng(0x5F2B, split, index, seed, 1 if style == "art" else 0), style)


def item_degrees(split: str, index: int, seed: int = 0, cell: Cell | None = None) -> tuple[int, ...]:
    """The five degrees of item `index`: population prior, the requested one made feasible."""
    ident = identity_from_id(split_identity(split, index))
    rng = _rng(0x5F2A, split, index, seed)
    degrees = list(sample_degrees(rng, ident.masculine))
    if cell is None:
        return tuple(degrees)
    a = cell.attribute
    if cell.at_limit:
        degrees[a] = cell.target
        return tuple(degrees)
    p = conditional(degrees, a, ident.masculine)
    feasible = np.array([(d < cell.target) if cell.direction > 0 else (d > cell.target)
                         for d in range(MAX_DEGREE + 1)], float)
    q = p * feasible
    degrees[a] = _draw(rng, q if q.sum() > 0 else feasible)
    return tuple(degrees)


_WORDS = re.compile(r"[a-z']+")
_GENDERED = {True: {"her", "woman", "woman's", "lady", "lady's"},        # words not to use for a masculine face
             False: {"him", "his", "guy", "guy's", "man", "man's"}}    # ... for a feminine face


def build_request(rng: np.random.Generator, degrees, cell: Cell, split: str = "all", masculine: bool | None = None):
    """An instruction (from the `split` templates) that asks exactly for `cell` from `degrees`.

    Modes are drawn with the instruction language's weights among those that can express the
    change: definite (delta = |target - current|), indefinite (when the change is one step)
    and target mode; an at-the-limit cell uses definite or indefinite requests. With
    `masculine` given, the sentence refers to the person in a way that fits the face.
    """
    from datasets.instructions import MODES, expected_degree, templates
    from datasets.instructions import render as render_text
    from datasets.instructions.generator import MODE_WEIGHTS, Instruction

    cur = int(degrees[cell.attribute])
    pool = [t for t in templates(split) if t.attribute == cell.attribute and t.allowed(cur)]
    delta = abs(cell.target - cur)
    options = {
        "definite": [t for t in pool if t.mode == "definite" and t.direction == cell.direction],
        "indefinite": [t for t in pool if t.mode == "indefinite" and t.direction == cell.direction
                       and (cell.at_limit or delta == 1)],
        "target": [] if cell.at_limit else [t for t in pool if t.mode == "target" and t.target == cell.target],
    }
    modes = [m for m in MODES if options[m]]
    if not modes:
        raise ValueError(f"no {split} template can ask for {cell} from degree {cur}")
    w = np.array([MODE_WEIGHTS[m] for m in modes], float)
    mode = modes[int(rng.choice(len(modes), p=w / w.sum()))]
    tpl = options[mode][int(rng.integers(len(options[mode])))]
    d = (int(rng.integers(1, MAX_DEGREE + 1)) if cell.at_limit else delta) if mode == "definite" else None
    for _ in range(24):  # re-draw the wording (person, noise) until it fits the face
        text = render_text(tpl, rng, d)
        if masculine is None or not _GENDERED[bool(masculine)] & set(_WORDS.findall(text.lower())):
            break
    if mode == "definite":
        ins = Instruction(text, cell.attribute, cell.direction, d, mode, None, tpl.id)
    elif mode == "indefinite":
        ins = Instruction(text, cell.attribute, cell.direction, 1, mode, None, tpl.id)
    else:
        ins = Instruction(text, cell.attribute, 0, 0, mode, tpl.target, tpl.id).resolve(cur)
    goal = expected_degree(list(degrees), ins)
    want = cur if cell.at_limit else cell.target
    if goal != want:  # pragma: no cover - guarded by tests
        raise AssertionError(f"request {ins} for {cell} from {cur} expects {goal}, not {want}")
    return ins, goal


@dataclass(frozen=True)
class Plan:
    identity: int
    degrees: tuple[int, ...]
    nuisance: Nuisance
    cell: Cell | None


def plan(split: str, index: int, seed: int = 0, style: str = "photo", requests: bool = True) -> Plan:
    """Everything item `index` shows except the request text."""
    cell = request_cell(split, index, seed) if requests else None
    return Plan(split_identity(split, index), item_degrees(split, index, seed, cell),
                item_nuisance(split, index, seed, style), cell)


def request_rng(split: str, index: int, seed: int = 0) -> np.random.Generator:
    return _rng(0x5EED2, split, index, seed)
