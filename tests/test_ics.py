"""Events from a town's iCalendar file: recurrences, exceptions, time zones, all-day events, and
hand-written events that override imported ones."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

from welcomebot.cli import main
from welcomebot.content import ContentStore, check_content

from .conftest import BERLIN, REQUIRED_LANGUAGES, ROOT

ICS = ROOT / "tests" / "data" / "lindenau-kalender.ics"
CALENDARS = """\
calendars:
  - id: lindenau-kalender
    municipalities: [lindenau]
    provider: Stadt Lindenau
    language: de
    contact:
      phone: "+49 5563 700-0"
"""


def imported(content: Path) -> dict:
    shutil.copy(ICS, content / "events" / "lindenau-kalender.ics")
    (content / "calendars.yml").write_text(CALENDARS, encoding="utf-8")
    snapshot = ContentStore(content, REQUIRED_LANGUAGES).snapshot()
    return {k: v for k, v in snapshot.events.items() if k.startswith("lindenau-kalender-")}


def local(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=BERLIN)


def test_weekly_recurrence_with_exdate_keeps_local_time_across_dst(content_copy):
    events = imported(content_copy)
    cafe = sorted((e for e in events.values() if e.ics_uid == "sprachcafe@lindenau.de"), key=lambda e: e.start)
    assert [e.start for e in cafe] == [local(2027, 3, 11, 18), local(2027, 3, 25, 18), local(2027, 4, 1, 18), local(2027, 4, 8, 18)]
    # 18:00 local stays 18:00 local: CET before 28 March 2027, CEST after.
    assert [e.start.utcoffset() for e in cafe] == [dt.timedelta(hours=1)] * 2 + [dt.timedelta(hours=2)] * 2
    assert [e.start.astimezone(dt.timezone.utc).hour for e in cafe] == [17, 17, 16, 16]
    first = cafe[0]
    assert first.id == "lindenau-kalender-sprachcafe-202703111800"
    assert first.end == local(2027, 3, 11, 20)
    assert first.title.values == {"de": "Sprachcafé im Rathaus"}
    assert first.summary.values == {"de": "Deutsch sprechen bei Kaffee und Kuchen."}
    assert first.address.one_line() == "Marktplatz 1, 37527 Lindenau"
    assert first.contact.url == "https://www.lindenau.de/sprachcafe" and first.contact.phone == "+49 5563 700-0"
    assert first.municipalities == frozenset({"lindenau"}) and first.provider == "Stadt Lindenau"


def test_monthly_recurrence_until(content_copy):
    events = imported(content_copy)
    evenings = sorted(e.start for e in events.values() if e.ics_uid == "elternabend@lindenau.de")
    assert evenings == [local(2026, 12, 15, 19), local(2027, 1, 15, 19), local(2027, 2, 15, 19),
                        local(2027, 3, 15, 19), local(2027, 4, 15, 19)]


def test_utc_floating_and_all_day_events(content_copy):
    events = imported(content_copy)
    online = events["lindenau-kalender-online-info-202701101800"]
    assert online.start == local(2027, 1, 10, 18) and online.end == local(2027, 1, 10, 19)
    market = events["lindenau-kalender-flohmarkt-202703200900"]  # no zone: the district's local time
    assert market.start == local(2027, 3, 20, 9) and market.end == local(2027, 3, 20, 13)
    fest = events["lindenau-kalender-stadtfest-20270612"]  # DTEND of an all-day event is exclusive
    assert (fest.start, fest.end) == (local(2027, 6, 12, 0, 0), local(2027, 6, 13, 23, 59))
    assert fest.address is None and fest.summary.values == {"de": "Stadtpark Lindenau"}


def test_past_events_are_not_imported_and_imported_events_are_answered(content_copy, now):
    events = imported(content_copy)
    assert not any(e.ics_uid == "vergangen@lindenau.de" for e in events.values())
    assert len(events) == 4 + 5 + 1 + 1 + 1
    snapshot = ContentStore(content_copy, REQUIRED_LANGUAGES).snapshot()
    upcoming = snapshot.offers_for("events", now, "lindenau")
    assert "lindenau-kalender-elternabend-202612151900" in [e.id for e in upcoming]
    assert "lindenau-kalender-elternabend-202612151900" not in [e.id for e in snapshot.offers_for("events", now, "wiesbach")]


HAND_WRITTEN = """\
id: {id}
category: events
municipalities: [lindenau]
provider: Stadt Lindenau
title:
  de: Sprachcafé (diesmal in der Bücherei)
  en: Language café (this time in the library)
summary:
  de: Ausnahmsweise in der Bücherei.
  en: This time in the library.
contact:
  phone: "+49 5563 700-0"
