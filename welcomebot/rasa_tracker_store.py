"""Measured fixes for Rasa 3.6's SQL tracker store, applied in the Rasa server process.

Every turn Rasa reads the conversation back from the tracker store and writes the new events.
py-spy under bench/latency.py (10 conversations) put 12% of the server's time in reading and
19% in writing. What changes here, each keeping what is stored and what is read back as Rasa
has it (tests/test_core_pieces.py compares both):

- Reading: Rasa loads each event row as a full ORM object to read one column (ORM loading was
  18% of the server's time before this fix). `_retrieve_tracker` runs Rasa's own query for the
  `data` column only and builds the tracker exactly as Rasa does.
- Writing: to find which events are new, Rasa counts the conversation's stored events with a
  query on every save, then adds each new event as an ORM object. The tracker read back here
  remembers how many of its events are stored, so `_save_tracker` inserts the rest in one Core
  statement without counting (a tracker Rasa made itself, e.g. a new conversation, is still
  counted as Rasa does).
- SQLite (the embedded profile): the database runs in WAL mode with `synchronous=NORMAL`, as
  the gateway's own SQLite stores do. Rasa's default journal synced the disk on every commit,
  inside the event loop that serves every conversation. A power cut may lose the last turns,
  never corrupt the file.
"""
from __future__ import annotations

import itertools
import json
import sqlite3
from typing import Any, Optional, Text

import sqlalchemy
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

RASA_RETRIEVE = SQLTrackerStore._retrieve  # Rasa's own, kept for the tests that compare both
RASA_SAVE = SQLTrackerStore.save

# How many of a tracker's events are already in the store (set when read or saved here).
STORED = "_welcomebot_stored_events"


async def _retrieve_tracker(self: SQLTrackerStore, sender_id: Text, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
    with self.session_scope() as session:
        query = self._event_query(session, sender_id, fetch_events_from_all_sessions=fetch_events_from_all_sessions)
        events = [json.loads(data) for (data,) in query.with_entities(self.SQLEvent.data).all()]
    if not (self.domain and events):
        return None
    tracker = DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)
    if not fetch_events_from_all_sessions:  # the events Rasa's save counts are these ones
        setattr(tracker, STORED, len(events))
    return tracker


async def _save_tracker(self: SQLTrackerStore, tracker: DialogueStateTracker) -> None:
    await self.stream_events(tracker)
    with self.session_scope() as session:
        stored = getattr(tracker, STORED, None)
        new = (self._additional_events(session, tracker) if stored is None
               else itertools.islice(tracker.events, stored, len(tracker.events)))
        rows = [_row(tracker.sender_id, event) for event in new]
        if rows:
            session.execute(self.SQLEvent.__table__.insert(), rows)
        session.commit()
    setattr(tracker, STORED, len(tracker.events))


def _row(sender_id: Text, event: Any) -> dict[str, Any]:
    """The columns Rasa's own `save` writes for one event."""
    data = event.as_dict()
    return {
        "sender_id": sender_id, "type_name": event.type_name, "timestamp": data.get("timestamp"),
        "intent_name": data.get("parse_data", {}).get("intent", {}).get("name"),
        "action_name": data.get("name"), "data": json.dumps(data),
    }


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
