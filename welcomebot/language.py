"""Which language a conversation is in (SPEC §3), in one place for every channel.

Order: an explicit choice; a confident detection of the message's own language; the language the
conversation already had; the client's hint negotiated with Babel; the district's default.
Detection is offline (lingua) and only among languages the assistant speaks; it ignores German
office names inside other languages so that code-mixing does not switch the conversation.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from babel import negotiate_locale

from .normalize import normalize, script_of
from .vocabulary import german_terms

EXPLICIT, DETECTED, CONVERSATION, CLIENT, DEFAULT = "explicit", "detected", "conversation", "client", "default"

# Below these a message is too short to tell its language ("hi", "salam", "ok").
MIN_WORDS = 2
MIN_LETTERS = 8
# lingua spreads confidence over related languages (clear English: en 0.65, fr 0.17, de 0.15),
# so "confident" is a clear lead rather than a high absolute value.
MIN_CONFIDENCE = 0.45
MIN_LEAD = 2.5  # the top language at least this many times as likely as the next

_WORD = re.compile(r"[^\W\d_]+")
# Arabic in Latin letters writes sounds with digits: 3 (ع), 7 (ح), 2 (ء), 5 (خ). A digit before
# two letters ("t3allam", "7abibi") or after two ("sa7") — not course levels like "B1" or "A2".
def _is_arabizi_word(token: str) -> bool:
    letters = sum(c.isascii() and c.isalpha() for c in token)
    return letters >= 2 and any(c in "2357" for c in token) and not re.fullmatch(r"[a-zA-Z]\d+", token)


@dataclass(frozen=True)
class LanguageChoice:
    code: str
    source: str  # one of EXPLICIT, DETECTED, CONVERSATION, CLIENT, DEFAULT


class LanguageDetector:
    """Confident-only detection of a message's language among the supported ones."""

    def __init__(self, languages: Sequence[str], ignored_words: Iterable[str] = ()) -> None:
        from lingua import IsoCode639_1, IsoCode639_3, Language, LanguageDetectorBuilder

        self._codes: dict[object, str] = {}
        for code in languages:
            try:
                if len(code) == 2:
                    language = Language.from_iso_code_639_1(IsoCode639_1.from_str(code))
                else:
                    language = Language.from_iso_code_639_3(IsoCode639_3.from_str(code))
            except ValueError:
                continue  # lingua does not know it (e.g. Tigrinya): never detected, still choosable
            self._codes[language] = code
        self.languages = tuple(languages)
        self._ignored = frozenset(ignored_words)
        builder = LanguageDetectorBuilder.from_languages(*self._codes)
        self._detector = builder.with_preloaded_language_models().build() if len(self._codes) > 1 else None

    def detect(self, text: str) -> Optional[str]:
        """The message's language if it is clear, else None."""
        words = self._meaningful_words(text)
        if "ar" in self.languages and _looks_like_arabizi(text):
            return "ar"
        if len(words) < MIN_WORDS or sum(len(w) for w in words) < MIN_LETTERS or self._detector is None:
            return None
        values = self._detector.compute_language_confidence_values(" ".join(words))
        if not values or values[0].value < MIN_CONFIDENCE:
            return None
        if len(values) > 1 and values[0].value < MIN_LEAD * values[1].value:
            return None
        return self._codes.get(values[0].language)

    def _meaningful_words(self, text: str) -> list[str]:
        words = _WORD.findall(text)
        scripts = {script_of(w[0]) for w in words}
        if len(scripts) > 1 and "LATIN" in scripts:
            # German office names in Latin letters inside an Arabic or Cyrillic sentence are
            # borrowed words: the sentence's language is that of the other script.
            words = [w for w in words if script_of(w[0]) != "LATIN"]
        return [w for w in words if normalize(w) not in self._ignored]


def _looks_like_arabizi(text: str) -> bool:
    words = _WORD.findall(text) or []
    if not words or any(script_of(w[0]) != "LATIN" for w in words):
        return False
    tokens = re.findall(r"\w+", text)
    hits = sum(_is_arabizi_word(t) for t in tokens)
    tokens = len(tokens)
    return hits >= 2 or (hits >= 1 and tokens <= 6)


@functools.lru_cache(maxsize=4)
def detector_for(languages: tuple[str, ...]) -> LanguageDetector:
    return LanguageDetector(languages, german_terms())


def negotiate_client_hint(hints: Sequence[str], supported: Sequence[str]) -> Optional[str]:
    """Telegram's `language_code` or the browser's `navigator.languages`, matched with Babel."""
    cleaned = [h.replace("_", "-") for h in hints if isinstance(h, str) and h.strip()]
    if not cleaned:
        return None
    match = negotiate_locale(cleaned, list(supported), sep="-")
    return next((code for code in supported if match and code.lower() == match.lower()), None)


def choose_language(
    *,
    text: str,
    supported: Sequence[str],
    default: str,
    explicit: Optional[str] = None,
    previous: Optional[str] = None,
    client_hints: Sequence[str] = (),
    detector: Optional[LanguageDetector] = None,
) -> LanguageChoice:
    """SPEC §3's order, with the conversation's own language kept between messages."""
    if explicit in supported:
        return LanguageChoice(explicit, EXPLICIT)
    is_command = text.startswith("/")  # a button's payload or a command says nothing about language
    detected = (detector or detector_for(tuple(supported))).detect(text) if text and not is_command else None
    if detected in supported:
        return LanguageChoice(detected, DETECTED)
    if previous in supported:
        return LanguageChoice(previous, CONVERSATION)
    hinted = negotiate_client_hint(client_hints, supported)
    if hinted:
        return LanguageChoice(hinted, CLIENT)
    return LanguageChoice(default if default in supported else supported[0], DEFAULT)
