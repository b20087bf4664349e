"""Wakes the open event streams of a conversation when something is added to its history.

The history store is the source of truth: a stream only learns "there is something new" and
reads it from the store after its last id, so a missed wake-up loses nothing. A stream
subscribes before it reads, so news that arrives while it reads wakes it at once.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from typing import Iterator


class PushHub:
    def __init__(self) -> None:
        self._waiters: dict[str, set[asyncio.Event]] = defaultdict(set)
        self._closing = False
        self._all: set[asyncio.Event] = set()

    @contextlib.contextmanager
    def subscribe(self, conversation: str) -> Iterator[asyncio.Event]:
        """An event set on news for the conversation (and at shutdown)."""
        event = asyncio.Event()
        if self._closing:
            event.set()
        self._waiters[conversation].add(event)
        self._all.add(event)
        try:
            yield event
        finally:
            self._all.discard(event)
            waiters = self._waiters.get(conversation)
            if waiters is not None:
                waiters.discard(event)
                if not waiters:
                    del self._waiters[conversation]

    def notify(self, conversation: str) -> None:
        for event in self._waiters.get(conversation, ()):
            event.set()

    @property
    def closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        """At shutdown: every stream ends (the browsers reconnect to the next gateway)."""
        self._closing = True
        for event in self._all:
            event.set()
