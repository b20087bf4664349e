"""Shared test fixtures. Time is pinned (WELCOMEBOT_NOW) so that events and validity dates in
content/ do not make tests depend on the day they run."""
from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Several checkouts may run their tests on one machine at once: WELCOMEBOT_TEST_PORT_OFFSET
# moves every port a test starts a server on.
PORT_OFFSET = int(os.environ.get("WELCOMEBOT_TEST_PORT_OFFSET", "0"))


def test_ports(rasa: int, actions: int, gateway: int):
    from welcomebot.stack import Ports

    return Ports(rasa + PORT_OFFSET, actions + PORT_OFFSET, gateway + PORT_OFFSET)
BERLIN = ZoneInfo("Europe/Berlin")
PINNED_NOW = "2026-12-01T10:00:00+01:00"  # a Tuesday morning
os.environ.setdefault("WELCOMEBOT_NOW", PINNED_NOW)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

REQUIRED_LANGUAGES = ("de", "en", "ar", "uk", "ru", "tr", "fa", "fr")


@pytest.fixture
def now() -> dt.datetime:
    return dt.datetime.fromisoformat(PINNED_NOW)


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    """A private copy of content/ that a test may break."""
    target = tmp_path / "content"
    shutil.copytree(ROOT / "content", target)
    return target


@pytest.fixture(scope="session")
def postgres_server():
    """The URL of a throwaway PostgreSQL server's database, started the first time a test asks."""
    from welcomebot.services import PostgresServer

    from .support.postgres import postgres_port

    server = PostgresServer(postgres_port()).start()
    try:
        yield server.url()
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: str):
    """A fresh, empty database per test, dropped after it."""
    from .support.postgres import drop_database, fresh_database

    url = fresh_database(postgres_server)
    try:
        yield url
    finally:
        drop_database(postgres_server, url)
