"""Databases on a throwaway PostgreSQL for the tests of stores that run on it in production
(handover, statistics, gateway state). The server is the production stack's own helper
(`welcomebot.services.PostgresServer`, Debian's `postgresql` package); the fixtures
`postgres_server` (one per test session) and `postgres_url` (a fresh database per test) are in
tests/conftest.py."""
from __future__ import annotations

import uuid

import sqlalchemy as sa


def postgres_port() -> int:
    from tests.conftest import PORT_OFFSET

    return 25452 + PORT_OFFSET


def fresh_database(server_url: str, prefix: str = "test_") -> str:
    """The URL of a new, empty database on the server."""
    name = prefix + uuid.uuid4().hex[:12]
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as db:
        db.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name


def drop_database(server_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as db:
        db.execute(sa.text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
        db.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()
