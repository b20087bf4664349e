"""What the action server records per answered turn: one count, and for a fallback its scrubbed
text. Statistics must never break an answer, so failures are logged and swallowed."""
from __future__ import annotations

import datetime as dt
import functools
import logging
from pathlib import Path
from typing import Iterable, Optional

import yaml

from ..content import ContentSnapshot
from .scrub import scrub
from .store import stats_store

log = logging.getLogger(__name__)


def record_question(day: dt.date, language: str, municipality: Optional[str], intent: str) -> None:
    try:
        stats_store().count_question(day, language, municipality, intent)
    except Exception:  # a full disk or a locked database must not cost the newcomer an answer
        log.exception("stats: could not count a question")


def record_feedback(day: dt.date, language: str, intent: str, rating: str) -> None:
    try:
        stats_store().count_feedback(day, language, intent, rating)
    except Exception:
        log.exception("stats: could not count feedback")


def record_fallback(day: dt.date, language: str, municipality: Optional[str], text: str,
                    content: ContentSnapshot, retention_days: int) -> None:
    try:
        cleaned = scrub(text, known_names(content))
        if cleaned:
            store = stats_store()
            store.keep_fallback(day, language, municipality, cleaned)
            store.purge_texts(day, retention_days)
    except Exception:
        log.exception("stats: could not keep a fallback text")


def known_names(content: ContentSnapshot) -> tuple[str, ...]:
    """Names the bot knows: providers, towns and their aliases, Lotsen display names."""
    names: set[str] = set()
    for item in (*content.offers.values(), *content.events.values()):
        names.add(item.provider)
    for town in content.district.municipalities:
        names.update(town.name.values.values())
        names.update(town.aliases)
    root = next((item.source.parent.parent for item in content.offers.values() if item.source), None)
    if root is not None:
        names.update(_lotsen_names(root / "lotsen", _folder_signature(root / "lotsen")))
    return tuple(sorted(names))


def _folder_signature(folder: Path) -> tuple:
    if not folder.is_dir():
        return ()
    return tuple(sorted((p.name, p.stat().st_mtime_ns) for p in folder.glob("*.y*ml")))


@functools.lru_cache(maxsize=4)
def _lotsen_names(folder: Path, _signature: tuple) -> tuple[str, ...]:
    """Display names from content/lotsen/*.yml, read leniently: this is for scrubbing only."""
    names: list[str] = []
    for path in sorted(folder.glob("*.y*ml")) if folder.is_dir() else []:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            continue
        for key in ("display_name", "name"):
            value = data.get(key) if isinstance(data, dict) else None
            names += _strings(value)
    # A display name like "Amira K." is also matched by its first word.
    return tuple(sorted({part for name in names for part in (name, name.split()[0]) if part}))


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value.strip()
    elif isinstance(value, dict):
        for text in value.values():
            if isinstance(text, str):
                yield text.strip()
