"""Smaller guarantees of the core: hot reload keeps last good content, Rasa down gets an answer,
the Rasa speed-up still rejects bad action responses."""
from __future__ import annotations

import pytest

from welcomebot.content import ContentStore

from .conftest import REQUIRED_LANGUAGES


def test_store_reloads_good_edits_and_keeps_last_good_on_broken_ones(content_copy):
    store = ContentStore(content_copy, REQUIRED_LANGUAGES, check_interval=0)
    path = content_copy / "offers" / "sprachcafe-lindenau.yml"
    good = path.read_text(encoding="utf-8")
    before = store.snapshot().offers["sprachcafe-lindenau"].title.text("de")
    path.write_text(good.replace("category: meeting_places", "category: [unclosed"), encoding="utf-8")
    broken = store.snapshot()
    assert broken.offers["sprachcafe-lindenau"].title.text("de") == before
    assert any(p.file.endswith("sprachcafe-lindenau.yml") and p.severity == "error" for p in broken.problems)
    path.write_text(good.replace("  de: ", "  de: Neu – ", 1), encoding="utf-8")
    after = store.snapshot().offers["sprachcafe-lindenau"].title.text("de")
    assert after.startswith("Neu – ") and after != before
    path.unlink()
    assert "sprachcafe-lindenau" not in store.snapshot().offers


