"""A second, rule-based reader of edit requests: the instruction language's lexicon as a grammar.

The learned encoder (``model.py``) generalises to new phrasings by similarity; this reader instead
knows the words: which attribute a word names, which way a word moves it (with negation and
"less"/"more" flipping it), what amount a phrase states (the language's own amount lexicon), which
degree a named state is (the renderer's ``DEGREE_DESCRIPTIONS``: "sunglasses" is Eyeglasses 5,
"a teenager" is Young 4, "clean-shaven" is Beard 0), and which phrases remove an attribute
(target 0). It abstains rather than guess: no attribute word or more than one attribute, a word
about something that is not one of the five attributes (eyebrows, hair colour, background...), no
cue of a way, cues that point both ways, a question that asks for no edit.

``parser.combine`` uses it beside the encoder (see there): it reads what the encoder refuses for
low confidence, and the two must not point different ways.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from datasets.instructions.lexicon import amount_lexicon
from methods.nets.text_vocab import tokenize

ATTRIBUTES = ("Bangs", "Eyeglasses", "Beard", "Smiling", "Young")
BANGS, GLASSES, BEARD, SMILE, YOUNG = range(5)


@dataclass(frozen=True)
class Reading:
    """What the grammar read: an edit (attribute, mode, direction/delta or target) or an abstention."""

    attribute: int | None
    mode: str | None = None
    direction: int | None = None
    delta: int | None = None
    target: int | None = None
    why: str = ""
    elsewhere: str | None = None  # abstained because the request is about this, not a face attribute

    @property
    def read(self) -> bool:
        return self.mode is not None

    @property
    def way(self) -> int | None:
        if self.mode is None:
            return None
        if self.mode != "target":
            return self.direction
        return -1 if self.target == 0 else 1 if self.target == 5 else None


def _abstain(why: str, attribute: int | None = None) -> Reading:
    return Reading(attribute, why=why)


# ----------------------------------------------------------------------------- lexicon
# Words that name an attribute (after normalisation to single spaces, lowercase).
ATTRIBUTE_WORDS: dict[int, tuple[str, ...]] = {
    BANGS: ("bangs", "bang", "fringe", "fringes", "forehead", "hairline"),
    GLASSES: ("glasses", "eyeglasses", "spectacles", "specs", "sunglasses", "sunnies", "shades", "eyewear",
              "frames", "rims", "lenses", "glass", "spex", "goggles"),
    BEARD: ("beard", "beards", "bearded", "beardless", "stubble", "stubbly", "scruff", "scruffy", "scruffier",
            "whiskers", "moustache", "mustache", "moustaches", "goatee", "facial hair", "shave", "shaved", "hairy",
            "shaven", "unshaven", "clean shaven", "clean-shaven", "five o'clock shadow", "sideburns"),
    SMILE: ("smile", "smiles", "smiling", "smiley", "grin", "grins", "grinning", "laugh", "laughs", "laughing",
            "laughter", "beam", "beaming", "teeth", "toothy", "happy", "happier", "happiest", "cheerful",
            "cheer", "joyful", "jolly", "jollier", "glad", "pleased", "delighted", "amused", "upbeat", "sad",
            "sadder", "serious", "glum", "glummer", "grumpy", "gloomy", "unhappy", "solemn", "stern", "frown",
            "frowning", "sulk", "sulky", "miserable", "moody", "expression", "expressionless", "poker face",
            "straight face", "neutral face", "smirk", "chuckle", "giggle", "giggling", "mouth"),
    YOUNG: ("young", "younger", "youngest", "youthful", "youth", "old", "older", "oldest", "elderly", "age",
            "aged", "ageing", "aging", "de-age", "deage", "de age", "rejuvenate", "child", "children", "kid",
            "kiddo", "toddler", "baby", "teen", "teens", "teenager", "teenage", "adolescent", "grandpa",
            "grandma", "grandfather", "grandmother", "granny", "grandad", "granddad", "senior", "pensioner",
            "retiree", "wrinkles", "wrinkled", "wrinkly", "wrinklier", "mature", "boyish", "girlish",
            "middle-aged", "middle aged", "years old", "year old", "twenties", "thirties", "forties",
            "fifties", "sixties", "seventies", "eighties", "eighty", "seventy", "sixty", "fifty", "forty",
            "thirty", "twenty", "grown-up", "grownup", "years", "youthfulness", "adult", "adults", "grey hair", "gray hair", "greying", "graying", "white hair", "centenarian"),
}
# Words that make a request be about something else (abstain unless an attribute word is the
# object: "hair" alone is not an attribute, "the hair over her forehead" is).
OTHER_DOMAIN = ("eyebrow", "eyebrows", "brows", "brow", "eyelashes", "lashes", "lipstick", "makeup", "make-up",
                "mascara", "eyeshadow", "blush", "earrings", "earring", "necklace", "hat", "cap", "helmet",
                "scarf", "shirt", "jacket", "dress", "tie", "collar", "background", "backdrop", "sky", "lighting",
                "brightness", "contrast", "saturation", "crop", "rotate", "blonde", "blond", "brunette", "dye",
                "ginger", "redhead", "nose", "ears", "chin", "jaw", "cheeks", "skin tone", "tan", "tattoo",
                "piercing", "eye colour", "eye color", "eyes bluer", "blue eyes", "green eyes", "brown eyes",
                "freckles", "mole", "lips", "nails", "photo", "picture", "image", "filter", "mask")
# Other-domain words that may still sit in an attribute request ("the photo", "her mouth").
_SOFT_OTHER = {"photo", "picture", "image", "lips", "chin"}

UP, DOWN = 1, -1
# Per attribute: word -> the way it moves the degree (Young is a youth scale: younger = +1).
WAY_WORDS: dict[int, dict[str, int]] = {
    BANGS: {"longer": UP, "long": UP, "thicker": UP, "fuller": UP, "heavier": UP, "denser": UP, "grow": UP,
            "lengthen": UP, "extend": UP, "cover": UP, "covering": UP, "covers": UP, "hide": UP, "hides": UP,
            "hiding": UP, "shorter": DOWN, "short": DOWN, "shorten": DOWN, "trim": DOWN, "trimmed": DOWN,
            "cut": DOWN, "snip": DOWN, "chop": DOWN, "crop": DOWN, "thinner": DOWN, "lighter": DOWN, "lift": DOWN, "show": DOWN,
            "showing": DOWN, "expose": DOWN, "exposed": DOWN, "uncover": DOWN, "reveal": DOWN, "clear": DOWN,
            "wispier": DOWN, "sweep": DOWN, "pull": DOWN, "push": DOWN},
    GLASSES: {"thicker": UP, "heavier": UP, "bolder": UP, "chunkier": UP, "bigger": UP, "darker": UP,
              "stronger": UP, "wear": UP, "wearing": UP, "put": UP, "thinner": DOWN, "lighter": DOWN,
              "subtler": DOWN, "smaller": DOWN, "finer": DOWN, "delicate": DOWN, "clearer": DOWN,
              "plainer": DOWN, "simpler": DOWN, "bulky": UP, "bulkier": UP, "dark": UP, "heavy": UP,
              "thick": UP, "thin": DOWN, "discreet": DOWN, "minimal": DOWN, "light": DOWN},
    BEARD: {"longer": UP, "thicker": UP, "fuller": UP, "bushier": UP, "heavier": UP, "denser": UP,
            "bigger": UP, "grow": UP, "growing": UP, "scruffier": UP, "hairier": UP, "hairy": UP, "unshaven": UP,
            "bearded": UP, "shorter": DOWN, "trim": DOWN, "trimmed": DOWN, "shave": DOWN, "shaved": DOWN,
            "thinner": DOWN, "lighter": DOWN, "smaller": DOWN, "neater": DOWN, "tidier": DOWN, "tidy": DOWN,
            "cut": DOWN, "sparser": DOWN, "beardless": DOWN, "smoother": DOWN, "neat": DOWN,
            "clean-shaven": DOWN, "shaven": DOWN},
    SMILE: {"smile": UP, "smiling": UP, "smiley": UP, "grin": UP, "grinning": UP, "beam": UP, "beaming": UP,
            "laugh": UP, "laughing": UP, "happy": UP, "happier": UP, "cheerful": UP, "cheer": UP, "joyful": UP,
            "jolly": UP, "jollier": UP, "glad": UP, "pleased": UP, "delighted": UP, "amused": UP, "upbeat": UP,
            "bigger": UP, "broader": UP, "wider": UP, "widen": UP, "brighter": UP, "brighten": UP, "toothy": UP,
            "toothier": UP, "warmer": UP, "friendlier": UP, "chuckle": UP, "giggle": UP, "giggling": UP,
            "sad": DOWN, "sadder": DOWN, "serious": DOWN, "glum": DOWN, "glummer": DOWN, "grumpy": DOWN,
            "gloomy": DOWN, "unhappy": DOWN, "solemn": DOWN, "stern": DOWN, "frown": DOWN, "frowning": DOWN,
            "sulk": DOWN, "sulky": DOWN, "miserable": DOWN, "moody": DOWN, "calmer": DOWN, "neutral": DOWN,
            "smaller": DOWN, "subtler": DOWN, "narrower": DOWN, "tighter": DOWN, "restrained": DOWN,
            "expressionless": DOWN, "relax": DOWN, "relaxed": DOWN, "soften": DOWN, "softer": DOWN,
            "broad": UP, "wide": UP, "big": UP, "huge": UP, "angry": DOWN, "upset": DOWN, "depressed": DOWN,
            "bored": DOWN, "cross": DOWN, "annoyed": DOWN, "joyless": DOWN, "sombre": DOWN, "somber": DOWN},
    YOUNG: {"younger": UP, "young": UP, "youthful": UP, "youth": UP, "de-age": UP, "deage": UP, "de age": UP,
            "rejuvenate": UP, "youthfulness": UP, "boyish": UP, "girlish": UP, "fresher": UP, "smoother": UP, "older": DOWN,
            "old": DOWN, "elderly": DOWN, "age": DOWN, "aged": DOWN, "ageing": DOWN, "aging": DOWN,
            "mature": DOWN, "wrinkles": DOWN, "wrinkled": DOWN, "wrinkly": DOWN, "wrinklier": DOWN,
            "greying": DOWN, "graying": DOWN, "grey hair": DOWN, "gray hair": DOWN, "white hair": DOWN,
            "senior": DOWN, "youngster": UP, "grown-up": DOWN, "grownup": DOWN, "adult": DOWN, "ancient": DOWN, "older-looking": DOWN},
}
# Words that only say "more of it" when nothing else points a way ("tone down the grin": the grin is
# the object, "down" the way; "make him grin": the verb is the way).
WEAK: dict[int, frozenset] = {
    BANGS: frozenset(), GLASSES: frozenset({"wear", "wearing", "put"}), BEARD: frozenset({"grow", "growing"}),
    SMILE: frozenset({"smile", "smiling", "smiley", "grin", "grinning", "beam", "beaming", "laugh", "laughing",
                      "chuckle", "giggle", "giggling"}),
    YOUNG: frozenset({"age", "aged"}),
}
# generic verbs that only say "put it there" ("give him shorter bangs": the way is "shorter")
_WEAK_GENERIC = frozenset({"give", "add", "put", "wear", "wearing", "grow"})
_PARTICLE_VERBS = ("turn", "dial", "tone", "crank", "bump", "ramp", "scale", "ratchet", "notch", "knock", "step",
                   "amp", "pump", "bring", "take", "cheer", "play", "cut", "wind", "move", "go", "push", "put", "age",
                   "thicken", "chop", "trim")
# Generic way words, for every attribute.
GENERIC_WAY = {"lengthen": UP, "thicken": UP, "enlarge": UP, "grow": UP, "widen": UP, "shorten": DOWN,
               "shrink": DOWN, "thin": DOWN, "narrow": DOWN, "subtle": DOWN, "subtler": DOWN, "tone": DOWN,
               "more": UP, "bigger": UP, "larger": UP, "increase": UP, "add": UP, "give": UP, "raise": UP,
               "boost": UP, "intensify": UP, "amplify": UP, "up": UP, "stronger": UP, "extra": UP,
               "less": DOWN, "fewer": DOWN, "smaller": DOWN, "reduce": DOWN, "decrease": DOWN, "lower": DOWN,
               "down": DOWN, "weaker": DOWN, "diminish": DOWN, "back": DOWN}

# Named states: phrase -> degree, per attribute (the renderer's DEGREE_DESCRIPTIONS in words).
NAMED: dict[int, tuple[tuple[str, int], ...]] = {
    BANGS: (("whole forehead", 0), ("entire forehead", 0), ("full forehead", 0), ("bare forehead", 0),
            ("forehead fully", 0), ("forehead completely", 0), ("wisps", 1), ("wispy", 1), ("wisp", 1),
            ("third of the forehead", 2), ("third of her forehead", 2), ("third of his forehead", 2),
            ("half the forehead", 3), ("half of the forehead", 3), ("half her forehead", 3),
            ("half his forehead", 3), ("half of her forehead", 3), ("half of his forehead", 3), ("halfway", 3),
            ("just above the eyebrows", 4), ("just above her eyebrows", 4), ("just above his eyebrows", 4),
            ("down to the eyebrows", 4), ("to the eyebrows", 4), ("to her eyebrows", 4), ("to his eyebrows", 4),
            ("cover the eyebrows", 5), ("covers the eyebrows", 5), ("covering the eyebrows", 5),
            ("cover her eyebrows", 5), ("cover his eyebrows", 5), ("covering her eyebrows", 5),
            ("covering his eyebrows", 5), ("over the eyebrows", 5), ("over her eyebrows", 5),
            ("over his eyebrows", 5), ("past the eyebrows", 5), ("past her eyebrows", 5), ("past his eyebrows", 5),
            ("hide the eyebrows", 5), ("hide her eyebrows", 5), ("hide his eyebrows", 5), ("into the eyes", 5),
            ("into her eyes", 5), ("into his eyes", 5)),
    GLASSES: (("sunglasses", 5), ("sunnies", 5), ("shades", 5), ("dark glasses", 5), ("dark lenses", 5),
              ("tinted", 4), ("tint", 4), ("thick frames", 3), ("thick glasses", 3), ("thick-rimmed", 3),
              ("thick rimmed", 3), ("chunky frames", 3), ("chunky glasses", 3), ("plastic", 2),
              ("wire", 1), ("wire-rimmed", 1), ("wire rimmed", 1), ("rimless", 1), ("thin rims", 1),
              ("thin frames", 1), ("thin glasses", 1), ("metal frames", 1)),
    BEARD: (("clean shaven", 0), ("clean-shaven", 0), ("clean shave", 0), ("shave it off", 0),
            ("shave off", 0), ("shaved off", 0), ("heavy stubble", 2), ("light stubble", 1), ("stubble", 1),
            ("five o'clock shadow", 1), ("goatee", 2), ("moustache", 2), ("mustache", 2),
            ("short full beard", 3), ("short beard", 3), ("very long", 5), ("long beard", 5),
            ("huge beard", 5), ("massive beard", 5), ("wizard", 5), ("santa", 5), ("lumberjack", 5),
            ("full beard", 4)),
    SMILE: (("laugh out loud", 5), ("laughing", 5), ("laugh", 5), ("burst out laughing", 5),
            ("open-mouthed", 4), ("open mouthed", 4), ("open mouth", 4), ("mouth open", 4),
            ("showing teeth", 3), ("show teeth", 3), ("show his teeth", 3), ("show her teeth", 3),
            ("show their teeth", 3), ("upper teeth", 3), ("toothy", 3), ("teeth", 3),
            ("slight smile", 1), ("faint smile", 1), ("hint of a smile", 1), ("small smile", 1),
            ("closed-mouth smile", 2), ("closed mouth smile", 2), ("neutral", 0), ("straight face", 0),
            ("poker face", 0), ("expressionless", 0), ("stop smiling", 0), ("no smile", 0)),
    YOUNG: (("child", 5), ("children", 5), ("kid", 5), ("kiddo", 5), ("toddler", 5), ("baby", 5),
            ("little boy", 5), ("little girl", 5), ("teenager", 4), ("teen", 4), ("teens", 4), ("teenage", 4),
            ("adolescent", 4), ("sixteen", 4), ("seventeen", 4), ("fifteen", 4), ("high schooler", 4),
            ("twenties", 3), ("thirties", 3), ("twenty", 3), ("thirty", 3), ("young adult", 3),
            ("middle-aged", 2), ("middle aged", 2), ("forties", 2), ("forty", 2), ("fifty", 2),
            ("forty-five", 2), ("forty five", 2), ("sixty", 1), ("sixties", 1), ("seventy", 1),
            ("eighty", 0), ("eighties", 0), ("ninety", 0), ("very old", 0), ("ancient", 0), ("centenarian", 0),
            ("grandpa", 1), ("grandma", 1), ("grandfather", 1), ("grandmother", 1), ("granny", 1),
            ("pensioner", 1), ("retiree", 1)),
}
# Extra amount phrases beside the language's lexicon (delta).
EXTRA_AMOUNTS = {"a tad": 1, "a smidge": 1, "a touch": 1, "a little bit": 1, "a lil more": 1, "a lil bit": 1,
                 "a lil less": 1, "tad": 1,
                 "a wee bit": 1, "just a bit": 1, "just a little": 1, "ever so slightly": 1,
                 "a teeny bit": 1, "one level": 1, "one step": 1, "one notch": 1, "a step": 1, "a level": 1,
                 "a couple of steps": 2, "a couple of levels": 2, "a couple steps": 2, "a couple levels": 2,
                 "a couple notches": 2, "fairly": 2, "kind of": 2, "rather": 2, "a good bit": 3,
                 "quite a lot": 3, "significantly": 3, "quite": 3, "heaps": 4, "loads": 4, "tons": 4,
                 "a great deal": 4, "way more": 4, "much more": 4, "a lot more": 4, "lots": 4, "massively": 5,
                 "radically": 5, "completely": 5, "totally": 5, "to the max": 5, "as much as possible": 5,
                 "extremely": 5, "all the way up": 5, "all the way down": 5, "max": 5, "maximum": 5}
_REQUEST_MARKERS = {"make", "look", "looks", "looking", "let", "get", "give", "add", "put", "turn", "want", "like",
                    "should", "would", "could", "can", "please", "pls", "plz", "need", "needs", "go", "try", "be",
                    "remove", "take", "i'd", "id", "wanna", "bring", "grow", "trim", "shave", "shorten",
                    "lengthen", "cheer", "age", "appear", "seem", "seems", "show", "cover", "wear", "keep",
                    "change", "set", "tweak", "adjust", "dial", "tone", "crank", "bump", "too", "way", "more",
                    "less", "lose", "ditch", "drop", "cut", "thin", "thicken", "widen", "narrow", "reduce",
                    "increase", "raise", "lower", "de-age", "deage", "rejuvenate", "frown", "smile", "grin",
                    "laugh", "beam", "smiling", "grinning", "laughing", "stop", "no"}
_QUESTION_START = ("is", "are", "does", "do", "did", "why", "what", "who", "how", "when", "where", "which",
                   "was", "were", "has", "have")
_REQUEST_IN_QUESTION = ("can you", "could you", "would you", "will you", "can we", "could we", "can i",
                        "could i", "how about", "what about", "what if", "would it be possible", "mind",
                        "how would", "what would")


def _norm(text: str) -> str:
    toks = tokenize(text)
    s = " ".join(toks)
    s = re.sub(r" - (?!(?:one|two|three|four|five) )", "-", s.replace(" ' ", "'") + " ").rstrip()  # not "beard - 2"
    s = s.replace(" 's", "'s")
    return f" {s} "


def _has(s: str, phrase: str) -> bool:
    return f" {phrase} " in s


def _amounts() -> dict[str, int]:
    table = dict(amount_lexicon())
    for k, v in EXTRA_AMOUNTS.items():
        table.setdefault(k, v)
    return table


_AMOUNTS = _amounts()




def _bangs_cover_phrases() -> tuple[tuple[str, int], ...]:
    out = []
    for verb in ("cover", "covers", "covering", "hide", "hides", "hiding", "over", "past", "below", "under"):
        for det in ("the", "her", "his", "their", "my"):
            for noun in ("eyebrows", "brows", "eyes"):
                out.append((f"{verb} {det} {noun}", 5))
    for det in ("the", "her", "his", "their", "my"):
        out += [(f"just above {det} eyebrows", 4), (f"to {det} eyebrows", 4), (f"down to {det} eyebrows", 4),
                (f"clear {det} forehead", 0), (f"show {det} whole forehead", 0)]
    return tuple(out)


NAMED[BANGS] = NAMED[BANGS] + _bangs_cover_phrases()
NAMED[SMILE] = NAMED[SMILE] + (("clear smile", 2), ("closed smile", 2), ("faint little smile", 1),
                               ("faint", 1), ("slight closed-mouth smile", 1), ("slightest smile", 1),
                               ("big open-mouthed smile", 4), ("broad open-mouthed smile", 4), ("crack up", 5),
                               ("belly laugh", 5), ("cracking up", 5), ("in stitches", 5))
NAMED[BANGS] = NAMED[BANGS] + (("small part of the forehead", 2), ("small part of her forehead", 2),
                               ("small part of his forehead", 2))
NAMED[SMILE] = NAMED[SMILE] + (("wide open", 4), ("serious", 0), ("serious face", 0), ("deadpan", 0))
NAMED[YOUNG] = NAMED[YOUNG] + (("white hair", 0), ("deep wrinkles", 0), ("grey hair", 1), ("gray hair", 1),
                               ("greying hair", 2), ("graying hair", 2), ("light wrinkles", 2))
NAMED[GLASSES] = NAMED[GLASSES] + (("wire-framed", 1), ("wire framed", 1), ("metal-framed", 1), ("tinted lenses", 4), ("tinted glasses", 4), ("coloured lenses", 4),
                                   ("colored lenses", 4))
# 2026-11-30, from the fresh sets' errors (the degree descriptions in other words)
NAMED[BANGS] = NAMED[BANGS] + (("middle of the forehead", 3), ("middle of her forehead", 3),
                               ("middle of his forehead", 3))
NAMED[GLASSES] = NAMED[GLASSES] + (("thin-framed", 1), ("thin framed", 1), ("thin-rimmed", 1), ("thin rimmed", 1))
NAMED[BEARD] = NAMED[BEARD] + (("really long", 5), ("to his chest", 5), ("to the chest", 5), ("chest-length", 5),
                               ("chest length", 5))
NAMED[SMILE] = NAMED[SMILE] + (("closed-lip", 2), ("closed lip", 2), ("closed-lipped", 2), ("closed lipped", 2),
                               ("big smile", 4), ("wide smile", 4), ("broad smile", 4), ("big wide smile", 4),
                               ("big broad smile", 4))
NAMED[YOUNG] = NAMED[YOUNG] + (("elderly", 0), ("adult", 3), ("an adult", 3), ("old", 1))
# named states that may have one extra word inside ("thick black frames")
NAMED_RE: dict[int, tuple[tuple[re.Pattern, int], ...]] = {
    BANGS: ((re.compile(r" in (?:\w+'s |\w+ ){0,3}eyes "), 5),
            (re.compile(r" (?:just |right |directly )?above (?:\w+'s |\w+ ){0,3}(?:eye)?brows "), 4),
            (re.compile(r" middle of (?:\w+'s |\w+ ){0,2}forehead "), 3),
            (re.compile(r" third of (?:\w+'s |\w+ ){0,3}forehead "), 2),
            (re.compile(r" half (?:of )?(?:\w+'s |\w+ ){0,3}forehead "), 3)),
    YOUNG: ((re.compile(r" (?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve) years? old "), 5),),
    GLASSES: ((re.compile(r" (thick|chunky|heavy)(?: \w+)? (frames|glasses|rims|specs) "), 3),
              (re.compile(r" medium(?: \w+)? (frames|glasses|rims|specs) "), 2),
              (re.compile(r" (thin|wire|metal|delicate)(?: \w+)? (frames|glasses|rims|specs) "), 1),
              (re.compile(r" plastic(?: \w+)? (frames|glasses|specs) "), 2)),
}
_KNOWN = set().union(*ATTRIBUTE_WORDS.values(), *(t.keys() for t in WAY_WORDS.values()), GENERIC_WAY, OTHER_DOMAIN)
_TYPO_TARGETS = ("glasses", "eyeglasses", "spectacles", "sunglasses", "moustache", "mustache", "stubble",
                 "whiskers", "goatee", "fringe", "smiling", "smile", "teenager", "younger", "wrinkles",
                 "beard", "bangs", "older", "elderly", "laughing", "grinning", "shaven", "shaved")
# words ending in -er that are not comparatives
_NOT_COMPARATIVE = {"cover", "over", "under", "never", "ever", "rather", "other", "either", "whether", "after",
                    "later", "water", "paper", "power", "order", "offer", "enter", "answer", "remember",
                    "consider", "corner", "center", "centre", "mother", "father", "brother", "sister", "daughter",
                    "number", "super", "teenager", "grandfather", "grandmother", "upper", "youngster", "her",
                    "together", "whatever", "however", "wonder", "summer", "winter", "finger", "shoulder"}


def _fix_typos(toks: list[str]) -> list[str]:
    """Unknown words of 5+ letters one edit away from an attribute word ("glases", "smilling")."""
    import difflib

    from methods.nets.text_vocab import is_word

    out = []
    for t in toks:
        if is_word(t) and len(t) >= 5 and t not in _KNOWN:
            close = difflib.get_close_matches(t, _TYPO_TARGETS, n=1, cutoff=0.85)
            if close and abs(len(close[0]) - len(t)) <= 1:
                t = close[0]
        out.append(t)
    return out


def _lookup(t: str, table: dict[str, int]) -> int | None:
    """A word's way, also through its comparative ("grumpier" -> grumpy, "sadder" -> sad)."""
    if t in table:
        return table[t]
    for base in ((t[:-3] + "y") if t.endswith("ier") else None, t[:-2] if t.endswith("er") else None,
                 t[:-3] if t.endswith("er") and len(t) > 4 and t[-3] == t[-4] else None,
                 t[:-1] if t.endswith("er") else None):
        if base and base in table:
            return table[base]
    return None


