"""SQLAlchemy engines for this project's own stores: a SQLite file (embedded profile) or
PostgreSQL (production profile), chosen by URL."""
from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa


def create_engine(url: str) -> sa.engine.Engine:
    if not url.startswith("sqlite"):
        return sa.create_engine(url, future=True, pool_pre_ping=True)
    # Connections are pooled: SQLAlchemy 1.4 opens a new SQLite connection for every use by
    # default, and opening one (with its pragmas) was a third of the gateway's time per message
    # (py-spy under bench/latency.py). One file shared by the process's threads; transactions
    # are short, so a writer waits for another rather than failing.
    engine = sa.create_engine(url, future=True, poolclass=sa.pool.QueuePool,
                              connect_args={"timeout": 10, "check_same_thread": False})
    sa.event.listen(engine, "connect", _wal)
    return engine


def _wal(connection: Any, _record: Any) -> None:
    # Readers and the writer do not block each other (the gateway, the action server and the
    # CLI open the same files).
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def create_tables(metadata: sa.MetaData, engine: sa.engine.Engine, attempts: int = 5) -> None:
    """`metadata.create_all`, safe when several processes start at once on one PostgreSQL
    (gateway instances, Rasa replicas' action servers): the loser of two concurrent CREATE TABLEs
    gets a unique violation on PostgreSQL's catalog, and then finds the tables on a second look."""
    for attempt in range(attempts):
        try:
            metadata.create_all(engine)
            return
        except (sa.exc.IntegrityError, sa.exc.ProgrammingError):
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
