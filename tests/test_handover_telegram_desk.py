"""The Lotsen's staff group on Telegram: a real python-telegram-bot Application polling the test
Bot API server (forum topics, inline buttons), over the real handover core and store."""
from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from telegram.ext import ApplicationBuilder

from bot.handover import service
from bot.handover.machine import State
from bot.handover.service import Handovers
from bot.handover.store import HandoverStore
from bot.handover.telegram_desk import TAKE, TelegramDesk
from bot.outbound import Outbound
from welcomebot.content import ContentStore

from .conftest import BERLIN, PORT_OFFSET, REQUIRED_LANGUAGES, ROOT
from .support.bot_api_server import BotApiServer, Sent, User
from .support.waiting import until

TOKEN = "7301:staff-desk"
GROUP = -1001234567890
OLENA, IRINA, STRANGER = User(7100000001, "Olena"), User(7100000006, "Irina"), User(4242, "Neugierig")
TUESDAY_10 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)


class WebChannel:
    def __init__(self, outbound: Outbound) -> None:
        self.received: list[dict[str, Any]] = []
        outbound.register("widget", self.deliver)

    async def deliver(self, sender_id: str, messages: list[dict[str, Any]]) -> None:
        self.received += messages

    def texts(self) -> list[str]:
        return [m.get("text", "") for m in self.received]


@pytest.fixture
def api():
    with BotApiServer(port=26100 + PORT_OFFSET) as server:
        server.open_forum(TOKEN, GROUP)
        yield server


@pytest.fixture
async def desk_world(api, tmp_path):
    outbound = Outbound()
    channel = WebChannel(outbound)

    async def back_to_bot(sender_id: str, language: str, channel_name: str) -> list[dict[str, Any]]:
        return [{"recipient_id": sender_id, "text": "З поверненням!"}]

    store = HandoverStore(f"sqlite:///{tmp_path / 'handover.sqlite3'}")
    core = Handovers(store, ContentStore(ROOT / "content", REQUIRED_LANGUAGES), outbound, back_to_bot, lambda: TUESDAY_10)
    application = ApplicationBuilder().token(TOKEN).base_url(api.base_url).build()
    TelegramDesk(application, GROUP, core).install()
    await application.initialize()
    await application.start()
    await application.updater.start_polling(poll_interval=0.05, timeout=1)
    yield core, channel
    await application.updater.stop()
    await application.stop()
    await application.shutdown()
    store.close()


def topic(api: BotApiServer, thread: int) -> list[Sent]:
    return [s for s in api.sent(TOKEN, GROUP) if s.message_thread_id == thread]


def texts(api: BotApiServer, thread: int) -> list[str]:
    return [s.text or "" for s in topic(api, thread) if s.method == "sendMessage"]


async def answer_of(api: BotApiServer, query_id: str) -> dict:
    return await until(lambda: api.callback_answer(TOKEN, query_id).get("answered") and api.callback_answer(TOKEN, query_id), what="the button's answer")


async def test_a_topic_per_newcomer_take_over_relay_and_end_in_the_staff_group(api, desk_world):
    core, channel = desk_world
    recent = [{"from": "newcomer", "text": "Шукаю житло в Lindenau"}]
    await core.request("widget-uk-1", "widget", "uk", "lindenau", "housing", recent)
    handover = core.active("widget-uk-1")
    thread = handover.topic_id
    assert api.bot(TOKEN).topics[GROUP][thread].startswith("Ukrainisch · Lindenau")
    opening = topic(api, thread)[0]
    assert "Шукаю житло в Lindenau" in opening.text and "tg://user?id=7100000001" in opening.raw_text
    assert "widget-uk-1" not in opening.text and "widget-uk-1" not in api.bot(TOKEN).topics[GROUP][thread]  # no newcomer ids for staff
    take = opening.buttons[0]["callback_data"]
    assert take == TAKE + handover.id

    refused = await answer_of(api, api.tap(TOKEN, STRANGER, opening, take))
    assert str(refused["show_alert"]).lower() == "true" and "Nur Lotsen" in refused["text"]

    await answer_of(api, api.tap(TOKEN, OLENA, opening, take))
    edit = await until(lambda: next((s for s in topic(api, thread) if s.method == "editMessageText"), None), what="the edit")
    assert "Übernommen von Olena" in edit.text and edit.buttons == []
    assert core.active("widget-uk-1").state is State.OPEN
    await until(lambda: any("Olena" in t for t in channel.texts()), what="the newcomer's notice")

    late = await answer_of(api, api.tap(TOKEN, IRINA, opening, take))
    assert late["text"] == "Olena hat das schon übernommen."

    await core.from_newcomer(core.active("widget-uk-1"), "Дякую! Мені потрібна квартира")
    await until(lambda: any("Мені потрібна квартира" in t for t in texts(api, thread)), what="the newcomer's message in the topic")

    api.send_text(TOKEN, OLENA, "Добрий день! Я допоможу.", chat_id=GROUP, thread_id=thread)
    await until(lambda: "Olena: Добрий день! Я допоможу." in channel.texts(), what="the Lotse's reply")

    before = len(channel.received)
    api.send_text(TOKEN, STRANGER, "I am not a Lotse", chat_id=GROUP, thread_id=thread)
    await until(lambda: any("Nur Lotsen" in t for t in texts(api, thread)), what="the refusal in the topic")
    api.send_text(TOKEN, IRINA, "Ich auch", chat_id=GROUP, thread_id=thread)
    await until(lambda: any("Olena hat das schon übernommen." in t for t in texts(api, thread)), what="the refusal to Irina")
    assert len(channel.received) == before

    api.send_text(TOKEN, OLENA, "/end", chat_id=GROUP, thread_id=thread)
    await until(lambda: core.active("widget-uk-1") is None, what="the end")
    await until(lambda: "З поверненням!" in channel.texts(), what="the bot greeting back")
    await until(lambda: (GROUP, thread) in api.bot(TOKEN).closed_topics, what="the topic closed")
    assert any("beendet" in t for t in texts(api, thread))


async def test_messages_from_the_general_chat_and_unknown_topics_go_nowhere(api, desk_world):
    core, channel = desk_world
    api.send_text(TOKEN, OLENA, "Guten Morgen zusammen", chat_id=GROUP)  # not in a topic: staff among themselves
    await asyncio.sleep(1.0)
    assert channel.received == [] and api.sent(TOKEN, GROUP) == []


async def test_a_telegram_outage_keeps_the_topic_and_messages_for_later(api, desk_world, monkeypatch):
    monkeypatch.setattr(service, "RETRY_DELAYS", (0.0,))
    core, channel = desk_world
    api.failing_methods = {"createForumTopic"}
    await core.request("widget-uk-2", "widget", "uk", "lindenau")
    assert core.active("widget-uk-2").topic_id is None
    await core.from_newcomer(core.active("widget-uk-2"), "Є хтось?")
    api.failing_methods = set()
    await core.run_once()
    thread = core.active("widget-uk-2").topic_id
    assert thread is not None and any("Є хтось?" in t for t in texts(api, thread))


async def test_delete_removes_the_topic_from_the_staff_group(api, desk_world):
    core, channel = desk_world
    await core.request("widget-uk-3", "widget", "uk", "lindenau", recent=[{"from": "newcomer", "text": "приватне"}])
    thread = core.active("widget-uk-3").topic_id
    assert topic(api, thread)
    await core.erase("widget-uk-3")
    assert thread not in api.bot(TOKEN).topics[GROUP] and topic(api, thread) == []
