"""The shipped content: complete, valid, and answered by the model's queries."""
from __future__ import annotations

import collections

from welcomebot.content import CATEGORIES, ContentStore, check_content

from .conftest import REQUIRED_LANGUAGES, ROOT


def snapshot():
    return ContentStore(ROOT / "content", REQUIRED_LANGUAGES).snapshot()


def test_shipped_content_has_no_errors_or_warnings():
    problems = check_content(ROOT / "content", REQUIRED_LANGUAGES)
    assert [str(p) for p in problems] == []


def test_district_has_at_least_four_towns_and_every_category_three_offers():
    content = snapshot()
    assert len(content.district.municipalities) >= 4
    assert len(content.offers) >= 60
    per_category = collections.Counter(o.category for o in content.offers.values())
    assert {c: per_category[c] for c in CATEGORIES if per_category[c] < 3} == {}


def test_every_text_is_in_all_eight_languages():
    content = snapshot()
    missing = []
    for item in [*content.offers.values(), *content.events.values()]:
        for field in ("title", "summary"):
            missing += [(item.id, field, code) for code in REQUIRED_LANGUAGES if not getattr(item, field).has(code)]
    for step in content.first_steps.steps:
        missing += [(step.id, "text", code) for code in REQUIRED_LANGUAGES if not step.text.has(code)]
    assert missing == []


def test_at_least_eight_upcoming_events_sorted_by_start(now):
    events = snapshot().upcoming_events(now)
    assert len(events) >= 8
    assert [e.start for e in events] == sorted(e.start for e in events)
    assert all(e.end > now for e in events)


def test_every_town_gets_an_answer_for_every_category(now):
    content = snapshot()
    gaps = [(m.id, c) for m in content.district.municipalities for c in CATEGORIES
            if not content.offers_for(c, now, m.id)]
    assert gaps == []


def test_offers_for_filters_by_town_and_ranks_local_first(now):
    content = snapshot()
    offers = content.offers_for("registration", now, "lindenau")
    assert offers and all(o.serves("lindenau") for o in offers)
    assert all(o.municipalities is None or "lindenau" in o.municipalities for o in offers)


def test_audience_keeps_general_offers_and_drops_other_audiences(now):
    content = snapshot()
    for_women = content.offers_for("integration_course", now, None, "women")
    assert all(not o.audience or "women" in o.audience for o in for_women)
    targeted = [o for o in for_women if o.audience]
    assert targeted, "the content has a course for women"
    assert for_women.index(targeted[0]) == 0, "the audience's own offers come first"


def test_expired_offers_and_past_events_are_never_shown(now):
    import datetime as dt

    content = snapshot()
    later = now + dt.timedelta(days=3 * 365)
    assert content.upcoming_events(later) == []
    expiring = [o for o in content.offers.values() if o.valid_until]
    assert expiring, "some shipped offers are time-limited"
    after = dt.datetime.combine(max(o.valid_until for o in expiring) + dt.timedelta(days=1), dt.time(12), now.tzinfo)
    assert not any(o.valid_until for c in CATEGORIES for o in content.offers_for(c, after))


def test_language_fallback_english_then_german():
    from welcomebot.content import LocalizedText

    assert LocalizedText({"de": "Hallo", "en": "Hello"}).get("ar") == ("Hello", "en")
    assert LocalizedText({"de": "Hallo"}).get("ar") == ("Hallo", "de")
    assert LocalizedText({"de": "Hallo", "ar": "مرحبا"}).get("ar") == ("مرحبا", "ar")