def _is_comparative(t: str, a: int) -> bool:
    return t in ("more", "less", "fewer") or (t.endswith("er") and t not in _NOT_COMPARATIVE and t not in WEAK[a]
                                               and _lookup(t, {**GENERIC_WAY, **WAY_WORDS[a]}) is not None)


def read(text: str) -> Reading:
    """The grammar's reading of one request (see the module doc)."""
    if not isinstance(text, str) or not text.strip():
        return _abstain("no text")
    toks = _fix_typos(_norm(text).split())
    s = f" {' '.join(toks)} "
    attrs = sorted({a for a, words in ATTRIBUTE_WORDS.items() for w in words if _has(s, w)}
                   | {a for a, words in ATTRIBUTE_WORDS.items() for t in toks
                      if t.endswith("er") and t not in _NOT_COMPARATIVE and _lookup(t, dict.fromkeys(
                          (w for w in words if " " not in w), 0)) is not None})
    if len(attrs) > 1 and SMILE in attrs and not any(_has(s, w) for w in ATTRIBUTE_WORDS[SMILE] if w != "mouth"):
        attrs.remove(SMILE)
    if BEARD in attrs and YOUNG in attrs and _years_off(toks) and not any(
            _has(s, w) for w in ATTRIBUTE_WORDS[BEARD] if w not in _SHAVE_WORDS):
        attrs.remove(BEARD)  # "shave ten years off him": an age idiom, not a shave
    age = _age_number(text)
    if not attrs and age is not None:
        attrs = [YOUNG]  # "make her look about 45"
    if not attrs:
        other = [w for w in OTHER_DOMAIN if _has(s, w) and w not in _SOFT_OTHER]
        if other:
            return Reading(None, why=f"about {other[0]!r}, which is not one of the five attributes",
                           elsewhere=other[0])
        return _abstain("no attribute word")
    if len(attrs) > 1:
        return _abstain("words of several attributes: " + ", ".join(ATTRIBUTES[a] for a in attrs))
    a = attrs[0]
    other = [w for w in OTHER_DOMAIN if _has(s, w) and w not in _SOFT_OTHER]
    if a == BANGS:  # bangs are described by where they end: eyebrows/eyes are positions, not edits
        other = [w for w in other if w not in ("eyebrows", "eyebrow", "brows", "brow")]
    if other:
        return _abstain(f"also names {other[0]!r}, which is not one of the five attributes", a)
    if toks[0] in _QUESTION_START and not any(_has(s, q) for q in _REQUEST_IN_QUESTION):
        return _abstain("a question that asks for no edit", a)
    signed = _signed_steps(text, toks)
    if signed is not None:  # "bangs +3", "beard -2 levels": an explicit signed step count
        return Reading(a, "definite", direction=signed[0], delta=signed[1])

    comparative = any(_is_comparative(t, a) for t in toks) and not any(_has(s, p) for p in ("no more",
                                                                                          "nothing more"))
    info = _clauses(toks)
    target, where = _named_target(s, a, info)
    if a == YOUNG and age is not None and (target is None or "<num>" in toks):
        target, where = age, s.find(" <num> ")
    removal = _removal(toks, s, a)
    if removal:
        # "trade the glasses for sunglasses", "shave it down to stubble": the named state is the goal
        if target not in (None, 0) and any(f" {p} " in s[:where + 1] + " " for p in ("to", "into", "for", "with")):
            return Reading(a, "target", target=target)
        return Reading(a, "target", target=0)
    ways = _way_cues(toks, a, info)
    amount, amount_phrase = _amount(s)
    if amount_phrase in _INTENSIFIERS and target is not None:
        amount = None  # "covering the eyebrows completely": emphasis of the state, not a step count
    if target is not None and not comparative and not (amount is not None and ways):
        return Reading(a, "target", target=target)
    if not ways:
        return _abstain("no word says which way", a)
    if len(set(ways)) > 1:
        return _abstain("words point both ways", a)
    if amount is not None:
        return Reading(a, "definite", direction=ways[0], delta=amount)
    if not any(t in _REQUEST_MARKERS or _is_comparative(t, a) or t in WAY_WORDS[a] and t.endswith(("en", "e"))
               for t in toks) and not any(t in GENERIC_WAY for t in toks):
        return _abstain("no word asks for an edit (a bare description)", a)
    return Reading(a, "indefinite", direction=ways[0], delta=1)


