"""The content model: what staff write in `content/`, as immutable Python objects, and the
queries every channel asks of it (offers of a category for a town and audience, upcoming events).

Loading and validation live in `loader.py`; hot reload in `store.py`. Nothing else in the code
base reads content files.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping, Optional
from zoneinfo import ZoneInfo

# One category per topic intent of SPEC §4: intent `ask_<category>` answers from category `<category>`.
CATEGORIES: tuple[str, ...] = (
    "first_steps", "integration_course", "counselling", "registration", "immigration_office",
    "work", "benefits", "housing", "health", "children", "clubs", "meeting_places", "events",
    "transport", "emergency", "discrimination",
)
AUDIENCES: tuple[str, ...] = ("women", "youth", "children", "parents", "seniors")

# Where a text lacks the conversation's language, SPEC §3: English, else German.
FALLBACK_LANGUAGES: tuple[str, ...] = ("en", "de")


def category_of_intent(intent: str) -> Optional[str]:
    category = intent[4:] if intent.startswith("ask_") else None
    return category if category in CATEGORIES else None


@dataclass(frozen=True)
class LocalizedText:
    """A text in several languages, as staff wrote it: language code -> text."""

    values: Mapping[str, str]

    def get(self, language: str) -> tuple[str, str]:
        """The text in `language`, else in the fallback languages; returns (text, language used)."""
        for code in (language, *FALLBACK_LANGUAGES):
            text = self.values.get(code)
            if text:
                return text, code
        code, text = next(iter(self.values.items()))
        return text, code

    def text(self, language: str) -> str:
        return self.get(language)[0]

    def has(self, language: str) -> bool:
        return bool(self.values.get(language))


@dataclass(frozen=True)
class Address:
    street: str
    postcode: str
    town: str
    lat: Optional[float] = None
    lon: Optional[float] = None

    def one_line(self) -> str:
        return f"{self.street}, {self.postcode} {self.town}"


@dataclass(frozen=True)
class Contact:
    phone: Optional[str] = None
    email: Optional[str] = None
    url: Optional[str] = None


@dataclass(frozen=True)
class Offer:
    """An offer or, with `start`/`end`, a dated event (SPEC §5)."""

    id: str
    category: str
    municipalities: Optional[frozenset[str]]  # None: the whole district
    audience: frozenset[str]
    provider: str
    title: LocalizedText
    summary: LocalizedText
    address: Optional[Address]  # None for phone and online services
    contact: Contact
    opening_hours: Optional[str]
    languages_spoken: tuple[str, ...]
    valid_until: Optional[dt.date] = None
    start: Optional[dt.datetime] = None
    end: Optional[dt.datetime] = None
    source: Optional[Path] = field(default=None, compare=False)
    # An imported event's UID; on a hand-written event, the UID of the imported events it replaces.
    ics_uid: Optional[str] = field(default=None, compare=False)
    # Line of each top-level field in its file, for checks made after loading (expiry, duplicates).
    lines: Mapping[str, int] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_imported(self) -> bool:
        return self.source is not None and self.source.suffix == ".ics"

    @property
    def is_event(self) -> bool:
        return self.start is not None

    def serves(self, municipality: Optional[str]) -> bool:
        return municipality is None or self.municipalities is None or municipality in self.municipalities

    def is_current(self, now: dt.datetime) -> bool:
        if self.valid_until is not None and now.date() > self.valid_until:
            return False
        if self.end is not None and now >= self.end:
            return False
        return True

    def suits(self, audience: Optional[str]) -> bool:
        """General offers suit everyone; targeted offers their audience, or anyone who did not
        say for whom they ask (they are ranked after general offers then)."""
        return not self.audience or audience is None or audience in self.audience


@dataclass(frozen=True)
class Municipality:
    id: str
    name: LocalizedText
    postcode: str
    aliases: tuple[str, ...]
    lat: Optional[float] = None
    lon: Optional[float] = None


@dataclass(frozen=True)
class OfficeContact:
    name: LocalizedText
    address: Address
    contact: Contact
    opening_hours: Optional[str]


@dataclass(frozen=True)
class District:
    id: str
    name: LocalizedText
    default_language: str
    timezone: ZoneInfo
    municipalities: tuple[Municipality, ...]
    contact: OfficeContact

    def municipality(self, municipality_id: Optional[str]) -> Optional[Municipality]:
        return next((m for m in self.municipalities if m.id == municipality_id), None)


@dataclass(frozen=True)
class Step:
    id: str
    title: LocalizedText
    text: LocalizedText
    category: Optional[str] = None


@dataclass(frozen=True)
class FirstSteps:
    title: LocalizedText
    intro: LocalizedText
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Lotse:
    """A volunteer mentor (SPEC §5, §7) who takes over conversations in the staff group."""

    id: str
    name: str  # display name shown to the newcomer and in the staff group
    telegram_user_id: int
    languages: tuple[str, ...]
    municipalities: Optional[frozenset[str]]  # None: the whole district
    availability: str  # opening_hours syntax, in the district's time zone
    source: Optional[Path] = field(default=None, compare=False)

    def speaks(self, language: str) -> bool:
        return language in self.languages

    def covers(self, municipality: Optional[str]) -> bool:
        """A newcomer who did not name a town may be helped by any Lotse."""
        return municipality is None or self.municipalities is None or municipality in self.municipalities


@dataclass(frozen=True)
class Problem:
    """One mistake in a content file, for staff: file, line, field and a plain sentence."""

    file: str
    line: Optional[int]
    field: Optional[str]
    message: str
    severity: str = "error"  # or "warning"

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        what = f" [{self.field}]" if self.field else ""
        return f"{where}: {self.severity}{what}: {self.message}"


@dataclass(frozen=True)
class ContentSnapshot:
    """All content at one moment. Answers are built from one snapshot, never from two."""

    district: District
    offers: Mapping[str, Offer]
    events: Mapping[str, Offer]
    first_steps: Optional[FirstSteps]
    problems: tuple[Problem, ...] = ()
    version: str = ""
    lotsen: Mapping[str, Lotse] = field(default_factory=dict)

    def lotse_by_telegram_id(self, user_id: int) -> Optional[Lotse]:
        return next((l for l in self.lotsen.values() if l.telegram_user_id == user_id), None)

    def offers_for(
        self,
        category: str,
        now: dt.datetime,
        municipality: Optional[str] = None,
        audience: Optional[str] = None,
    ) -> list[Offer]:
        """Current offers of a category for a town and audience: the audience's own offers
        first, then local ones, then district-wide ones."""
        pool: Iterable[Offer] = self.offers.values()
        if category == "events":
            pool = [*pool, *self.upcoming_events(now, municipality, audience)]
        found = [
            offer for offer in pool
            if offer.category == category and offer.serves(municipality)
            and offer.is_current(now) and offer.suits(audience)
        ]
        return sorted(found, key=lambda o: _rank(o, municipality, audience, now))

    def upcoming_events(
        self,
        now: dt.datetime,
        municipality: Optional[str] = None,
        audience: Optional[str] = None,
    ) -> list[Offer]:
        found = [
            event for event in self.events.values()
            if event.serves(municipality) and event.is_current(now) and event.suits(audience)
        ]
        return sorted(found, key=lambda e: e.start)

    def category_is_local(self, category: str, now: dt.datetime) -> bool:
        """Whether the answer depends on the town: some current offer does not serve everyone."""
        return any(
            o.municipalities is not None for o in self.offers.values()
            if o.category == category and o.is_current(now)
        )


def _rank(offer: Offer, municipality: Optional[str], audience: Optional[str], now: dt.datetime) -> tuple:
    targeted = 0 if (audience and audience in offer.audience) or (not audience and not offer.audience) else 1
    local = 0 if municipality and offer.municipalities and municipality in offer.municipalities else 1
    when = offer.start.timestamp() if offer.start else 0.0
    return (0 if offer.is_event else 1, when, targeted, local, offer.id)
