"""Rasa REST messages (`text`, `buttons`, `custom`) as Telegram messages.

Safe by construction: every text from content, catalogs or the newcomer is HTML-escaped, and the
only markup added is a bold first line. Texts longer than Telegram's 4096 characters are split at
line boundaries (a single longer line hard), so nothing is cut. Nearby offers with coordinates
also go out as venues (a map pin with the address).
"""
from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any, Iterable, Optional, Union

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from .payloads import PayloadTable

MAX_TEXT = 4096  # counted by Telegram after parsing entities, in UTF-16 code units
BUTTONS_PER_ROW = 2
NO_TEXT = "👇"  # a message needs text; Rasa may send buttons alone


@dataclass(frozen=True)
class TextOut:
    html: str  # ready for parse_mode HTML
    markup: Optional[InlineKeyboardMarkup] = None


@dataclass(frozen=True)
class VenueOut:
    latitude: float
    longitude: float
    title: str
    address: str


Outgoing = Union[TextOut, VenueOut]


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Pieces of at most `limit` UTF-16 units; joined with newlines (or, where one line was too
    long, without) they give `text` back."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        for part in _hard_split(line, limit):
            extra = utf16_len(part) + (1 if current else 0)
            if current and size + extra > limit:
                pieces.append("\n".join(current))
                current, size = [], 0
                extra = utf16_len(part)
            current.append(part)
            size += extra
    if current or not pieces:
        pieces.append("\n".join(current))
    return pieces


def _hard_split(line: str, limit: int) -> list[str]:
    if utf16_len(line) <= limit:
        return [line]
    parts, current, size = [], [], 0
    for char in line:  # by code point, so a surrogate pair is never torn apart
        width = utf16_len(char)
        if size + width > limit:
            parts.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    parts.append("".join(current))
    return parts


def format_piece(piece: str, bold_first_line: bool) -> str:
    escaped = html.escape(piece, quote=False)
    if not bold_first_line or "\n" not in piece:
        return escaped
    first, rest = escaped.split("\n", 1)
    return f"<b>{first}</b>\n{rest}" if first.strip() else escaped


def keyboard(buttons: Iterable[dict[str, Any]], payloads: PayloadTable) -> Optional[InlineKeyboardMarkup]:
    made = [
        InlineKeyboardButton(str(b.get("title") or b.get("payload")), callback_data=payloads.callback_data(str(b["payload"])))
        for b in buttons if b.get("payload")
    ]
    if not made:
        return None
    per_row = BUTTONS_PER_ROW if len(made) > 3 else 1
    return InlineKeyboardMarkup([made[i:i + per_row] for i in range(0, len(made), per_row)])


def render(messages: Iterable[dict[str, Any]], payloads: PayloadTable) -> list[Outgoing]:
    out: list[Outgoing] = []
    for message in messages:
        text, buttons = message.get("text"), message.get("buttons") or []
        if text or buttons:
            out += _text_messages(str(text or NO_TEXT), keyboard(buttons, payloads))
        out += _venues(message.get("custom"))
    return out


def _text_messages(text: str, markup: Optional[InlineKeyboardMarkup]) -> list[TextOut]:
    pieces = split_text(text)
    messages = [TextOut(format_piece(piece, bold_first_line=i == 0)) for i, piece in enumerate(pieces)]
    messages[-1] = TextOut(messages[-1].html, markup)  # the buttons go under the last piece
    return messages


def _venues(custom: Any) -> list[VenueOut]:
    """Offers of a nearby answer (the newcomer shared a location) as map pins."""
    data = (custom or {}).get("welcomebot") if isinstance(custom, dict) else None
    if not isinstance(data, dict) or not data.get("nearby"):
        return []
    return [
        VenueOut(float(o["lat"]), float(o["lon"]), str(o.get("title") or "")[:256] or NO_TEXT, str(o.get("address") or "")[:256] or NO_TEXT)
        for o in data.get("offers") or [] if isinstance(o, dict) and o.get("lat") is not None and o.get("lon") is not None
    ]
