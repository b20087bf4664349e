"""The handover core (SPEC §7) against a real store — SQLite, and PostgreSQL from Debian's
package — with the real content's Lotsen: the state machine, who may do what, the
nobody-available path with its left messages, retried and exactly-once delivery, restarts,
`/delete` and retention.

The staff desk and the newcomer's channel are the core's two collaborators: here a desk that
records what Lotsen would see, and an `Outbound` channel that can be made to fail.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import pytest

from bot.handover import machine, service
from bot.handover.desk import Summary
from bot.handover.machine import Actor, NotAllowed, State
from bot.handover.matching import format_when
from bot.handover.service import BACK_TO_BOT, Handovers
from bot.handover.store import TO_NEWCOMER, TO_STAFF, HandoverStore
from bot.outbound import DeliveryFailed, Outbound
from welcomebot.content import ContentStore

from .conftest import BERLIN, REQUIRED_LANGUAGES, ROOT

TUESDAY_10 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)
OLENA, IRINA, MARIAM = 7100000001, 7100000006, 7100000003
STRANGER = 555


class RecordingDesk:
    """The staff group as the core sees it, recording what Lotsen would be shown."""

    def __init__(self) -> None:
        self.topics: dict[int, Summary] = {}
        self.posts: list[tuple[int, dict[str, Any]]] = []
        self.events: list[tuple[str, Any]] = []
        self.failing = False

    async def open_topic(self, summary: Summary) -> int:
        if self.failing:
            raise DeliveryFailed("staff group unreachable")
        topic_id = 100 + len(self.topics)
        self.topics[topic_id] = summary
        return topic_id

    async def post(self, handover, body) -> None:
        if self.failing:
            raise DeliveryFailed("staff group unreachable")
        self.posts.append((handover.topic_id, body))

    async def show_taken(self, handover, lotse) -> None:
        self.events.append(("taken", lotse.id))

    async def closed(self, handover, by) -> None:
        self.events.append(("closed", by))

    async def erase(self, handover) -> None:
        self.events.append(("erase", handover.topic_id))


class Channel:
    """A newcomer's channel registered with `Outbound`; `failing` makes delivery fail."""

    def __init__(self, outbound: Outbound) -> None:
        self.received: list[dict[str, Any]] = []
        self.failing = False
        outbound.register("web", self.deliver)

    async def deliver(self, sender_id: str, messages: list[dict[str, Any]]) -> None:
        if self.failing:
            raise ConnectionError("the newcomer's browser is offline")
        self.received += messages

    def texts(self) -> list[str]:
        return [m.get("text", "") for m in self.received]


class Clock:
    def __init__(self) -> None:
        self.now = TUESDAY_10

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'handover.sqlite3'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def content():
    return ContentStore(ROOT / "content", REQUIRED_LANGUAGES)


@pytest.fixture
def world(store_url, content):
    """A core with its desk, channel, clock and the Rasa answer for "back to the bot"."""
    outbound = Outbound()
    channel = Channel(outbound)
    clock = Clock()
    asked_rasa: list[tuple[str, str]] = []

    async def back_to_bot(sender_id: str, language: str, channel_name: str) -> list[dict[str, Any]]:
        asked_rasa.append((sender_id, language))
        return [{"recipient_id": sender_id, "text": "Welcome back!", "buttons": [{"title": "Topics", "payload": "/help"}]}]

    store = HandoverStore(store_url)
    core = Handovers(store, content, outbound, back_to_bot, clock)
    desk = RecordingDesk()
    core.attach_desk(desk)
    yield core, desk, channel, clock, asked_rasa
    store.close()


RECENT = [{"from": "newcomer", "text": "Мені потрібна допомога з квартирою"}, {"from": "bot", "text": "Житло — Lindenau"}]


