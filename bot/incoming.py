"""Making any incoming message safe to process: any size, script or encoding gets an answer."""
from __future__ import annotations

import re
import unicodedata

from welcomebot.normalize import CONTROL_CHARACTERS

MAX_CHARS = 2000
HEAD_CHARS = 500
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def decode(raw: bytes) -> str:
    """UTF-8 with undecodable bytes replaced, never an exception."""
    return raw.decode("utf-8", errors="replace")


def clean_message(text: object) -> str:
    """The text to understand: control characters and lone surrogates removed, whitespace
    trimmed, and a very long message shortened to its opening and its end — a newcomer's life
    story usually ends in the question."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    text = _LONE_SURROGATE.sub("", text)
    text = CONTROL_CHARACTERS.sub(" ", text)
    text = unicodedata.normalize("NFC", text).strip()
    if len(text) > MAX_CHARS:
        text = text[:HEAD_CHARS] + " … " + text[-(MAX_CHARS - HEAD_CHARS):]
    return text
