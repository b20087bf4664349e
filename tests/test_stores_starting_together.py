"""Several gateway instances (and action servers) starting at once on one PostgreSQL: each
creates its tables if missing, and two concurrent CREATE TABLEs collide in PostgreSQL's catalog.
Found by bench/load.py, whose second gateway died at start with a unique violation."""
from __future__ import annotations

import threading

from bot.handover.store import HandoverStore
from bot.state_sql import PostgresStateStore
from welcomebot.stats.store import StatsStore

from .support.postgres import fresh_database


def test_stores_created_by_several_processes_at_once_all_start(postgres_server):
    for round_ in range(3):  # a race: a few fresh databases, eight starters each
        url = fresh_database(postgres_server, f"together_{round_}_")
        start = threading.Barrier(8)
        failures: list[BaseException] = []
        stores: list = []

        def open_stores() -> None:
            start.wait()
            try:
                stores.extend([HandoverStore(url), StatsStore(url), PostgresStateStore(url)])
            except BaseException as error:  # noqa: BLE001 - what the test looks for
                failures.append(error)

        threads = [threading.Thread(target=open_stores) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert failures == []
        assert len(stores) == 24
        for store in stores:
            store.engine.dispose()
