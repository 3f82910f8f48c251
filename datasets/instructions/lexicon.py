"""Word lists shared by the instruction templates: attributes, people, amounts, noise.

Degree scales follow CelebA-Dialog's fine-grained labels (0-5) as this project defines them.
Index 4, ``Young``, is a *youth* level (0 = very old ... 5 = child), so "make him younger" has
direction +1 (the SynthFaces renderer uses the same scale). Index 2 (``Beard``, CelebA-Dialog's ``No_Beard``
column) grows with facial hair: 0 = clean-shaven ... 5 = very long / full beard.
"""
from __future__ import annotations

from datasets.synthfaces.attributes import ATTRIBUTES, DEGREE_DESCRIPTIONS

ATTRIBUTE_INDEX: dict[str, int] = {name: i for i, name in enumerate(ATTRIBUTES)}
MAX_DEGREE = 5
MODES: tuple[str, ...] = ("definite", "indefinite", "target")

#: what each degree means: the renderer's definitions, one source of truth for both
DEGREE_MEANING: dict[str, tuple[str, ...]] = dict(DEGREE_DESCRIPTIONS)

#: (object pronoun, possessive, kind); kind 'm'/'f'/'n' lets beard requests favour men
PEOPLE: tuple[tuple[str, str, str], ...] = (
    ("him", "his", "m"),
    ("her", "her", "f"),
    ("them", "their", "n"),
    ("the person", "the person's", "n"),
    ("this person", "this person's", "n"),
    ("this guy", "this guy's", "m"),
    ("the man", "the man's", "m"),
    ("the woman", "the woman's", "f"),
    ("this lady", "this lady's", "f"),
)

_NUM_WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}
_UNITS = ("level", "step", "notch", "degree")

# Amount phrases for definite requests. "pre" phrases modify a comparative ("{pre} longer"),
# "post" phrases follow the verb phrase ("shorten the fringe {by}").
_PRE_WORDS: dict[int, tuple[str, ...]] = {
    1: ("slightly", "a little", "a bit", "a tiny bit", "just a touch", "a notch", "marginally"),
    2: ("somewhat", "a fair bit", "moderately", "a couple of notches"),
    3: ("quite a bit", "considerably", "noticeably", "a good deal"),
    4: ("a lot", "much", "substantially", "way"),
    5: ("dramatically", "drastically", "enormously", "all the way"),
}
_POST_WORDS: dict[int, tuple[str, ...]] = {
    1: ("slightly", "a little", "a bit", "just a touch", "by a single notch", "marginally"),
    2: ("somewhat", "a fair bit", "moderately", "by a couple of notches"),
    3: ("quite a bit", "considerably", "noticeably", "by a good deal"),
    4: ("a lot", "substantially", "by a wide margin"),
    5: ("dramatically", "drastically", "enormously", "all the way"),
}


def _numeric(delta: int, with_by: bool) -> list[str]:
    out = []
    for unit in _UNITS:
        plural = unit + ("es" if unit.endswith("ch") else "s")
        for num in (_NUM_WORDS[delta], str(delta)):
            noun = unit if delta == 1 else plural
            out.append(f"{'by ' if with_by else ''}{num} {noun}")
    if delta == 1:
        out.append(f"{'by ' if with_by else ''}a single {_UNITS[1]}")
    return out


PRE_AMOUNTS: dict[int, tuple[str, ...]] = {d: _PRE_WORDS[d] + tuple(_numeric(d, False)) for d in _PRE_WORDS}
POST_AMOUNTS: dict[int, tuple[str, ...]] = {d: _POST_WORDS[d] + tuple(_numeric(d, True)) for d in _POST_WORDS}


def amount_lexicon() -> dict[str, int]:
    """Every amount phrase -> its delta (used to check labels against text)."""
    table: dict[str, int] = {}
    for source in (PRE_AMOUNTS, POST_AMOUNTS):
        for delta, phrases in source.items():
            for phrase in phrases:
                assert table.get(phrase, delta) == delta, phrase
                table[phrase] = delta
    return table


# Natural noise. Request openers only go in front of imperative templates.
REQUEST_OPENERS = ("please ", "could you ", "can you ", "would you ", "i'd like you to ",
                   "kindly ", "go ahead and ", "try to ")
QUESTION_OPENERS = ("could you ", "can you ", "would you ")
INTERJECTIONS = ("hmm, ", "um, ", "ok, ", "okay so ", "well, ", "hey, ", "alright, ", "so ",
                 "hmm... ", "right, ", "uh ")
SUFFIXES = (" please", ", thanks", ", thank you", " if possible", " for me", " if you can",
            " thx", " now")
IMPERATIVE_VERBS = frozenset("""
    make give add remove take put let grow lengthen extend bring cover shorten trim cut reduce
    lift show sweep get thicken darken intensify thin lighten tone swap switch shave widen
    brighten turn increase decrease soften dial cheer narrow close age de-age rejuvenate push
    raise lower tidy pull keep clear drop strip fill leave restore render change set
    advance roll wind smooth relax style comb brush shorten have
""".split())
