"""Expands the phrasebook into a fixed, ordered list of templates and splits it.

A *family* is one written pattern; ``[a|b]`` alternatives expand it into *variants*, each a
distinct template with id ``<attr>.<mode>.<key>.<family#>.<variant#>``. About 15% of the
families of every (attribute, mode, direction) group -- for target mode, of each attribute's
target families -- are held out, chosen by a hash
of the family id (so the choice is fixed and does not depend on list order elsewhere). A
held-out family's variants are all held out, so the held-out split never contains a
synonym-swapped copy of a training template. A family is only held out if every word it
uses also occurs in the training families: the held-out split measures generalisation to
new sentence *structures* built from known words (what a text encoder trained on the
training templates alone can be asked to do); sentences with words it has never seen are the
"not understood" case, tested separately.

Issue 9 broadened the language: the families that existed before keep their split
(``HELDOUT_BEFORE_ISSUE9``), and the families it added are split by the same rule among
themselves, so no held-out template ever moved into training.
"""
from __future__ import annotations

import hashlib
import itertools
import math
import re
from dataclasses import dataclass
from functools import lru_cache

from datasets.instructions.lexicon import ATTRIBUTE_INDEX, ATTRIBUTES, IMPERATIVE_VERBS

HELDOUT_FRACTION = 0.15
SPLITS = ("train", "heldout", "all")

_MODE_CODE = {"definite": "def", "indefinite": "ind", "target": "tgt"}
_ALT = re.compile(r"\[([^\[\]]+)\]")


@dataclass(frozen=True)
class Template:
    id: str
    family: str
    attribute: int
    mode: str                 # "definite" | "indefinite" | "target"
    direction: int | None     # +1/-1 for definite/indefinite, None for target
    target: int | None        # degree for target mode
    pattern: str              # with {obj} {poss} {pre} {by} slots
    precondition: str | None  # None | "zero" (current == 0) | "nonzero" (current > 0)
    heldout: bool

    @property
    def imperative(self) -> bool:
        return self.pattern.split(" ", 1)[0] in IMPERATIVE_VERBS

    @property
    def question(self) -> bool:
        return self.pattern.split(" ", 1)[0] in ("could", "can", "would", "what", "how")

    @property
    def group(self) -> tuple[int, str, int]:
        """(attribute, mode, direction-or-target) — the unit that the split stratifies."""
        return (self.attribute, self.mode, self.direction if self.mode != "target" else self.target)

    def allowed(self, current: int | None) -> bool:
        if current is None or self.precondition is None:
            return True
        return current == 0 if self.precondition == "zero" else current > 0


def expand(pattern: str) -> list[str]:
    """``"a [b|c] d"`` -> ``["a b d", "a c d"]`` (cartesian product over groups)."""
    parts = _ALT.split(pattern)
    literal, choices = parts[0::2], [p.split("|") for p in parts[1::2]]
    out = []
    for combo in itertools.product(*choices):
        text = literal[0] + "".join(c + lit for c, lit in zip(combo, literal[1:]))
        out.append(" ".join(text.split()))
    return out


_WORD = re.compile(r"[a-z][a-z'-]*")
_SLOT = re.compile(r"\{[a-z]+\}")


def _words(pattern: str) -> set[str]:
    """The words a pattern (all its variants) uses, slots and precondition markers left out."""
    return set(_WORD.findall(_SLOT.sub(" ", pattern.lower())))


