"""Content as messages: opening hours per weekday and open now, event dates in the locale."""
from __future__ import annotations

import datetime as dt

from actions.render import event_time, opening_hours_text, render_offer
from welcomebot.content import Address, Contact, LocalizedText, Offer
from welcomebot.i18n import translator

from .conftest import BERLIN

TUESDAY_10 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)


def offer(**changes) -> Offer:
    fields = dict(
        id="x", category="health", municipalities=None, audience=frozenset(), provider="Praxis",
        title=LocalizedText({"de": "Hausarzt", "en": "Family doctor"}), summary=LocalizedText({"de": "Ohne Termin.", "en": "No appointment."}),
        address=Address("Markt 1", "37520", "Auenstadt"), contact=Contact(phone="+49 5561 1234"),
        opening_hours="Mo-Fr 08:00-12:00", languages_spoken=("de", "ar"),
    )
    fields.update(changes)
    return Offer(**fields)


def test_weekdays_grouped_in_the_locale_and_open_now():
    assert opening_hours_text("Mo-Fr 08:00-12:00", translator("de"), TUESDAY_10) == "Mo.–Fr. 08:00–12:00 — jetzt geöffnet, bis 12:00"
    english = opening_hours_text("Mo,We 14:00-17:00", translator("en"), TUESDAY_10).replace("\u202f", " ")
    assert english.startswith("Mon 2:00 PM–5:00 PM · Wed 2:00 PM–5:00 PM")
    assert "Wed" in english.split("—")[1]  # opens next on Wednesday


def test_round_the_clock():
    assert opening_hours_text("24/7", translator("en"), TUESDAY_10) == "open 24 hours, every day"


def test_event_times_in_each_locale():
    event = offer(start=dt.datetime(2027, 2, 18, 18, 0, tzinfo=BERLIN), end=dt.datetime(2027, 2, 18, 20, 0, tzinfo=BERLIN))
    german = event_time(event, translator("de"))
    assert german.startswith("Do., 18. Feb. 2027") and "18:00–20:00" in german
    assert "2027" in event_time(event, translator("ar")) and "فبراير" in event_time(event, translator("ar"))
    week = offer(start=dt.datetime(2027, 9, 25, 10, 0, tzinfo=BERLIN), end=dt.datetime(2027, 10, 3, 18, 0, tzinfo=BERLIN))
    assert "25" in event_time(week, translator("fr")) and "3" in event_time(week, translator("fr"))


def test_offer_in_the_language_with_fallback_reported():
    shown = render_offer(offer(), translator("ar"), TUESDAY_10)
    assert "Family doctor" in shown.text and shown.fallback_languages == {"en"}
    assert "Markt 1, 37520 Auenstadt" in shown.text and "+49 5561 1234" in shown.text
    assert "العربية" in shown.text  # languages spoken, named in the conversation's language
    assert "\n\n" not in shown.text  # Rasa would split it into separate messages
    german = render_offer(offer(), translator("de"), TUESDAY_10)
    assert german.fallback_languages == set() and "Hausarzt" in german.text


def test_offer_without_address_or_hours():
    shown = render_offer(offer(address=None, opening_hours=None), translator("en"), TUESDAY_10)
    assert "📍" not in shown.text and "🕒" not in shown.text and "📞" in shown.text
