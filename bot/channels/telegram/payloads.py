"""Button payloads as Telegram callback_data, which may hold 64 bytes at most.

A Rasa payload that fits is sent as it is; a longer one (a location with a topic, say) is kept in
a small SQLite table and the button carries its key. The key is a hash of the payload, so the same
button always gets the same key, and the table survives restarts of the gateway.
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Optional

from welcomebot import settings

from ...sqlite import SQLiteFile

MAX_CALLBACK_BYTES = 64
PREFIX = "#"  # never the start of a Rasa payload, which starts with "/"


def keep_seconds() -> float:
    """Payloads may hold a shared location: they are kept no longer than conversations (SPEC §8).
    An older button leads to the menu instead."""
    return settings.retention_seconds()


class PayloadTable:
    def __init__(self, path: Path) -> None:
        self.file = SQLiteFile(path, schema=[
            "CREATE TABLE IF NOT EXISTS callback_payloads (key TEXT PRIMARY KEY, payload TEXT NOT NULL, used_at REAL NOT NULL)",
        ])
        self.path, self._db = self.file.path, self.file.connection
        self.purge()

    def purge(self) -> int:
        with self._db() as db:
            return db.execute("DELETE FROM callback_payloads WHERE used_at < ?", (time.time() - keep_seconds(),)).rowcount

    def callback_data(self, payload: str) -> str:
        if len(payload.encode("utf-8")) <= MAX_CALLBACK_BYTES and not payload.startswith(PREFIX):
            return payload
        key = PREFIX + hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]
        with self._db() as db:
            db.execute("INSERT INTO callback_payloads (key, payload, used_at) VALUES (?, ?, ?)"
                       " ON CONFLICT(key) DO UPDATE SET used_at = excluded.used_at", (key, payload, time.time()))
        return key

    def payload(self, callback_data: str) -> Optional[str]:
        """The payload behind a button, or None for a key that is unknown (or too old)."""
        if not callback_data.startswith(PREFIX):
            return callback_data
        row = self._db().execute("SELECT payload FROM callback_payloads WHERE key = ?", (callback_data,)).fetchone()
        return row[0] if row else None