#: The families the rule held out before issue 9 broadened the language (phrasebook of commit
#: 92eebd0, 56 families). They stay held out, whatever their text became when target degrees were
#: made to agree with DEGREE_DESCRIPTIONS ("give {obj} a full beard" moved from target 5 to the
#: held-out family beard.tgt.4.00).
HELDOUT_BEFORE_ISSUE9 = frozenset("""
    bangs.def.+1.04 bangs.def.+1.06 bangs.def.-1.03 bangs.def.-1.11 bangs.ind.+1.10 bangs.ind.+1.12
    bangs.ind.-1.01 bangs.ind.-1.05 bangs.tgt.0.02 bangs.tgt.0.05 bangs.tgt.4.01 beard.def.+1.04 beard.def.+1.06
    beard.def.-1.04 beard.def.-1.09 beard.ind.+1.07 beard.ind.+1.11 beard.ind.-1.01 beard.ind.-1.08
    beard.tgt.4.00 beard.tgt.5.00 beard.tgt.5.01 eyeglasses.def.+1.01 eyeglasses.def.+1.06
    eyeglasses.def.-1.05 eyeglasses.def.-1.06 eyeglasses.ind.+1.03 eyeglasses.ind.+1.07 eyeglasses.ind.-1.05
    eyeglasses.ind.-1.07 eyeglasses.tgt.0.00 eyeglasses.tgt.2.00 eyeglasses.tgt.3.01 smiling.def.+1.01
    smiling.def.+1.04 smiling.def.-1.02 smiling.def.-1.03 smiling.ind.+1.04 smiling.ind.+1.09
    smiling.ind.-1.08 smiling.ind.-1.09 smiling.tgt.0.01 smiling.tgt.2.01 smiling.tgt.4.01 young.def.+1.00
    young.def.+1.01 young.def.-1.05 young.def.-1.06 young.ind.+1.02 young.ind.+1.07 young.ind.-1.06
    young.ind.-1.07 young.tgt.2.03 young.tgt.4.00 young.tgt.5.01 young.tgt.5.03
""".split())
#: Number of families per (attribute, mode, direction / target) before issue 9; families with a
#: higher number were added by it (and are split among themselves).
FAMILIES_BEFORE_ISSUE9: dict[str, int] = {
    "bangs.def.+1": 13, "bangs.def.-1": 12, "bangs.ind.+1": 16, "bangs.ind.-1": 13, "bangs.tgt.0": 7,
    "bangs.tgt.1": 3, "bangs.tgt.2": 3, "bangs.tgt.3": 3, "bangs.tgt.4": 3, "bangs.tgt.5": 4,
    "eyeglasses.def.+1": 11, "eyeglasses.def.-1": 11, "eyeglasses.ind.+1": 13, "eyeglasses.ind.-1": 11,
    "eyeglasses.tgt.0": 6, "eyeglasses.tgt.1": 3, "eyeglasses.tgt.2": 3, "eyeglasses.tgt.3": 3,
    "eyeglasses.tgt.4": 3, "eyeglasses.tgt.5": 3,
    "beard.def.+1": 11, "beard.def.-1": 11, "beard.ind.+1": 12, "beard.ind.-1": 11, "beard.tgt.0": 6,
    "beard.tgt.1": 3, "beard.tgt.2": 3, "beard.tgt.3": 3, "beard.tgt.4": 3, "beard.tgt.5": 4,
    "smiling.def.+1": 12, "smiling.def.-1": 12, "smiling.ind.+1": 14, "smiling.ind.-1": 12, "smiling.tgt.0": 6,
    "smiling.tgt.1": 3, "smiling.tgt.2": 3, "smiling.tgt.3": 3, "smiling.tgt.4": 3, "smiling.tgt.5": 4,
    "young.def.-1": 13, "young.def.+1": 13, "young.ind.-1": 13, "young.ind.+1": 13, "young.tgt.5": 4,
    "young.tgt.4": 4, "young.tgt.3": 4, "young.tgt.2": 4, "young.tgt.1": 4, "young.tgt.0": 4,
}


def _added(family: str) -> bool:
    """Whether a family was added by issue 9 (after the families its group had before)."""
    group, number = family.rsplit(".", 1)
    return int(number) >= FAMILIES_BEFORE_ISSUE9.get(group, 0)


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.sha1(text.encode()).digest()[:8], "big")


