"""Tokenizer, vocabulary and negative ("not a facial edit") sentences for the instruction encoder.

Tokenizer: lower-case (Unicode-aware), split into letter runs, digit runs and single
punctuation marks; the digits 0-10 become number words ("2" -> "two") so numerals and
spelled numbers share tokens; larger numbers become ``<num>``. Apostrophes split words
("person's" -> "person", "'", "s").

Vocabulary: every token of sentences generated from the instruction language's TRAIN
templates (all fillers, openers, suffixes) plus the words of the hand-written negative
corpus below (so that e.g. "sky" or "shoes" are known words the encoder can learn to reject),
stored in the checkpoint as a plain list.

Negatives (label: reject): word salad, requests about other things (background, clothes,
objects, hair colour, make-up, photo settings), chit-chat, and hand-written non-English
edit requests (German, French, Spanish, Italian, Portuguese, Dutch, plus a few in Cyrillic
and CJK scripts).
"""
from __future__ import annotations

import re

import numpy as np

PAD, UNK = "<pad>", "<unk>"
NUM = "<num>"
SPECIALS = (PAD, UNK, NUM)
NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")
_TOKEN = re.compile(r"[^\W\d_]+|\d+|[^\w\s]")


def tokenize(text: str) -> list[str]:
    if not isinstance(text, str):
        raise TypeError(f"expected a string, got {type(text).__name__}")
    out = []
    for tok in _TOKEN.findall(text.lower()):
        if tok.isdigit():
            n = int(tok)
            out.append(NUMBER_WORDS[n] if n < len(NUMBER_WORDS) else NUM)
        else:
            out.append(tok)
    return out


def is_word(tok: str) -> bool:
    return tok[:1].isalnum() or tok == NUM


# ----------------------------------------------------------------------------- negatives

_PEOPLE = ("him", "her", "them", "the person", "this guy", "the man", "the woman", "this lady", "me")
_POSS = ("his", "her", "their", "the person's", "my", "the", "this")
_OBJECTS = (
    "sky", "background", "shoes", "shirt", "jacket", "dress", "tie", "hat", "scarf", "car", "house", "dog",
    "cat", "tree", "trees", "wall", "walls", "lighting", "table", "sofa", "window", "clouds", "grass",
    "sea", "water", "river", "road", "building", "flowers", "necklace", "earrings", "watch", "bag", "coat",
    "sweater", "trousers", "pants", "socks", "boots", "gloves", "umbrella", "bicycle", "phone", "laptop",
    "picture", "photo", "image", "border", "text", "logo", "caption", "sun", "moon", "stars", "room",
    "floor", "ceiling", "curtains", "door", "garden", "mountain", "beach", "city", "sunset", "horizon",
    "collar", "sleeves", "buttons", "pocket", "belt", "uniform", "helmet", "mask", "nails",
    "eye colour", "skin tone", "lipstick", "makeup", "eyeshadow", "tattoo", "piercing", "ears", "nose",
)
_ADJ = (
    "bluer", "greener", "redder", "brighter", "darker", "bigger", "smaller", "cleaner", "shinier", "warmer",
    "colder", "sharper", "blurrier", "wider", "taller", "prettier", "newer", "more colourful",
    "more vivid", "less saturated", "black and white", "purple", "pink", "yellow", "orange", "red", "blue",
    "green", "golden", "transparent", "striped", "dotted", "sunny", "cloudy", "rainy", "snowy", "higher contrast",
    "more pixelated", "in focus", "vintage", "modern", "expensive", "fancier", "plainer looking",
)
_OTHER_TEMPLATES = (
    "make the {o} {a}", "make {p} {o} {a}", "change {p} {o}", "change the {o} to {a}", "replace the {o}",
    "remove the {o}", "add a {o}", "add {o} to the {o2}", "give {pe} a new {o}", "paint the {o} {a}",
    "turn the {o} {a}", "can you make the {o} {a}", "could you change the {o}", "i want the {o} to be {a}",
    "put a {o} on the {o2}", "move the {o} to the left", "rotate the {o}", "crop the {o}", "zoom in on the {o}",
    "swap the {o} for a {o2}", "delete the {o} from the picture", "the {o} should be {a}", "i don't like the {o}",
    "recolour {p} {o} {a}", "make the {o} look {a}", "let the {o} be {a}", "fix the {o}",
    "dye {p} hair {c}", "make {p} hair {c}", "colour {p} hair {c}", "give {pe} {c} hair",
    "make {p} eyes {c}", "change {p} eye colour to {c}", "put {c} lipstick on {pe}", "give {pe} a {c} {o}",
    "make {p} skin {c}", "give {pe} a tan", "make {pe} taller", "make {pe} thinner", "make {pe} fatter",
    "put {pe} on a beach", "put {pe} in front of the {o}", "make {pe} wear a {o}", "dress {pe} in a {c} {o}",
    "make the photo {a}", "increase the brightness", "lower the contrast", "sharpen the image", "add a filter",
    "rotate the image ninety degrees", "flip the picture horizontally", "make it black and white",
    "make the lighting {a}", "blur the {o}", "resize the picture", "convert it to a painting",
)
_COLOURS = ("red", "blue", "green", "purple", "pink", "blonde", "black", "white", "orange", "silver", "brown",
            "yellow", "grey and pink", "turquoise")