async def test_a_handover_is_matched_opened_taken_relayed_both_ways_and_ended(world):
    core, desk, channel, _, asked_rasa = world
    notice = await core.request("w-1", "web", "uk", "lindenau", "housing", RECENT)
    assert "30" in notice[0]["text"] and notice[0]["buttons"][0]["payload"] == BACK_TO_BOT
    handover = core.active("w-1")
    assert handover.state is State.WAITING and handover.topic_id in desk.topics
    summary = desk.topics[handover.topic_id]
    assert (summary.language_name, summary.municipality_name) == ("Ukrainisch", "Lindenau")
    assert "Wohnen" in summary.topic_label and summary.recent[0]["text"] == RECENT[0]["text"]
    assert [l.id for l in summary.asked] == ["olena-kovalenko"]

    assert await core.from_newcomer(handover, "Добрий день!") == []
    assert desk.posts == [(handover.topic_id, {"text": "Добрий день!", "left": False})]

    outcome = await core.take_over(handover.id, OLENA)
    assert outcome.refused is None and core.active("w-1").lotse_id == OLENA
    assert "Olena" in channel.texts()[-1]
    assert ("taken", "olena-kovalenko") in desk.events

    written = await core.from_lotse(handover.topic_id, OLENA, "Привіт! Чим допомогти?", "tg:1:50")
    assert written.refused is None
    assert channel.received[-1]["text"] == "Olena: Привіт! Чим допомогти?"
    assert channel.received[-1]["custom"]["welcomebot"]["relay_id"]

    ended = await core.end_by_lotse(handover.topic_id, OLENA)
    assert ended.refused is None and core.active("w-1") is None
    assert channel.texts()[-2:] == [channel.texts()[-2], "Welcome back!"] and asked_rasa == [("w-1", "uk")]
    assert ("closed", Actor.LOTSE) in desk.events


async def test_only_listed_lotsen_take_over_and_only_the_one_who_took_it_writes(world):
    core, desk, channel, _, _ = world
    await core.request("w-2", "web", "uk", "lindenau")
    handover = core.active("w-2")
    assert (await core.take_over(handover.id, STRANGER)).refused == "not a listed Lotse"
    assert (await core.from_lotse(handover.topic_id, OLENA, "hi", "k1")).refused == "take over first"
    assert (await core.from_lotse(handover.topic_id, STRANGER, "hi", "k2")).refused == "not a listed Lotse"
    first, second = await asyncio.gather(core.take_over(handover.id, IRINA), core.take_over(handover.id, OLENA))
    winners = [o for o in (first, second) if o.refused is None]
    losers = [o for o in (first, second) if o.refused is not None]
    assert len(winners) == 1 and len(losers) == 1  # first Lotse wins
    assert losers[0].refused == "already taken" and losers[0].lotse.id == winners[0].lotse.id
    loser_id = OLENA if winners[0].lotse.id == "irina-sokolova" else IRINA
    assert (await core.from_lotse(handover.topic_id, loser_id, "hi", "k3")).refused == "taken by another Lotse"
    assert (await core.from_lotse(handover.topic_id, STRANGER, "hi", "k4")).refused == "not a listed Lotse"
    assert (await core.end_by_lotse(handover.topic_id, STRANGER)).refused == "not a listed Lotse"
    assert (await core.end_by_lotse(handover.topic_id, loser_id)).refused == "taken by another Lotse"
    assert not any(t.startswith(("Olena: hi", "Irina: hi")) for t in channel.texts())
    assert core.active("w-2").state is State.OPEN


