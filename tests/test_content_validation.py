"""Each kind of mistake staff make in a content file gets a message naming file, line and field."""
from __future__ import annotations

from pathlib import Path

import pytest

from welcomebot.content import check_content

from .conftest import REQUIRED_LANGUAGES

GOOD_OFFER = """\
id: sprachkurs-test
category: integration_course
municipalities: [lindenau]
provider: Volkshochschule Auental e.V.
title:
  de: Deutschkurs
  en: German course
summary:
  de: Abends, für Berufstätige.
  en: In the evening, for working people.
address:
  street: Rathausplatz 1
  postcode: "37527"
  town: Lindenau
contact:
  phone: "+49 5563 700-12"
  email: kurse@vhs-auental.de
opening_hours: "Mo-Th 18:00-20:00"
languages_spoken: [de, en]
"""


def problems_for(content: Path, text: str, name: str = "sprachkurs-test.yml"):
    (content / "offers" / name).write_text(text, encoding="utf-8")
    return [str(p) for p in check_content(content, ("de", "en")) if p.severity == "error"]


def test_good_offer_has_no_errors(content_copy):
    assert problems_for(content_copy, GOOD_OFFER) == []


@pytest.mark.parametrize("change, expected", [
    (("category: integration_course", "category: german_course"),
     "content/offers/sprachkurs-test.yml:2: error [category]: 'german_course' is not a category; use one of: first_steps, "),
    (("municipalities: [lindenau]", "municipalities: [lindenau, neustadt]"),
     "content/offers/sprachkurs-test.yml:3: error [municipalities]: 'neustadt' is not a town of the district; use one of: auenstadt, birkenfelde, lindenau, steinhagen, wiesbach, or all."),
    (("provider: Volkshochschule Auental e.V.\n", ""),
     "content/offers/sprachkurs-test.yml:1: error [provider]: the field 'provider' is missing."),
    (("  de: Deutschkurs\n", ""),
     "content/offers/sprachkurs-test.yml:5: error [title]: 'title' has no German (de) text; German is required."),
    (('  phone: "+49 5563 700-12"', '  phone: "+49 5563"'),
     "content/offers/sprachkurs-test.yml:16: error [contact.phone]: '+49 5563' is not a valid phone number; write it like \"+49 5561 702-410\"."),
    (("  email: kurse@vhs-auental.de", "  email: kurse(at)vhs-auental.de"),
     "content/offers/sprachkurs-test.yml:17: error [contact.email]: 'kurse(at)vhs-auental.de' is not a valid e-mail address."),
    (('  phone: "+49 5563 700-12"\n  email: kurse@vhs-auental.de\n', "  note: ring twice\n"),
     "content/offers/sprachkurs-test.yml:15: error [contact]: give at least one of phone, email or url."),
    (('opening_hours: "Mo-Th 18:00-20:00"', 'opening_hours: "Montag 18-20 Uhr"'),
     "content/offers/sprachkurs-test.yml:18: error [opening_hours]: 'Montag 18-20 Uhr' is not valid opening_hours syntax"),
    (('  postcode: "37527"', "  postcode: 3752"),
     "content/offers/sprachkurs-test.yml:13: error [address.postcode]: the postcode '3752' must have five digits (and be in quotes)."),
    (("id: sprachkurs-test", "id: sprachkurs"),
     "content/offers/sprachkurs-test.yml:1: error [id]: the id 'sprachkurs' must be the file name without .yml ('sprachkurs-test')."),
    (("languages_spoken: [de, en]", "languages_spoken: [de, englisch]"),
     "content/offers/sprachkurs-test.yml:19: error [languages_spoken]: 'englisch' is not a language code (use e.g. de, en, ar)."),
    (("languages_spoken: [de, en]", "languages_spoken: [de, en]\nvalid_until: 31.07.2027"),
     "content/offers/sprachkurs-test.yml:20: error [valid_until]: 'valid_until' must be a date like 2027-07-31, not '31.07.2027'."),
    (("audience: []\n" if False else "provider:", "audience: [frauen]\nprovider:"),
     "content/offers/sprachkurs-test.yml:4: error [audience]: 'frauen' is not an audience; use one of: women, youth, children, parents, seniors."),
])
def test_each_mistake_gets_its_message(content_copy, change, expected):
    old, new = change
    assert old in GOOD_OFFER
    errors = problems_for(content_copy, GOOD_OFFER.replace(old, new, 1))
    assert any(e.startswith(expected) for e in errors), errors