def test_half_saved_file_never_replaces_good_content(content_copy):
    store = ContentStore(content_copy, REQUIRED_LANGUAGES, check_interval=0)
    path = content_copy / "offers" / "sprachcafe-lindenau.yml"
    good = path.read_text(encoding="utf-8")
    offer = store.snapshot().offers["sprachcafe-lindenau"]
    path.write_text(good[: len(good) // 3], encoding="utf-8")  # an editor crashed mid-save
    assert store.snapshot().offers["sprachcafe-lindenau"] == offer


async def test_rasa_down_gets_an_answer_in_the_language(tmp_path, content_copy):
    from bot.conversation import Assistant, IncomingMessage
    from bot.rasa_client import RasaClient
    from bot.state import SQLiteStateStore

    assistant = Assistant(RasaClient(["http://127.0.0.1:9"], timeout=2), SQLiteStateStore(tmp_path / "s.db"),
                          ContentStore(content_copy, REQUIRED_LANGUAGES))
    try:
        replies = await assistant.handle(IncomingMessage("x", "где можно выучить немецкий язык"))
    finally:
        await assistant.rasa.close()
    assert len(replies) == 1 and "+49 5561 702-410" in replies[0]["text"]
    from welcomebot.i18n import translator
    assert replies[0]["text"].startswith(translator("ru")("Sorry, I cannot answer right now. Please try again in a few minutes, or call the integration office: %(phone)s", phone="")[:20])


def test_fast_action_validation_rejects_what_rasa_rejects():
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction

    from welcomebot import rasa_speedups

    rasa_speedups.apply()
    action = RemoteAction("action_x", None)
    assert action._validate_action_result({"events": [], "responses": [{"text": "hi"}]})
    with pytest.raises(ValidationError):
        action._validate_action_result({"events": "not a list"})
    with pytest.raises(ValidationError):
        action._validate_action_result({"events": [{"no_event_name": 1}]})


def test_cached_event_lookup_finds_what_rasa_finds():
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    original = {cls.type_name: cls for cls in reversed(all_subclasses(Event))}  # first one wins
    from welcomebot import rasa_speedups

    rasa_speedups.apply()
    for name, cls in original.items():
        assert Event.resolve_by_type(name) is cls
    assert Event.resolve_by_type("no such event", default=Event) is Event
    assert Event.resolve_by_type("topic") is None
    with pytest.raises(ValueError):
        Event.resolve_by_type("no such event")
    slot = Event.from_parameters({"event": "slot", "name": "municipality", "value": "lindenau"})
    assert slot.key == "municipality" and slot.value == "lindenau"


async def test_heap_is_frozen_once_the_model_has_loaded():
    import asyncio
    import gc

    from welcomebot import rasa_speedups

    assert gc.get_freeze_count() == 0
    rasa_speedups.freeze_heap_once_loaded()  # as NgramIntentClassifier.load does inside the server
    assert gc.get_freeze_count() == 0  # not while loading: only after the loading step
    await asyncio.sleep(0)
    try:
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_heap_is_left_alone_without_a_server_loop():
    import gc

    from welcomebot import rasa_speedups

    rasa_speedups.freeze_heap_once_loaded()  # training, `welcomebot chat` in tests: no loop
    assert gc.get_freeze_count() == 0


def test_sqlite_engines_reuse_their_connection_in_wal_mode(tmp_path):
    import sqlalchemy as sa

    from welcomebot.sql import create_engine

    engine = create_engine(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    opened = []
    sa.event.listen(engine, "connect", lambda connection, _record: opened.append(connection))
    for _ in range(5):
        with engine.connect() as db:
            assert db.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    assert len(opened) == 1  # one per message was a third of the gateway's time


async def test_action_server_calls_share_one_connection_and_keep_rasas_errors():
    from aiohttp import web
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig

    from welcomebot import rasa_speedups

    peers = []

    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername"))
        if (await request.json()).get("fail"):
            return web.Response(status=500, text="broken action")
        return web.json_response({"events": [], "responses": [{"text": "hi"}]})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        rasa_speedups.apply()
        endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/webhook")
        for _ in range(3):
            assert await endpoint.request(json={"next_action": "action_x"}) == {"events": [], "responses": [{"text": "hi"}]}
        with pytest.raises(ClientResponseError) as failed:
            await endpoint.request(json={"fail": True})
        assert failed.value.status == 500 and b"broken action" in failed.value.text
        assert len(peers) == 4 and len(set(peers)) == 1  # one connection for every call
        assert isinstance(await endpoint.request(json={}), dict)  # after an error the session still serves
    finally:
        for session in list(rasa_speedups._sessions.values()):
            await session.close()
        rasa_speedups._sessions.clear()
        await runner.cleanup()


def test_model_graph_is_evaluated_as_dask_evaluates_it():
    import dask

    from welcomebot.rasa_speedups import evaluate_graph

    calls = []

    def node(name):
        def run(*inputs):
            calls.append(name)
            return name, [value for _, value in inputs]
        return run

    # A diamond (tokenizer used by two nodes), an input with an unhashable value, a node with
    # no needs: the shapes Rasa's DaskGraphRunner builds.
    graph = {
        "__message__": ("__message__", [{"text": "wo deutsch lernen"}]),
        "normalizer": (node("normalizer"), "__message__"),
        "tokenizer": (node("tokenizer"), "normalizer"),
        "classifier": (node("classifier"), "tokenizer"),
        "entities": (node("entities"), "tokenizer", "normalizer"),
        "domain": (node("domain"),),
        "output": (node("output"), "classifier", "entities", "domain"),
    }
    theirs = dask.get(graph, ["output", "domain"])
    expected_calls = sorted(calls)
    calls.clear()
    ours = evaluate_graph(graph, ["output", "domain"])
    assert ours == list(theirs)
    assert sorted(calls) == expected_calls and len(calls) == len(set(calls))  # each node once
    assert calls.index("tokenizer") < calls.index("classifier") < calls.index("output")


def test_the_answers_of_a_stored_turn_are_found_by_its_id():
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from welcomebot.rasa_turns import answers_of

    tracker = DialogueStateTracker.from_events("s", [
        UserUttered("hallo", metadata={"turn_id": "t1"}), ActionExecuted("action_greet"), BotUttered("Willkommen!"),
        ActionExecuted("action_listen"),
        UserUttered("arzt?", metadata={"turn_id": "t2"}), ActionExecuted("action_answer_topic"),
        BotUttered("Dr. Aydin", {"buttons": [{"title": "Karte", "payload": "/map"}]}), BotUttered(None, {"custom": {"welcomebot": {"offers": []}}}),
        ActionExecuted("action_listen"),
    ])
    answers = answers_of(tracker, "t2")
    assert [a["text"] for a in answers] == ["Dr. Aydin", None]
    assert answers[0]["buttons"][0]["payload"] == "/map" and answers[1]["custom"] == {"welcomebot": {"offers": []}}
    assert [a["text"] for a in answers_of(tracker, "t1")] == ["Willkommen!"]  # up to the next message
    assert answers_of(tracker, "t3") is None  # never stored: the turn is processed


class _AnswersEverything:
    """Stands in for Rasa where only the gateway's own state is under test."""

    async def send(self, sender_id, text, metadata):
        return [{"recipient_id": sender_id, "text": "…"}]

    async def close(self):
        pass


async def test_the_conversation_state_is_written_when_it_changes_not_per_message(tmp_path, content_copy, monkeypatch):
    import time

    from bot.conversation import TOUCH_SECONDS, Assistant, IncomingMessage
    from bot.state import SQLiteStateStore

    store = SQLiteStateStore(tmp_path / "s.db")
    saved = []
    original_save = store.save
    monkeypatch.setattr(store, "save", lambda state: (saved.append(state.language), original_save(state)))
    assistant = Assistant(_AnswersEverything(), store, ContentStore(content_copy, REQUIRED_LANGUAGES))

    for text in ("hallo", "wo deutsch lernen", "arzt?"):
        await assistant.handle(IncomingMessage("x", text, language="de"))
    assert saved == ["de"]  # the first message; the others changed nothing
    await assistant.handle(IncomingMessage("x", "where can I learn German", language="en"))
    assert saved == ["de", "en"]
    assert store.load("x").language == "en"

    later = time.time() + TOUCH_SECONDS + 1
    monkeypatch.setattr(time, "time", lambda: later)
    await assistant.handle(IncomingMessage("x", "and a doctor?", language="en"))
    assert saved == ["de", "en", "en"]  # unchanged, but alive: retention counts from here
    assert store.load("x").updated_at == later


def test_the_processor_deep_copies_only_for_debug_logs():
    """`_CopiesOnlyForDebugLogs` skips the processor's copies while debug logging is off: every
    `copy.deepcopy` in rasa/core/processor.py must be an argument of a `structlogger.debug` call."""
    import ast
    import inspect
    import logging

    import rasa.core.processor

    from welcomebot.rasa_speedups import _CopiesOnlyForDebugLogs

    tree = ast.parse(inspect.getsource(rasa.core.processor))
    copies, in_debug_logs = 0, 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "copy.deepcopy":
            copies += 1
        if isinstance(node, ast.Call) and ast.unparse(node.func) == "structlogger.debug":
            in_debug_logs += sum(1 for arg in [*node.args, *(k.value for k in node.keywords)]
                                 if isinstance(arg, ast.Call) and ast.unparse(arg.func) == "copy.deepcopy")
    assert copies == in_debug_logs == 6
    assert [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and ast.unparse(n.value) == "copy" and n.attr != "deepcopy"] == []

    events = [{"event": "bot", "text": "…"}]
    rasa_logger = logging.getLogger("rasa")
    level = rasa_logger.level
    try:
        rasa_logger.setLevel(logging.INFO)
        assert _CopiesOnlyForDebugLogs.deepcopy(events) is events
        rasa_logger.setLevel(logging.DEBUG)
        copied = _CopiesOnlyForDebugLogs.deepcopy(events)
        assert copied == events and copied is not events and copied[0] is not events[0]
    finally:
        rasa_logger.setLevel(level)


def test_a_domain_is_empty_as_rasa_says():
    from rasa.shared.core.domain import Domain

    from welcomebot.rasa_speedups import RASA_DOMAIN_IS_EMPTY, _is_empty

    from .conftest import ROOT

    for domain in (Domain.load(str(ROOT / "nlu" / "domain.yml")), Domain.empty()):
        assert _is_empty(domain) == RASA_DOMAIN_IS_EMPTY(domain)
        assert _is_empty(domain) == RASA_DOMAIN_IS_EMPTY(domain)  # asked again: the kept answer
    assert _is_empty(Domain.empty()) and not _is_empty(Domain.load(str(ROOT / "nlu" / "domain.yml")))


async def test_conversations_past_retention_are_deleted_from_state_and_tracker(tmp_path, content_copy):
    """SPEC §8: the gateway's state and Rasa's tracker (what the newcomer wrote) of a
    conversation nobody wrote in for the retention period are deleted; recent ones stay."""
    import time

    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.conversation import Assistant
    from bot.state import ConversationState, SQLiteStateStore
    from welcomebot import rasa_tracker_store

    from .conftest import ROOT

    domain = Domain.load(str(ROOT / "nlu" / "domain.yml"))
    tracker_db = tmp_path / "tracker.sqlite3"
    trackers = SQLTrackerStore(domain, dialect="sqlite", db=str(tracker_db))
    now, day = time.time(), 86400
    for sender, age_days in (("old", 40), ("recent", 2)):
        events = [UserUttered("wo deutsch lernen", timestamp=now - age_days * day), ActionExecuted("action_listen", timestamp=now - age_days * day + 1)]
        await rasa_tracker_store.RASA_SAVE(trackers, DialogueStateTracker.from_events(sender, events, domain.slots))
    states = SQLiteStateStore(tmp_path / "state.sqlite3")
    for sender in ("old", "recent"):
        states.save(ConversationState(sender, "ar", "explicit"))
    with states.file.connection() as db:
        db.execute("UPDATE conversations SET updated_at = ? WHERE sender_id = 'old'", (now - 40 * day,))

    assistant = Assistant(_AnswersEverything(), states, ContentStore(content_copy, REQUIRED_LANGUAGES), f"sqlite:///{tracker_db}")
    assert assistant.purge_past_retention(30 * day) == {"states": 1, "tracker_conversations": 1}
    assert states.load("old").language is None and states.load("recent").language == "ar"
    assert await rasa_tracker_store.RASA_RETRIEVE(trackers, "old", True) is None
    assert len((await rasa_tracker_store.RASA_RETRIEVE(trackers, "recent", True)).events) == 2
    assert assistant.purge_past_retention(30 * day) == {"states": 0, "tracker_conversations": 0}


def _action_responses() -> list:
    """Valid and broken action server responses: every event type Rasa has, and mistakes."""
    from rasa.shared.core.events import (
        ActionExecuted, ActiveLoop, AllSlotsReset, BotUttered, ConversationPaused, ConversationResumed, FollowupAction,
        Restarted, SessionStarted, SlotSet, UserUttered, UserUtteranceReverted,
    )

    events = [e.as_dict() for e in (
        UserUttered("hi", {"name": "greet", "confidence": 0.9}, [{"entity": "municipality", "value": "lindenau", "start": 0, "end": 2}]),
        ActionExecuted("action_listen"), SlotSet("municipality", "lindenau"), SlotSet("answered_topic", None),
        BotUttered("Die VHS …", {"buttons": [{"title": "a", "payload": "/b"}], "custom": {"welcomebot": {"offers": ["vhs"]}}}),
        Restarted(), UserUtteranceReverted(), AllSlotsReset(), ConversationPaused(), ConversationResumed(),
        FollowupAction("action_x"), ActiveLoop("some_form"), ActiveLoop(None), SessionStarted(),
    )]
    responses: list = [{"events": [e], "responses": []} for e in events]
    responses += [{"events": events, "responses": [{"text": "hi", "buttons": [{"title": "a", "payload": "/b"}]}]}, {}, {"events": []}]
    broken_events = [
        {"no_event_name": 1}, {"event": "no_such_type"}, {"event": 3}, {"event": ["slot"]}, "slot", None, [],
        {"event": "slot", "name": 3, "value": 1}, {"event": "user", "text": 5}, {"event": "bot", "text": "x", "timestamp": "noon"},
        {"event": "action", "name": None, "policy": 3}, {"event": "slot", "name": "x", "value": 1, "metadata": "m"},
    ]
    responses += [{"events": [*events[:3], bad]} for bad in broken_events]
    responses += [{"events": "not a list"}, {"events": None}, {"responses": "no"}, {"responses": [{"text": 5}]}, [], "text", None]
    return responses


def test_action_responses_are_judged_as_rasas_whole_schema_judges_them():
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    from welcomebot.rasa_speedups import _ResponseValidator

    schema = RemoteAction.action_response_format_spec()
    whole = jsonschema.validators.validator_for(schema)(schema)
    split = _ResponseValidator(schema)
    assert split.by_type is not None and len(split.by_type) >= 20  # the schema is split by event type
    verdicts = [(split.is_valid(r), whole.is_valid(r)) for r in _action_responses()]
    assert [ours for ours, _ in verdicts] == [theirs for _, theirs in verdicts]
    assert sum(theirs for _, theirs in verdicts) >= 15 and sum(not theirs for _, theirs in verdicts) >= 15  # both kinds tried


async def test_periodic_work_runs_again_after_a_failing_round_and_stops_with_the_app():
    import asyncio

    from bot.periodic import every

    rounds = []

    async def work():
        rounds.append(len(rounds))
        if len(rounds) == 1:
            raise RuntimeError("database busy")

    context = every(0.01, work, "test work")(None)
    await context.__anext__()  # the app runs
    await asyncio.sleep(0.1)
    with pytest.raises(StopAsyncIteration):
        await context.__anext__()  # the app stops: the loop ends
    seen = len(rounds)
    await asyncio.sleep(0.05)
    assert seen >= 3 and len(rounds) == seen  # went on after the failure, stopped with the app
