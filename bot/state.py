"""The gateway's own state per conversation (its language), in SQLite by default.

Behind one small interface; `open_state_store` picks SQLite or PostgreSQL (bot/state_sql.py) by
location, so several gateway instances can share one state in production. Conversation ids
are stored as given by the channel (pseudonymous already: random widget ids, Telegram ids are
hashed by the Telegram adapter); logs use `pseudonym()`.
"""
from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Protocol, Union

from .sqlite import SQLiteFile


def pseudonym(sender_id: str) -> str:
    return hashlib.sha256(sender_id.encode("utf-8", "replace")).hexdigest()[:10]


@dataclass
class ConversationState:
    sender_id: str
    language: Optional[str] = None
    language_source: Optional[str] = None
    updated_at: float = 0.0
    channel: Optional[str] = None  # where the newcomer writes from: where outbound messages go

    @property
    def explicit_language(self) -> Optional[str]:
        return self.language if self.language_source == "explicit" else None


class StateStore(Protocol):
    def load(self, sender_id: str) -> ConversationState: ...
    def save(self, state: ConversationState) -> None: ...
    def erase(self, sender_id: str) -> None: ...
    def purge_older_than(self, seconds: float) -> int: ...


class SQLiteStateStore:
    def __init__(self, path: Path) -> None:
        self.file = SQLiteFile(path, schema=[
            "CREATE TABLE IF NOT EXISTS conversations ("
            " sender_id TEXT PRIMARY KEY, language TEXT, language_source TEXT, updated_at REAL NOT NULL)",
        ])
        self.path, self._db = self.file.path, self.file.connection
        with self._db() as db:
            columns = {row[1] for row in db.execute("PRAGMA table_info(conversations)")}
            if "channel" not in columns:  # stores made before channels were kept
                db.execute("ALTER TABLE conversations ADD COLUMN channel TEXT")

    def load(self, sender_id: str) -> ConversationState:
        row = self._db().execute(
            "SELECT language, language_source, updated_at, channel FROM conversations WHERE sender_id = ?", (sender_id,)
        ).fetchone()
        return ConversationState(sender_id, *row) if row else ConversationState(sender_id)

    def save(self, state: ConversationState) -> None:
        state.updated_at = time.time()
        with self._db() as db:
            db.execute(
                "INSERT INTO conversations (sender_id, language, language_source, updated_at, channel) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(sender_id) DO UPDATE SET language = excluded.language,"
                " language_source = excluded.language_source, updated_at = excluded.updated_at, channel = excluded.channel",
                (state.sender_id, state.language, state.language_source, state.updated_at, state.channel),
            )

    def erase(self, sender_id: str) -> None:
        with self._db() as db:
            db.execute("DELETE FROM conversations WHERE sender_id = ?", (sender_id,))

    def purge_older_than(self, seconds: float) -> int:
        with self._db() as db:
            return db.execute("DELETE FROM conversations WHERE updated_at < ?", (time.time() - seconds,)).rowcount


def open_state_store(location: Union[str, Path]) -> StateStore:
    """The store a location names: a `postgresql://` URL (production, shared by every gateway
    instance) or a SQLite file path / `sqlite:///` URL (the embedded default)."""
    text = str(location)
    if text.startswith(("postgresql://", "postgresql+psycopg2://", "postgres://")):
        from .state_sql import PostgresStateStore

        return PostgresStateStore(text.replace("postgres://", "postgresql://", 1))
    if text.startswith("sqlite:///"):
        text = text[len("sqlite:///"):]
    elif "://" in text:
        raise ValueError(f"unsupported gateway state store {text.split('://')[0]!r}: use a SQLite path or a postgresql:// URL")
    return SQLiteStateStore(Path(text))
