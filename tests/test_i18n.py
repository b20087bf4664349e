"""UI strings: every user-visible string is in the catalogs, translated in every language."""
from __future__ import annotations

import re
import subprocess
import sys

import pytest
from babel.messages.pofile import read_po

from welcomebot.i18n import is_rtl, own_name, supported_languages, translator

from .conftest import REQUIRED_LANGUAGES, ROOT

PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def test_the_required_languages_have_catalogs():
    assert set(REQUIRED_LANGUAGES) <= set(supported_languages())


def test_template_is_up_to_date_with_the_code(tmp_path):
    fresh = tmp_path / "fresh.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "N_", "-k", "plural:1,2",
                    "-o", str(fresh), "--sort-output", "."], cwd=ROOT, check=True, capture_output=True)
    ids = lambda path: {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(path.open("rb")) if m.id}
    assert ids(fresh) == ids(ROOT / "locales" / "welcomebot.pot"), "run pybabel extract (see babel.cfg) and update the catalogs"


@pytest.mark.parametrize("language", [code for code in REQUIRED_LANGUAGES if code != "en"])
def test_catalog_complete_with_placeholders(language):
    template = {m.id for m in read_po((ROOT / "locales" / "welcomebot.pot").open("rb")) if m.id}
    catalog = read_po((ROOT / "locales" / language / "LC_MESSAGES" / "welcomebot.po").open("rb"), locale=language)
    problems = []
    seen = set()
    for message in catalog:
        if not message.id:
            continue
        seen.add(message.id)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        needed = set(PLACEHOLDER.findall(" ".join(ids))) - ({"%(n)d"} if message.pluralizable else set())
        for text in strings:
            if not text:
                problems.append(f"untranslated: {ids[0]!r}")
            elif not needed <= set(PLACEHOLDER.findall(text)):
                problems.append(f"placeholder lost: {ids[0]!r} -> {text!r}")
    problems += [f"missing: {m!r}" for m in template - seen]
    assert problems == []


def test_plural_forms_follow_the_language():
    ar, ru, de = translator("ar"), translator("ru"), translator("de")
    forms = {n: ar.plural("I found %(n)d offer:", "I found %(n)d offers:", n) for n in (1, 2, 3, 11, 100)}
    assert len(set(forms.values())) >= 4  # Arabic has six plural categories
    assert ru.plural("I found %(n)d offer:", "I found %(n)d offers:", 2) != ru.plural("I found %(n)d offer:", "I found %(n)d offers:", 5)
    assert de.plural("I found %(n)d offer:", "I found %(n)d offers:", 1) == "Ich habe 1 Angebot gefunden:"


def test_rtl_and_own_names():
    assert is_rtl("ar") and is_rtl("fa") and not is_rtl("uk")
    assert own_name("ar") == "العربية" and own_name("uk") == "Українська" and own_name("fa") == "فارسی"
