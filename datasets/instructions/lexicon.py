"""Word lists shared by the instruction templates: attributes, people, amounts, noise.

Degree scales follow CelebA-Dialog's fine-grained labels (0-5) as this project defines them.
Index 4, ``Young``, is a *youth* level (0 = very old ... 5 = child), so "make him younger" has
direction +1 (the SynthFaces renderer uses the same scale). Index 2 (``Beard``, CelebA-Dialog's ``No_Beard``
column) grows with facial hair: 0 = clean-shaven ... 4 = full beard, 5 = very long, thick full beard.
"""
from __future__ import annotations

import re

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
                   "kindly ", "go ahead and ", "try to ", "pls ", "could u ", "can u ", "just ")
QUESTION_OPENERS = ("could you ", "can you ", "would you ", "could u ", "can u ")
INTERJECTIONS = ("hmm, ", "um, ", "ok, ", "okay so ", "well, ", "hey, ", "alright, ", "so ",
                 "hmm... ", "right, ", "uh ")
SUFFIXES = (" please", ", thanks", ", thank you", " if possible", " for me", " if you can",
            " thx", " now", " pls", " plz", ", cheers", " thanks!")
IMPERATIVE_VERBS = frozenset("""
    make give add remove take put let grow lengthen extend bring cover shorten trim cut reduce
    lift show sweep get thicken darken intensify thin lighten tone swap switch shave widen
    brighten turn increase decrease soften dial cheer narrow close age de-age rejuvenate push
    raise lower tidy pull keep clear drop strip fill leave restore render change set
    advance roll wind smooth relax style comb brush shorten have snip chop ditch lose stop tint crank
    bump wipe pin thicken tidy grow reverse sweep
""".split())


# ----------------------------------------------------------------------------- target degrees
#: The documented mapping from the renderer's DEGREE_DESCRIPTIONS to the words target requests
#: use: for each attribute and degree, regular expressions (over lower-case text, person slots
#: read as "him"/"his") of the phrases that NAME that degree. Longest match wins ("short full
#: beard" is 3, "full beard" 4, "very long, thick full beard" 5). Tests check that every
#: description names its own degree and no other, and that every target template of degree d
#: names d (degree 0: a removal or "none" phrase; degrees 1-5: d and no other degree, and no
#: removal phrase), so a phrase means one degree in the renderer, the language and the docs.
_REMOVAL = (r"\bremove\b", r"\bget rid of\b", r"\bno more\b", r"\blose the\b", r"\bditch\b",
            r"\bdrop the\b", r"\btake (away|off)\b", r"\btake (his|the) \w+ off\b", r"\b\w+ off\b",
            r"\bwithout\b", r"\bfree of\b", r"\bno \w+ at all\b", r"\bdon't want any\b",
            r"\bshouldn't wear\b", r"\bstop him\b", r"\bstop (smiling|grinning)\b")
