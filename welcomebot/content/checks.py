"""Checks across files and against today, made by `welcomebot content check` after loading:
duplicate ids, offers about to expire or expired, events that are over, stale translations."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path
from typing import Iterable

from .model import ContentSnapshot, Problem
from .translations import stale_translations

EXPIRY_WARNING_DAYS = 30


def duplicate_ids(files: Iterable[Path], label) -> list[Problem]:
    """Two files that make the same id: an offer and an event, or `x.yml` beside `x.yaml`."""
    by_id: dict[str, list[Path]] = defaultdict(list)
    for path in files:
        if path.parent.name in ("offers", "events") and path.suffix in (".yml", ".yaml"):
            by_id[path.stem].append(path)
    problems = []
    for item_id, paths in sorted(by_id.items()):
        for path in paths[1:]:
            problems.append(Problem(label(path), 1, "id", f"the id '{item_id}' is already used by {label(paths[0])}; "
                                    "every offer and event needs its own id (and file name)."))
    return problems


def dates(snapshot: ContentSnapshot, now: dt.datetime, label) -> list[Problem]:
    today = now.date()
    problems = []
    for item in (*snapshot.offers.values(), *snapshot.events.values()):
        if item.source is None or item.is_imported:
            continue
        file = label(item.source)
        if item.valid_until is not None:
            line = item.lines.get("valid_until")
            days = (item.valid_until - today).days
            if days < 0:
                problems.append(Problem(file, line, "valid_until", f"this expired on {item.valid_until.isoformat()} and is no longer "
                                        "shown; change 'valid_until' if it continues, or delete the file.", "warning"))
            elif days <= EXPIRY_WARNING_DAYS:
                problems.append(Problem(file, line, "valid_until", f"this expires on {item.valid_until.isoformat()}, in {_days(days)}; "
                                        "change 'valid_until' if it continues.", "warning"))
        if item.is_event and item.end is not None and item.end <= now:
            problems.append(Problem(file, item.lines.get("end"), "end", f"the event ended on {item.end.date().isoformat()} and is "
                                    "no longer shown; delete the file.", "warning"))
    return problems


def _days(days: int) -> str:
    return {0: "less than a day (today)", 1: "1 day"}.get(days, f"{days} days")


def calendars_described(root: Path, files: list[Path], label) -> list[Problem]:
    """An .ics file without its entry in calendars.yml is shown district-wide, without provider."""
    from .loader import _Reader, parse_yaml

    path = root / "calendars.yml"
    data = parse_yaml(path, _Reader(str(path), ())) if path.is_file() else None
    entries = data.get("calendars") if data is not None else None
    described = {str(e.get("id")) for e in entries if isinstance(e, dict)} if isinstance(entries, list) else set()
    return [
        Problem(label(f), None, None, f"this calendar has no entry '{f.stem}' in content/calendars.yml, so its events are "
                "shown for the whole district without a provider; add the entry (see docs/content-format.md).", "warning")
        for f in files if f.suffix == ".ics" and f.stem not in described
    ]


def run_checks(root: Path, files: list[Path], snapshot: ContentSnapshot, now: dt.datetime, label) -> list[Problem]:
    return [*duplicate_ids(files, label), *dates(snapshot, now, label), *stale_translations(root),
            *calendars_described(root, files, label)]

