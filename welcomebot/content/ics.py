"""Events from a town's iCalendar file (`content/events/<calendar>.ics`).

Towns already publish their event calendars; staff drop the `.ics` file into `content/events/`
(or list its address in `content/calendars.yml` and run `welcomebot content import-ics`). What
the calendar does not say — the towns it is for, the provider, its language, a contact — comes
from the calendar's entry in `content/calendars.yml`.

Recurring events (RRULE, RDATE, EXDATE) are expanded to single events within a horizon (the
next 12 months) with `recurring_ical_events`; times with a TZID keep their zone across DST,
UTC times and floating times (no zone) are shown in the district's zone, all-day events last
the whole local day. Each occurrence becomes an `Offer` with `start`/`end`, id
`<calendar>-<uid>-<yyyymmdd[hhmm]>`; a hand-written event with the same id, or with
`ics_uid: <UID>`, replaces imported ones (see `store.py`).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional
from zoneinfo import ZoneInfo

from .model import Address, Contact, LocalizedText, Offer, Problem
from .yaml_lines import LineDict

HORIZON_DAYS = 365
_ADDRESS = re.compile(r"^(?P<street>[^,]+),\s*(?P<postcode>\d{5})\s+(?P<town>[^,]+)")


@dataclass(frozen=True)
class Calendar:
    """A calendar's entry in `content/calendars.yml`."""

    id: str
    municipalities: Optional[frozenset[str]] = None  # None: the whole district
    provider: str = ""
    language: str = "de"
    url: Optional[str] = None
    contact: Contact = field(default_factory=Contact)
    line: int = 0


def read_ics(path: Path, calendar: Calendar, timezone: ZoneInfo, now: dt.datetime,
             label: Optional[str] = None) -> tuple[Optional[list[Offer]], list[Problem]]:
    """The occurrences of a calendar file from `now` to the horizon, or problems."""
    import icalendar
    import recurring_ical_events

    name = label or str(path)
    try:
        parsed = icalendar.Calendar.from_ical(path.read_bytes())
    except OSError as error:
        return None, [Problem(name, None, None, f"the file cannot be read ({error.strerror}).")]
    except ValueError as error:
        return None, [Problem(name, None, None, f"the file is not a valid iCalendar (.ics) file: {error}.")]
    problems: list[Problem] = []
    raw_lines = path.read_bytes().decode("utf-8", "replace").splitlines()
    try:
        window_end = now + dt.timedelta(days=HORIZON_DAYS)
        occurrences = recurring_ical_events.of(parsed).between(now - dt.timedelta(days=1), window_end)
    except Exception as error:  # the library raises several kinds for bad recurrence rules
        return None, [Problem(name, None, None, f"the recurring events cannot be read: {error}.")]
    events: list[Offer] = []
    for component in occurrences:
        event = _offer(component, calendar, timezone, path, name, problems, raw_lines)
        if event is not None and event.end > now:
            events.append(event)
    return sorted(events, key=lambda e: (e.start, e.id)), problems


def _offer(component, calendar: Calendar, timezone: ZoneInfo, path: Path, name: str,
           problems: list[Problem], raw_lines: list[str]) -> Optional[Offer]:
    uid = str(component.get("UID") or "")
    title = str(component.get("SUMMARY") or "").strip()
    if not title:
        line = next((n for n, text in enumerate(raw_lines, 1) if uid and text.strip() == f"UID:{uid}"), None)
        problem = Problem(name, line, "SUMMARY", f"the event {uid or 'without UID'} has no SUMMARY (title) and is not shown.", "warning")
        if problem not in problems:  # once, not once per occurrence
            problems.append(problem)
        return None
    start, end = _times(component, timezone)
    description = str(component.get("DESCRIPTION") or "").strip()
    location = str(component.get("LOCATION") or "").strip()
    address = _address(location)
    summary = description or (location if location and address is None else title)
    url = str(component.get("URL") or "").strip() or None
    organizer = str(component.get("ORGANIZER") or "")
    email = organizer[7:] if organizer.lower().startswith("mailto:") else None
    contact = Contact(calendar.contact.phone, email or calendar.contact.email, url or calendar.contact.url)
    stamp = start.strftime("%Y%m%d") if _is_all_day(component) else start.strftime("%Y%m%d%H%M")
    return Offer(
        id=f"{calendar.id}-{slug(uid or title)}-{stamp}", category="events", municipalities=calendar.municipalities,
        audience=frozenset(), provider=calendar.provider, title=LocalizedText({calendar.language: title}),
        summary=LocalizedText({calendar.language: summary}), address=address, contact=contact,
        opening_hours=None, languages_spoken=(calendar.language,), start=start, end=end, source=path,
        ics_uid=uid or None,
    )


