"""Matching newcomers to Lotsen (SPEC §7): language, town, availability now, and when someone
will be — against the Lotsen in content/lotsen/ and small hand-made ones."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.handover.matching import candidates_for, format_when, is_available, match, next_available
from welcomebot.content import ContentStore, Lotse

from .conftest import BERLIN, REQUIRED_LANGUAGES, ROOT

TUESDAY_10 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)


def lotse(id: str, languages, towns, hours: str, user: int = 1) -> Lotse:
    return Lotse(id, id.title(), user, tuple(languages), frozenset(towns) if towns else None, hours)


@pytest.fixture(scope="module")
def lotsen():
    return list(ContentStore(ROOT / "content", REQUIRED_LANGUAGES).snapshot().lotsen.values())


def ids(found) -> list[str]:
    return [l.id for l in found]


def test_the_content_lotsen_cover_every_language_and_town():
    snapshot = ContentStore(ROOT / "content", REQUIRED_LANGUAGES).snapshot()
    assert len(snapshot.lotsen) >= 6
    assert {code for l in snapshot.lotsen.values() for code in l.languages} >= set(REQUIRED_LANGUAGES)
    towns = {m.id for m in snapshot.district.municipalities}
    for town in towns:  # every town has a Lotse of its own, besides the district-wide ones
        assert any(l.municipalities and town in l.municipalities for l in snapshot.lotsen.values()), town
    assert [p for p in snapshot.problems if "lotsen" in p.file] == []


def test_a_ukrainian_speaker_of_the_town_who_is_available_now_is_matched(lotsen):
    found = match(lotsen, "uk", "lindenau", TUESDAY_10)
    assert ids(found.available) == ["olena-kovalenko"]  # Irina speaks Ukrainian too, but not in Lindenau
    assert found.next_available is None
    assert ids(match(lotsen, "uk", "wiesbach", TUESDAY_10).available) == ["irina-sokolova"]


def test_municipality_all_covers_every_town(lotsen):
    monday_16 = dt.datetime(2026, 11, 30, 16, 0, tzinfo=BERLIN)
    for town in ("lindenau", "steinhagen", None):
        assert ids(match(lotsen, "ar", town, monday_16).available) == ["samir-haddad"]


def test_nobody_available_now_tells_when_the_first_one_will_be(lotsen):
    found = match(lotsen, "fa", "birkenfelde", TUESDAY_10)
    assert not found.anyone_now
    assert ids(found.candidates) == ["mariam-ahmadi"]
    assert found.next_available == dt.datetime(2026, 12, 1, 17, 0, tzinfo=BERLIN)  # Tu,Th 17:00-20:00


def test_next_available_looks_across_days_and_takes_the_earliest():
    early = lotse("early", ["de"], None, "Th 09:00-10:00")
    late = lotse("late", ["de"], None, "We 18:00-19:00")
    assert next_available([early, late], TUESDAY_10) == dt.datetime(2026, 12, 2, 18, 0, tzinfo=BERLIN)
    assert next_available([lotse("never", ["de"], None, "off")], TUESDAY_10) is None
    assert next_available([lotse("now", ["de"], None, "Tu 09:00-11:00")], TUESDAY_10) == TUESDAY_10


def test_availability_edges_are_half_open():
    one = lotse("one", ["de"], None, "Tu 10:00-11:00")
    assert is_available(one, TUESDAY_10)
    assert not is_available(one, TUESDAY_10.replace(hour=11))
    assert not is_available(one, TUESDAY_10 - dt.timedelta(minutes=1))


def test_a_town_without_a_speaker_widens_to_speakers_elsewhere_then_to_anyone():
    turkish = lotse("turkish", ["tr", "de"], ["steinhagen"], "Mo-Su 00:00-24:00")
    german = lotse("german", ["de"], ["lindenau"], "Mo-Su 00:00-24:00")
    assert ids(candidates_for([turkish, german], "tr", "lindenau")) == ["turkish"]
    assert ids(candidates_for([turkish, german], "ps", "lindenau")) == ["german"]  # nobody speaks Pashto yet
    assert ids(candidates_for([turkish, german], "ps", "wiesbach")) == ["german", "turkish"]
    assert candidates_for([], "de", None) == ()


def test_the_next_time_is_formatted_in_the_newcomers_locale():
    when = dt.datetime(2026, 12, 1, 17, 0, tzinfo=BERLIN)
    assert format_when(when, "de") == "Dienstag, 1. Dezember 2026, 17:00"
    assert format_when(when, "uk").replace("\u202f", " ") == "вівторок, 1 грудня 2026 р., 17:00"
    assert format_when(when, "fr") == "mardi 1 décembre 2026, 17:00"
    assert format_when(when, "en").replace("\u202f", " ") == "Tuesday, December 1, 2026, 5:00 PM"  # the locale's 12-hour clock
    assert format_when(when, "fa") == "سه‌شنبه 1 دسامبر 2026، ساعت 17:00"
