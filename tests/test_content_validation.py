"""Each kind of mistake staff make in a content file gets a message naming file, line and field."""
from __future__ import annotations

from pathlib import Path

import pytest

from welcomebot.cli import main
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


def all_problems(content: Path, languages=("de", "en")) -> list[str]:
    return [str(p) for p in check_content(content, languages)]


def test_url_without_scheme_is_an_error(content_copy):
    errors = problems_for(content_copy, GOOD_OFFER.replace("  email: kurse@vhs-auental.de", "  url: www.vhs-auental.de"))
    assert errors == ["content/offers/sprachkurs-test.yml:17: error [contact.url]: 'www.vhs-auental.de' is not a web address; it must start with https://."]


def test_a_date_that_does_not_exist_is_an_error(content_copy):
    errors = problems_for(content_copy, GOOD_OFFER + "valid_until: 2027-02-30\n")
    assert errors == ["content/offers/sprachkurs-test.yml:20: error [valid_until]: the date 2027-02-30 does not exist (day is out of range for month)."]


def test_the_same_id_as_offer_and_event_is_an_error(content_copy):
    (content_copy / "offers" / "sprachkurs-test.yml").write_text(GOOD_OFFER, encoding="utf-8")
    event = GOOD_OFFER.replace("category: integration_course", "category: events").replace(
        'opening_hours: "Mo-Th 18:00-20:00"\n', "start: 2027-02-18T18:00:00+01:00\nend: 2027-02-18T20:00:00+01:00\n")
    (content_copy / "events" / "sprachkurs-test.yml").write_text(event, encoding="utf-8")
    errors = [p for p in all_problems(content_copy) if ": error" in p]
    assert errors == ["content/events/sprachkurs-test.yml:1: error [id]: the id 'sprachkurs-test' is already used by "
                      "content/offers/sprachkurs-test.yml; every offer and event needs its own id (and file name)."]


def test_a_copy_saved_as_yaml_beside_yml_is_an_error(content_copy):
    (content_copy / "offers" / "sprachkurs-test.yml").write_text(GOOD_OFFER, encoding="utf-8")
    (content_copy / "offers" / "sprachkurs-test.yaml").write_text(GOOD_OFFER, encoding="utf-8")
    errors = [p for p in all_problems(content_copy) if ": error" in p]
    assert errors == ["content/offers/sprachkurs-test.yml:1: error [id]: the id 'sprachkurs-test' is already used by "
                      "content/offers/sprachkurs-test.yaml; every offer and event needs its own id (and file name)."]


def test_offer_expiring_within_30_days_is_a_warning(content_copy):
    # Today is pinned to 2026-12-01 (tests/conftest.py).
    problems_for(content_copy, GOOD_OFFER + "valid_until: 2026-12-20\n")
    assert "content/offers/sprachkurs-test.yml:20: warning [valid_until]: this expires on 2026-12-20, in 19 days; " \
           "change 'valid_until' if it continues." in all_problems(content_copy)
    problems_for(content_copy, GOOD_OFFER + "valid_until: 2027-01-01\n")
    assert not any("[valid_until]" in p for p in all_problems(content_copy))


def test_expired_offer_and_past_event_are_warnings(content_copy):
    problems_for(content_copy, GOOD_OFFER + "valid_until: 2026-11-30\n")
    event = GOOD_OFFER.replace("id: sprachkurs-test", "id: infoabend-test").replace("category: integration_course", "category: events").replace(
        'opening_hours: "Mo-Th 18:00-20:00"\n', "start: 2026-11-18T18:00:00+01:00\nend: 2026-11-18T20:00:00+01:00\n")
    (content_copy / "events" / "infoabend-test.yml").write_text(event, encoding="utf-8")
    problems = all_problems(content_copy)
    assert "content/offers/sprachkurs-test.yml:20: warning [valid_until]: this expired on 2026-11-30 and is no longer shown; " \
           "change 'valid_until' if it continues, or delete the file." in problems
    assert "content/events/infoabend-test.yml:19: warning [end]: the event ended on 2026-11-18 and is no longer shown; delete the file." in problems


def test_german_text_changed_after_translations_were_confirmed_is_a_warning(content_copy):
    target = content_copy / "offers" / "sprachkurs-test.yml"
    target.write_text(GOOD_OFFER, encoding="utf-8")
    assert main(["content", "translations", "--confirm", "--content-dir", str(content_copy), str(target)]) == 0
    assert not any("was changed after" in p for p in all_problems(content_copy))
    target.write_text(GOOD_OFFER.replace("Abends, für Berufstätige.", "Abends und samstags, für Berufstätige."), encoding="utf-8")
    stale = [p for p in all_problems(content_copy) if "was changed after" in p]
    assert stale == ["content/offers/sprachkurs-test.yml:9: warning [summary]: the German text of 'summary' was changed after its "
                     "translations (en) were confirmed; update them, then run: welcomebot content translations --confirm "
                     "content/offers/sprachkurs-test.yml"]
    # Spacing only is no change; confirming again clears the warning.
    assert main(["content", "translations", "--confirm", "--content-dir", str(content_copy), str(target)]) == 0
    assert not any("was changed after" in p for p in all_problems(content_copy))


def test_check_exit_codes_for_ci(content_copy, capsys):
    (content_copy / "offers" / "sprachkurs-test.yml").write_text(GOOD_OFFER, encoding="utf-8")
    assert main(["content", "check", "--content-dir", str(content_copy)]) == 0
    assert main(["content", "check", "--strict", "--content-dir", str(content_copy)]) == 1  # missing translations warn
    (content_copy / "offers" / "sprachkurs-test.yml").write_text(GOOD_OFFER.replace("category: integration_course", "category: kurse"), encoding="utf-8")
    assert main(["content", "check", "--content-dir", str(content_copy)]) == 1
    out = capsys.readouterr().out
    assert "content/offers/sprachkurs-test.yml:2: error [category]: 'kurse' is not a category" in out
    assert "1 error(s)" in out


def test_shipped_content_has_no_errors():
    from .conftest import ROOT

    assert [p for p in all_problems(ROOT / "content", REQUIRED_LANGUAGES) if ": error" in p] == []
