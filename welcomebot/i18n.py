"""UI strings: one gettext catalog per language in `locales/<code>/LC_MESSAGES/welcomebot.po`.

The languages the assistant speaks are the catalogs that exist: adding a language is adding its
catalog (plus training data and content translations), never changing code (SPEC §3).
Catalogs are compiled with Babel; a missing or stale `.mo` is compiled on first use.
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from . import settings

DOMAIN = "welcomebot"


def _catalog_dirs() -> list[Path]:
    root = settings.locales_dir()
    return sorted(p.parent.parent for p in root.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


@functools.lru_cache(maxsize=1)
def supported_languages() -> tuple[str, ...]:
    """Codes of every language with a catalog, in code order."""
    return tuple(p.name for p in _catalog_dirs())


def compile_catalogs() -> list[Path]:
    """Compile every `.po` whose `.mo` is missing or older; returns the files written."""
    written = []
    for directory in _catalog_dirs():
        po = directory / "LC_MESSAGES" / f"{DOMAIN}.po"
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source, locale=directory.name)
        tmp = mo.with_suffix(".mo.tmp")
        with tmp.open("wb") as target:
            write_mo(target, catalog, use_fuzzy=False)
        tmp.replace(mo)
        written.append(mo)
    return written


class Translator:
    """The UI strings and locale of one conversation language."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.locale = locale_of(language)
        self._translations = _translations(language)

    def __call__(self, message: str, **values: Any) -> str:
        text = self._translations.gettext(message)
        return text % values if values else text

    def plural(self, singular: str, plural: str, n: int, **values: Any) -> str:
        text = self._translations.ngettext(singular, plural, n)
        return text % {"n": n, **values}

    @property
    def is_rtl(self) -> bool:
        return is_rtl(self.language)


@functools.lru_cache(maxsize=None)
def _translations(language: str) -> NullTranslations:
    compile_catalogs()
    translations = Translations.load(str(settings.locales_dir()), [language], domain=DOMAIN)
    return translations


@functools.lru_cache(maxsize=None)
def translator(language: str) -> Translator:
    return Translator(language)


@functools.lru_cache(maxsize=None)
def locale_of(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en")


def is_rtl(language: str) -> bool:
    return locale_of(language).character_order == "right-to-left"


def own_name(language: str) -> str:
    """A language's name in itself ("العربية", "Українська"), capitalised as a picker label."""
    name = locale_of(language).get_display_name(language) or language
    return name[:1].upper() + name[1:]


def name_in(language: str, in_language: str) -> str:
    """A language's name in another language ("Arabisch" for ar in de)."""
    return locale_of(language).get_display_name(in_language) or language


def N_(message: str) -> str:
    """Marks a string for extraction where it is translated later (module-level constants)."""
    return message
