"""Text normalisation for understanding: the one function applied, identically, to training data
and to every incoming message (through the Rasa component in `welcomebot.nlu_components`).

It removes differences that carry no meaning for intent and entity recognition but split words
for Rasa's tokenizers and featurizers (see shared/NOTES.md): Unicode compatibility forms, Arabic
and Persian letter variants, harakat and tatweel, the zero-width non-joiner, apostrophe variants,
Arabic-Indic and Persian digits, Latin diacritics (Turkish and French are often typed without
them), and case, lowered the Turkish-aware way.

The result is for machines only; users always see their own text.
"""
from __future__ import annotations

import re
import unicodedata

# Arabic-script letter variants -> one form (what phone keyboards and dialects mix).
_ARABIC_LETTERS = str.maketrans({
    "\u06cc": "\u064a",  # Persian yeh ی -> Arabic yeh ي
    "\u0649": "\u064a",  # alef maksura ى -> yeh ي
    "\u06d2": "\u064a",  # yeh barree ے
    "\u06a9": "\u0643",  # keheh ک -> kaf ك
    "\u06aa": "\u0643",  # swash kaf ڪ
    "\u0623": "\u0627",  # alef with hamza above أ -> ا
    "\u0625": "\u0627",  # alef with hamza below إ -> ا
    "\u0622": "\u0627",  # alef with madda آ -> ا
    "\u0671": "\u0627",  # alef wasla ٱ -> ا
    "\u0629": "\u0647",  # teh marbuta ة -> heh ه (written as ه in chats)
    "\u06c0": "\u0647",  # heh with yeh above ۀ -> ه
    "\u06d5": "\u0647",  # ae ە (Kurdish/Uyghur heh)
    "\u0624": "\u0648",  # waw with hamza ؤ -> و
    "\u0626": "\u064a",  # yeh with hamza ئ -> ي
    "\u061f": "?",       # Arabic question mark ؟
    "\u060c": ",",       # Arabic comma ،
    "\u061b": ";",       # Arabic semicolon ؛
})

# Arabic-Indic (٠-٩) and Persian/Urdu (۰-۹) digits -> ASCII digits.
_DIGITS = str.maketrans({
    **{chr(0x0660 + i): str(i) for i in range(10)},
    **{chr(0x06F0 + i): str(i) for i in range(10)},
})

# Apostrophe look-alikes -> ASCII apostrophe.
_APOSTROPHES = str.maketrans({c: "'" for c in "\u2019\u2018\u02bc\u02b9\u0060\u00b4\u2032\uff07"})

# Harakat, superscript alef, Quranic marks, and tatweel: no meaning for intent recognition.
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")

# Zero-width characters: the Persian ZWNJ joins (می‌خواهم = میخواهم); the others are noise.
_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060\ufeff\u00ad]")

# Control characters and non-characters (but tabs and newlines). Also used by the gateway to
# clean what it receives (bot/incoming.py).
CONTROL_CHARACTERS = re.compile("[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufffe\uffff]")

# An apostrophe between Cyrillic letters (Ukrainian п'ять, also typed пять): removed.
_CYRILLIC_APOSTROPHE = re.compile(r"(?<=[\u0400-\u04ff])'(?=[\u0400-\u04ff])")

_SPACES = re.compile(r"\s+")


_SCRIPTS = ("LATIN", "ARABIC", "CYRILLIC", "ETHIOPIC", "GREEK", "HEBREW")


def script_of(char: str) -> str:
    """The script a character belongs to, by its Unicode name ("LATIN", "ARABIC", ... "OTHER")."""
    name = unicodedata.name(char, "")
    return next((script for script in _SCRIPTS if name.startswith(script + " ")), "OTHER")


def _is_latin(char: str) -> bool:
    return char.isalpha() and script_of(char) == "LATIN"


def fold_latin_diacritics(text: str) -> str:
    """é -> e, ü -> u, ş -> s, ğ -> g, ß -> ss, ı -> i; other scripts keep their marks
    (Cyrillic й and ї are letters of their own)."""
    out = []
    for char in unicodedata.normalize("NFD", text):
        if unicodedata.combining(char) and out and _is_latin(out[-1]):
            continue
        out.append(char)
    folded = unicodedata.normalize("NFC", "".join(out))
    return folded.replace("ß", "ss").replace("ı", "i").replace("ё", "е")


def turkish_aware_lower(text: str) -> str:
    """Lower case that maps Turkish İ to i (Python's default gives i + combining dot).
    Dotless ı is folded to i as well, since newcomers type Turkish either way."""
    return text.replace("İ", "i").replace("I", "i").lower()


def normalize(text: str) -> str:
    """The canonical form of a message for NLU (idempotent: normalize(normalize(x)) == normalize(x))."""
    text = unicodedata.normalize("NFKC", text)
    text = CONTROL_CHARACTERS.sub(" ", text)
    text = _ZERO_WIDTH.sub("", text)
    text = _ARABIC_MARKS.sub("", text)
    text = text.translate(_ARABIC_LETTERS).translate(_DIGITS).translate(_APOSTROPHES)
    text = turkish_aware_lower(text)
    text = fold_latin_diacritics(text)
    text = _CYRILLIC_APOSTROPHE.sub("", text)
    return _SPACES.sub(" ", text).strip()
