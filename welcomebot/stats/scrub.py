"""Removing what could identify a person from a text before it is stored (SPEC §8).

Fallback questions are kept for staff (what the bot could not answer), but only after:
e-mail addresses -> [e-mail], web addresses -> [link], phone numbers and every other digit
sequence (house numbers, dates, ids, ages) -> [number], and names the bot knows -> [name]:
Lotsen display names, providers of offers, and the district's towns (with their aliases) —
in a small town a question with a place and a detail can point at one family. Names the bot
does not know cannot be found reliably and are not removed; the texts are for staff only and
deleted after the retention period.
"""
from __future__ import annotations

import re
from typing import Iterable

import phonenumbers

EMAIL = re.compile(r"[\w.+-]+\s*(?:@|\(at\)|\[at\])\s*[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
# Any run of digits, also written with spaces, slashes, dots or dashes between them (phone numbers
# as people type them, dates). Unicode digits too: Arabic-Indic and Persian numerals.
DIGITS = re.compile(r"\+?\d(?:[\d\s/.\-()]*\d)?", re.UNICODE)


def scrub(text: str, known_names: Iterable[str] = ()) -> str:
    """The text without e-mail addresses, links, numbers and known names."""
    text = EMAIL.sub("[e-mail]", text)
    text = URL.sub("[link]", text)
    text = _phones(text)
    text = DIGITS.sub("[number]", text)
    for name in sorted({n.strip() for n in known_names if n and len(n.strip()) >= 3}, key=len, reverse=True):
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", "[name]", text, flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", text).strip()


def _phones(text: str) -> str:
    """Phone numbers that phonenumbers finds (also with letters-free separators it knows)."""
    matches = list(phonenumbers.PhoneNumberMatcher(text, "DE", leniency=phonenumbers.Leniency.POSSIBLE))
    for match in reversed(matches):
        text = text[: match.start] + "[number]" + text[match.end :]
    return text
