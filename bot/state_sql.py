"""The gateway's conversation state in PostgreSQL (production profile), behind `StateStore`.

Several gateway instances share it, so a newcomer's language and channel are the same whichever
instance the reverse proxy picks. SQLAlchemy Core (installed with Rasa) with a small connection
pool; the table is the SQLite store's, created when missing. A later store (the Lotse handover's
tables) can share `metadata` and the engine.
"""
from __future__ import annotations

import time

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from welcomebot.sql import CompiledStatement, create_tables, dbapi_cursor

from .state import ConversationState

metadata = sa.MetaData()

conversations = sa.Table(
    "welcomebot_conversations", metadata,  # prefixed: it lives in the database Rasa's tracker uses
    sa.Column("sender_id", sa.Text, primary_key=True),
    sa.Column("language", sa.Text),
    sa.Column("language_source", sa.Text),
    sa.Column("updated_at", sa.Float, nullable=False, index=True),
    sa.Column("channel", sa.Text),
)


_LOAD = sa.select(conversations.c.language, conversations.c.language_source, conversations.c.updated_at,
                  conversations.c.channel).where(conversations.c.sender_id == sa.bindparam("sender_id"))


class PostgresStateStore:
    def __init__(self, url: str) -> None:
        # pool_pre_ping: a PostgreSQL restart must not leave the gateway with dead connections.
        self.engine = sa.create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True, future=True)
        create_tables(metadata, self.engine)
        self._load = CompiledStatement(_LOAD, self.engine.dialect)

    def load(self, sender_id: str) -> ConversationState:
        with dbapi_cursor(self.engine) as cursor:  # read for every message: compiled once
            cursor.execute(*self._load(sender_id=sender_id))
            row = cursor.fetchone()
        return ConversationState(sender_id, *row) if row else ConversationState(sender_id)

    def save(self, state: ConversationState) -> None:
        state.updated_at = time.time()
        values = {"sender_id": state.sender_id, "language": state.language, "language_source": state.language_source,
                  "updated_at": state.updated_at, "channel": state.channel}
        statement = insert(conversations).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=[conversations.c.sender_id], set_={k: statement.excluded[k] for k in values if k != "sender_id"}
        )
        with self.engine.begin() as db:
            db.execute(statement)

    def erase(self, sender_id: str) -> None:
        with self.engine.begin() as db:
            db.execute(conversations.delete().where(conversations.c.sender_id == sender_id))

    def purge_older_than(self, seconds: float) -> int:
        with self.engine.begin() as db:
            return db.execute(conversations.delete().where(conversations.c.updated_at < time.time() - seconds)).rowcount