def _named_target(s: str, a: int, info: "_ClauseInfo | None" = None) -> tuple[int | None, int]:
    """(degree, position) of the named state in `s`: the longest matching phrase; None if none or
    if phrases of different degrees are equally long. With `info` (``_clauses`` of the tokens `s` joins), a state
    that is negated ("not ancient", "he shouldn't look so old") or that only describes the photo
    beside a request ("she's laughing too much, tone it down") is not a goal."""
    hits = [(len(p), deg, s.find(f" {p} ")) for p, deg in NAMED[a] if _has(s, p)]
    for rx, deg in NAMED_RE.get(a, ()):
        m = rx.search(s)
        if m:
            hits.append((m.end() - m.start() - 2, deg, m.start()))
    if info is not None and hits:
        hits = [h for h in hits if not info.set_aside(s[:h[2] + 1].count(" ") - 1)]
    if a == GLASSES and any(d == 4 for _, d, _ in hits) and not any(d == 5 for _, d, _ in hits):
        hits = [h for h in hits if h[1] == 4]  # tinted lenses come in thick frames
    if not hits:
        return None, -1
    hits.sort(reverse=True)
    if len(hits) > 1 and hits[1][0] == hits[0][0] and hits[1][1] != hits[0][1]:
        return None, -1
    _, deg, pos = hits[0]
    if a == YOUNG and deg in (2, 3) and not any(_has(s, w) for w in ("look", "make", "turn", "like", "into",
                                                                     "as", "appear", "seem", "be", "in")):
        return None, -1
    return deg, pos


