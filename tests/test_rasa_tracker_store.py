"""The tracker store's faster reading and writing (welcomebot.rasa_tracker_store) store and read
back what Rasa's own code does."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
import yaml
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted, ActiveLoop, BotUttered, Restarted, SessionStarted, SlotSet, UserUttered, UserUtteranceReverted,
)
from rasa.shared.core.trackers import DialogueStateTracker

from welcomebot import rasa_tracker_store

from .conftest import ROOT


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "nlu" / "domain.yml"))


def _turn(text: str, intent: str, town: str = "lindenau") -> list:
    return [
        UserUttered(text, {"name": intent, "confidence": 0.9}, [{"entity": "municipality", "value": town, "start": 0, "end": 3}]),
        SlotSet("municipality", town), ActionExecuted("action_answer_topic"),
        BotUttered("Die VHS …", {"custom": {"welcomebot": {"offers": ["vhs"]}}}), ActionExecuted("action_listen"),
    ]


async def _conversation(store: SQLTrackerStore, sender: str, retrieve, save, domain: Domain) -> None:
    """A new conversation, two turns read back and saved, a second session: as Rasa's processor does."""
    tracker = await store.create_tracker(sender)  # a tracker Rasa made itself: counted
    tracker.update_with_events([ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")], domain)
    await save(store, tracker)
    for text, intent in (("wo deutsch lernen", "ask_integration_course"), ("arzt?", "ask_health")):
        tracker = await retrieve(store, sender, False)
        tracker.update_with_events(_turn(text, intent), domain)
        await save(store, tracker)
        tracker.update_with_events([SlotSet("answered_topic", "health")], domain)
        await save(store, tracker)  # the same tracker saved twice: nothing stored twice
    tracker = await retrieve(store, sender, False)
    tracker.update_with_events([ActionExecuted("action_session_start"), SessionStarted(), SlotSet("municipality", "lindenau"),
                                ActionExecuted("action_listen"), *_turn("wohnung", "ask_housing", "wiesbach")], domain)
    await save(store, tracker)


def _rows(store: SQLTrackerStore, sender: str) -> list[tuple]:
    with store.engine.connect() as db:
        return [tuple(row) for row in db.execute(sa.text(
            "SELECT sender_id, type_name, timestamp, intent_name, action_name, data FROM events"
            " WHERE sender_id = :sender ORDER BY id"), {"sender": sender})]


@pytest.fixture(params=["sqlite", "postgresql"])
def tracker_store(request, tmp_path, domain) -> SQLTrackerStore:
    """Rasa's SQL tracker store on the embedded profile's database and on production's."""
    rasa_tracker_store.apply()
    if request.param == "sqlite":
        return SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "tracker.sqlite3"))
    url = sa.engine.make_url(request.getfixturevalue("postgres_url"))
    return SQLTrackerStore(domain, dialect="postgresql", host=url.host, port=url.port, db=url.database,
                           username=url.username, password=url.password)


async def test_saved_events_equal_what_rasas_save_stores(tracker_store, domain):
    await _conversation(tracker_store, "by-rasa", rasa_tracker_store.RASA_RETRIEVE, rasa_tracker_store.RASA_SAVE, domain)
    await _conversation(tracker_store, "here", rasa_tracker_store._retrieve_tracker, rasa_tracker_store._save_tracker, domain)

    stored_by_rasa, stored_here = _rows(tracker_store, "by-rasa"), _rows(tracker_store, "here")
    assert len(stored_here) == 1 + 3 + 2 * 6 + 9  # each event once
    assert [r[1:2] + r[3:5] for r in stored_here] == [r[1:2] + r[3:5] for r in stored_by_rasa]
    # The same data apart from timestamps: each conversation was made at its own time.
    assert [_untimed(r[5]) for r in stored_here] == [_untimed(r[5]) for r in stored_by_rasa]
    # Read back by either, the same tracker.
    for sender in ("by-rasa", "here"):
        theirs = await rasa_tracker_store.RASA_RETRIEVE(tracker_store, sender, False)
        ours = await rasa_tracker_store._retrieve_tracker(tracker_store, sender, False)
        assert [e.as_dict() for e in ours.events] == [e.as_dict() for e in theirs.events]


def _untimed(data: str) -> dict:
    event = json.loads(data)
    assert isinstance(event.pop("timestamp"), float)
    return event


async def test_tracker_read_back_by_column_equals_rasas_own(tmp_path, domain):
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "tracker.sqlite3"))
    tracker = DialogueStateTracker.from_events("someone", [
        ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
        UserUttered("old session", {"name": "greet", "confidence": 1.0}),
        SessionStarted(), UserUttered("wo deutsch lernen", {"name": "ask_integration_course", "confidence": 0.9}),
        SlotSet("municipality", "lindenau"), ActionExecuted("action_answer_topic"),
    ], domain.slots)
    await rasa_tracker_store.RASA_SAVE(store, tracker)
    theirs = [await rasa_tracker_store.RASA_RETRIEVE(store, "someone", flag) for flag in (False, True)]
    ours = [await rasa_tracker_store._retrieve_tracker(store, "someone", flag) for flag in (False, True)]
    for a, b in zip(theirs, ours):
        assert [e.as_dict() for e in a.events] == [e.as_dict() for e in b.events]
        assert a.current_slot_values() == b.current_slot_values()
    assert len(ours[1].events) > len(ours[0].events)  # one session vs all sessions
    assert await rasa_tracker_store._retrieve_tracker(store, "nobody", False) is None


