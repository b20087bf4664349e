"""`welcomebot content report`: coverage of categories x towns, missing translations, gaps."""
from __future__ import annotations

import shutil

from welcomebot.cli import main
from welcomebot.content import ContentStore
from welcomebot.content.report import ContentReport, text_report

from .conftest import REQUIRED_LANGUAGES, ROOT
from .test_content_validation import GOOD_OFFER
from .test_ics import CALENDARS, ICS


def build(content, now):
    return ContentReport.build(ContentStore(content, REQUIRED_LANGUAGES).snapshot(), REQUIRED_LANGUAGES, now)


def test_coverage_counts_local_and_district_wide_offers(content_copy, now):
    before = build(content_copy, now)
    (content_copy / "offers" / "sprachkurs-test.yml").write_text(GOOD_OFFER.replace('"Mo-Th 18:00-20:00"', '"2025 Mo-Th 18:00-20:00"'), encoding="utf-8")
    after = build(content_copy, now)
    assert after.coverage["integration_course"]["lindenau"] == before.coverage["integration_course"]["lindenau"] + 1
    assert after.coverage["integration_course"]["wiesbach"] == before.coverage["integration_course"]["wiesbach"]
    assert after.missing["sprachkurs-test"] == ["ar", "uk", "ru", "tr", "fa", "fr"]
    assert "sprachkurs-test" in after.no_hours and "sprachkurs-test" not in after.no_contact
    assert after.missing_per_language()["ar"] == before.missing_per_language()["ar"] + 1


def test_gaps_are_categories_a_town_has_nothing_in(content_copy, now):
    for path in (content_copy / "offers").glob("*.yml"):
        if "category: housing" in path.read_text(encoding="utf-8"):
            path.unlink()
    report = build(content_copy, now)
    assert all((("housing", town) in report.gaps()) for town, _ in report.towns)
    assert "housing" in text_report(report)


def test_text_and_html_report(content_copy, now, tmp_path, capsys):
    shutil.copy(ICS, content_copy / "events" / "lindenau-kalender.ics")
    (content_copy / "calendars.yml").write_text(CALENDARS, encoding="utf-8")
    target = tmp_path / "report.html"
    assert main(["content", "report", "--content-dir", str(content_copy), "--html", str(target)]) == 0
    out = capsys.readouterr().out
    assert "Offers per category and town" in out
    assert "lindenau-kalender-sprachcafe-202703111800  2027-03-11T18:00+01:00" in out
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "<table>" in page and "lindenau-kalender-sprachcafe-202703111800" in page
    assert "<script" not in page and "http" not in page  # one self-contained file


def test_report_of_the_shipped_content(now):
    report = build(ROOT / "content", now)
    assert report.offers > 50 and set(report.coverage) >= {"work", "health"}
