"""What every action needs to know about the conversation: its language, the newcomer's town and
audience, the current content snapshot and the time."""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any, Optional

from rasa_sdk import Tracker

from welcomebot import settings
from welcomebot.content import ContentSnapshot, ContentStore
from welcomebot.i18n import Translator, supported_languages, translator
from welcomebot.language import choose_language

ALL_TOWNS = "all"  # the newcomer's answer "somewhere else / the whole district"


@functools.lru_cache(maxsize=1)
def content_store() -> ContentStore:
    return ContentStore(settings.content_dir(), supported_languages())


@dataclass
class Context:
    language: str
    _: Translator
    content: ContentSnapshot
    now: dt.datetime
    municipality: Optional[str]  # a town id, ALL_TOWNS, or None (not asked yet)
    audience: Optional[str]
    intent: str
    entities: list[dict[str, Any]]

    @property
    def town_filter(self) -> Optional[str]:
        return None if self.municipality in (None, ALL_TOWNS) else self.municipality

    def town_name(self) -> Optional[str]:
        town = self.content.district.municipality(self.town_filter)
        return town.name.text(self.language) if town else None

    def entity(self, name: str) -> Optional[str]:
        values = [e.get("value") for e in self.entities if e.get("entity") == name and e.get("value")]
        return str(values[-1]) if values else None


def conversation_language(tracker: Tracker, content: ContentSnapshot) -> str:
    """The gateway decides the language (SPEC §3) and sends it as metadata; a client talking to
    Rasa directly gets the same rules here, with the language kept in a slot."""
    supported = supported_languages()
    metadata = tracker.latest_message.get("metadata") or {}
    explicit = metadata.get("language")
    if explicit in supported:
        return explicit
    return choose_language(
        text=tracker.latest_message.get("text") or "",
        supported=supported,
        default=content.district.default_language,
        previous=tracker.get_slot("language"),
        client_hints=metadata.get("client_languages") or [],
    ).code


def build_context(tracker: Tracker) -> Context:
    content = content_store().snapshot()
    language = conversation_language(tracker, content)
    entities = tracker.latest_message.get("entities") or []
    municipality = tracker.get_slot("municipality")
    if municipality not in (None, ALL_TOWNS) and content.district.municipality(municipality) is None:
        municipality = None  # a town removed from content: ask again
    audience = next((e.get("value") for e in entities if e.get("entity") == "audience"), None)
    intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
    return Context(
        language=language, _=translator(language), content=content,
        now=settings.now(content.district.timezone), municipality=municipality,
        audience=audience, intent=intent, entities=entities,
    )