async def test_nobody_available_then_the_left_message_is_delivered_when_a_lotse_is(world):
    core, desk, channel, clock, _ = world
    notice = await core.request("w-3", "web", "fa", "birkenfelde", recent=[{"from": "newcomer", "text": "سلام"}])
    handover = core.active("w-3")
    assert handover.state is State.QUEUED and handover.topic_id is None and desk.topics == {}
    assert format_when(TUESDAY_10.replace(hour=17), "fa") in notice[0]["text"]  # Tuesday 17:00, as Persian writes it
    ack = await core.from_newcomer(handover, "من دنبال کلاس زبان هستم")
    assert ack and ack[0]["buttons"][0]["payload"] == BACK_TO_BOT
    await core.run_once()
    assert core.active("w-3").state is State.QUEUED and desk.posts == []  # still nobody

    clock.now = TUESDAY_10.replace(hour=17, minute=5)  # Mariam is available on Tuesdays 17-20
    await core.run_once()
    handover = core.active("w-3")
    assert handover.state is State.WAITING and handover.topic_id in desk.topics
    assert desk.topics[handover.topic_id].left_for_later
    assert [l.id for l in desk.topics[handover.topic_id].asked] == ["mariam-ahmadi"]
    assert desk.posts == [(handover.topic_id, {"text": "من دنبال کلاس زبان هستم", "left": True})]
    assert len(channel.received) == 1 and channel.received[0]["buttons"][0]["payload"] == BACK_TO_BOT
    await core.run_once()
    assert len(desk.posts) == 1 and len(channel.received) == 1  # delivered once


async def test_failed_deliveries_are_retried_in_order_and_delivered_once(world, monkeypatch):
    monkeypatch.setattr(service, "RETRY_DELAYS", (0.0,))
    core, desk, channel, _, _ = world
    await core.request("w-4", "web", "uk", "lindenau")
    handover = core.active("w-4")
    await core.take_over(handover.id, OLENA)
    channel.failing = True
    for n in range(3):
        await core.from_lotse(handover.topic_id, OLENA, f"message {n}", f"tg:1:{n}")
    await core.from_lotse(handover.topic_id, OLENA, "message 0", "tg:1:0")  # Telegram redelivers an update
    pending = core.store.pending(TO_NEWCOMER, handover.id)
    assert [m.body["text"] for m in pending] == ["Olena: message 0", "Olena: message 1", "Olena: message 2"]
    await core.run_once()
    assert core.store.pending(TO_NEWCOMER, handover.id)[0].attempts >= 2
    channel.failing = False
    await core.run_once()
    await core.run_once()
    relayed = [t for t in channel.texts() if t.startswith("Olena: message")]
    assert relayed == ["Olena: message 0", "Olena: message 1", "Olena: message 2"]
    assert core.store.pending(TO_NEWCOMER, handover.id) == []


async def test_staff_side_failures_keep_the_newcomers_messages_until_the_topic_opens(world, monkeypatch):
    monkeypatch.setattr(service, "RETRY_DELAYS", (0.0,))
    core, desk, channel, _, _ = world
    desk.failing = True
    await core.request("w-5", "web", "uk", "lindenau")
    handover = core.active("w-5")
    assert handover.state is State.WAITING and handover.topic_id is None
    await core.from_newcomer(handover, "один", key="web:1")
    await core.from_newcomer(handover, "один", key="web:1")  # the widget sent it twice
    desk.failing = False
    await core.run_once()
    handover = core.active("w-5")
    assert handover.topic_id is not None
    assert desk.posts == [(handover.topic_id, {"text": "один", "left": False})]


async def test_a_restarted_core_continues_the_open_handover_and_delivers_what_was_pending(world, store_url, content):
    core, desk, channel, clock, _ = world
    await core.request("w-6", "web", "uk", "lindenau")
    handover = core.active("w-6")
    await core.take_over(handover.id, OLENA)
    channel.failing = True  # the newcomer's channel is down when the gateway dies
    await core.from_lotse(handover.topic_id, OLENA, "before the restart", "tg:1:77")
    core.store.close()

    outbound = Outbound()
    fresh_channel = Channel(outbound)
    restarted = Handovers(HandoverStore(store_url), content, outbound, None, clock)
    restarted.attach_desk(desk)
    try:
        assert restarted.active("w-6").state is State.OPEN
        await restarted.from_lotse(handover.topic_id, OLENA, "before the restart", "tg:1:77")  # redelivered update
        await restarted.run_once(retry_all=True)  # the first round after a start
        await restarted.run_once()
        assert fresh_channel.texts().count("Olena: before the restart") == 1
        await restarted.from_newcomer(restarted.active("w-6"), "after the restart")
        assert desk.posts[-1] == (handover.topic_id, {"text": "after the restart", "left": False})
    finally:
        restarted.store.close()


