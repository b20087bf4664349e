"""Browser tests of the web widget: Debian's headless Chromium driven by Playwright against the
real stack (rasa, actions, gateway as processes, like tests/e2e), with a private content copy that
holds one hostile offer for the XSS test. Screenshots go to test-artifacts/screenshots/."""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterator

import pytest
import yaml

from welcomebot.stack import Stack

from ..conftest import REQUIRED_LANGUAGES, ROOT, test_ports
from ..e2e.conftest import model  # noqa: F401  (the session's trained model, shared with tests/e2e)

ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}

# Everything a hostile or careless content edit could put into an offer. Shown as text, it is
# harmless; run as HTML, it would set window.__xss.
XSS_TITLE = "<script>window.__xss='title'</script> Schachclub"
XSS_SUMMARY = ("Treffen <img src=x onerror=\"window.__xss='summary'\"> jeden Montag. "
               "Anmeldung: javascript:window.__xss='link' oder <a href=\"javascript:window.__xss='a'\">hier</a>")
XSS_STREET = "Turmstraße 3 <img src=x onerror=\"window.__xss='street'\">"


def _hostile_offer() -> str:
    data = {
        "id": "xss-schachclub-lindenau", "category": "clubs", "municipalities": ["lindenau"], "provider": "Schachclub <b>Lindenau</b>",
        "title": {code: XSS_TITLE for code in REQUIRED_LANGUAGES},
        "summary": {code: XSS_SUMMARY for code in REQUIRED_LANGUAGES},
        "address": {"street": XSS_STREET, "postcode": "37527", "town": "Lindenau"},
        "contact": {"phone": "+49 5563 4471", "url": "https://www.schach-lindenau.de/<script>"},
        "opening_hours": "Mo 18:00-21:00", "languages_spoken": ["de"],
    }
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


@pytest.fixture(scope="session")
def widget_content(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("widget") / "content"
    shutil.copytree(ROOT / "content", target)
    (target / "offers" / "xss-schachclub-lindenau.yml").write_text(_hostile_offer(), encoding="utf-8")
    return target


@pytest.fixture(scope="session")
def widget_stack(model: Path, widget_content: Path, tmp_path_factory) -> Iterator[Stack]:  # noqa: F811
    running = Stack(
        model=model, ports=test_ports(27005, 27055, 28580), var_dir=tmp_path_factory.mktemp("widget-var"),
        log_dir=ARTIFACTS / "browser-logs", extra_env={"WELCOMEBOT_CONTENT_DIR": str(widget_content)},
    )
    running.start()
    try:
        running.wait_ready(timeout=300)
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def gateway_url(widget_stack: Stack) -> str:
    return f"http://127.0.0.1:{widget_stack.ports.gateway}"


# Module scope: Playwright's sync API runs its own event loop while it is open, and the async
# tests of other modules (pytest-asyncio) cannot run theirs beside it.
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright  # the `test` extra; Debian's chromium from system-packages.txt

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
