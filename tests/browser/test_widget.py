"""The web widget in headless Chromium against the real stack: the demo page, a conversation in
Arabic (right to left) on a desktop and on a 360-pixel phone, the history after a reload, keyboard
use, colour contrast, hostile content and user text, and a gateway restart mid-conversation."""
from __future__ import annotations

import json
import urllib.request

import pytest
import yaml
from playwright.sync_api import expect

from actions.render import topic_label
from welcomebot.i18n import own_name, translator

from ..conftest import ROOT
from .conftest import DESKTOP, PHONE, XSS_STREET, XSS_SUMMARY, XSS_TITLE, screenshot
from .widget import HOST, Widget

pytestmark = pytest.mark.e2e

QUESTIONS = yaml.safe_load((ROOT / "tests" / "data" / "e2e_questions.yml").read_text(encoding="utf-8"))


@pytest.fixture
def context(browser):
    contexts = []

    def make(viewport=DESKTOP, locale="de-DE"):
        made = browser.new_context(viewport=viewport, locale=locale)
        contexts.append(made)
        return made

    yield make
    for made in contexts:
        made.close()


def open_demo(context, gateway_url: str, **options) -> tuple[object, Widget, list]:
    """The demo page; `errors` collects script errors and any request that is not to the gateway."""
    page = context(**options).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: None if request.url.startswith(gateway_url) else errors.append("request: " + request.url))
    page.goto(gateway_url + "/")
    widget = Widget(page)
    widget.launcher.wait_for()
    return page, widget, errors


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone-360x740"])
def test_conversation_in_arabic_survives_a_reload(context, gateway_url, viewport):
    name = "desktop" if viewport is DESKTOP else "phone"
    page, widget, errors = open_demo(context, gateway_url, viewport=viewport)
    assert "Lindenau" in page.title()
    screenshot(page, f"{name}-1-demo-page")

    widget.open()
    # The browser says German: labels come in German from the catalogs, before any message.
    expect(widget.part("form button[type=submit]")).to_have_text(translator("de")("Send"))
    assert widget.direction() == "ltr"
    # Focus moves into the panel.
    assert page.evaluate(f"document.querySelector('{HOST}').shadowRoot.activeElement.tagName") == "INPUT"

    widget.pick_language("ar")
    ar = translator("ar")
    expect(widget.part(".root")).to_have_attribute("dir", "rtl")
    expect(widget.part(".root")).to_have_attribute("lang", "ar")
    widget.wait_for_text(ar("All right, from now on I will write in %(language)s.", language=own_name("ar")))
    expect(widget.part("form button[type=submit]")).to_have_text(ar("Send"))
    expect(widget.input).to_have_attribute("placeholder", ar("Write your question…"))
    assert widget.part("header select option:checked").inner_text() == "العربية"
    screenshot(page, f"{name}-2-arabic-rtl")

    widget.ask(QUESTIONS["ar"]["ask_integration_course"][0])
    screenshot(page, f"{name}-3-question")
    if widget.part(".choices button").filter(has_text="Lindenau").count():
        widget.tap("Lindenau")  # the town question, answered with a button
    heading = topic_label("integration_course", ar)
    widget.wait_for_text(heading)
    assert "📍" in widget.log_text() and widget.part(".map").count() >= 1  # offers with addresses
    assert widget.part(".log a[href^='tel:']").count() >= 1  # phone numbers are links
    if viewport is PHONE:  # full screen on a phone, nothing wider than the screen
        box = widget.panel.bounding_box()
        assert box["width"] == PHONE["width"] and box["height"] == PHONE["height"]
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, f"{name}-4-offers")

    # A button of the offers' last message: the topic menu.
    before = widget.bot_count()
    widget.tap(ar("Topics"))
    assert widget.bot_count() > before
    widget.wait_for_text(topic_label("housing", ar))
    screenshot(page, f"{name}-5-button-tapped")
    shown_before = widget.log_text()
    users_before = widget.user_texts()

    page.reload()
    widget = Widget(page)
    widget.panel.wait_for(state="visible")  # it was open: it opens again
    widget.wait_for_text(heading)
    page.wait_for_function(
        "([host, n]) => document.querySelector(host).shadowRoot.querySelectorAll('.msg.bot:not(.intro)').length >= n",
        arg=[HOST, before + 1],
    )
    expect(widget.part(".root")).to_have_attribute("dir", "rtl")
    assert widget.user_texts() == users_before
    assert widget.log_text() == shown_before
    screenshot(page, f"{name}-6-after-reload")
    assert errors == []


