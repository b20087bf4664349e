"""The widget conversations' history, both directions, with increasing ids.

A reload shows the conversation again and the event stream resumes from `after=<last id>` without
loss or duplicates, so every message the newcomer saw is stored here. Behind one small interface
(`HistoryStore`) so that PostgreSQL can replace SQLite; erased by `/delete` and after the
retention period (SPEC §8).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Protocol

from ...sqlite import SQLiteFile

USER, BOT = "user", "bot"


@dataclass
class Entry:
    """One message shown in the widget: what the newcomer sent, or one Rasa REST message."""

    id: int
    sender: str  # USER or BOT
    message: dict[str, Any] = field(default_factory=dict)  # {"text"?, "buttons"?, "custom"?}
    # The browser's id of a sent message, or a relayed message's relay id: either is stored once.
    client_id: Optional[str] = None
    at: float = 0.0

    def as_json(self) -> dict[str, Any]:
        data = {"id": self.id, "from": self.sender, "at": self.at, **self.message}
        if self.client_id and self.sender == USER:  # a bot entry's is the relay id: the gateway's own
            data["client_id"] = self.client_id
        return data


class HistoryStore(Protocol):
    def append(self, conversation: str, sender: str, messages: list[dict[str, Any]], client_id: Optional[str] = None) -> list[Entry]: ...
    def since(self, conversation: str, after: int = 0, limit: int = 500) -> list[Entry]: ...
    def has_client_id(self, conversation: str, client_id: str) -> bool: ...
    def erase(self, conversation: str) -> None: ...
    def purge_older_than(self, seconds: float) -> int: ...


class SQLiteHistoryStore:
    """One table in the gateway's SQLite file; ids come from AUTOINCREMENT, so they only grow,
    also across erasures (a stream resuming after an id never sees an old id again)."""

    def __init__(self, path: Path) -> None:
        self.file = SQLiteFile(path, schema=[
            "CREATE TABLE IF NOT EXISTS widget_history ("
            " id INTEGER PRIMARY KEY AUTOINCREMENT, conversation TEXT NOT NULL, sender TEXT NOT NULL,"
            " message TEXT NOT NULL, client_id TEXT, at REAL NOT NULL)",
            "CREATE INDEX IF NOT EXISTS widget_history_conversation ON widget_history (conversation, id)",
            "CREATE INDEX IF NOT EXISTS widget_history_at ON widget_history (at)",
        ])
        self.path, self._db = self.file.path, self.file.connection

    def append(self, conversation: str, sender: str, messages: list[dict[str, Any]], client_id: Optional[str] = None) -> list[Entry]:
        """Stores messages in order, in one transaction; `client_id` goes with the first."""
        now = time.time()
        entries = []
        with self._db() as db:
            for n, message in enumerate(messages):
                own_id = client_id if n == 0 else None
                cursor = db.execute(
                    "INSERT INTO widget_history (conversation, sender, message, client_id, at) VALUES (?, ?, ?, ?, ?)",
                    (conversation, sender, json.dumps(message, ensure_ascii=False), own_id, now),
                )
                entries.append(Entry(cursor.lastrowid, sender, message, own_id, now))
        return entries

    def since(self, conversation: str, after: int = 0, limit: int = 500) -> list[Entry]:
        rows = self._db().execute(
            "SELECT id, sender, message, client_id, at FROM widget_history WHERE conversation = ? AND id > ? ORDER BY id LIMIT ?",
            (conversation, after, limit),
        ).fetchall()
        return [Entry(row[0], row[1], json.loads(row[2]), row[3], row[4]) for row in rows]

    def has_client_id(self, conversation: str, client_id: str) -> bool:
        row = self._db().execute(
            "SELECT 1 FROM widget_history WHERE conversation = ? AND client_id = ? LIMIT 1", (conversation, client_id)
        ).fetchone()
        return row is not None

    def erase(self, conversation: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM widget_history WHERE conversation = ?", (conversation,))

    def purge_older_than(self, seconds: float) -> int:
        """Whole conversations whose last message is older than `seconds` (retention, SPEC §8)."""
        with self._db() as db:
            return db.execute(
                "DELETE FROM widget_history WHERE conversation IN ("
                " SELECT conversation FROM widget_history GROUP BY conversation HAVING MAX(at) < ?)",
                (time.time() - seconds,),
            ).rowcount
