"""Statistics: the store's counts, scrubbing of fallback texts, retention, and the reports."""
from __future__ import annotations

import csv
import datetime as dt
import re

import pytest

from welcomebot.cli import main
from welcomebot.content import ContentStore
from welcomebot.stats.record import known_names
from welcomebot.stats.report import Period, StatsReport, html_report, text_report, write_csv
from welcomebot.stats.scrub import scrub
from welcomebot.stats.store import StatsStore

from .conftest import REQUIRED_LANGUAGES, ROOT

DAY = dt.date(2026, 12, 1)


@pytest.mark.parametrize("typed, stored", [
    ("meine mail ist amira.k@example.org bitte", "meine mail ist [e-mail] bitte"),
    ("schreib an amira (at) example.org", "schreib an [e-mail]"),
    ("ruf mich an 0176 12345678", "ruf mich an [number]"),
    ("Tel. +49 (0)5563 700-12 morgen", "Tel. [number] morgen"),
    ("ich wohne Hauptstraße 12 seit 2019", "ich wohne Hauptstraße [number] seit [number]"),
    ("رقمي ٠١٧٦١٢٣٤٥٦٧", "رقمي [number]"),
    ("see https://example.org/a?b=1 and www.test.de", "see [link] and [link]"),
])
def test_scrub_removes_contact_data_and_numbers(typed, stored):
    assert scrub(typed) == stored


def test_scrub_removes_names_the_bot_knows():
    content = ContentStore(ROOT / "content", REQUIRED_LANGUAGES).snapshot()
    names = known_names(content)
    assert "Lindenau" in names and "Volkshochschule Auental e.V." in names
    assert scrub("ich war bei der Volkshochschule Auental e.V. in lindenau", names) == "ich war bei der [name] in [name]"


def test_counts_are_exact_and_keyed_without_conversation(tmp_path):
    store = StatsStore(f"sqlite:///{tmp_path / 'stats.sqlite3'}")
    for _ in range(3):
        store.count_question(DAY, "ar", "lindenau", "ask_work")
    store.count_question(DAY, "ar", None, "ask_work")
    store.count_question(DAY + dt.timedelta(days=1), "de", "wiesbach", "greet")
    store.count_feedback(DAY, "ar", "ask_work", "up")
    store.count_feedback(DAY, "ar", "ask_work", "down")
    store.count_feedback(DAY, "ar", "ask_work", "up")
    with pytest.raises(ValueError):
        store.count_feedback(DAY, "ar", "ask_work", "meh")
    rows = [(q.day, q.language, q.municipality, q.intent, q.count) for q in store.question_counts(DAY, DAY + dt.timedelta(days=1))]
    assert rows == [(DAY, "ar", "lindenau", "ask_work", 3), (DAY, "ar", "unknown", "ask_work", 1),
                    (DAY + dt.timedelta(days=1), "de", "wiesbach", "greet", 1)]
    assert [(f.rating, f.count) for f in store.feedback_counts(DAY, DAY)] == [("down", 1), ("up", 2)]
    assert store.question_counts(DAY + dt.timedelta(days=2), DAY + dt.timedelta(days=9)) == []


def test_fallback_texts_are_purged_after_the_retention(tmp_path):
    store = StatsStore(f"sqlite:///{tmp_path / 'stats.sqlite3'}")
    store.keep_fallback(DAY - dt.timedelta(days=31), "de", None, "alt")
    store.keep_fallback(DAY - dt.timedelta(days=30), "de", None, "grenze")
    store.keep_fallback(DAY, "de", "lindenau", "neu")
    assert store.purge_texts(DAY, 30) == 1
    assert [f.text for f in store.fallback_texts(DAY - dt.timedelta(days=60), DAY)] == ["grenze", "neu"]


def filled_store(tmp_path) -> StatsStore:
    store = StatsStore(f"sqlite:///{tmp_path / 'stats.sqlite3'}")
    store.count_question(DAY, "ar", "lindenau", "ask_work")
    store.count_question(DAY, "ar", "lindenau", "ask_work")
    store.count_question(DAY, "de", "unknown", "ask_health")
    store.count_question(DAY - dt.timedelta(days=1), "uk", "wiesbach", "ask_housing")
    store.count_feedback(DAY, "ar", "ask_work", "down")
    store.keep_fallback(DAY, "de", "unknown", "wo kann ich [number] angeln")
    return store


def test_text_html_and_csv_reports(tmp_path):
    report = StatsReport.load(filled_store(tmp_path), Period(DAY - dt.timedelta(days=1), DAY))
    text = text_report(report)
    assert "Questions 2026-11-30 – 2026-12-01: 4" in text
    assert re.search(r"ask_work\s+2", text) and re.search(r"lindenau\s+2", text)
    assert "ask_work, ar: 0 / 1" in text and "wo kann ich [number] angeln" in text
    page = html_report(report)
    assert page.count('src="data:image/svg+xml;base64,') == 5  # per day, intent, language, town, feedback
    assert "http://" not in page.replace("http://www.w3.org", "")  # self-contained: no external requests
    write_csv(report, tmp_path / "stats.csv")
    rows = list(csv.DictReader((tmp_path / "stats.csv").open(encoding="utf-8")))
    assert {"kind": "question", "day": "2026-12-01", "language": "ar", "municipality": "lindenau", "intent": "ask_work",
            "rating": "", "count": "2"} in rows
    assert sum(int(r["count"]) for r in rows if r["kind"] == "question") == 4


def test_stats_command(tmp_path, capsys):
    store = filled_store(tmp_path)
    store.keep_fallback(DAY - dt.timedelta(days=40), "de", "unknown", "zu alt")
    url = f"sqlite:///{tmp_path / 'stats.sqlite3'}"
    html_file, csv_file = tmp_path / "stats.html", tmp_path / "stats.csv"
    assert main(["stats", "--db", url, "--from", "2026-12-01", "--to", "2026-12-01", "--html", str(html_file), "--csv", str(csv_file)]) == 0
    out = capsys.readouterr().out
    assert "Questions 2026-12-01 – 2026-12-01: 3" in out
    assert html_file.read_text(encoding="utf-8").startswith("<!doctype html>") and csv_file.exists()
    # Texts past the retention are deleted whenever the statistics are read, too.
    assert [f.text for f in store.fallback_texts(DAY - dt.timedelta(days=60), DAY)] == ["wo kann ich [number] angeln"]
    assert main(["stats", "--db", url, "--from", "1.12.2026"]) == 2
    assert "dates are written like 2026-12-01" in capsys.readouterr().err


def test_lotsen_display_names_are_scrubbed(content_copy):
    (content_copy / "lotsen").mkdir(exist_ok=True)
    (content_copy / "lotsen" / "amira.yml").write_text("id: amira\ndisplay_name: Amira K.\ntelegram_user_id: 4711\n", encoding="utf-8")
    names = known_names(ContentStore(content_copy, REQUIRED_LANGUAGES).snapshot())
    assert "Amira K." in names and "Amira" in names
    assert scrub("ist amira heute da? amira k. hat gesagt", names) == "ist [name] heute da? [name] hat gesagt"
