"""Work the gateway repeats while it runs (retention purges), as an aiohttp cleanup context."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, AsyncIterator, Awaitable, Callable

from aiohttp import web

log = logging.getLogger(__name__)


def every(seconds: float, work: Callable[[], Awaitable[Any]], what: str) -> Callable[[web.Application], AsyncIterator[None]]:
    """For `app.cleanup_ctx`: `work` now and then every `seconds` until the app stops. A round
    that fails (a busy or unreachable database) is logged and tried again the next time."""

    async def context(_: web.Application) -> AsyncIterator[None]:
        async def loop() -> None:
            while True:
                try:
                    await work()
                except Exception:
                    log.exception("%s failed", what)
                await asyncio.sleep(seconds)

        task = asyncio.create_task(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return context
