"""Where statistics live: three small tables behind `StatsStore`.

No conversation id is ever stored: a row is a count for (day, language, municipality, intent),
or for (day, language, intent, rating), or one scrubbed fallback text with its day. SQLAlchemy
Core so that the same code runs on SQLite (embedded default) and PostgreSQL (production).
"""
from __future__ import annotations

import datetime as dt
import functools
import os
import threading
from dataclasses import dataclass
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from .. import settings
from ..sql import create_engine, create_tables

UNKNOWN_TOWN = "unknown"  # the newcomer has not said where they live

metadata = sa.MetaData()
questions = sa.Table(
    "question_counts", metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("language", sa.String(16), primary_key=True),
    sa.Column("municipality", sa.String(64), primary_key=True),
    sa.Column("intent", sa.String(64), primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
)
feedback = sa.Table(
    "feedback_counts", metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("language", sa.String(16), primary_key=True),
    sa.Column("intent", sa.String(64), primary_key=True),
    sa.Column("rating", sa.String(8), primary_key=True),  # "up" or "down"
    sa.Column("count", sa.Integer, nullable=False),
)
fallbacks = sa.Table(
    "fallback_texts", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("day", sa.Date, nullable=False, index=True),
    sa.Column("language", sa.String(16), nullable=False),
    sa.Column("municipality", sa.String(64), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
)


@dataclass(frozen=True)
class QuestionCount:
    day: dt.date
    language: str
    municipality: str
    intent: str
    count: int


@dataclass(frozen=True)
class FeedbackCount:
    day: dt.date
    language: str
    intent: str
    rating: str
    count: int


@dataclass(frozen=True)
class FallbackText:
    day: dt.date
    language: str
    municipality: str
    text: str


def default_url() -> str:
    """`WELCOMEBOT_STATS_DB`: a SQLAlchemy URL or a file path; else var/stats.sqlite3."""
    value = os.environ.get("WELCOMEBOT_STATS_DB") or str(settings.var_dir() / "stats.sqlite3")
    return value if "://" in value else f"sqlite:///{value}"


class StatsStore:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)  # the action server and `welcomebot stats` share the file
        create_tables(metadata, self.engine)
        self._lock = threading.Lock()

    # -- writing -----------------------------------------------------------------------------

    def count_question(self, day: dt.date, language: str, municipality: Optional[str], intent: str) -> None:
        self._increment(questions, {"day": day, "language": language,
                                    "municipality": municipality or UNKNOWN_TOWN, "intent": intent})

    def count_feedback(self, day: dt.date, language: str, intent: str, rating: str) -> None:
        if rating not in ("up", "down"):
            raise ValueError(f"rating must be up or down, not {rating!r}")
        self._increment(feedback, {"day": day, "language": language, "intent": intent, "rating": rating})

    def keep_fallback(self, day: dt.date, language: str, municipality: Optional[str], text: str) -> None:
        """`text` must be scrubbed already (see `scrub.py`)."""
        with self.engine.begin() as db:
            db.execute(fallbacks.insert().values(day=day, language=language,
                                                 municipality=municipality or UNKNOWN_TOWN, text=text))

    def purge_texts(self, today: dt.date, retention_days: int) -> int:
        """Fallback texts older than the retention (SPEC §8); counts are kept, they name no one."""
        cutoff = today - dt.timedelta(days=retention_days)
        with self.engine.begin() as db:
            return db.execute(fallbacks.delete().where(fallbacks.c.day < cutoff)).rowcount

    def _increment(self, table: sa.Table, key: dict) -> None:
        insert = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}.get(self.engine.dialect.name)
        with self._lock, self.engine.begin() as db:
            if insert is not None:
                statement = insert(table).values(**key, count=1)
                db.execute(statement.on_conflict_do_update(
                    index_elements=list(key), set_={"count": table.c["count"] + 1}))
                return
            where = sa.and_(*(table.c[k] == v for k, v in key.items()))
            if db.execute(table.update().where(where).values(count=table.c["count"] + 1)).rowcount == 0:
                db.execute(table.insert().values(**key, count=1))

    # -- reading -----------------------------------------------------------------------------

    def question_counts(self, start: dt.date, end: dt.date) -> list[QuestionCount]:
        rows = self._rows(questions, start, end, ("day", "language", "municipality", "intent"))
        return [QuestionCount(r.day, r.language, r.municipality, r.intent, r.count) for r in rows]

    def feedback_counts(self, start: dt.date, end: dt.date) -> list[FeedbackCount]:
        rows = self._rows(feedback, start, end, ("day", "language", "intent", "rating"))
        return [FeedbackCount(r.day, r.language, r.intent, r.rating, r.count) for r in rows]

    def fallback_texts(self, start: dt.date, end: dt.date) -> list[FallbackText]:
        rows = self._rows(fallbacks, start, end, ("day", "id"))
        return [FallbackText(r.day, r.language, r.municipality, r.text) for r in rows]

    def _rows(self, table: sa.Table, start: dt.date, end: dt.date, order: tuple[str, ...]) -> list:
        query = sa.select(table).where(table.c.day >= start, table.c.day <= end).order_by(*(table.c[k] for k in order))
        with self.engine.connect() as db:
            return list(db.execute(query))


@functools.lru_cache(maxsize=4)
def stats_store(url: Optional[str] = None) -> StatsStore:
    return StatsStore(url or default_url())