_CHAT = (
    "what time is it", "what is the weather like today", "tell me a joke", "play some music",
    "book a flight to paris", "how are you", "hello", "hi there", "good morning", "thanks a lot",
    "what is your name", "set an alarm for seven", "turn off the lights", "call my mother", "send an email to bob",
    "how much does this cost", "order a pizza", "where is the nearest station", "translate this sentence",
    "who won the game yesterday", "what is two plus two", "open the door", "lock the car", "i am hungry",
    "the meeting is at noon", "buy milk and eggs", "remind me tomorrow", "how tall is the eiffel tower",
    "nice picture", "this is a photo of my friend", "who is this person", "is this a man or a woman",
    "how old is he", "what colour is her hair", "describe the image", "save the file", "undo",
    "the quick brown fox jumps over the lazy dog", "lorem ipsum dolor sit amet", "asdf qwer zxcv",
    "test test test", "ok", "yes", "no", "maybe later", "i don't know", "whatever", "nothing", "cancel",
    "the stock market fell today", "we need more chairs in the office", "the train is late again",
    "please water the plants", "can you help me with my homework", "write a poem about the sea",
)
_SALAD_WORDS = (
    "apple", "blue", "quickly", "table", "run", "seven", "under", "window", "green", "elephant", "if", "the",
    "with", "of", "and", "banana", "sky", "sleep", "cloud", "paper", "engine", "bright", "slowly", "river",
    "computer", "moon", "from", "jump", "yellow", "salt", "dance", "music", "stone", "orange", "train",
    "bread", "door", "wind", "number", "happy", "sad", "tall", "small", "big", "little", "more", "less", "make",
    "give", "please", "very", "much", "light", "dark", "on", "off", "up", "down", "fast", "never", "always",
    "seriously", "banana", "zebra", "violin", "kettle", "purple", "carpet", "whistle", "gravity", "pencil",
)
_FOREIGN = (
    # German
    "mach ihn jünger", "mach sie älter", "gib ihm einen bart", "er soll mehr lächeln", "nimm ihr die brille ab",
    "kürze den pony ein bisschen", "lass den bart wachsen", "sie soll breiter lächeln", "mach das gesicht jünger",
    "setz ihm eine sonnenbrille auf", "der pony ist zu lang", "bitte rasier ihm den bart ab",
    # French
    "rends-le plus jeune", "fais-la sourire davantage", "enlève ses lunettes", "donne-lui une barbe",
    "raccourcis un peu sa frange", "fais-le paraître plus âgé", "ajoute des lunettes de soleil",
    "la frange est trop longue", "je veux qu'il sourie un peu plus", "rase sa barbe s'il te plaît",
    # Spanish
    "hazlo más joven", "hazla sonreír más", "quítale las gafas", "dale una barba larga", "córtale el flequillo",
    "que parezca mayor", "ponle gafas de sol", "el flequillo es demasiado largo", "haz que sonría un poco",
    "aféitale la barba por favor",
    # Italian
    "rendilo più giovane", "falla sorridere di più", "togligli gli occhiali", "dagli una barba folta",
    "accorcia la frangia", "fallo sembrare più vecchio", "mettile gli occhiali da sole", "la frangia è troppo lunga",
    # Portuguese
    "deixe-o mais jovem", "faça-a sorrir mais", "tire os óculos dele", "dê a ele uma barba", "corte a franja",
    "faça-o parecer mais velho", "coloque óculos escuros nela",
    # Dutch
    "maak hem jonger", "laat haar meer glimlachen", "zet zijn bril af", "geef hem een baard", "knip de pony korter",
    "maak hem ouder", "de pony is te lang",
    # Russian, Chinese, Japanese
    "сделай его моложе", "пусть она улыбается", "убери очки", "добавь бороду", "сделай чёлку короче",
    "让他看起来更年轻", "让她多笑一点", "把眼镜摘掉", "给他加胡子", "把刘海剪短一点",
    "彼を若くして", "彼女をもっと笑顔に", "眼鏡を外して",
)
_FOREIGN_FILL = ("bitte", "s'il vous plaît", "por favor", "per favore", "alsjeblieft", "un peu", "un poco",
                 "ein bisschen", "un po'", "um pouco", "mucho", "viel", "beaucoup", "molto", "muito")


def _pick(rng, seq):
    return seq[int(rng.integers(len(seq)))]


def negative_sentence(rng: np.random.Generator) -> tuple[str, str]:
    """One generated 'not a facial-edit request' sentence and its kind."""
    r = rng.random()
    if r < 0.45:
        t = _pick(rng, _OTHER_TEMPLATES)
        text = t.format(o=_pick(rng, _OBJECTS), o2=_pick(rng, _OBJECTS), a=_pick(rng, _ADJ), p=_pick(rng, _POSS),
                        pe=_pick(rng, _PEOPLE), c=_pick(rng, _COLOURS))
        kind = "other-domain"
    elif r < 0.6:
        text, kind = _pick(rng, _CHAT), "chit-chat"
    elif r < 0.8:
        n = int(rng.integers(2, 12))
        text = " ".join(_pick(rng, _SALAD_WORDS) for _ in range(n))
        kind = "word-salad"
    else:
        text = _pick(rng, _FOREIGN)
        if rng.random() < 0.3:
            text = text + " " + _pick(rng, _FOREIGN_FILL) if rng.random() < 0.5 else _pick(rng, _FOREIGN_FILL) + " " + text
        kind = "non-english"
    if rng.random() < 0.3:
        text = _pick(rng, ("please ", "could you ", "hey, ", "ok, ", "can you ", "i'd like you to ")) + text
    text += _pick(rng, ("", ".", "?", "!", " please", ", thanks"))
    if rng.random() < 0.5:
        text = text[:1].upper() + text[1:]
    return text, kind


def negative_corpus_words() -> set[str]:
    words: set[str] = set()
    for group in (_PEOPLE, _POSS, _OBJECTS, _ADJ, _OTHER_TEMPLATES, _COLOURS, _CHAT, _SALAD_WORDS):
        for s in group:
            words.update(tokenize(re.sub(r"\{\w+\}", " ", s)))
    return words  # the foreign sentences stay out: they should be unknown words
