"""Which Lotsen a newcomer is matched to (SPEC §7): those who speak the conversation's language,
cover the newcomer's town (or the whole district), and are available now per their
`availability` (opening_hours syntax, in the district's time zone). With nobody available now:
when the first of them will be, formatted for the newcomer's locale.

Widening: if no listed Lotse speaks the language *and* covers the town, one who speaks it in
another town is better than none; if nobody speaks it at all, the town's Lotsen (else anyone).
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

from babel.dates import format_date, format_time
from opening_hours import OpeningHours

from welcomebot.content import Lotse

# How far ahead "next available" looks: availability is weekly, so two weeks is plenty.
LOOKAHEAD = dt.timedelta(days=14)


@dataclass(frozen=True)
class Match:
    available: tuple[Lotse, ...]  # who can be asked now
    candidates: tuple[Lotse, ...]  # who fits the language and town at all
    next_available: Optional[dt.datetime]  # when the first candidate is available, if none is now

    @property
    def anyone_now(self) -> bool:
        return bool(self.available)


def match(lotsen: Iterable[Lotse], language: str, municipality: Optional[str], now: dt.datetime) -> Match:
    """`now` is aware; availability is read in its time zone (the district's)."""
    candidates = candidates_for(list(lotsen), language, municipality)
    available = tuple(l for l in candidates if is_available(l, now))
    upcoming = None if available else next_available(candidates, now)
    return Match(available, candidates, upcoming)


def candidates_for(lotsen: Sequence[Lotse], language: str, municipality: Optional[str]) -> tuple[Lotse, ...]:
    speakers = [l for l in lotsen if l.speaks(language)]
    local = [l for l in speakers if l.covers(municipality)]
    # Nobody speaks it (a language added before its Lotsen): the town's Lotsen, else anyone —
    # they write in German or English, which is better than no person at all.
    chosen = local or speakers or [l for l in lotsen if l.covers(municipality)] or list(lotsen)
    return tuple(sorted(chosen, key=lambda l: l.id))


def is_available(lotse: Lotse, now: dt.datetime) -> bool:
    hours = _hours(lotse.availability)
    return hours is not None and hours.is_open(_local(now))


def next_available(lotsen: Iterable[Lotse], now: dt.datetime) -> Optional[dt.datetime]:
    """The earliest moment after `now` at which one of `lotsen` is available (aware, in `now`'s
    time zone), or None if none of them is within the next two weeks."""
    local = _local(now)
    times = []
    for lotse in lotsen:
        hours = _hours(lotse.availability)
        if hours is None:
            continue
        if hours.is_open(local):
            return now
        change = hours.next_change(local)
        if change is not None and change - local <= LOOKAHEAD:
            times.append(change)
    return min(times).replace(tzinfo=now.tzinfo) if times else None


def format_when(moment: dt.datetime, language: str) -> str:
    """e.g. "Dienstag, 1. Dezember 2026, 17:00" / "вівторок, 1 грудня 2026 р., 17:00": the
    locale's full date and short time, joined the locale's own way (CLDR via Babel)."""
    from welcomebot.i18n import locale_of

    locale = locale_of(language)
    date = format_date(moment, "full", locale=locale)
    time = format_time(moment, "short", locale=locale)
    pattern = str(locale.datetime_formats["long"]).replace("'", "")
    return pattern.replace("{1}", date).replace("{0}", time)


def _local(moment: dt.datetime) -> dt.datetime:
    # opening_hours-py compares naive local times; the availability is in the district's zone.
    return moment.replace(tzinfo=None)


@functools.lru_cache(maxsize=256)
def _hours(expression: str) -> Optional[OpeningHours]:
    try:
        return OpeningHours(expression)
    except Exception:  # validated when content is loaded; never break a request over it
        return None
