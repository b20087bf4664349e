"""A fix for Rasa 3.6's ticket lock when a replica dies mid-turn, applied in the Rasa process.

A turn holds a ticket in the lock store (Redis in production) for TICKET_LOCK_LIFETIME seconds.
When a replica is killed mid-turn its ticket stays until it expires; the replica that takes the
conversation over queues a ticket behind it and waits. Rasa's waiting loop drops expired tickets
every second — and since the waiter's own ticket was issued with the same lifetime a moment
later, both usually expire in the same second: the lock is left with no ticket, "now serving"
is nobody, and the waiter loops until its client gives up (seen in the topology test: every turn
in flight on the killed replica timed out after 30 s). Here a waiter keeps its own ticket alive
while it waits, so it is served as soon as the dead ticket expires. A turn that is being
processed is not affected: its ticket lives from the moment it is served as before.

Applied by `welcomebot.rasa_speedups.apply()`, which `welcomebot.nlu_components` calls when Rasa
loads the model (that module is part of the training fingerprint; this one need not be).
"""
from __future__ import annotations

import asyncio
import time
from typing import Text

from rasa.core import lock_store
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, LockStore


async def _acquire_lock(self: LockStore, conversation_id: Text, ticket: int, wait_time_in_seconds: float) -> TicketLock:
    while True:
        lock = self.get_lock(conversation_id)
        if not lock:
            break
        if not lock.is_locked(ticket):
            return lock
        await asyncio.sleep(wait_time_in_seconds)
        lock = self.get_lock(conversation_id)
        if lock:
            for waiting in lock.tickets:
                if waiting.number == ticket:  # still queued: keep it from expiring while it waits
                    waiting.expires = max(waiting.expires, time.time() + lock_store.LOCK_LIFETIME)
            lock.remove_expired_tickets()
            self.save_lock(lock)
    raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")


def apply() -> None:
    LockStore._acquire_lock = _acquire_lock  # type: ignore[method-assign]