def test_keyboard_only_and_labels(context, gateway_url):
    page, widget, errors = open_demo(context, gateway_url, locale="uk-UA")
    uk = translator("uk")
    widget.launcher.focus()
    page.keyboard.press("Enter")
    widget.panel.wait_for(state="visible")
    assert widget.launcher.get_attribute("aria-expanded") == "true"
    log = widget.part(".log")
    assert log.get_attribute("role") == "log" and log.get_attribute("aria-live") == "polite"
    # The browser's Ukrainian, negotiated by the gateway, labels the panel before anything is said.
    expect(widget.part(".close")).to_have_attribute("aria-label", uk("Close the chat"))
    assert log.get_attribute("aria-label") == uk("Conversation")
    assert widget.part("label[for=wb-language]").inner_text() == uk("Language")
    before = widget.bot_count()
    page.keyboard.type("Привіт")
    page.keyboard.press("Enter")
    widget.wait_for_replies(before)
    assert widget.direction() == "ltr"
    # Tab reaches the quick replies; Enter on one sends it.
    focused = None
    for _ in range(60):
        page.keyboard.press("Shift+Tab")
        focused = page.evaluate("host => { const a = document.querySelector(host).shadowRoot.activeElement;"
                                " return a && a.closest('.choices') ? a.textContent : null; }", HOST)
        if focused:
            break
    assert focused, "no quick-reply button reachable with the keyboard"
    before = widget.bot_count()
    page.keyboard.press("Enter")
    widget.wait_for_replies(before)
    assert focused in widget.user_texts()
    page.keyboard.press("Escape")
    widget.panel.wait_for(state="hidden")
    assert page.evaluate(f"document.querySelector('{HOST}').shadowRoot.activeElement.className") == "launcher"
    assert errors == []


def _contrast(page, selector: str) -> float:
    return page.evaluate(
        """([host, selector]) => {
            const node = document.querySelector(host).shadowRoot.querySelector(selector);
            const style = getComputedStyle(node);
            const rgb = s => s.match(/\\d+(\\.\\d+)?/g).slice(0, 3).map(Number);
            const lum = c => { const v = c.map(x => { x /= 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
                               return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2]; };
            const a = lum(rgb(style.color)), b = lum(rgb(style.backgroundColor));
            return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        }""",
        [HOST, selector],
    )


@pytest.mark.parametrize("colour", [None, "#ffcc00", "#888888", "not a colour"])
def test_colours_keep_aa_contrast(context, gateway_url, colour):
    page = context().new_page()
    option = f' data-color="{colour}"' if colour else ""
    page.set_content(f'<html><body><p>Host</p><script src="{gateway_url}/widget.js"{option}></script></body></html>')
    widget = Widget(page)
    widget.launcher.wait_for()
    widget.open()
    widget.part(".intro").wait_for()
    for selector in (".launcher", "header", "form button[type=submit]", ".intro"):
        assert _contrast(page, selector) >= 4.5, (colour, selector)


def test_hostile_content_and_user_text_are_shown_as_text(context, gateway_url):
    page, widget, errors = open_demo(context, gateway_url)
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    widget.open()
    typed = "<img src=x onerror=\"window.__xss='user'\"><script>window.__xss='user2'</script> javascript:alert(1)"
    widget.ask(typed)
    assert typed in widget.user_texts()
    widget.ask_topic(QUESTIONS["de"]["ask_clubs"][0])
    widget.wait_for_text("Schachclub")
    text = widget.log_text()
    assert XSS_TITLE in text
    assert XSS_SUMMARY in text
    assert XSS_STREET in text  # the address line, with its map button
    widget.part(".msg.bot").filter(has_text="Schachclub").last.scroll_into_view_if_needed()
    screenshot(page, "xss-shown-as-text")
    root = f"document.querySelector('{HOST}').shadowRoot"
    assert page.evaluate(f"{root}.querySelectorAll('img, script, b').length") == 0
    hrefs = page.evaluate(f"[...{root}.querySelectorAll('a')].map(a => a.href)")
    assert hrefs and all(h.startswith(("https://", "http://", "tel:")) for h in hrefs), hrefs
    # The map button opens the search only when clicked, with the address as a query parameter.
    assert errors == []  # no request but to the gateway before the click
    page.context.route("https://www.openstreetmap.org/**", lambda route: route.fulfill(body="map", content_type="text/plain"))
    with page.context.expect_page() as popup:
        widget.part(".map").last.click()
    popup.value.wait_for_load_state()
    assert popup.value.url.startswith("https://www.openstreetmap.org/search?query=")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None
    assert dialogs == []


