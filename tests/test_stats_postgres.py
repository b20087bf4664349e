"""The statistics store on a real PostgreSQL server (production, SPEC §2): a throwaway cluster
on a spare port, started for the test and removed after it."""
from __future__ import annotations

import datetime as dt
import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from welcomebot.stats.store import StatsStore

from .conftest import PORT_OFFSET

DAY = dt.date(2026, 12, 1)
PORT = 25432 + PORT_OFFSET


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    assert found, "PostgreSQL is missing: scripts/system-packages.sh installs it"
    return found[-1]


def _as_postgres(command: str) -> None:
    prefix = [] if os.geteuid() != 0 else ["su", "postgres", "-c"]
    run = prefix + [command] if prefix else ["sh", "-c", command]
    subprocess.run(run, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, timeout=60)


@pytest.fixture(scope="module")
def postgres_url():
    # initdb refuses to run as root: the cluster belongs to the postgres user (shared/NOTES.md).
    directory = Path(tempfile.mkdtemp(prefix="welcomebot-pg-", dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    data = directory / "data"
    _as_postgres(f"{_bin('initdb')} -D {data} -A trust -U postgres")
    _as_postgres(f"{_bin('pg_ctl')} -D {data} -o '-p {PORT} -k {directory} -c listen_addresses=127.0.0.1' -l {directory}/log -w start")
    try:
        yield f"postgresql://postgres@127.0.0.1:{PORT}/postgres"
    finally:
        _as_postgres(f"{_bin('pg_ctl')} -D {data} -m immediate -w stop")
        shutil.rmtree(directory, ignore_errors=True)


def test_counts_and_texts_on_postgresql(postgres_url):
    store = StatsStore(postgres_url)
    for _ in range(3):
        store.count_question(DAY, "fa", "lindenau", "ask_housing")
    store.count_question(DAY, "fa", None, "ask_housing")
    store.count_feedback(DAY, "fa", "ask_housing", "up")
    store.count_feedback(DAY, "fa", "ask_housing", "up")
    store.keep_fallback(DAY - dt.timedelta(days=31), "fa", None, "old")
    store.keep_fallback(DAY, "fa", None, "new")
    assert [(q.municipality, q.count) for q in store.question_counts(DAY, DAY)] == [("lindenau", 3), ("unknown", 1)]
    assert [(f.rating, f.count) for f in store.feedback_counts(DAY, DAY)] == [("up", 2)]
    assert store.purge_texts(DAY, 30) == 1
    assert [f.text for f in store.fallback_texts(DAY - dt.timedelta(days=40), DAY)] == ["new"]