DEGREE_TERMS: dict[str, tuple[tuple[str, ...], ...]] = {
    "Bangs": (
        _REMOVAL + (r"\bno (bangs|fringe)\b", r"\bforehead fully visible\b", r"\bfully visible\b",
                    r"\bwhole forehead\b", r"\bbare forehead\b", r"\bhair (off|back from) his forehead\b"),
        (r"\bwisps?\b", r"\bwispy\b", r"\bbarely touch\b", r"\bbarely-there\b", r"\bgrazes?\b"),
        (r"\bshort (bangs|fringe|row of bangs)\b", r"\ba third\b", r"\bwell above the eyebrows\b",
         r"\bsmall part of the forehead\b"),
        (r"\bhalf\b", r"\bhalfway\b", r"\bmid-forehead\b", r"\bmedium-length\b"),
        (r"\bjust above\b", r"\blong (bangs|fringe)\b", r"\bmost of the forehead\b", r"\bsliver of forehead\b",
         r"\beyebrow-length\b"),
        (r"\bcover(s|ing)? the eyebrows\b", r"\bover his (eye)?brows\b", r"\bdown over\b", r"\bextremely long\b",
         r"\b(very|extremely) long (bangs|fringe)\b", r"\blongest\b", r"\bhiding the whole forehead and the brows\b",
         r"\bdown to his eyes\b"),
    ),
    "Eyeglasses": (
        _REMOVAL + (r"\bno (eye)?glasses\b",),
        (r"\bwire\b", r"\bwire-(rimmed|framed)\b", r"\bmetal-rimmed\b", r"\brimless\b", r"\bwire rims\b"),
        (r"\bmedium\b", r"\bplastic\b", r"\bplastic-framed\b", r"\bmedium-weight\b", r"\bordinary\b",
         r"\bregular\b", r"\beveryday\b"),
        (r"\bthick frames\b", r"\bchunky\b", r"\bheavy-rimmed\b", r"\bhorn-rimmed\b"),
        (r"\btinted\b", r"\bsmoky\b", r"\b(thick|chunky)\b[\w\s-]*\b(tinted|smoky)\b",
         r"\b(tinted|smoky)\b[\w\s-]*\bthick frames\b"),
        (r"\bsunglasses\b", r"\bshades\b", r"\bsunnies\b",
         r"\b(thick-framed|big dark|heavy dark|dark|darkest,? chunkiest) (sunglasses|shades)\b"),
    ),
    "Beard": (
        _REMOVAL + (r"\bclean-shaven\b", r"\bshave\b", r"\bno beard\b", r"\bhairless\b", r"\bbeardless\b"),
        (r"\blight stubble\b", r"\bfive o'clock shadow\b", r"\bfaint shadow of stubble\b",
         r"\bdesigner stubble\b"),
        (r"\bheavy stubble\b", r"\bgoatee\b", r"\bcircle beard\b", r"\b(heavy stubble|moustache)[\w\s-]*goatee\b"),
        (r"\bshort (full )?beard\b", r"\bshort one\b", r"\bclosely cropped\b", r"\bshort full beard\b"),
        (r"\bfull beard\b", r"\bbushy\b", r"\bthick beard\b", r"\bdense\b"),
        (r"\bvery long\b", r"\blong,? thick\b", r"\bas long as\b", r"\bhuge\b", r"\bwizard-style\b",
         r"\b(very )?long,? (thick,? )?full beard\b", r"\blong,? thick beard\b"),
    ),
    "Smiling": (
        # a closed mouth (lips closed / together, closed-mouth) names no degree: 0, 1 and 2 all keep it closed
        _REMOVAL + (r"\bneutral\b", r"\bserious\b", r"\bstern\b", r"\bsolemn\b", r"\bno smile\b",
                    r"\bstraight face\b", r"\bpoker face\b", r"\bblank expression\b", r"\bexpressionless\b"),
        (r"\bslight\b", r"\bfaint\b", r"\bhint of a smile\b", r"\bgentlest\b", r"\bsmall (closed-mouth )?smile\b"),
        (r"\bclear\b", r"\bclear,? closed-mouth smile\b"),
        (r"\btoothy\b", r"\b(shows|showing) the (upper )?teeth\b", r"\bupper teeth\b", r"\ba few teeth\b",
         r"\bsome teeth\b", r"\bteeth just\b"),
        (r"\bopen-mouthed\b", r"\bhuge grin\b", r"\bbig grin\b", r"\bbroad\b", r"\bmouth (wide )?open\b",
         r"\bwide open\b"),
        (r"\blaugh(s|ing|ter)?\b", r"\bcracking up\b", r"\b(very broad )?open-mouth laugh\b"),
    ),
    "Young": (
        (r"\bvery old\b", r"\beighty\b", r"\beighty-year-old\b", r"\bextreme old age\b", r"\bcentenarian\b",
         r"\bgreat-grandparent\b", r"\bancient\b", r"\b(snow-)?white hair\b", r"\bdeep wrinkles\b"),
        (r"\bold\b", r"\belderly\b", r"\bsixty\b", r"\bsenior\b", r"\bgrandparent\b", r"\bretiree\b",
         r"\bpensioner\b", r"\bgr[ea]y hair\b"),
        (r"\bmiddle-aged\b", r"\bforty-five\b", r"\bforties\b", r"\bfifty\b", r"\bgr[ea]ying\b",
         r"\blight wrinkles\b"),
        (r"\badult\b", r"\byoung adult\b", r"\btwenty-five\b", r"\bthirty\b", r"\btwenties\b",
         r"\btwenty-something\b", r"\bthirties\b", r"\bthirty years old\b", r"\btwenty-five years old\b"),
        (r"\byoung\b", r"\bteen\b", r"\bteenager\b", r"\bteenage\b", r"\bsixteen\b", r"\bhigh-schooler\b",
         r"\badolescent\b"),
        (r"\bvery young\b", r"\bchild\b", r"\byoung child\b", r"\bkid\b", r"\btoddler\b", r"\bfive years old\b",
         r"\bchildhood\b"),
    ),
}
_TERM_RE = {a: tuple(tuple(re.compile(t) for t in ts) for ts in degs) for a, degs in DEGREE_TERMS.items()}


def _term_text(text: str) -> str:
    text = text.lower().replace("{obj}", "him").replace("{poss}", "his").replace("@+ ", "").replace("@0 ", "")
    return " ".join(text.replace("\u2019", "'").split())


def named_degree_spans(attribute: str, text: str) -> list[tuple[int, int, int]]:
    """(start, end, degree) of the DEGREE_TERMS phrases in `text` that are not inside a longer one."""
    low = _term_text(text)
    spans = [(m.start(), m.end(), d) for d, regs in enumerate(_TERM_RE[attribute]) for r in regs
             for m in r.finditer(low)]
    return sorted({s for s in spans
                   if not any(o[0] <= s[0] and s[1] <= o[1] and (o[1] - o[0]) > (s[1] - s[0]) for o in spans)})


def named_degrees(attribute: str, text: str) -> set[int]:
    """The degrees of `attribute` that `text` names (DEGREE_TERMS, longest match first)."""
    return {d for _s, _e, d in named_degree_spans(attribute, text)}