@lru_cache(maxsize=1)
def all_templates() -> tuple[Template, ...]:
    from datasets.instructions.phrasebook import BOOKS

    families: list[tuple[str, tuple, int, str, str]] = []
    for attr_name in ATTRIBUTES:
        for key, patterns in BOOKS[attr_name].items():
            mode, value = key
            code = f"{value:+d}" if mode != "target" else str(value)
            for i, pat in enumerate(patterns):
                fam = f"{attr_name.lower()}.{_MODE_CODE[mode]}.{code}.{i:02d}"
                families.append((fam, key, ATTRIBUTE_INDEX[attr_name], pat, attr_name))

    # held-out choice: ~15% of the families of each (attribute, definite/indefinite, direction)
    # group and of each attribute's target families, smallest hash first; a target family is
    # skipped if holding it out would leave its degree without a training family.
    by_group: dict[tuple, list[tuple[str, tuple]]] = {}
    for fam, key, attr, _pat, _name in families:
        group = (attr, key) if key[0] != "target" else (attr, ("target",))
        by_group.setdefault(group, []).append((fam, key))
    words = {fam: _words(pat) for fam, _key, _attr, pat, _name in families}

    def covered(candidate_held: set[str]) -> bool:
        train_vocab: set[str] = set()
        for fam, *_ in families:
            if fam not in candidate_held:
                train_vocab |= words[fam]
        return all(words[f] <= train_vocab for f in candidate_held)

    # families that existed before issue 9 keep the split the rule gave them then (recorded
    # below); families added since are split by the same rule among themselves, so adding to the
    # language never moves a held-out template into training
    held: set[str] = {fam for fam, *_ in families if fam in HELDOUT_BEFORE_ISSUE9}
    for group, members in by_group.items():
        members = [(fam, key) for fam, key in members if _added(fam)]
        if not members:
            continue
        k = max(1, math.floor(HELDOUT_FRACTION * len(members) + 0.5))
        left: dict[tuple, int] = {}
        for fam, key in by_group[group]:
            if fam not in held:
                left[key] = left.get(key, 0) + 1
        for fam, key in sorted(members, key=lambda m: _hash(m[0])):
            if k == 0:
                break
            if left[key] <= 1 or not covered(held | {fam}):
                continue
            held.add(fam)
            left[key] -= 1
            k -= 1

    out: list[Template] = []
    for fam, (mode, value), attr, pat, _name in families:
        pre = None
        if pat.startswith("@0 "):
            pre, pat = "zero", pat[3:]
        elif pat.startswith("@+ "):
            pre, pat = "nonzero", pat[3:]
        for j, variant in enumerate(expand(pat)):
            out.append(Template(
                id=f"{fam}.{j}", family=fam, attribute=attr, mode=mode,
                direction=value if mode != "target" else None,
                target=value if mode == "target" else None,
                pattern=variant, precondition=pre, heldout=fam in held))
    ids = [t.id for t in out]
    assert len(set(ids)) == len(ids)
    return tuple(out)


def templates(split: str = "train") -> list[Template]:
    """Templates of one split: ``"train"``, ``"heldout"`` or ``"all"``."""
    if split not in SPLITS:
        raise ValueError(f"unknown template split {split!r}; use one of {SPLITS}")
    ts = all_templates()
    if split == "all":
        return list(ts)
    want = split == "heldout"
    return [t for t in ts if t.heldout == want]


def template_by_id(template_id: str) -> Template:
    for t in all_templates():
        if t.id == template_id:
            return t
    raise KeyError(template_id)


def counts() -> dict[tuple[str, str, str], int]:
    """(attribute name, mode, split) -> number of templates."""
    table: dict[tuple[str, str, str], int] = {}
    for t in all_templates():
        key = (ATTRIBUTES[t.attribute], t.mode, "heldout" if t.heldout else "train")
        table[key] = table.get(key, 0) + 1
    return table


VALIDATION_FRACTION = 0.15


@lru_cache(maxsize=4)
def validation_split(fraction: float = VALIDATION_FRACTION) -> tuple[tuple[Template, ...], tuple[Template, ...]]:
    """(fit, validation): the TRAIN templates split again by family, for model selection.

    Built like the held-out split but only from the training families (the held-out split is
    untouched): about ``fraction`` of the families of each (attribute, mode, direction) group
    and of each attribute's target families, smallest salted hash first, are moved to
    *validation* if every word they use still occurs in the remaining *fit* families and a
    target degree keeps at least one fit family. A component tunes on (fit -> validation) and
    trains its final model on all train templates; held-out templates stay untouched.
    """
    train = [t for t in all_templates() if not t.heldout]
    fams: dict[str, list[Template]] = {}
    for t in train:
        fams.setdefault(t.family, []).append(t)
    words = {f: set().union(*(_words(t.pattern) for t in ts)) for f, ts in fams.items()}
    by_group: dict[tuple, list[str]] = {}
    for f, ts in fams.items():
        t = ts[0]
        group = (t.attribute, t.mode, t.direction) if t.mode != "target" else (t.attribute, "target")
        by_group.setdefault(group, []).append(f)

    def covered(candidate: set[str]) -> bool:
        fit_vocab: set[str] = set()
        for f in fams:
            if f not in candidate:
                fit_vocab |= words[f]
        return all(words[f] <= fit_vocab for f in candidate)

    val: set[str] = set()
    for members in by_group.values():
        k = max(1, math.floor(fraction * len(members) + 0.5))
        left: dict[tuple, int] = {}
        for f in members:
            left[fams[f][0].group] = left.get(fams[f][0].group, 0) + 1
        for f in sorted(members, key=lambda m: _hash("validation:" + m)):
            if k == 0:
                break
            key = fams[f][0].group
            if left[key] <= 1 or not covered(val | {f}):
                continue
            val.add(f)
            left[key] -= 1
            k -= 1
    return (tuple(t for t in train if t.family not in val), tuple(t for t in train if t.family in val))
