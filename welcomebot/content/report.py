"""`welcomebot content report`: what is covered and what is missing, for staff.

Three views of the current content: categories × municipalities (how many current offers serve
each town in each category; district-wide offers count for every town), languages × offers
(which offers lack a title or summary in which language), and offers without opening hours or
without a direct contact (phone or e-mail). As terminal text and as one static HTML file.
"""
from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass

from .model import CATEGORIES, ContentSnapshot


@dataclass
class ContentReport:
    towns: list[tuple[str, str]]  # (id, German name)
    languages: tuple[str, ...]
    coverage: dict[str, dict[str, int]]  # category -> town id -> current offers
    missing: dict[str, list[str]]  # offer id -> languages without title or summary
    no_hours: list[str]
    no_contact: list[str]
    imported: list[tuple[str, str]]  # (event id, start) of events from calendars
    offers: int
    events: int

    @classmethod
    def build(cls, snapshot: ContentSnapshot, languages: tuple[str, ...], now: dt.datetime) -> "ContentReport":
        towns = [(m.id, m.name.text("de")) for m in snapshot.district.municipalities]
        current = [o for o in snapshot.offers.values() if o.is_current(now)]
        events = snapshot.upcoming_events(now)
        coverage = {
            category: {town: sum(1 for o in (events if category == "events" else current)
                                 if o.category == category and o.serves(town)) for town, _ in towns}
            for category in CATEGORIES
        }
        missing = {}
        for item in sorted([*current, *events], key=lambda o: o.id):
            lacking = [code for code in languages if not (item.title.has(code) and item.summary.has(code))]
            if lacking:
                missing[item.id] = lacking
        return cls(
            towns=towns, languages=languages, coverage=coverage, missing=missing,
            no_hours=sorted(o.id for o in current if not _opens_soon(o.opening_hours, now)),
            no_contact=sorted(o.id for o in [*current, *events] if not (o.contact.phone or o.contact.email)),
            imported=[(e.id, e.start.isoformat(timespec="minutes")) for e in events if e.is_imported],
            offers=len(current), events=len(events),
        )

    def gaps(self) -> list[tuple[str, str]]:
        """(category, town) with no offer at all."""
        return [(c, t) for c, row in self.coverage.items() for t, n in row.items() if n == 0]

    def missing_per_language(self) -> dict[str, int]:
        return {code: sum(1 for langs in self.missing.values() if code in langs) for code in self.languages}


def _opens_soon(hours: str | None, now: dt.datetime, weeks: int = 8) -> bool:
    """Whether the opening hours say when to go in the coming weeks: "off", or rules for a past
    year only, tell a newcomer nothing (opening_hours itself is required for offers)."""
    if not hours:
        return False
    from opening_hours import OpeningHours, State

    start = now.replace(tzinfo=None)
    try:
        return any(state == State.OPEN for _b, _e, state, _c in OpeningHours(hours).intervals(start, start + dt.timedelta(weeks=weeks)))
    except Exception:  # unparsable hours are reported by `content check`
        return False


def text_report(report: ContentReport) -> str:
    width = max(len(c) for c in CATEGORIES) + 2
    lines = [f"{report.offers} current offers, {report.events} upcoming events.", "",
             "Offers per category and town (0 = nothing for newcomers there):",
             " " * width + "".join(f"{town[:10]:>11}" for town, _ in report.towns)]
    for category, row in report.coverage.items():
        lines.append(f"{category:<{width}}" + "".join(f"{row[t]:>11}" for t, _ in report.towns))
    lines += ["", f"Offers and events lacking a title or summary, per language (of {report.offers + report.events}):"]
    lines += [f"  {code}: {count}" for code, count in report.missing_per_language().items()]
    for item_id, langs in report.missing.items():
        lines.append(f"  {item_id}: missing {', '.join(langs)}")
    lines += ["", f"Offers without opening hours in the next 8 weeks ({len(report.no_hours)}):"] + [f"  {i}" for i in report.no_hours]
    lines += ["", f"Offers and events without phone or e-mail ({len(report.no_contact)}):"] + [f"  {i}" for i in report.no_contact]
    lines += ["", f"Events imported from calendars ({len(report.imported)}; a hand-written event with the same id replaces one):"]
    lines += [f"  {i}  {start}" for i, start in report.imported]
    return "\n".join(lines)


def html_report(report: ContentReport) -> str:
    """One self-contained page (no scripts, no external requests)."""
    esc = html.escape
    head = "<tr><th>category</th>" + "".join(f"<th>{esc(name)}</th>" for _, name in report.towns) + "</tr>"
    rows = "".join(
        f"<tr><th>{esc(category)}</th>" + "".join(
            f'<td class="{"gap" if row[t] == 0 else "ok"}">{row[t]}</td>' for t, _ in report.towns) + "</tr>"
        for category, row in report.coverage.items())
    lang_head = "<tr><th>offer</th>" + "".join(f"<th>{esc(c)}</th>" for c in report.languages) + "</tr>"
    lang_rows = "".join(
        f"<tr><th>{esc(item)}</th>" + "".join(
            '<td class="gap">missing</td>' if code in langs else '<td class="ok">✓</td>' for code in report.languages) + "</tr>"
        for item, langs in report.missing.items())
    per_language = "".join(f"<li>{esc(c)}: {n}</li>" for c, n in report.missing_per_language().items())

    def items(ids: list[str]) -> str:
        return "<ul>" + "".join(f"<li>{esc(i)}</li>" for i in ids) + "</ul>" if ids else "<p>None.</p>"

    style = ("body{font-family:sans-serif;margin:2rem;max-width:75rem}table{border-collapse:collapse;margin:1rem 0}"
             "td,th{border:1px solid #ccc;padding:.2rem .5rem;text-align:left}td{text-align:center}"
             ".gap{background:#f8d7da}.ok{background:#e2f0d9}")
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>welcomebot content report</title>'
        f"<style>{style}</style></head><body><h1>Content report</h1>"
        f"<p>{report.offers} current offers, {report.events} upcoming events.</p>"
        f"<h2>Offers per category and town</h2><p>Red: newcomers in this town find nothing in this category.</p>"
        f"<table>{head}{rows}</table>"
        f"<h2>Missing translations</h2><p>Offers and events lacking a title or summary, per language:</p><ul>{per_language}</ul>"
        f"{f'<table>{lang_head}{lang_rows}</table>' if lang_rows else '<p>Every offer and event has every language.</p>'}"
        f"<h2>Offers without opening hours in the next 8 weeks</h2>{items(report.no_hours)}"
        f"<h2>Offers and events without phone or e-mail</h2>{items(report.no_contact)}"
        f"<h2>Events imported from calendars</h2><p>A hand-written event with the same id replaces one.</p>"
        f"{items([f'{i} ({start})' for i, start in report.imported])}"
        "</body></html>"
    )
