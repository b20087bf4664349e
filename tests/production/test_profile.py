"""Endpoints, stores and replicas chosen by configuration (WELCOMEBOT_PROFILE), not by editing files."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.app import GatewayConfig
from bot.state import SQLiteStateStore, open_state_store
from welcomebot import settings
from welcomebot.stack import Ports, Stack

from ..conftest import ROOT

pytestmark = pytest.mark.production

PRODUCTION_ENV = {"POSTGRES_HOST": "db.internal", "POSTGRES_PORT": "6543", "POSTGRES_USER": "bot", "POSTGRES_PASSWORD": "p@ss/word",
                  "POSTGRES_DB": "wb", "REDIS_HOST": "redis.internal", "REDIS_PORT": "6380", "REDIS_PASSWORD": "", "REDIS_DB": "1"}


def rasa_endpoints(command: list[str]) -> Path:
    return Path(command[command.index("--endpoints") + 1])


def test_embedded_is_the_default_and_uses_sqlite_and_the_in_memory_lock(monkeypatch, tmp_path):
    monkeypatch.delenv("WELCOMEBOT_PROFILE", raising=False)
    stack = Stack(model=tmp_path / "m.tar.gz", var_dir=tmp_path)
    endpoints = yaml.safe_load(rasa_endpoints(stack.commands()["rasa"]).read_text())
    assert endpoints["tracker_store"]["dialect"] == "sqlite" and endpoints["lock_store"]["type"] == "in_memory"
    assert stack.env()["WELCOMEBOT_RASA_URLS"] == "http://127.0.0.1:5005"


def test_production_profile_picks_postgres_redis_and_every_replica(monkeypatch, tmp_path):
    for name, value in PRODUCTION_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("WELCOMEBOT_PROFILE", "production")
    stack = Stack(model=tmp_path / "m.tar.gz", var_dir=tmp_path, ports=Ports(7000, 7100, 7200), replicas=3)
    commands = stack.commands()
    assert [n for n in commands if n.startswith("rasa")] == ["rasa", "rasa-2", "rasa-3"]
    assert [c[c.index("--port") + 1] for n, c in commands.items() if n.startswith("rasa")] == ["7000", "7001", "7002"]
    endpoints = yaml.safe_load(rasa_endpoints(commands["rasa-2"]).read_text())
    assert endpoints["tracker_store"]["dialect"] == "postgresql" and endpoints["lock_store"]["type"] == "redis"
    env = stack.env()
    assert env["WELCOMEBOT_RASA_URLS"] == "http://127.0.0.1:7000,http://127.0.0.1:7001,http://127.0.0.1:7002"
    # The password is quoted in the URL the gateway uses for its own state and for /delete.
    assert env["WELCOMEBOT_STATE_DB_URL"] == "postgresql://bot:p%40ss%2Fword@db.internal:6543/wb"
    config = GatewayConfig.from_env()
    assert config.state_db == config.tracker_store_url == "postgresql://bot:p%40ss%2Fword@db.internal:6543/wb"


def test_every_variable_the_production_endpoints_read_is_in_the_compose_environment():
    import re

    wanted = set(re.findall(r"\$\{(\w+)\}", (ROOT / "nlu" / "endpoints.production.yml").read_text()))
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    given = set(compose["x-app"]["environment"])
    assert wanted <= given, wanted - given


def test_bad_profiles_and_impossible_topologies_are_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("WELCOMEBOT_PROFILE", "cloud")
    with pytest.raises(ValueError, match="embedded, production"):
        settings.profile()
    with pytest.raises(ValueError, match="production profile"):
        Stack(model=tmp_path / "m", var_dir=tmp_path, profile="embedded", replicas=2)
    monkeypatch.setenv("WELCOMEBOT_PROFILE", "production")
    monkeypatch.delenv("POSTGRES_HOST", raising=False)
    with pytest.raises(ValueError, match="POSTGRES_HOST"):
        GatewayConfig.from_env()


def test_state_store_is_chosen_by_location(tmp_path):
    assert isinstance(open_state_store(tmp_path / "a.sqlite3"), SQLiteStateStore)
    assert isinstance(open_state_store(f"sqlite:///{tmp_path / 'b.sqlite3'}"), SQLiteStateStore)
    with pytest.raises(ValueError, match="mysql"):
        open_state_store("mysql://x/y")