async def test_the_newcomer_goes_back_to_the_bot(world):
    core, desk, channel, _, _ = world
    await core.request("w-7", "web", "uk", "lindenau")
    handover = core.active("w-7")
    await core.end_by_newcomer(handover)
    assert core.active("w-7") is None and ("closed", Actor.NEWCOMER) in desk.events
    assert (await core.take_over(handover.id, OLENA)).refused == "ended"
    assert (await core.from_lotse(handover.topic_id, OLENA, "late", "k")).refused == "ended"


async def test_delete_erases_the_handover_history_and_retention_purges_old_ones(world):
    core, desk, channel, _, _ = world
    await core.request("w-8", "web", "uk", "lindenau", recent=RECENT)
    first = core.active("w-8")
    await core.from_newcomer(first, "private details")
    await core.erase("w-8")
    assert core.store.get(first.id) is None and core.store.messages(first.id) == []
    assert ("erase", first.topic_id) in desk.events

    await core.request("w-9", "web", "uk", "lindenau")
    old = core.active("w-9")
    await core.end_by_newcomer(old)
    await core.request("w-10", "web", "uk", "lindenau")
    recent = core.active("w-10")
    assert core.store.purge_ended_before(time.time() - 3600) == []  # ended just now: kept
    purged = core.store.purge_ended_before(time.time() + 1)
    assert [h.id for h in purged] == [old.id]
    assert core.store.get(recent.id) is not None  # active ones are never purged


def test_the_state_machine_refuses_what_is_not_allowed():
    waiting = machine.Handover("h", "s", "web", "de", None, None, State.WAITING, 0.0)
    with pytest.raises(NotAllowed, match="not queued"):
        machine.become_available(waiting)
    open_ = machine.take_over(waiting, 1, True)
    assert open_.state is State.OPEN and open_.lotse_id == 1
    with pytest.raises(NotAllowed, match="already taken"):
        machine.take_over(open_, 2, True)
    ended = machine.end(open_, Actor.NEWCOMER, 5.0)
    assert (ended.state, ended.ended_by, ended.ended_at) == (State.ENDED, Actor.NEWCOMER, 5.0)
    with pytest.raises(NotAllowed, match="ended"):
        machine.end(ended, Actor.SYSTEM, 6.0)
    with pytest.raises(NotAllowed, match="ended"):
        machine.may_write_to_newcomer(ended, 1, True)
    assert machine.end(waiting, Actor.LOTSE, 1.0, 9, True).state is State.ENDED  # nobody took it: any Lotse may close
    assert machine.initial_state(False) is State.QUEUED and machine.initial_state(True) is State.WAITING


def test_the_store_relays_a_source_message_once(store_url):
    store = HandoverStore(store_url)
    try:
        handover = machine.Handover("h1", "s", "web", "de", None, None, State.WAITING, time.time())
        store.create(handover, [])
        assert store.add_message("h1", TO_STAFF, "k", {"text": "a"}) is not None
        assert store.add_message("h1", TO_STAFF, "k", {"text": "a"}) is None
        assert store.add_message("h1", TO_NEWCOMER, "k", {"text": "b"}) is not None  # other direction
        assert not store.transition(machine.take_over(handover, 1, True), State.QUEUED)  # compare-and-set
        assert store.transition(machine.take_over(handover, 1, True), State.WAITING)
        store.set_topic("h1", 42)
        assert store.by_topic(42).lotse_id == 1
    finally:
        store.close()