_REMOVE_VERBS = ("remove", "removed", "delete", "erase", "ditch", "lose", "drop", "scrap", "eliminate")
_REMOVE_PHRASES = ("take off", "take away", "get rid of", "rid of", "no more", "take them off", "take it off",
                   "take those off", "take it away", "do away with", "without", "no longer")


def _removal(toks: list[str], s: str, a: int) -> bool:
    """Does the request take the attribute away entirely (target 0)?"""
    if a == YOUNG:
        return False
    if a == SMILE:
        if any(_has(s, p) for p in ("stop smiling", "stop grinning", "not smiling", "wipe the smile",
                                    "wipe that smile", "wipe the grin", "wipe that grin", "smile off",
                                    "grin off", "no smile", "no smiling", "no grin", "without a smile")):
            return True
    if a == BEARD and any(_has(s, f"{c} {p}") for c in ("more", "less") for p in ("clean shaven", "clean-shaven")):
        return False  # "less clean-shaven": a way, not the state
    if a == BANGS and ("line" in toks or "hairline" in toks):
        return False  # "drop the fringe line": lower it
    if a == BEARD and any(_has(s, p) for p in ("clean shaven", "clean-shaven", "shave it off", "shave off",
                                               "shave it all", "shave everything", "shaved off", "beardless",
                                               "fully shaved", "completely shaved", "shave his face",
                                               "shave the face", "shave him", "shave them", "shave her",
                                               "clean shave", "smooth-shaven", "smooth shaven")):
        return True
    if a == BANGS and any(_has(s, p) for p in ("whole forehead", "entire forehead", "full forehead",
                                               "bare forehead", "forehead fully", "forehead completely")):
        return True
    words = ATTRIBUTE_WORDS[a]
    for i, t in enumerate(toks):
        nxt = toks[i + 1:i + 5]
        if t in _REMOVE_VERBS and (any(w in words for w in nxt) or (nxt[:1] and nxt[0] in ("the", "those", "them",
                                                                                            "it", "that", "his",
                                                                                            "her", "their"))):
            return True
        if t == "off" and any(v in toks[max(0, i - 5):i] for v in ("take", "shave", "get", "cut", "knock")):
            return True
        if t == "no" and nxt[:1] != ["more"] and nxt[:1] != ["longer"] and any(w in words for w in nxt[:2]):
            return True
        if t in ("want", "need", "like") and any(n in toks[max(0, i - 3):i] for n in ("dont", "don't", "not",
                                                                                   "don", "never")) and \
                any(w in words for w in nxt):
            return True
    for p in _REMOVE_PHRASES:
        k = s.find(f" {p} ")
        if k >= 0:
            after = s[k + len(p) + 2:].split()[:4]
            if p == "no more" and any(_is_comparative(w, a) for w in after):
                continue
            if p == "no longer":
                continue
            if any(w in words for w in after) or after[:1] and after[0] in ("the", "those", "them", "it", "that",
                                                                             "his", "her", "their"):
                return True
            if p in ("take off", "take them off", "take it off", "take those off"):
                return True
    return False


