"""welcomebot/rasa_lock.py: a turn queued behind the ticket of a replica that died is served when
that ticket expires, instead of waiting for ever (Rasa 3.6's own loop lets both tickets expire)."""
from __future__ import annotations

import asyncio
import time

import pytest

pytestmark = pytest.mark.production


async def test_a_waiting_turn_is_served_once_the_dead_ticket_expires(monkeypatch):
    from rasa.core import lock_store
    from rasa.core.lock_store import InMemoryLockStore

    from welcomebot import rasa_lock

    rasa_lock.apply()
    monkeypatch.setattr(lock_store, "LOCK_LIFETIME", 1.0)
    store = InMemoryLockStore()  # the same LockStore logic as the Redis one, without a server
    store.issue_ticket("newcomer", 1.0)  # a replica took it, then was killed: never cleaned up
    started = time.monotonic()

    async def turn() -> None:
        async with store.lock("newcomer", lock_lifetime=1.0, wait_time_in_seconds=0.2):
            pass

    await asyncio.wait_for(turn(), timeout=5)
    assert 0.8 <= time.monotonic() - started < 3
    assert store.get_lock("newcomer") is None  # cleaned up after the turn