languages_spoken: [de]
start: 2027-03-25T18:00:00+01:00
end: 2027-03-25T20:00:00+01:00
"""


def test_hand_written_event_with_the_same_id_overrides_the_imported_one(content_copy):
    event_id = "lindenau-kalender-sprachcafe-202703251800"
    (content_copy / "events" / f"{event_id}.yml").write_text(HAND_WRITTEN.format(id=event_id), encoding="utf-8")
    events = imported(content_copy)
    assert events[event_id].title.values["de"] == "Sprachcafé (diesmal in der Bücherei)"
    assert sum(1 for e in events.values() if e.ics_uid == "sprachcafe@lindenau.de") == 3  # the other three stay


def test_hand_written_event_with_ics_uid_replaces_every_occurrence(content_copy):
    text = HAND_WRITTEN.format(id="sprachcafe-ersatz") + "ics_uid: sprachcafe@lindenau.de\n"
    (content_copy / "events" / "sprachcafe-ersatz.yml").write_text(text, encoding="utf-8")
    snapshot_events = imported(content_copy)
    assert not any(e.ics_uid == "sprachcafe@lindenau.de" for e in snapshot_events.values())
    assert "sprachcafe-ersatz" in ContentStore(content_copy, REQUIRED_LANGUAGES).snapshot().events


def test_broken_ics_is_reported_and_the_last_good_version_keeps_serving(content_copy):
    store = ContentStore(content_copy, REQUIRED_LANGUAGES, check_interval=0)
    target = content_copy / "events" / "lindenau-kalender.ics"
    shutil.copy(ICS, target)
    good = len(store.snapshot().events)
    target.write_text(ICS.read_text()[:300], encoding="utf-8")  # half saved
    snapshot = store.snapshot()
    assert len(snapshot.events) == good
    errors = [str(p) for p in snapshot.problems if p.severity == "error"]
    assert len(errors) == 1 and errors[0].startswith("content/events/lindenau-kalender.ics: error: the file is not a valid iCalendar (.ics) file")


def test_calendar_entry_with_unknown_town_is_an_error(content_copy):
    (content_copy / "calendars.yml").write_text(CALENDARS.replace("[lindenau]", "[lindenau, neustadt]"), encoding="utf-8")
    errors = [str(p) for p in check_content(content_copy, ("de",)) if p.severity == "error"]
    assert errors == ["content/calendars.yml:3: error [calendars[0].municipalities]: 'neustadt' is not a town of the district; "
                      "use one of: auenstadt, birkenfelde, lindenau, steinhagen, wiesbach, or all."]


def test_import_ics_fetches_the_feed_into_the_events_folder(content_copy, capsys):
    (content_copy / "calendars.yml").write_text(CALENDARS + f"    url: {ICS.as_uri()}\n", encoding="utf-8")
    assert main(["content", "import-ics", "--content-dir", str(content_copy)]) == 0
    assert (content_copy / "events" / "lindenau-kalender.ics").read_bytes() == ICS.read_bytes()
    # A feed that is not a calendar never replaces the good file.
    bad = content_copy / "not-a-calendar.txt"
    bad.write_text("<html>Wartungsarbeiten</html>", encoding="utf-8")
    (content_copy / "calendars.yml").write_text(CALENDARS + f"    url: {bad.as_uri()}\n", encoding="utf-8")
    assert main(["content", "import-ics", "--content-dir", str(content_copy)]) == 1
    assert "lindenau-kalender: not imported" in capsys.readouterr().err
    assert (content_copy / "events" / "lindenau-kalender.ics").read_bytes() == ICS.read_bytes()


def test_calendar_file_without_entry_is_a_warning(content_copy):
    shutil.copy(ICS, content_copy / "events" / "lindenau-kalender.ics")
    warnings = [str(p) for p in check_content(content_copy, ("de",)) if p.severity == "warning"]
    assert "content/events/lindenau-kalender.ics: warning: this calendar has no entry 'lindenau-kalender' in content/calendars.yml, " \
           "so its events are shown for the whole district without a provider; add the entry (see docs/content-format.md)." in warnings
    (content_copy / "calendars.yml").write_text(CALENDARS, encoding="utf-8")
    assert not any("calendar" in str(p) for p in check_content(content_copy, ("de",)))


def test_event_without_title_is_a_warning_with_its_line(content_copy):
    text = ICS.read_text(encoding="utf-8").replace("SUMMARY:Elternabend Kita\n", "")
    (content_copy / "events" / "lindenau-kalender.ics").write_text(text, encoding="utf-8")
    (content_copy / "calendars.yml").write_text(CALENDARS, encoding="utf-8")
    warnings = [str(p) for p in check_content(content_copy, ("de",)) if p.severity == "warning"]
    assert warnings == ["content/events/lindenau-kalender.ics:35: warning [SUMMARY]: the event elternabend@lindenau.de has no "
                        "SUMMARY (title) and is not shown."]


def test_a_running_store_moves_its_calendars_on_with_the_day(content_copy, monkeypatch):
    shutil.copy(ICS, content_copy / "events" / "lindenau-kalender.ics")
    (content_copy / "calendars.yml").write_text(CALENDARS, encoding="utf-8")
    store = ContentStore(content_copy, REQUIRED_LANGUAGES, check_interval=0)

    def evenings() -> list[dt.datetime]:
        return sorted(e.start for e in store.snapshot().events.values() if e.ics_uid == "elternabend@lindenau.de")

    monkeypatch.setenv("WELCOMEBOT_NOW", "2027-02-01T10:00:00")
    assert evenings()[0] == local(2027, 2, 15, 19)
    monkeypatch.setenv("WELCOMEBOT_NOW", "2027-04-01T10:00:00")  # no file changed, the day did
    assert evenings() == [local(2027, 4, 15, 19)]
