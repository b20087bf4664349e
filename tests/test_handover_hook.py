"""The two calls `bot/conversation.py` makes into the handover (`bot/handover/hook.py`): typed
commands, diverting messages while a handover is active, and Rasa's handover request — also when
what Rasa sends is malformed."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.handover import hook
from bot.handover.machine import State
from bot.handover.service import BACK_TO_BOT, Handovers
from bot.handover.store import TO_STAFF, HandoverStore
from bot.outbound import Outbound
from welcomebot.content import ContentStore

from .conftest import BERLIN, REQUIRED_LANGUAGES, ROOT


@pytest.fixture
def core(tmp_path):
    store = HandoverStore(f"sqlite:///{tmp_path / 'h.sqlite3'}")
    yield Handovers(store, ContentStore(ROOT / "content", REQUIRED_LANGUAGES), Outbound(), None,
                    lambda: dt.datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN))
    store.close()


def test_typed_commands_mean_their_payloads():
    assert hook.command("/lotse") == "/request_lotse" and hook.command(" /LOTSE ") == "/request_lotse"
    assert hook.command("/bot") == BACK_TO_BOT and hook.command(BACK_TO_BOT) == BACK_TO_BOT
    assert hook.command("/lotsenbüro") == "/lotsenbüro" and hook.command("hallo") == "hallo"


async def test_a_handover_request_from_rasa_is_replaced_by_the_cores_answer(core):
    replies = [{"recipient_id": "s1", "text": "before"},
               {"recipient_id": "s1", "custom": {"welcomebot": {"handover": {"municipality": "lindenau", "topic": "housing",
                                                                            "recent": [{"from": "newcomer", "text": "Житло"}, "junk", {"text": 5}]}}}}]
    out = await hook.act_on(core, "s1", "widget", "uk", replies)
    assert out[0]["text"] == "before" and out[1]["buttons"][0]["payload"] == BACK_TO_BOT
    handover = core.active("s1")
    assert (handover.state, handover.municipality, handover.topic) == (State.WAITING, "lindenau", "housing")
    assert core.store.summary(handover.id) == [{"from": "newcomer", "text": "Житло"}]  # malformed entries dropped


async def test_malformed_handover_data_still_starts_a_handover_without_town_or_topic(core):
    out = await hook.act_on(core, "s2", "widget", "uk", [{"custom": {"welcomebot": {"handover": {"municipality": 7, "recent": "x"}}}}])
    assert out and core.active("s2").municipality is None
    assert await hook.act_on(core, "s3", "widget", "uk", [{"custom": {"welcomebot": {"handover": "yes"}}}]) == [{"custom": {"welcomebot": {"handover": "yes"}}}]
    assert core.active("s3") is None  # not a request: passed through untouched


async def test_while_active_messages_are_diverted_and_back_to_the_bot_goes_to_rasa(core):
    assert await hook.divert(core, "s4", "hello") is None  # no handover: Rasa answers
    await core.request("s4", "widget", "uk", "lindenau")
    assert await hook.divert(core, "s4", "Привіт", key="w:1") == []
    assert await hook.divert(core, "s4", "Привіт", key="w:1") == []  # the same message again: once
    assert [m.body["text"] for m in core.store.pending(TO_STAFF, core.active("s4").id)] == ["Привіт"]  # no desk: kept
    again = await hook.divert(core, "s4", "/request_lotse")
    assert again and again[0]["buttons"][0]["payload"] == BACK_TO_BOT
    assert await hook.divert(core, "s4", BACK_TO_BOT) is None  # ended; Rasa greets them back
    assert core.active("s4") is None


async def test_a_message_a_channel_delivers_twice_reaches_the_lotse_once(core, tmp_path):
    from bot.conversation import Assistant, IncomingMessage
    from bot.rasa_client import RasaClient
    from bot.state import SQLiteStateStore

    assistant = Assistant(RasaClient(["http://127.0.0.1:9"]), SQLiteStateStore(tmp_path / "state.sqlite3"), core.content)
    assistant.handovers = core
    await core.request("tg:5", "telegram", "uk", "lindenau")
    for _ in range(2):  # Telegram delivers an update again after the gateway died before confirming it
        await assistant.handle(IncomingMessage("tg:5", "Привіт", channel="telegram", message_id="tg-update:41"))
    await assistant.handle(IncomingMessage("tg:5", "Привіт", channel="telegram", message_id="tg-update:42"))  # the same words, a new message
    assert [m.body["text"] for m in core.store.pending(TO_STAFF, core.active("tg:5").id)] == ["Привіт", "Привіт"]
