"""Where handovers live (SPEC §7: no message is lost across restarts): the gateway's own store,
SQLite by default, PostgreSQL in production — one SQLAlchemy Core schema, chosen by URL.

Two tables:
- `handovers`: one row per handover, its state machine state and who took it;
- `relayed`: every message that crosses between newcomer and staff, with its delivery state.
  A message is written here *before* anyone tries to deliver it, and marked delivered after;
  what is still pending after a failure or a restart is retried. `(handover_id, direction, key)`
  is unique, and `key` is the message's identity at its source (a Telegram update's chat and
  message id, a widget message id), so a source that sends the same message twice — Telegram
  after a restart, a widget retrying — is stored, and so delivered, once. Messages a newcomer
  left while nobody was available are rows with `left` set, delivered when a topic opens.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, Iterable, Optional

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from welcomebot.sql import CompiledStatement, create_engine, create_tables, dbapi_cursor

from .machine import ACTIVE, Actor, Handover, State

TO_STAFF = "to_staff"
TO_NEWCOMER = "to_newcomer"
PENDING = "pending"
DELIVERED = "delivered"

metadata = sa.MetaData()

handovers = sa.Table(
    "handovers", metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("sender_id", sa.String(160), nullable=False, index=True),
    sa.Column("channel", sa.String(32), nullable=False),
    sa.Column("language", sa.String(16), nullable=False),
    sa.Column("municipality", sa.String(64)),
    sa.Column("topic", sa.String(64)),
    sa.Column("state", sa.String(16), nullable=False, index=True),
    sa.Column("lotse_id", sa.BigInteger),
    sa.Column("topic_id", sa.BigInteger, index=True),
    sa.Column("summary", sa.Text, nullable=False, default="[]"),  # JSON: the last messages before
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("ended_by", sa.String(16)),
    sa.Column("ended_at", sa.Float),
)

relayed = sa.Table(
    "relayed", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("handover_id", sa.String(32), nullable=False, index=True),
    sa.Column("direction", sa.String(16), nullable=False),
    sa.Column("key", sa.String(128), nullable=False),
    sa.Column("body", sa.Text, nullable=False),  # JSON: {"text", "buttons"?, "from"?}
    sa.Column("left", sa.Boolean, nullable=False, default=False),
    sa.Column("state", sa.String(16), nullable=False, default=PENDING),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_try_at", sa.Float, nullable=False, default=0.0),
    sa.Column("last_error", sa.Text),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("delivered_at", sa.Float),
    sa.UniqueConstraint("handover_id", "direction", "key", name="relayed_once"),
    sa.Index("relayed_pending", "state", "direction", "next_try_at"),
)


_ACTIVE_FOR = (
    handovers.select()
    .where(handovers.c.sender_id == sa.bindparam("sender_id"), handovers.c.state.in_([s.value for s in ACTIVE]))
    .order_by(handovers.c.created_at.desc()).limit(1)
)


@dataclass(frozen=True)
class Relayed:
    id: int
    handover_id: str
    direction: str
    body: dict[str, Any]
    left: bool
    state: str
    attempts: int
    created_at: float


class HandoverStore:
    """The one small interface the handover core uses; any SQLAlchemy URL (sqlite:///path,
    postgresql://...) gives the same behaviour."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        create_tables(metadata, self.engine)
        self._active_for = CompiledStatement(_ACTIVE_FOR, self.engine.dialect)
        self._active_columns = tuple(_ACTIVE_FOR.selected_columns.keys())

    def close(self) -> None:
        self.engine.dispose()

    # -- handovers ----------------------------------------------------------------------------

    def create(self, handover: Handover, summary: list[dict[str, str]]) -> None:
        with self.engine.begin() as db:
            db.execute(handovers.insert().values(
                **_row(handover), summary=json.dumps(summary, ensure_ascii=False), updated_at=time.time(),
            ))

    def get(self, handover_id: str) -> Optional[Handover]:
        return self._one(handovers.c.id == handover_id)

    def active_for(self, sender_id: str) -> Optional[Handover]:
        """The newcomer's handover that is not ended (at most one: the core opens no second)."""
        with dbapi_cursor(self.engine) as cursor:  # asked for every message: compiled once
            cursor.execute(*self._active_for(sender_id=sender_id))
            row = cursor.fetchone()
        return _handover(SimpleNamespace(**dict(zip(self._active_columns, row)))) if row else None

    def by_topic(self, topic_id: int) -> Optional[Handover]:
        return self._one(handovers.c.topic_id == topic_id)

    def in_states(self, states: Iterable[State]) -> list[Handover]:
        query = handovers.select().where(handovers.c.state.in_([s.value for s in states])).order_by(handovers.c.created_at)
        with self.engine.connect() as db:
            return [_handover(row) for row in db.execute(query)]

    def summary(self, handover_id: str) -> list[dict[str, str]]:
        with self.engine.connect() as db:
            value = db.execute(sa.select(handovers.c.summary).where(handovers.c.id == handover_id)).scalar()
        return json.loads(value) if value else []

    def transition(self, new: Handover, expected: State) -> bool:
        """Write `new` only if the stored state is still `expected`: of two Lotsen taking over at
        once, or a Lotse ending while the newcomer ends, exactly one succeeds."""
        # Only what transitions change: the topic id is set on its own and must not be undone.
        values = {k: v for k, v in _row(new).items() if k in ("state", "lotse_id", "ended_by", "ended_at")}
        with self.engine.begin() as db:
            result = db.execute(
                handovers.update()
                .where(sa.and_(handovers.c.id == new.id, handovers.c.state == expected.value))
                .values(**values, updated_at=time.time())
            )
        return result.rowcount == 1

    def set_topic(self, handover_id: str, topic_id: int) -> None:
        with self.engine.begin() as db:
            db.execute(handovers.update().where(handovers.c.id == handover_id).values(topic_id=topic_id, updated_at=time.time()))

    def _one(self, condition: Any) -> Optional[Handover]:
        with self.engine.connect() as db:
            row = db.execute(handovers.select().where(condition).order_by(handovers.c.created_at.desc()).limit(1)).first()
        return _handover(row) if row else None

    # -- relayed messages ---------------------------------------------------------------------

    def add_message(self, handover_id: str, direction: str, key: str, body: dict[str, Any], left: bool = False) -> Optional[int]:
        """Store a message to deliver; None when this source message was stored before."""
        try:
            with self.engine.begin() as db:
                result = db.execute(relayed.insert().values(
                    handover_id=handover_id, direction=direction, key=key[:128],
                    body=json.dumps(body, ensure_ascii=False), left=left, state=PENDING,
                    attempts=0, next_try_at=0.0, created_at=time.time(),
                ))
                return int(result.inserted_primary_key[0])
        except IntegrityError:
            return None

    def pending(self, direction: str, handover_id: Optional[str] = None, due_before: Optional[float] = None) -> list[Relayed]:
        """Undelivered messages in the order they were written."""
        conditions = [relayed.c.state == PENDING, relayed.c.direction == direction]
        if handover_id is not None:
            conditions.append(relayed.c.handover_id == handover_id)
        if due_before is not None:
            conditions.append(relayed.c.next_try_at <= due_before)
        with self.engine.connect() as db:
            rows = db.execute(relayed.select().where(sa.and_(*conditions)).order_by(relayed.c.id))
            return [_relayed(row) for row in rows]

    def messages(self, handover_id: str) -> list[Relayed]:
        with self.engine.connect() as db:
            rows = db.execute(relayed.select().where(relayed.c.handover_id == handover_id).order_by(relayed.c.id))
            return [_relayed(row) for row in rows]

    def mark_delivered(self, message_id: int) -> None:
        with self.engine.begin() as db:
            db.execute(relayed.update().where(relayed.c.id == message_id).values(state=DELIVERED, delivered_at=time.time()))

    def mark_failed(self, message_id: int, error: str, retry_at: float) -> None:
        with self.engine.begin() as db:
            db.execute(relayed.update().where(relayed.c.id == message_id).values(
                attempts=relayed.c.attempts + 1, next_try_at=retry_at, last_error=error[:500],
            ))

    # -- privacy (SPEC §8) --------------------------------------------------------------------

    def erase_sender(self, sender_id: str) -> list[Handover]:
        """`/delete`: every handover of the newcomer and every message in them."""
        with self.engine.begin() as db:
            gone = [_handover(r) for r in db.execute(handovers.select().where(handovers.c.sender_id == sender_id))]
            self._delete(db, [h.id for h in gone])
        return gone

    def purge_ended_before(self, moment: float) -> list[Handover]:
        """Retention: ended handovers older than the retention period, with their messages."""
        condition = sa.and_(handovers.c.state == State.ENDED.value, handovers.c.ended_at < moment)
        with self.engine.begin() as db:
            gone = [_handover(r) for r in db.execute(handovers.select().where(condition))]
            self._delete(db, [h.id for h in gone])
        return gone

    @staticmethod
    def _delete(db: Any, ids: list[str]) -> None:
        if ids:
            db.execute(relayed.delete().where(relayed.c.handover_id.in_(ids)))
            db.execute(handovers.delete().where(handovers.c.id.in_(ids)))


def _row(handover: Handover) -> dict[str, Any]:
    return {
        "id": handover.id, "sender_id": handover.sender_id, "channel": handover.channel,
        "language": handover.language, "municipality": handover.municipality, "topic": handover.topic,
        "state": handover.state.value, "lotse_id": handover.lotse_id, "topic_id": handover.topic_id,
        "created_at": handover.created_at, "ended_by": handover.ended_by.value if handover.ended_by else None,
        "ended_at": handover.ended_at,
    }


def _handover(row: Any) -> Handover:
    return Handover(
        id=row.id, sender_id=row.sender_id, channel=row.channel, language=row.language,
        municipality=row.municipality, topic=row.topic, state=State(row.state), created_at=row.created_at,
        lotse_id=row.lotse_id, topic_id=row.topic_id, ended_by=Actor(row.ended_by) if row.ended_by else None,
        ended_at=row.ended_at,
    )


def _relayed(row: Any) -> Relayed:
    return Relayed(row.id, row.handover_id, row.direction, json.loads(row.body), bool(row.left), row.state, row.attempts, row.created_at)