def _way_cues(toks: list[str], a: int, info: "_ClauseInfo") -> list[int]:
    """Ways the words point. "more"/"less" before a way word sets that word's way ("less serious":
    +1, "more mature": -1); a negator or "too" just before a word flips it ("too long": -1); the
    attribute's own verbs/nouns ("smile", "grin") count only when nothing else points a way. A
    negation of the clause flips its words ("don't make him look so serious": +1); a clause that only
    describes the photo ("she looks grumpy, make her smile") is set aside when another clause points a
    way."""
    table = {**GENERIC_WAY, **WAY_WORDS[a]}
    strong, weak = [], []
    described = []  # (way, weak?) of words in clauses that only describe the photo
    skip = set()
    forehead = a == BANGS and "forehead" in toks and not any(v in toks for v in ("cover", "covers", "covering",
                                                                                 "hide", "hides", "hiding"))
    age_noun = a == YOUNG and ("age" in toks or "years" in toks)
    line = a == BANGS and ("line" in toks or "hairline" in toks)
    if a == YOUNG and (any(_has(f" {' '.join(toks)} ", p) for p in ("years off", "years younger"))
                       or _years_off(toks)):
        strong.append(UP)  # "knock two levels off his age": taking age away makes younger
    if a == SMILE and "frown" in toks and _has(f" {' '.join(toks)} ", "upside down"):
        return [UP]  # "turn that frown upside down": the idiom for a smile
    if a == YOUNG and any(_has(f" {' '.join(toks)} ", p) for p in ("years on", "years older")):
        strong.append(DOWN)
    for i, t in enumerate(toks):
        if i in skip:
            continue
        if t in ("more", "less", "fewer") and i + 1 < len(toks):
            nxt = _lookup(toks[i + 1], table) if toks[i + 1] not in ("more", "less", "up", "down", "back",
                                                                      "add", "give") else None
            if nxt is not None and (toks[i + 1] not in WEAK[a] or a == YOUNG):
                strong.append(nxt if t == "more" else -nxt)
                skip.add(i + 1)
                continue
        w = _lookup(t, table)
        if w is None:
            continue
        if t in ("up", "down", "back") and not any(v in toks[max(0, i - 6):i] for v in _PARTICLE_VERBS) \
                and not (t != "back" and _steps_around(toks, i, a)):
            continue
        if t == "tone" and "up" in toks[i + 1:i + 5]:
            continue
        if t == "give" and "up" in toks[i + 1:i + 2]:
            continue
        if forehead and t in GENERIC_WAY and t not in WAY_WORDS[a]:
            w = -w  # "show more forehead": shorter bangs
        if line and t in ("raise", "lift", "higher", "up"):
            w = DOWN  # "raise the fringe line": shorter bangs
        elif line and t in ("lower", "drop", "down"):
            w = UP
        if age_noun and t in GENERIC_WAY and t not in WAY_WORDS[a]:
            w = -w  # "increase her age", "age him down": the age is the opposite of the youth scale
        before = toks[max(0, i - 3):i]
        if any(n in before for n in ("not", "dont", "don't", "never", "isn't", "shouldn't", "aren't")) or \
                i in info.negated or \
                " ".join(before).endswith("no longer") or (before[-1:] == ["too"]) or \
                (before[-2:-1] == ["too"] and before[-1] in ("much", "very")):
            w = -w
        after = toks[i + 1:i + 4]
        if after[:1] == ["too"] or after[:2] == ["way", "too"] or after[:2] == ["far", "too"]:
            w = -w  # "it's hiding too much", "he's smiling way too much"
        is_weak = t in WEAK[a] or t in _WEAK_GENERIC
        if info.clause[i] in info.described:
            described.append((w, is_weak))
            continue
        (weak if is_weak else strong).append(w)
    if not strong and not weak:  # nothing but the description: it says which way ("she's smiling too much")
        strong = [w for w, wk in described if not wk]
        weak = [w for w, wk in described if wk]
    if "too" in toks and not strong:
        # "the grin is too big" handled above; "she smiles too much" -> less
        k = toks.index("too")
        if toks[k + 1:k + 2] == ["much"]:
            return [DOWN]
    return strong or weak