def test_embedded_tracker_database_runs_in_wal_mode(tmp_path, domain):
    rasa_tracker_store.apply()
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "tracker.sqlite3"))
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def _long_conversation(turns: int) -> list:
    """A session of `turns` messages: the town named once early, topics and languages changing."""
    events = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    topics = ["ask_integration_course", "ask_health", "ask_housing", "greet", "ask_work"]
    for turn in range(turns):
        intent = topics[turn % len(topics)]
        events += [UserUttered(f"frage {turn}", {"name": intent, "confidence": 0.8}), ActionExecuted("action_answer_topic")]
        if turn == 1:
            events.append(SlotSet("municipality", "wiesbach"))
        if intent.startswith("ask_"):
            events += [SlotSet("answered_topic", intent[4:]), BotUttered(f"antwort {turn}")]
        events.append(ActionExecuted("action_listen"))
    return events


async def _stored(tmp_path, domain: Domain, events: list) -> SQLTrackerStore:
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(tmp_path / "tracker.sqlite3"))
    await rasa_tracker_store.RASA_SAVE(store, DialogueStateTracker.from_events("someone", events, domain.slots))
    return store


async def test_a_long_conversation_is_read_back_as_its_last_turns_with_all_slots(tmp_path, domain):
    store = await _stored(tmp_path, domain, _long_conversation(40))
    full = await rasa_tracker_store.RASA_RETRIEVE(store, "someone", False)
    window = await rasa_tracker_store._retrieve_tracker(store, "someone", False)

    assert len(window.events) < len(full.events) / 3
    assert sum(isinstance(e, UserUttered) for e in window.events) == rasa_tracker_store.window_turns()
    assert window.current_slot_values() == full.current_slot_values()
    assert window.current_slot_values()["municipality"] == "wiesbach"  # set in the second of 40 turns
    assert window.latest_message.as_dict() == full.latest_message.as_dict()
    assert window.latest_action == full.latest_action
    # What the policies featurise: the states of the last turns (MemoizationPolicy looks back 3).
    states = 2 * (rasa_tracker_store.window_turns() - 1)
    assert window.past_states(domain)[-states:] == full.past_states(domain)[-states:]

    # A turn on the shorter tracker stores its new events after all 40 turns, once.
    window.update_with_events(_turn("noch was", "ask_work"), domain)
    await rasa_tracker_store._save_tracker(store, window)
    again = await rasa_tracker_store.RASA_RETRIEVE(store, "someone", False)
    assert [e.as_dict() for e in again.events] == [e.as_dict() for e in [*full.events, *_turn_events(window)]]


def _turn_events(tracker: DialogueStateTracker) -> list:
    return list(tracker.events)[-5:]


@pytest.mark.parametrize("odd_event", [UserUtteranceReverted, Restarted, lambda: ActiveLoop("some_form")])
async def test_a_conversation_with_more_than_slot_changes_before_the_window_is_read_whole(tmp_path, domain, odd_event):
    events = _long_conversation(40)
    events.insert(10, odd_event())
    for event in events[10:]:  # Rasa reads a session by timestamp: keep them in order
        event.timestamp += 1
    store = await _stored(tmp_path, domain, events)
    full = await rasa_tracker_store.RASA_RETRIEVE(store, "someone", False)
    read = await rasa_tracker_store._retrieve_tracker(store, "someone", False)
    assert [e.as_dict() for e in read.events] == [e.as_dict() for e in full.events]


async def test_a_short_conversation_is_read_whole(tmp_path, domain):
    store = await _stored(tmp_path, domain, _long_conversation(rasa_tracker_store.window_turns()))
    full = await rasa_tracker_store.RASA_RETRIEVE(store, "someone", False)
    read = await rasa_tracker_store._retrieve_tracker(store, "someone", False)
    assert [e.as_dict() for e in read.events] == [e.as_dict() for e in full.events]


def test_no_rule_or_story_looks_further_back_than_the_window():
    for name, key in (("rules.yml", "rules"), ("stories.yml", "stories")):
        for flow in yaml.safe_load((ROOT / "nlu" / "data" / name).read_text(encoding="utf-8"))[key]:
            messages = sum(1 for step in flow["steps"] if "intent" in step or "user" in step)
            assert messages < rasa_tracker_store.window_turns(), flow.get("rule") or flow.get("story")
    policies = yaml.safe_load((ROOT / "nlu" / "config.yml").read_text(encoding="utf-8"))["policies"]
    assert all(p.get("max_history", 0) < 2 * rasa_tracker_store.window_turns() for p in policies)


async def test_embedded_tracker_store_keeps_its_connection(tmp_path, domain):
    rasa_tracker_store.apply()
    store = await _stored(tmp_path, domain, _long_conversation(3))
    await rasa_tracker_store._retrieve_tracker(store, "someone", False)  # the first use pools the engine
    opened = []
    sa.event.listen(store.engine, "connect", lambda connection, _record: opened.append(connection))
    for _ in range(5):
        tracker = await rasa_tracker_store._retrieve_tracker(store, "someone", False)
        tracker.update_with_events(_turn("und?", "ask_work"), domain)
        await rasa_tracker_store._save_tracker(store, tracker)
    assert opened == []
    assert len((await rasa_tracker_store.RASA_RETRIEVE(store, "someone", True)).events) == len(_long_conversation(3)) + 5 * 5
