"""The production topology on this machine, without Docker: PostgreSQL and Redis from Debian's
packages (welcomebot/services.py), two `rasa run` replicas on the shared tracker and lock store,
the action server and the gateway (welcomebot/stack.py, profile `production`)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from welcomebot.cli import train
from welcomebot.services import ProductionServices
from welcomebot.stack import Stack

from ..conftest import PORT_OFFSET, ROOT, test_ports
from ..e2e.conftest import RestClient

ARTIFACTS = ROOT / "test-artifacts"
# Bases chosen apart from the e2e stack's (x05/x55/x80) so no two checkouts' offsets collide.
POSTGRES_PORT = 25432 + PORT_OFFSET
REDIS_PORT = 26379 + PORT_OFFSET


@pytest.fixture(scope="session")
def production_model() -> Path:
    return train(quiet=True)  # a no-op when the e2e tests trained it already


@pytest.fixture(scope="session")
def services():
    running = ProductionServices.on_ports(POSTGRES_PORT, REDIS_PORT).start()
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="session")
def production_stack(production_model: Path, services: ProductionServices, tmp_path_factory):
    content = tmp_path_factory.mktemp("production") / "content"
    shutil.copytree(ROOT / "content", content)
    stack = Stack(
        model=production_model, ports=test_ports(25047, 25057, 28087), var_dir=tmp_path_factory.mktemp("production-var"),
        log_dir=ARTIFACTS / "production-logs", profile="production", replicas=2,
        extra_env={**services.env(), "WELCOMEBOT_CONTENT_DIR": str(content)},
    )
    with stack.running(timeout=400):
        # A replica's first turn is slow (lazy loading, about 10 s here): take it before the tests
        # time anything, as a deployment's health check or first newcomer would.
        for index, url in enumerate(stack.rasa_urls()):
            replica = RestClient(0)
            replica.base = url
            replica.send(f"warmup-{index}", "/greet")
        yield stack


@pytest.fixture(scope="session")
def gateway(production_stack: Stack) -> RestClient:
    return RestClient(production_stack.ports.gateway)


@pytest.fixture(scope="session")
def tracker_db(services: ProductionServices):
    engine = sa.create_engine(services.postgres.url())
    yield engine
    engine.dispose()
