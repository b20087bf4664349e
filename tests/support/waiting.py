"""Waiting for something a bot does in the test's own event loop (python-telegram-bot's
Application runs there), without blocking that loop."""
from __future__ import annotations

import asyncio
from typing import Callable, TypeVar

T = TypeVar("T")


async def until(check: Callable[[], T], timeout: float = 15.0, what: str = "the bot") -> T:
    """The first truthy value of `check()`, polled every 50 ms; AssertionError after `timeout`."""
    for _ in range(int(timeout / 0.05)):
        value = check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
