"""The Lotsen's staff group on Telegram: a real python-telegram-bot Application polling a Bot API
emulator on loopback (forum topics, inline buttons), over the real handover core and store."""
from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from telegram.ext import ApplicationBuilder

from bot.handover.machine import State
from bot.handover.service import Handovers
from bot.handover.store import HandoverStore
from bot.handover.telegram_desk import TAKE, TelegramDesk
from bot.outbound import Outbound
from welcomebot.content import ContentStore

from .conftest import BERLIN, PORT_OFFSET, REQUIRED_LANGUAGES, ROOT
from .support.staff_group_api import StaffGroupApi

GROUP = -1001234567890
OLENA, IRINA, STRANGER = 7100000001, 7100000006, 4242
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
    server = StaffGroupApi(26100 + PORT_OFFSET).start()
    server.forum(GROUP)
    yield server
    server.stop()


@pytest.fixture
async def desk_world(api, tmp_path):
    outbound = Outbound()
    channel = WebChannel(outbound)

    async def back_to_bot(sender_id: str, language: str, channel_name: str) -> list[dict[str, Any]]:
        return [{"recipient_id": sender_id, "text": "З поверненням!"}]

    store = HandoverStore(f"sqlite:///{tmp_path / 'handover.sqlite3'}")
    core = Handovers(store, ContentStore(ROOT / "content", REQUIRED_LANGUAGES), outbound, back_to_bot, lambda: TUESDAY_10)
    application = ApplicationBuilder().token(api.token).base_url(api.base_url).build()
    TelegramDesk(application, GROUP, core).install()
    await application.initialize()
    await application.start()
    await application.updater.start_polling(poll_interval=0.05, timeout=1)
    yield core, channel
    await application.updater.stop()
    await application.stop()
    await application.shutdown()
    store.close()


async def until(check, timeout: float = 15.0, what: str = "the bot"):
    """Wait in the test's own loop, where the Application runs."""
    for _ in range(int(timeout / 0.05)):
        value = check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_topic_per_newcomer_take_over_relay_and_end_in_the_staff_group(api, desk_world):
    core, channel = desk_world
    recent = [{"from": "newcomer", "text": "Шукаю житло в Lindenau"}]
    await core.request("widget-uk-1", "widget", "uk", "lindenau", "housing", recent)
    handover = core.active("widget-uk-1")
    thread = handover.topic_id
    assert api.topics[GROUP][thread].startswith("Ukrainisch · Lindenau")
    opening = api.sent(GROUP, thread)[0]
    assert "Шукаю житло в Lindenau" in opening.text and "tg://user?id=7100000001" in opening.text
    assert "widget-uk-1" not in opening.text and "widget-uk-1" not in api.topics[GROUP][thread]  # no newcomer ids for staff
    take = opening.buttons[0]
    assert take["callback_data"] == TAKE + handover.id

    api.press(STRANGER, opening, take["callback_data"])
    await until(lambda: api.alerts, what="the refusal")
    assert api.alerts[-1]["show_alert"] and "Nur Lotsen" in api.alerts[-1]["text"]

    api.press(OLENA, opening, take["callback_data"], first_name="Olena")
    await until(lambda: "Übernommen von Olena" in api.sent(GROUP, thread)[0].text, what="the edit")
    assert api.sent(GROUP, thread)[0].buttons == []
    assert core.active("widget-uk-1").state is State.OPEN
    await until(lambda: any("Olena" in t for t in channel.texts()), what="the newcomer's notice")

    api.press(IRINA, opening, take["callback_data"])
    await until(lambda: len(api.alerts) >= 3, what="the second Lotse's alert")
    assert "Olena hat das schon übernommen." == api.alerts[-1]["text"]

    await core.from_newcomer(core.active("widget-uk-1"), "Дякую! Мені потрібна квартира")
    await until(lambda: any("Мені потрібна квартира" in t for t in api.texts(GROUP, thread)), what="the newcomer's message in the topic")

    api.write(GROUP, OLENA, "Добрий день! Я допоможу.", thread_id=thread, first_name="Olena")
    await until(lambda: "Olena: Добрий день! Я допоможу." in channel.texts(), what="the Lotse's reply")

    before = len(channel.received)
    api.write(GROUP, STRANGER, "I am not a Lotse", thread_id=thread)
    await until(lambda: any("Nur Lotsen" in t for t in api.texts(GROUP, thread)), what="the refusal in the topic")
    api.write(GROUP, IRINA, "Ich auch", thread_id=thread)
    await until(lambda: any("Olena hat das schon übernommen." in t for t in api.texts(GROUP, thread)), what="the refusal to Irina")
    assert len(channel.received) == before

    api.write(GROUP, OLENA, "/end", thread_id=thread)
    await until(lambda: core.active("widget-uk-1") is None, what="the end")
    await until(lambda: "З поверненням!" in channel.texts(), what="the bot greeting back")
    await until(lambda: (GROUP, thread) in api.closed_topics, what="the topic closed")
    assert any("beendet" in t for t in api.texts(GROUP, thread))


async def test_messages_from_the_general_chat_and_unknown_topics_go_nowhere(api, desk_world):
    core, channel = desk_world
    api.write(GROUP, OLENA, "Guten Morgen zusammen")  # not in a topic: staff among themselves
    api.write(GROUP, OLENA, "hallo?", thread_id=777)  # a topic that is no handover
    await asyncio.sleep(1.0)
    assert channel.received == [] and api.texts(GROUP) == []


async def test_a_telegram_outage_keeps_the_topic_and_messages_for_later(api, desk_world, monkeypatch):
    from bot.handover import service

    monkeypatch.setattr(service, "RETRY_DELAYS", (0.0,))
    core, channel = desk_world
    api.fail_methods = {"createForumTopic"}
    await core.request("widget-uk-2", "widget", "uk", "lindenau")
    assert core.active("widget-uk-2").topic_id is None
    await core.from_newcomer(core.active("widget-uk-2"), "Є хтось?")
    api.fail_methods = set()
    await core.run_once()
    thread = core.active("widget-uk-2").topic_id
    assert thread is not None
    assert [t for t in api.texts(GROUP, thread) if "Є хтось?" in t] != []
