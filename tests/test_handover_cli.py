"""`welcomebot handovers` lists queued, waiting and open handovers — without newcomer ids."""
from __future__ import annotations

import subprocess
import sys
import time

from bot.handover.machine import Handover, State
from bot.handover.store import TO_NEWCOMER, HandoverStore

from .conftest import ROOT


def test_handovers_lists_what_is_queued_waiting_and_open(tmp_path):
    url = f"sqlite:///{tmp_path / 'handover.sqlite3'}"
    store = HandoverStore(url)
    now = time.time()
    store.create(Handover("aaaaaa01", "telegram-secret-1", "telegram", "uk", "lindenau", "housing", State.OPEN, now - 600, lotse_id=7100000001, topic_id=5), [])
    store.create(Handover("bbbbbb02", "widget-secret-2", "widget", "fa", "birkenfelde", None, State.QUEUED, now - 7200), [])
    store.create(Handover("cccccc03", "widget-secret-3", "widget", "ar", None, None, State.WAITING, now - 60), [])
    store.create(Handover("dddddd04", "widget-secret-4", "widget", "de", None, None, State.ENDED, now - 60), [])
    store.add_message("aaaaaa01", TO_NEWCOMER, "k", {"text": "undelivered reply"})
    store.close()

    result = subprocess.run([sys.executable, "-m", "welcomebot.cli", "handovers", "--store-url", url],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].split() == ["ref", "state", "lang", "town", "topic", "since", "lotse", "undelivered"]
    assert [line.split()[:2] for line in lines[1:4]] == [["bbbbbb", "queued"], ["cccccc", "waiting"], ["aaaaaa", "open"]]
    assert "Olena" in lines[3] and lines[3].split()[-1] == "1" and "2 h 0 min" in lines[1]
    assert lines[-1] == "1 queued (nobody available yet), 1 waiting for a Lotse, 1 open"
    assert "secret" not in result.stdout and "dddddd" not in result.stdout