def _is_all_day(component) -> bool:
    value = component.get("DTSTART").dt
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def _times(component, timezone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    start = component.get("DTSTART").dt
    end_prop = component.get("DTEND")
    end = end_prop.dt if end_prop is not None else None
    if _is_all_day(component):
        first = start
        last = (end - dt.timedelta(days=1)) if isinstance(end, dt.date) and end > start else start
        return (dt.datetime.combine(first, dt.time(0, 0), timezone),
                dt.datetime.combine(last, dt.time(23, 59), timezone))
    start = _local(start, timezone)
    if end is None:
        duration = component.get("DURATION")
        end = start + (duration.dt if duration is not None else dt.timedelta(hours=1))
    return start, _local(end, timezone)


def _local(moment: dt.datetime, timezone: ZoneInfo) -> dt.datetime:
    """A TZID or UTC time is converted to the district's zone; a floating time is taken as local."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone)
    return moment.astimezone(timezone)


def _address(location: str) -> Optional[Address]:
    match = _ADDRESS.match(location)
    if not match:
        return None
    return Address(match["street"].strip(), match["postcode"], match["town"].strip())


def slug(text: str) -> str:
    """An id part: lower-case letters, digits, hyphens."""
    text = text.split("@")[0].lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:40] or "event"


# -- content/calendars.yml ------------------------------------------------------------------

def read_calendars(data: LineDict, file: str, municipality_ids: set[str]) -> tuple[dict[str, Calendar], list[Problem]]:
    """Entries of `content/calendars.yml` (already parsed), checked."""
    problems: list[Problem] = []
    entries = data.get("calendars")
    if not isinstance(entries, list):
        return {}, [Problem(file, data.line_of("calendars"), "calendars", "list the calendars under 'calendars:', each with id and municipalities.")]
    calendars: dict[str, Calendar] = {}
    for index, entry in enumerate(entries):
        where = f"calendars[{index}]"
        if not isinstance(entry, dict) or not entry.get("id"):
            problems.append(Problem(file, entries.line_of(index), where, "each calendar needs an id (the .ics file name without .ics)."))
            continue
        calendar_id = str(entry["id"])
        if calendar_id in calendars:
            problems.append(Problem(file, entry.line_of("id"), f"{where}.id", f"the calendar id '{calendar_id}' is used twice."))
            continue
        towns = entry.get("municipalities", "all")
        municipalities = None
        if towns != "all":
            towns = [str(t) for t in towns] if isinstance(towns, list) else [str(towns)]
            unknown = [t for t in towns if t not in municipality_ids]
            if unknown:
                problems.append(Problem(file, entry.line_of("municipalities"), f"{where}.municipalities",
                                        f"'{unknown[0]}' is not a town of the district; use one of: {', '.join(sorted(municipality_ids))}, or all."))
                continue
            municipalities = frozenset(towns)
        contact = entry.get("contact") if isinstance(entry.get("contact"), dict) else {}
        calendars[calendar_id] = Calendar(
            id=calendar_id, municipalities=municipalities, provider=str(entry.get("provider") or ""),
            language=str(entry.get("language") or "de"), url=entry.get("url"),
            contact=Contact(contact.get("phone"), contact.get("email"), contact.get("url")), line=entry.line,
        )
    return calendars, problems


# -- `welcomebot content import-ics` ----------------------------------------------------------

def import_calendar(calendar: Calendar, events_dir: Path, timeout: float = 30.0) -> Path:
    """Fetch a calendar's `url` into `events/<id>.ics`. The file is replaced only by a download
    that parses as iCalendar, and atomically, so the running stack never sees a half file."""
    import os
    import tempfile
    import urllib.request

    import icalendar

    if not calendar.url:
        raise ValueError(f"the calendar '{calendar.id}' has no url")
    with urllib.request.urlopen(calendar.url, timeout=timeout) as response:  # noqa: S310 - staff's own feed list
        data = response.read()
    try:
        icalendar.Calendar.from_ical(data)
    except ValueError as error:
        raise ValueError(f"{calendar.url} is not an iCalendar file: {error}") from error
    events_dir.mkdir(parents=True, exist_ok=True)
    target = events_dir / f"{calendar.id}.ics"
    handle, temporary = tempfile.mkstemp(dir=events_dir, prefix=".tmp-", suffix=".ics")
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    os.replace(temporary, target)
    return target
