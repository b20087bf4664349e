"""A throwaway PostgreSQL for the handover store's tests, from Debian's `postgresql` package
(scripts/system-packages.txt). Uses the production stack's helper `welcomebot.services` where
it exists; otherwise the few steps below (initdb and pg_ctl refuse root: they run as `postgres`).
"""
from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

PG_BIN = Path(os.environ.get("WELCOMEBOT_PG_BIN", "/usr/lib/postgresql/15/bin"))


def postgres_port() -> int:
    from tests.conftest import PORT_OFFSET

    return 25452 + PORT_OFFSET  # not 25432: tests/test_stats_postgres.py starts its own there


class _Cluster:
    """Only what the tests need: a cluster with trust authentication on loopback."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.directory = Path(tempfile.mkdtemp(prefix="welcomebot-handover-pg-"))  # reachable by `postgres`

    def _as_postgres(self, command: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command

    def start(self) -> "_Cluster":
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(f"{PG_BIN / 'initdb'} not found: apt-get install postgresql (scripts/system-packages.txt)")
        data = self.directory / "data"
        data.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
            shutil.chown(data, "postgres")
        subprocess.run(self._as_postgres([str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8"]),
                       check=True, capture_output=True)
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(self._as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.directory / "log"), "-w", "start"]),
                       check=True, capture_output=True)
        return self

    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def stop(self) -> None:
        subprocess.run(self._as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(self.directory / "data"), "-m", "immediate", "-w", "stop"]),
                       capture_output=True)
        shutil.rmtree(self.directory, ignore_errors=True)


_running: dict[str, object] = {}  # one cluster per test session, whichever module asks first


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a running cluster's database; each test makes its own database in it.
    Test modules import this fixture, so pytest may set it up once per module: the cluster
    itself is started once and stopped when the session ends."""
    if "server" not in _running:
        try:
            from welcomebot.services import PostgresServer  # the production stack's helper
            server = PostgresServer(postgres_port())
        except ImportError:
            server = _Cluster(postgres_port())
        server.start()
        _running["server"] = server
        atexit.register(server.stop)
    yield _running["server"].url()


def fresh_database(server_url: str, prefix: str = "handover_") -> str:
    name = prefix + uuid.uuid4().hex[:12]
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as db:
        db.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A fresh, empty database per test, dropped afterwards."""
    url = fresh_database(postgres_server)
    name = url.rsplit("/", 1)[1]
    try:
        yield url
    finally:
        admin = sa.create_engine(postgres_server, isolation_level="AUTOCOMMIT", future=True)
        with admin.connect() as db:
            db.execute(sa.text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            db.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