def _gateway_history(gateway_url: str, session: str) -> list[dict]:
    with urllib.request.urlopen(f"{gateway_url}/widget/api/history?session={session}", timeout=30) as response:
        return json.loads(response.read().decode("utf-8"))["messages"]


def test_gateway_restart_mid_conversation(context, gateway_url, widget_stack):
    page, widget, errors = open_demo(context, gateway_url)
    widget.open()
    widget.ask_topic(QUESTIONS["de"]["ask_integration_course"][0])
    widget.wait_for_text(topic_label("integration_course", translator("de")))

    widget_stack.stop_process("gateway")
    try:
        _offline_then_back(page, widget, widget_stack, gateway_url)
    finally:
        if "gateway" not in widget_stack.processes:
            widget_stack.start_process("gateway", widget_stack.commands()["gateway"])
            widget_stack.wait_ready(timeout=60, names=["gateway"])
    assert errors == []


def _offline_then_back(page, widget, widget_stack, gateway_url):
    widget.part(".status").wait_for(state="visible")  # the stream noticed
    question = "Ich suche eine Wohnung"
    widget.input.fill(question)
    widget.input.press("Enter")
    pending = widget.part(".msg.user.pending")
    pending.wait_for()
    assert translator("de")("Not sent yet: it will be sent when the connection is back.") in pending.inner_text()
    screenshot(page, "restart-1-offline-queued")
    # Kept in the page's storage: a reload or a closed tab would not lose it either.
    queued = page.evaluate("Object.keys(localStorage).filter(k => k.endsWith(':queue')).map(k => JSON.parse(localStorage[k]))[0]")
    assert [m["text"] for m in queued] == [question]

    widget_stack.start_process("gateway", widget_stack.commands()["gateway"])
    widget_stack.wait_ready(timeout=60, names=["gateway"])
    # Reconnected with back-off; the queued message is sent and answered in the same conversation
    # (the town is still known: no town question).
    widget.wait_for_text(topic_label("housing", translator("de")))
    page.wait_for_function(f"!document.querySelector('{HOST}').shadowRoot.querySelector('.pending')", timeout=60_000)
    assert widget.part(".status").is_hidden()
    assert widget.user_texts().count(question) == 1
    screenshot(page, "restart-2-reconnected")
    session = page.evaluate("Object.keys(localStorage).filter(k => k.endsWith(':session')).map(k => JSON.parse(localStorage[k]))[0]")
    stored = [m.get("text") for m in _gateway_history(gateway_url, session) if m["from"] == "user"]
    assert stored.count(question) == 1
    page.reload()
    Widget(page).wait_for_text(topic_label("housing", translator("de")))
    assert Widget(page).user_texts().count(question) == 1


def test_focus_stays_in_the_full_screen_panel_on_a_phone(context, gateway_url):
    page, widget, errors = open_demo(context, gateway_url, viewport=PHONE)
    widget.open()
    inside = f"(() => {{ const r = document.querySelector('{HOST}').shadowRoot; const a = r.activeElement;" \
             " return !!a && r.querySelector('.panel').contains(a); })()"
    for key in ["Tab"] * 12 + ["Shift+Tab"] * 12:
        page.keyboard.press(key)
        assert page.evaluate(inside), key
    assert errors == []


def test_messages_are_pushed_to_an_open_widget(context, gateway_url):
    """Server push: a second tab of the same conversation shows the answers to the first without
    sending anything itself (as it would show a Lotse's message)."""
    browser_context = context()
    first = browser_context.new_page()
    first.goto(gateway_url + "/")
    one = Widget(first)
    one.open()
    one.ask("Hallo")  # the conversation exists now: a second tab of the site continues it
    second = browser_context.new_page()
    second.goto(gateway_url + "/")
    other = Widget(second)
    other.open()
    other.wait_for_text(one.part(".msg.bot").last.inner_text().split("\n")[0])
    before = other.bot_count()
    one.ask_topic(QUESTIONS["de"]["ask_housing"][0])
    other.wait_for_replies(before)
    other.wait_for_text(topic_label("housing", translator("de")))