def test_yaml_syntax_error_names_the_line(content_copy):
    broken = GOOD_OFFER.replace("  en: German course", "  en: German course: evenings")
    errors = problems_for(content_copy, broken)
    assert errors == ["content/offers/sprachkurs-test.yml:7: error: the file is not valid YAML: mapping values are not allowed in this context."]


def test_tab_indentation_is_a_yaml_error(content_copy):
    errors = problems_for(content_copy, GOOD_OFFER.replace("  en: German course", "\ten: German course"))
    assert len(errors) == 1 and errors[0].startswith("content/offers/sprachkurs-test.yml:7: error: the file is not valid YAML")


def test_a_field_written_twice_is_reported(content_copy):
    errors = problems_for(content_copy, GOOD_OFFER + "category: housing\n")
    assert errors == ["content/offers/sprachkurs-test.yml:20: error: the file is not valid YAML: the field 'category' is written twice."]


def test_not_utf8_is_reported(content_copy):
    (content_copy / "offers" / "sprachkurs-test.yml").write_bytes(GOOD_OFFER.replace("für", "f\xfcr").encode("latin-1"))
    errors = [str(p) for p in check_content(content_copy, ("de",)) if p.severity == "error"]
    assert errors == ["content/offers/sprachkurs-test.yml:9: error: the file is not saved as UTF-8; save it again with UTF-8 encoding."]


def test_event_without_time_zone_and_ending_before_start(content_copy):
    event = GOOD_OFFER.replace("category: integration_course", "category: events").replace(
        'opening_hours: "Mo-Th 18:00-20:00"\n', "start: 2027-02-18T18:00:00\nend: 2027-02-18T20:00:00+01:00\n")
    (content_copy / "events" / "sprachkurs-test.yml").write_text(event, encoding="utf-8")
    errors = [str(p) for p in check_content(content_copy, ("de", "en")) if p.severity == "error"]
    assert errors == ["content/events/sprachkurs-test.yml:18: error [start]: 'start' has no time zone; add it, e.g. 2027-02-18T18:00:00+01:00."]
    later = event.replace("start: 2027-02-18T18:00:00\n", "start: 2027-02-18T21:00:00+01:00\n")
    (content_copy / "events" / "sprachkurs-test.yml").write_text(later, encoding="utf-8")
    errors = [str(p) for p in check_content(content_copy, ("de", "en")) if p.severity == "error"]
    assert errors == ["content/events/sprachkurs-test.yml:19: error [end]: the event ends before it starts; check 'start' and 'end'."]


def test_missing_translation_and_overriding_hours_are_warnings(content_copy):
    text = GOOD_OFFER.replace('opening_hours: "Mo-Th 18:00-20:00"', 'opening_hours: "Mo-Th 09:00-12:00; Tu 14:00-16:00"')
    (content_copy / "offers" / "sprachkurs-test.yml").write_text(text, encoding="utf-8")
    warnings = [str(p) for p in check_content(content_copy, REQUIRED_LANGUAGES) if p.severity == "warning"]
    assert "content/offers/sprachkurs-test.yml:5: warning [title.ar]: 'title' has no ar translation yet; newcomers get English or German." in warnings
    assert any(w.startswith("content/offers/sprachkurs-test.yml:18: warning [opening_hours]: the rule 'Tu 14:00-16:00' replaces 'Mo-Th 09:00-12:00' on Tu") for w in warnings)


def test_unknown_field_is_a_warning_naming_it(content_copy):
    (content_copy / "offers" / "sprachkurs-test.yml").write_text(GOOD_OFFER + "opening_hour: Mo 10:00-12:00\n", encoding="utf-8")
    warnings = [str(p) for p in check_content(content_copy, ("de", "en")) if p.severity == "warning"]
    assert warnings == ["content/offers/sprachkurs-test.yml:20: warning [opening_hour]: 'opening_hour' is not a known field and is ignored (a typo?)."]