_SHAVE_WORDS = ("shave", "shaved", "shaven")
_OFF_VERBS = ("take", "takes", "taking", "took", "knock", "knocks", "shave", "shaves", "chop", "cut", "peel", "strip",
              "wipe", "shed", "trim", "lop", "slice")


def _years_off(toks: list[str]) -> bool:
    """An amount of age taken away: "<verb> ... off ... age/years" ("knock two levels off his age",
    "shave a decade off her"), where the verb removes and the thing removed is age."""
    if "off" not in toks or not any(w in toks for w in ("age", "years", "year", "decade", "decades")):
        return False
    k = toks.index("off")
    return any(v in toks[max(0, k - 6):k] for v in _OFF_VERBS)


def _amount(s: str) -> tuple[int | None, str | None]:
    """(Δ, the phrase that states it) of the longest amount phrase in `s`, or (None, None)."""
    found = []
    for phrase, delta in _AMOUNTS.items():
        if phrase in ("way", "much") and not re.search(rf" {phrase} (more|less|\w+er) ", s):
            continue  # "way"/"much" alone are too common ("all the way", "too much")
        if _has(s, phrase):
            found.append((len(phrase), delta, phrase))
    m = re.search(r" by (one|two|three|four|five) ", s)  # "increase smiling by four"
    if m:
        found.append((len(m.group(0)) - 2, ("one", "two", "three", "four", "five").index(m.group(1)) + 1,
                      m.group(0).strip()))
    if not found:
        return None, None
    found.sort(reverse=True)
    return found[0][1], found[0][2]


