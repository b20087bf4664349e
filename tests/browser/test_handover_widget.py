"""Handover to a Lotse from the web widget, in Debian's headless Chromium (SPEC §7): a Ukrainian
newcomer on the town's page asks for a person, Olena takes over in the Telegram staff group
(the test Bot API server), messages go both ways through the widget's push stream, Olena ends
it and the bot is back in the widget. Real Rasa, actions and gateway processes."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from bot.handover.telegram_desk import TAKE
from welcomebot.i18n import translator
from welcomebot.stack import Stack

from ..conftest import PORT_OFFSET
from ..conftest import test_ports as ports_for  # renamed: pytest would collect a test_* name as a test
from ..support.bot_api_server import BotApiServer, User
from .conftest import ARTIFACTS, screenshot
from .widget import Widget

TOKEN = "7201:handover-widget"
GROUP = -1005550001234
OLENA = User(7100000001, "Olena")
STRANGER = User(4040405, "Neugierig")
UK = translator("uk")


@pytest.fixture(scope="module")
def staff_api():
    with BotApiServer(port=28491 + PORT_OFFSET) as server:
        server.open_forum(TOKEN, GROUP)
        yield server


@pytest.fixture(scope="module")
def lotse_widget_stack(model: Path, widget_content: Path, staff_api: BotApiServer, tmp_path_factory) -> Iterator[Stack]:
    running = Stack(
        model=model, ports=ports_for(27105, 27155, 28680), var_dir=tmp_path_factory.mktemp("handover-widget-var"),
        log_dir=ARTIFACTS / "browser-logs" / "handover",
        extra_env={"WELCOMEBOT_CONTENT_DIR": str(widget_content), **staff_api.gateway_env(TOKEN, GROUP),
                   "WELCOMEBOT_HANDOVER_RETRY_SECONDS": "0.5"},
    )
    with running.running():
        yield running


def in_topic(api: BotApiServer, thread: int) -> list[str]:
    return [s.text or "" for s in api.sent(TOKEN, GROUP) if s.message_thread_id == thread and s.method == "sendMessage"]


def send(widget: Widget, text: str) -> None:
    """Type and send. What follows is awaited by its text: during a handover the assistant stays
    quiet, and the widget's own "all sent" marker lags behind the push stream now and then."""
    widget.input.fill(text)
    widget.input.press("Enter")


def press(widget: Widget, title: str) -> None:
    widget.part(".choices button").filter(has_text=title).last.click()


def test_a_widget_newcomer_talks_to_a_ukrainian_lotse_and_comes_back_to_the_bot(browser, lotse_widget_stack, staff_api):
    gateway = f"http://127.0.0.1:{lotse_widget_stack.ports.gateway}"
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="uk-UA")
    try:
        page = context.new_page()
        page.goto(gateway + "/")
        widget = Widget(page)
        widget.launcher.wait_for()
        widget.open()
        send(widget, "/lotse")
        widget.wait_for_text(UK("A volunteer mentor (Lotse) from the district can write with you here, in this chat."))
        press(widget, UK("Yes, connect me with a Lotse"))
        widget.wait_for_text(UK("Back to the bot"))
        screenshot(page, "handover-1-lotse-asked")

        topics = staff_api.wait_for(lambda: staff_api.bot(TOKEN).topics.get(GROUP), 30, "the staff topic")
        thread = sorted(topics)[0]
        assert "Ukrainisch" in topics[thread]
        summary = staff_api.wait_for(lambda: next((s for s in staff_api.sent(TOKEN, GROUP) if s.message_thread_id == thread and s.buttons), None), 30, "the summary")
        take = next(b["callback_data"] for b in summary.buttons if b["callback_data"].startswith(TAKE))
        staff_api.tap(TOKEN, STRANGER, summary, take)  # not a listed Lotse: refused, nothing changes
        staff_api.tap(TOKEN, OLENA, summary, take)
        widget.wait_for_text(UK("%(name)s, a volunteer Lotse, is now with you. Write your question here; %(name)s reads it.", name="Olena"))

        send(widget, "Добрий день! Де зареєструвати адресу?")
        staff_api.wait_for(lambda: any("Де зареєструвати адресу?" in t for t in in_topic(staff_api, thread)), 30, "the newcomer's message in the topic")
        staff_api.send_text(TOKEN, OLENA, "Привіт! У Bürgerbüro, я поясню.", chat_id=GROUP, thread_id=thread)
        widget.wait_for_text("Olena: Привіт! У Bürgerbüro, я поясню.")
        screenshot(page, "handover-2-lotse-replied")

        staff_api.send_text(TOKEN, OLENA, "/end", chat_id=GROUP, thread_id=thread)
        widget.wait_for_text(UK("Welcome back! You are talking to the assistant again. What would you like to know?"))
        assert widget.log_text().count("Olena: Привіт! У Bürgerbüro, я поясню.") == 1
        screenshot(page, "handover-3-back-to-the-bot")
        before = widget.bot_count()
        send(widget, "Де можна вивчати німецьку мову?")
        page.wait_for_function("([n]) => document.querySelector('#welcomebot-widget').shadowRoot.querySelectorAll('.msg.bot:not(.intro)').length > n",
                               arg=[before], timeout=60_000)  # the assistant answers again
    finally:
        context.close()
