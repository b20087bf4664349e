"""A throwaway PostgreSQL for the handover store's tests, from Debian's `postgresql` package.

Uses the project's shared helper (`welcomebot.services.PostgresServer`) when it is there; this
file only picks a port from the test port offset and gives the tests a fresh database URL.
"""
from __future__ import annotations

import uuid
from typing import Iterator

import pytest
import sqlalchemy as sa


def postgres_port() -> int:
    from tests.conftest import PORT_OFFSET

    return 25432 + PORT_OFFSET


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a running cluster's maintenance database."""
    from welcomebot.services import PostgresServer

    server = PostgresServer(postgres_port()).start()
    try:
        yield server.url()
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database per test, dropped afterwards."""
    name = "handover_" + uuid.uuid4().hex[:12]
    admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as db:
        db.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = postgres_server.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        with admin.connect() as db:
            db.execute(sa.text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            db.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
