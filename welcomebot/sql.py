"""SQLAlchemy engines for this project's own stores: a SQLite file (embedded profile) or
PostgreSQL (production profile), chosen by URL."""
from __future__ import annotations

import contextlib
import time
from typing import Any, Iterator

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


class CompiledStatement:
    """A statement asked on every message, compiled once for one database and run on the DBAPI
    connection: SQLAlchemy's per-execution work (cache key, result wrapping) cost more than the
    query itself (py-spy under bench/latency.py). `params` puts the values in the driver's style:
    positional for SQLite, named for psycopg2."""

    def __init__(self, statement: Any, dialect: Any) -> None:
        compiled = statement.compile(dialect=dialect)
        if any(bind.expanding for bind in compiled.binds.values()):
            # IN lists are constants here: written out now, as SQLAlchemy does per execution,
            # with the parameters given at execution (no value yet) standing in as None.
            unset = {name: None for name, value in compiled.params.items() if value is None}
            compiled = statement.params(unset).compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
        self.sql = str(compiled)
        self._constants = dict(compiled.params)
        self._order = list(compiled.positiontup) if compiled.positional else None

    def __call__(self, **values: Any) -> tuple[str, Any]:
        """(sql, parameters) for `cursor.execute`."""
        return self.sql, self.params(values)

    def params(self, values: dict[str, Any]) -> Any:
        merged = {**self._constants, **values}
        return tuple(merged[name] for name in self._order) if self._order is not None else merged


@contextlib.contextmanager
def dbapi_cursor(engine: sa.engine.Engine) -> Iterator[Any]:
    """A cursor on a connection from the engine's pool, in one transaction."""
    connection = engine.raw_connection()
    try:
        cursor = connection.cursor()
        try:
            yield cursor
        finally:
            cursor.close()
        connection.commit()
    except BaseException:
        connection.rollback()
        raise
    finally:
        connection.close()  # back to the pool
