"""Measured fixes for Rasa 3.6's SQL tracker store, applied in the Rasa server process.

Every turn Rasa reads the conversation back from the tracker store and writes the new events.
py-spy under bench/latency.py (10 conversations) put 12% of the server's time in reading and
19% in writing. What changes here, each keeping what is stored and what is read back as Rasa
has it (tests/test_core_pieces.py compares both):

- Reading: Rasa loads each event row as a full ORM object to read one column (ORM loading was
  18% of the server's time before this fix). `_retrieve_tracker` runs Rasa's own query for the
  `type_name` and `data` columns and builds the tracker exactly as Rasa does.
- Writing: to find which events are new, Rasa counts the conversation's stored events with a
  query on every save, then adds each new event as an ORM object. The tracker read back here
  remembers how many of its events are stored, so `_save_tracker` inserts the rest in one
  `executemany` without counting (a tracker Rasa made itself, e.g. a new conversation, is still
  counted as Rasa does).
- Both run Rasa's statements compiled once for the store's database (`_Statements`) on a pooled
  DBAPI connection: building each query through SQLAlchemy's ORM, with its cache key, on every
  turn was 13% of the server's time after the two fixes above.
- Long conversations: Rasa reads, replays, featurises and sends to the action server every
  event of the session on every turn, so a turn cost more the longer the newcomer had written
  (bench/latency.py: 50 ms of CPU per message 120 messages into one conversation, 195 ms after
  400). A turn here reads the last `WINDOW_TURNS` messages and, from before them, the last value
  of each slot — all that the policies and actions look at — unless something else happened
  before them, and then the whole session as Rasa does.
- SQLite (the embedded profile): the database runs in WAL mode with `synchronous=NORMAL`, as
  the gateway's own SQLite stores do. Rasa's default journal synced the disk on every commit,
  inside the event loop that serves every conversation. A power cut may lose the last turns,
  never corrupt the file.
"""
from __future__ import annotations

import itertools
import json
import os
import sqlite3
from typing import Any, Optional, Text

import sqlalchemy
import sqlalchemy.orm
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from .sql import CompiledStatement, dbapi_cursor

RASA_RETRIEVE = SQLTrackerStore._retrieve  # Rasa's own, kept for the tests that compare both
RASA_SAVE = SQLTrackerStore.save

# How many of a tracker's events are already in the store (set when read or saved here).
STORED = "_welcomebot_stored_events"

# A turn reads back the conversation's last WINDOW_TURNS messages and, from before them, only
# the slot events. The policies look back 3 states (MemoizationPolicy) or one message (the
# rules); the actions back 2 messages; tests/test_rasa_tracker_store.py checks that no rule or
# story is longer than the window.
WINDOW_TURNS = 10
# Events before the window whose only lasting effect is on slots: with anything else there
# (restart, rewind, undo, form, pause...) the whole session is read, as Rasa does.
WINDOW_SAFE_PREFIX = {"user", "bot", "action", "slot", "user_featurization", "session_started"}