# amount words that, beside a named state, only stress it ("bangs covering the eyebrows completely")
_INTENSIFIERS = frozenset({"completely", "totally", "extremely", "entirely", "fully", "really", "super"})
_SIGNED = re.compile(r"(?:^|[\s(])([+\-])\s?([1-5])(?![\d.,])")


def _signed_steps(text: str, toks: list[str]) -> tuple[int, int] | None:
    """(direction, Δ) of a signed step count: "+3", "- 2", "+ two" (one per request), else None."""
    found = [(1 if m.group(1) == "+" else -1, int(m.group(2))) for m in _SIGNED.finditer(text)]
    words = ("one", "two", "three", "four", "five")
    found += [(1, words.index(toks[i + 1]) + 1) for i, t in enumerate(toks[:-1])
              if t == "+" and toks[i + 1] in words and not re.search(r"\+\s?[1-5]", text)]
    return found[0] if len(found) == 1 else None


_CLAUSE_BREAKS = frozenset({",", ".", "?", "!", ";", ":", "but", "though", "although"})
_COPULAS = frozenset({"is", "looks", "seems", "appears", "are", "was", "'s", "'re", "isnt", "isn't"})
_CLAUSE_REQUEST = frozenset({"make", "let", "give", "add", "put", "turn", "can", "could", "would", "please", "pls",
                             "plz", "want", "need", "try", "remove", "take", "dial", "tone", "fix", "change", "get",
                             "u", "you", "go", "bring", "crank", "bump", "knock"})
