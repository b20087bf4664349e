"""Content as chat messages in the conversation's language: offers, events, the checklist.

Plain text with one fact per line (every channel can show it; Telegram and the widget style it
themselves), dates, times and weekday names formatted for the locale with Babel, opening hours
parsed with `opening_hours` and rendered per weekday.
"""
from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Optional

from babel.dates import format_interval, format_skeleton, format_time
from opening_hours import OpeningHours, State

from welcomebot.content import LocalizedText, Offer
from welcomebot.i18n import N_, Translator, name_in

# Topic labels for menus and headings, translated through the catalogs.
TOPIC_LABELS: dict[str, str] = {
    "first_steps": N_("First steps"),
    "integration_course": N_("German and integration courses"),
    "counselling": N_("Counselling"),
    "registration": N_("Registering your address"),
    "immigration_office": N_("Residence permit and visa"),
    "work": N_("Work and jobs"),
    "benefits": N_("Money and benefits"),
    "housing": N_("Housing"),
    "health": N_("Health"),
    "children": N_("Children and school"),
    "clubs": N_("Clubs and volunteering"),
    "meeting_places": N_("Meeting places"),
    "events": N_("Events"),
    "transport": N_("Buses and getting around"),
    "emergency": N_("Emergency and protection"),
    "discrimination": N_("Discrimination"),
}
TOPIC_ICONS: dict[str, str] = {
    "first_steps": "👋", "integration_course": "📚", "counselling": "🤝", "registration": "🏠",
    "immigration_office": "🛂", "work": "💼", "benefits": "💶", "housing": "🔑", "health": "🩺",
    "children": "🧒", "clubs": "⚽", "meeting_places": "☕", "events": "📅", "transport": "🚌",
    "emergency": "🆘", "discrimination": "⚖️",
}


def topic_label(category: str, _: Translator) -> str:
    return f"{TOPIC_ICONS.get(category, '')} {_(TOPIC_LABELS[category])}".strip()


@dataclass
class Rendered:
    text: str
    fallback_languages: set[str]  # languages used instead of the conversation's


def _text(value: Optional[LocalizedText], language: str, used: set[str]) -> str:
    if value is None:
        return ""
    text, code = value.get(language)
    if code != language:
        used.add(code)
    return text


def render_offer(offer: Offer, _: Translator, now: dt.datetime) -> Rendered:
    language = _.language
    used: set[str] = set()
    lines = [f"{TOPIC_ICONS.get(offer.category, '•')} {_text(offer.title, language, used)}"]
    if offer.provider:
        lines.append(offer.provider)
    lines.append(_text(offer.summary, language, used))
    if offer.is_event:
        lines.append("📅 " + event_time(offer, _))
    if offer.address:
        lines.append("📍 " + offer.address.one_line())
    if offer.opening_hours and not offer.is_event:
        hours = opening_hours_text(offer.opening_hours, _, now)
        if hours:
            lines.append("🕒 " + hours)
    contact = offer.contact
    if contact.phone:
        lines.append("📞 " + contact.phone)
    if contact.email:
        lines.append("✉️ " + contact.email)
    if contact.url:
        lines.append("🌐 " + contact.url)
    if offer.languages_spoken:
        names = ", ".join(name_in(code, language) for code in offer.languages_spoken)
        lines.append("🗣 " + _("Languages spoken: %(languages)s", languages=names))
    # A single newline between lines: Rasa splits a text at blank lines into separate messages.
    return Rendered("\n".join(line for line in lines if line), used)


def event_time(event: Offer, _: Translator) -> str:
    locale = _.locale
    start, end = event.start, event.end
    if end is None or start.date() == end.date():
        day = format_skeleton("yMMMMEd", start, locale=locale)
        times = format_interval(start.time(), end.time(), "Hm", locale=locale) if end else format_time(start, "short", locale=locale)
        return f"{day}, {times}"
    return format_interval(start, end, "yMMMMEd", locale=locale)


def opening_hours_text(expression: str, _: Translator, now: dt.datetime) -> str:
    """e.g. "Mo–Do 08:30–12:00 · Di, Do 14:00–17:00 — geöffnet bis 12:00"."""
    hours = _parsed(expression)
    if hours is None:  # validated when loaded; a parser change must not break an answer
        return expression
    local_now = now.replace(tzinfo=None)
    next_monday = local_now.date() + dt.timedelta(days=7 - local_now.weekday())
    week = _week_schedule(expression, next_monday)
    if all(day == ((dt.time(0, 0), dt.time(0, 0)),) for day in week):
        return _("open 24 hours, every day")
    schedule = _group_days(week, _)
    return f"{schedule} — {_open_now(hours, local_now, _)}" if schedule else _open_now(hours, local_now, _)


Interval = tuple[dt.time, dt.time]


@functools.lru_cache(maxsize=2048)
def _parsed(expression: str) -> Optional[OpeningHours]:
    try:
        return OpeningHours(expression)
    except Exception:
        return None


@functools.lru_cache(maxsize=2048)
def _week_schedule(expression: str, monday: dt.date) -> tuple[tuple[Interval, ...], ...]:
    """Open intervals per weekday (0 = Monday) of the week starting `monday`; computed once per
    expression and week, not per answer."""
    start = dt.datetime.combine(monday, dt.time(0, 0))
    week: list[list[Interval]] = [[] for _ in range(7)]
    for begin, end, state, _comment in _parsed(expression).intervals(start, start + dt.timedelta(days=7)):
        if state == State.OPEN:
            cursor = begin
            while cursor < end:
                day_end = dt.datetime.combine(cursor.date() + dt.timedelta(days=1), dt.time(0, 0))
                piece_end = min(end, day_end)
                week[cursor.weekday()].append((cursor.time(), piece_end.time()))
                cursor = piece_end
    return tuple(tuple(day) for day in week)


def _group_days(week: tuple[tuple[Interval, ...], ...], _: Translator) -> str:
    names = _.locale.days["format"]["abbreviated"]
    groups: list[tuple[list[int], tuple[Interval, ...]]] = []
    for day in range(7):
        if not week[day]:
            continue
        if groups and groups[-1][1] == week[day] and groups[-1][0][-1] == day - 1:
            groups[-1][0].append(day)
        else:
            groups.append(([day], week[day]))
    parts = []
    for days, intervals in groups:
        label = names[days[0]] if len(days) == 1 else f"{names[days[0]]}–{names[days[-1]]}"
        times = ", ".join(_interval(a, b, _) for a, b in intervals)
        parts.append(f"{label} {times}")
    return " · ".join(parts)


def _interval(start: dt.time, end: dt.time, _: Translator) -> str:
    end_text = "24:00" if end == dt.time(0, 0) else format_time(end, "short", locale=_.locale)
    return f"{format_time(start, 'short', locale=_.locale)}–{end_text}"


def _open_now(hours: OpeningHours, now: dt.datetime, _: Translator) -> str:
    try:
        is_open = hours.is_open(now)
        change = hours.next_change(now)
    except Exception:
        return ""
    if is_open:
        return _("open now, until %(time)s", time=format_time(change, "short", locale=_.locale)) if change else _("open now")
    if change is None:
        return _("closed")
    if change.date() == now.date():
        return _("closed now, opens at %(time)s", time=format_time(change, "short", locale=_.locale))
    when = f"{format_skeleton('E', change, locale=_.locale)} {format_time(change, 'short', locale=_.locale)}"
    return _("closed now, opens %(when)s", when=when)