async def _retrieve_tracker(self: SQLTrackerStore, sender_id: Text, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
    statements = _statements(self)
    with dbapi_cursor(self.engine) as cursor:
        cursor.execute(*statements.read(sender_id, all_sessions=fetch_events_from_all_sessions))
        rows = cursor.fetchall()
    start = None if fetch_events_from_all_sessions else _window_start([type_name for type_name, _ in rows])
    events = [json.loads(data) for _, data in rows] if start is None else _windowed(rows, start)
    if not (self.domain and events):
        return None
    tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
    if not fetch_events_from_all_sessions:  # all its events are stored; `_save_tracker` adds the rest
        setattr(tracker, STORED, len(events))
    return tracker


def _windowed(rows: list[tuple[str, str]], start: int) -> list[dict[str, Any]]:
    """The events from row `start` on, after the last value each slot was set to before them.
    Only these are decoded: JSON decoding was the cost that grew with the conversation."""
    slots: dict[str, dict[str, Any]] = {}
    for type_name, data in rows[:start]:
        if type_name == SlotSet.type_name:
            slot = json.loads(data)
            slots.pop(slot.get("name"), None)  # re-inserted: the dict keeps the order they were last set in
            slots[slot.get("name")] = slot
    return [*slots.values(), *(json.loads(data) for _, data in rows[start:])]


def window_turns() -> int:
    """How many of the newcomer's last messages a turn reads back in full (0: all of them)."""
    return _window_turns


_window_turns = int(os.environ.get("WELCOMEBOT_TRACKER_WINDOW_TURNS", WINDOW_TURNS))  # read once, at start-up


def _window_start(types: list[str]) -> Optional[int]:
    """Where the window starts in a session's events (given by type), or None when the whole
    session must be read: it is short, or something before the window changes more than slots
    (a restart, an undo, a form...)."""
    turns = window_turns()
    users = [i for i, type_name in enumerate(types) if type_name == UserUttered.type_name]
    if not turns or len(users) <= turns:
        return None
    start = users[-turns]
    if start and types[start - 1] == ActionExecuted.type_name:
        start -= 1  # the action_listen before the message: the window opens as a turn does
    if any(type_name not in WINDOW_SAFE_PREFIX for type_name in types[:start]):
        return None
    return start


async def _save_tracker(self: SQLTrackerStore, tracker: DialogueStateTracker) -> None:
    statements = _statements(self)
    await self.stream_events(tracker)
    with dbapi_cursor(self.engine) as cursor:
        stored = getattr(tracker, STORED, None)
        if stored is None:  # a tracker Rasa made itself: count, as Rasa's `_additional_events` does
            cursor.execute(*statements.count(sender_id=tracker.sender_id))
            stored = cursor.fetchone()[0]
        rows = [_row(tracker.sender_id, event) for event in itertools.islice(tracker.events, stored, len(tracker.events))]
        if rows:
            cursor.executemany(*statements.insert(rows))
    setattr(tracker, STORED, len(tracker.events))


# The columns Rasa's own `save` writes for one event.
ROW_COLUMNS = ("sender_id", "type_name", "timestamp", "intent_name", "action_name", "data")


def _row(sender_id: Text, event: Any) -> dict[str, Any]:
    data = event.as_dict()
    return {
        "sender_id": sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
        "action_name": data.get("name"), "data": json.dumps(data),
    }


class _Statements:
    """Rasa's own queries of one store, compiled once for its database. Building each ORM query
    and its cache key per turn was 13% of the server's time (py-spy, 10 conversations)."""

    def __init__(self, store: SQLTrackerStore) -> None:
        events = store.SQLEvent.__table__
        sender = sqlalchemy.bindparam("sender_id")
        # Rasa's `_event_query`: the events from the latest session start on (all of them
        # without one), in the order they were stored.
        session_start = (
            sqlalchemy.select(sqlalchemy.func.max(events.c.timestamp).label("session_start"))
            .where(events.c.sender_id == sender, events.c.type_name == SessionStarted.type_name).subquery()
        )
        everything = sqlalchemy.select(events.c.type_name, events.c.data).where(events.c.sender_id == sender).order_by(events.c.id)
        latest = everything.where(sqlalchemy.or_(
            events.c.timestamp >= session_start.c.session_start, session_start.c.session_start.is_(None),
        ))
        dialect = store.engine.dialect
        self._everything, self._latest = CompiledStatement(everything, dialect), CompiledStatement(latest, dialect)
        self.count = CompiledStatement(sqlalchemy.select(sqlalchemy.func.count()).select_from(latest.subquery()), dialect)
        self._insert = CompiledStatement(events.insert().values({name: sqlalchemy.bindparam(name) for name in ROW_COLUMNS}), dialect)

    def read(self, sender_id: Text, all_sessions: bool) -> tuple[str, Any]:
        return (self._everything if all_sessions else self._latest)(sender_id=sender_id)

    def insert(self, rows: list[dict[str, Any]]) -> tuple[str, list[Any]]:
        return self._insert.sql, [self._insert.params(row) for row in rows]


def _statements(store: SQLTrackerStore) -> _Statements:
    statements = getattr(store, "_welcomebot_statements", None)
    if statements is None:
        _pooled(store)
        with store.session_scope():  # Rasa's check that a configured PostgreSQL schema exists
            pass
        statements = store._welcomebot_statements = _Statements(store)
    return statements


def _pooled(store: SQLTrackerStore) -> None:
    """A SQLite store's engine with a pool. Rasa's opened and closed a connection for every read
    and write (SQLAlchemy 1.4's default for SQLite files): 14% of the server's time. Rasa makes
    its store before it loads the model, which applies this module, so the engine is replaced
    on first use."""
    engine = store.engine
    if engine.dialect.name == "sqlite" and isinstance(engine.pool, sqlalchemy.pool.NullPool):
        # Rasa uses the store from its event loop's thread; the pool hands a connection to one
        # user at a time, whichever thread.
        store.engine = sqlalchemy.create_engine(engine.url, poolclass=sqlalchemy.pool.QueuePool,
                                                connect_args={"check_same_thread": False})
        store.sessionmaker = sqlalchemy.orm.session.sessionmaker(bind=store.engine)
        engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def apply() -> None:
    SQLTrackerStore._retrieve = _retrieve_tracker  # type: ignore[method-assign]
    SQLTrackerStore.save = _save_tracker  # type: ignore[method-assign]
    # Rasa's SQLite engine opens a connection per session: each one gets the pragmas.
    if not sqlalchemy.event.contains(sqlalchemy.engine.Engine, "connect", _sqlite_pragmas):
        sqlalchemy.event.listen(sqlalchemy.engine.Engine, "connect", _sqlite_pragmas)
