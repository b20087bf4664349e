"""Lotsen as content (SPEC §5): each mistake in `content/lotsen/<id>.yml` is reported with
file, line and field, a broken file keeps the last good Lotse, and edits need no restart."""
from __future__ import annotations

import time
from pathlib import Path

import pytest

from welcomebot.content import ContentStore, check_content

from .conftest import REQUIRED_LANGUAGES

GOOD_LOTSE = """\
id: anna-test
name: Anna
telegram_user_id: 7200000001
languages: [de, uk]
municipalities: [lindenau]
availability: "Mo-Fr 09:00-12:00"
"""


def problems_for(content: Path, text: str, name: str = "anna-test.yml", severity: str = "error") -> list[str]:
    (content / "lotsen" / name).write_text(text, encoding="utf-8")
    return [str(p) for p in check_content(content, ("de", "en")) if p.severity == severity]


def test_a_good_lotse_is_loaded(content_copy):
    assert problems_for(content_copy, GOOD_LOTSE) == []
    lotse = ContentStore(content_copy, REQUIRED_LANGUAGES).snapshot().lotsen["anna-test"]
    assert (lotse.name, lotse.telegram_user_id, lotse.languages) == ("Anna", 7200000001, ("de", "uk"))
    assert lotse.municipalities == frozenset({"lindenau"}) and lotse.covers("lindenau") and not lotse.covers("wiesbach")


@pytest.mark.parametrize("change, expected", [
    (("telegram_user_id: 7200000001", "telegram_user_id: \"@anna\""),
     "content/lotsen/anna-test.yml:3: error [telegram_user_id]: '@anna' is not a Telegram user id; it is a positive number"),
    (("telegram_user_id: 7200000001\n", ""),
     "content/lotsen/anna-test.yml:1: error [telegram_user_id]: the field 'telegram_user_id' is missing."),
    (("languages: [de, uk]", "languages: [de, ukrainisch]"),
     "content/lotsen/anna-test.yml:4: error [languages]: 'ukrainisch' is not a language code (use e.g. de, uk, ar)."),
    (("municipalities: [lindenau]", "municipalities: [lindenau, neustadt]"),
     "content/lotsen/anna-test.yml:5: error [municipalities]: 'neustadt' is not a town of the district"),
    (('availability: "Mo-Fr 09:00-12:00"', 'availability: "vormittags"'),
     "content/lotsen/anna-test.yml:6: error [availability]: 'vormittags' is not valid opening_hours syntax"),
    (("id: anna-test", "id: anna"),
     "content/lotsen/anna-test.yml:1: error [id]: the id 'anna' must be the file name without .yml ('anna-test')."),
    (("name: Anna\n", ""),
     "content/lotsen/anna-test.yml:1: error [name]: the field 'name' is missing."),
])
def test_each_mistake_names_file_line_and_field(content_copy, change, expected):
    old, new = change
    assert old in GOOD_LOTSE
    errors = problems_for(content_copy, GOOD_LOTSE.replace(old, new))
    assert any(e.startswith(expected) for e in errors), errors


def test_municipalities_all_and_unknown_fields(content_copy):
    text = GOOD_LOTSE.replace("municipalities: [lindenau]", "municipalities: all") + "phone: \"+49 170 1234567\"\n"
    assert problems_for(content_copy, text) == []
    warnings = problems_for(content_copy, text, severity="warning")
    assert any(w.startswith("content/lotsen/anna-test.yml:7: warning [phone]: 'phone' is not a known field") for w in warnings)
    assert ContentStore(content_copy, REQUIRED_LANGUAGES).snapshot().lotsen["anna-test"].municipalities is None


def test_two_lotsen_with_one_telegram_id_are_reported(content_copy):
    (content_copy / "lotsen" / "anna-test.yml").write_text(GOOD_LOTSE.replace("7200000001", "7100000001"), encoding="utf-8")
    snapshot = ContentStore(content_copy, REQUIRED_LANGUAGES).snapshot()
    assert any("7100000001 is also used by" in str(p) for p in snapshot.problems)


def test_a_broken_edit_keeps_the_last_good_lotse_and_a_fix_applies_without_restart(content_copy):
    path = content_copy / "lotsen" / "anna-test.yml"
    path.write_text(GOOD_LOTSE, encoding="utf-8")
    store = ContentStore(content_copy, REQUIRED_LANGUAGES, check_interval=0)
    assert store.snapshot().lotsen["anna-test"].availability == "Mo-Fr 09:00-12:00"
    time.sleep(0.01)
    path.write_text(GOOD_LOTSE.replace("Mo-Fr 09:00-12:00", "morgens"), encoding="utf-8")
    assert store.snapshot().lotsen["anna-test"].availability == "Mo-Fr 09:00-12:00"  # last good version serves
    time.sleep(0.01)
    path.write_text(GOOD_LOTSE.replace("Mo-Fr 09:00-12:00", "Sa 10:00-12:00"), encoding="utf-8")
    assert store.snapshot().lotsen["anna-test"].availability == "Sa 10:00-12:00"