_NEGATORS = frozenset({"not", "dont", "don't", "never", "shouldn't", "shouldnt", "isn't", "isnt", "doesn't",
                       "doesnt", "aren't", "won't", "wont", "mustn't", "can't", "cant", "cannot"})


@dataclass(frozen=True)
class _ClauseInfo:
    clause: tuple[int, ...]  # clause index of each token
    described: frozenset  # clauses that describe the photo (a copula, no request word)
    requesting: frozenset  # the other clauses that hold an attribute or way word
    negated: frozenset  # tokens under a negation of their clause ("don't make him look so serious")

    def set_aside(self, i: int) -> bool:
        """A word that states no goal: negated, or in a clause that only describes the photo while
        another clause asks for the edit."""
        if i in self.negated:
            return True
        return 0 <= i < len(self.clause) and self.clause[i] in self.described and bool(self.requesting)


def asks(text: str) -> bool:
    """Does the request have a clause that asks for something (not only "the laugh is over the top")?"""
    toks = tokenize(text)
    info = _clauses(toks)
    return any(c not in info.described and t in _CLAUSE_REQUEST for t, c in zip(toks, info.clause))


def _clauses(toks: list[str]) -> _ClauseInfo:
    clause, k = [], 0
    for t in toks:
        if t in _CLAUSE_BREAKS:
            k += 1
        clause.append(k)
    described, requesting = set(), set()
    for c in set(clause):
        words = [t for t, ci in zip(toks, clause) if ci == c]
        copula = any(w in _COPULAS or w.endswith(("'s", "'re")) for w in words)
        if copula and not any(w in _CLAUSE_REQUEST for w in words):
            described.add(c)
        elif len(words) > 1:
            requesting.add(c)
    negated = set()
    for i, t in enumerate(toks):
        if t in _NEGATORS:
            for j in range(i + 1, min(len(toks), i + 7)):
                if clause[j] != clause[i]:
                    break
                negated.add(j)
    return _ClauseInfo(tuple(clause), frozenset(described), frozenset(requesting), frozenset(negated))


_STEP_NOUNS = frozenset({"level", "levels", "step", "steps", "notch", "notches", "degree", "degrees", "stage",
                         "stages", "point", "points", "grade", "grades"})
_COUNT_WORDS = frozenset({"one", "two", "three", "four", "five", "a", "couple", "few"})


def _steps_around(toks: list[str], i: int, a: int) -> bool:
    """Is "up"/"down" at ``toks[i]`` an explicit move on the degree scale: next to a step count
    ("smiling down two levels", "two notches up") or right after the attribute's name ("glasses up
    a level")?"""
    nxt, prev = toks[i + 1:i + 4], toks[max(0, i - 3):i]
    if nxt[:1] and nxt[0] in _COUNT_WORDS and any(w in _STEP_NOUNS for w in nxt[1:3]):
        return True
    if prev[-1:] and (prev[-1] in _STEP_NOUNS or prev[-1] in ATTRIBUTE_WORDS[a]):
        return True
    return False


_AGE = re.compile(r"(?:\b(?:about|around|aged?|look|looks|like|be|is|turn|roughly|approximately|maybe|just|"
                  r"his|her|their|early|late|mid)\s+|~\s*)(\d{1,3})(s\b|\s*(?:years?|yrs?|y/?o)\b|\b)",
                  re.IGNORECASE)


def _age_number(text: str) -> int | None:
    """The youth degree of an age written in digits ("about 45", "in his 60s", "a 7 year old"), by the
    renderer's descriptions (about eighty / sixty / forty-five, twenties to thirties, a teenager, a
    child); None when no age is written."""
    found = []
    for m in re.finditer(r"\b(\d{1,3})(s\b|\s*(?:-\s*)?(?:years?|yrs?|y/?o)\b(?:\s*-?\s*old)?)", text, re.I):
        found.append(int(m.group(1)) + (5 if m.group(2).lower() == "s" else 0))
    for m in _AGE.finditer(text):  # a bare number is an age only from 10 up ("look 2 levels older" is a step)
        if int(m.group(1)) >= 10:
            found.append(int(m.group(1)) + (5 if m.group(2).lower() == "s" else 0))
    ages = {n for n in found if 2 <= n <= 110}
    if len(ages) != 1:
        return None
    n = ages.pop()
    return 0 if n >= 75 else 1 if n >= 55 else 2 if n >= 40 else 3 if n >= 20 else 4 if n >= 13 else 5
