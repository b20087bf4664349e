"""Talking to Rasa through its REST channel (SPEC §6), spread over one or more Rasa servers.

A conversation sticks to one server (stable hash of its id) while that server answers; when it
does not, the next one takes the turn — with a shared tracker store (PostgreSQL) and lock store
(Redis) the conversation goes on there, slots and all. A server that failed is tried last for
`retry_after` seconds, so that a replica that went away costs one failed attempt, not one per
turn; a refused connection fails over at once, an unreachable host after `connect_timeout`.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from typing import Any, Optional, Sequence

import aiohttp
import yarl

log = logging.getLogger(__name__)


class RasaUnavailable(Exception):
    pass


class RasaClient:
    def __init__(self, urls: Sequence[str], timeout: float = 30.0, connect_timeout: float = 3.0, retry_after: float = 5.0) -> None:
        if not urls:
            raise ValueError("at least one Rasa URL is needed")
        self.urls = [u.rstrip("/") for u in urls]
        self._webhooks = {url: yarl.URL(f"{url}/webhooks/rest/webhook") for url in self.urls}  # parsed once
        self._timeout = aiohttp.ClientTimeout(total=timeout, sock_connect=connect_timeout)
        self._session: Optional[aiohttp.ClientSession] = None
        self.retry_after = retry_after
        self._failed_at: dict[str, float] = {}

    async def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self._timeout, connector=aiohttp.TCPConnector(limit=200, keepalive_timeout=30),
                # Rasa sets no cookies: a jar would be searched on every request for nothing.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def home(self, sender_id: str) -> str:
        """The server a conversation sticks to while it answers."""
        return self.urls[int(hashlib.sha1(sender_id.encode("utf-8", "replace")).hexdigest(), 16) % len(self.urls)]

    def _order(self, sender_id: str) -> list[str]:
        start = self.urls.index(self.home(sender_id))
        order = self.urls[start:] + self.urls[:start]
        now = time.monotonic()
        recent = [u for u in order if now - self._failed_at.get(u, -1e9) < self.retry_after]
        return [u for u in order if u not in recent] + recent

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        session = await self.session()
        # The turn's id: a turn sent again to the next replica (`retry`) after the first one
        # failed mid-turn is answered from what the first one stored, if it finished it
        # (welcomebot/rasa_turns.py), not processed twice.
        body = {"sender": sender_id, "message": text, "metadata": {**metadata, "turn_id": uuid.uuid4().hex}}
        last_error: Optional[Exception] = None
        for attempt, url in enumerate(self._order(sender_id)):
            if attempt:
                body["metadata"]["retry"] = True
            try:
                async with session.post(self._webhooks[url], json=body) as response:
                    if response.status == 200:
                        replies = await response.json()
                        self._failed_at.pop(url, None)
                        return replies
                    last_error = RasaUnavailable(f"{url} answered {response.status}")
            except aiohttp.ClientError as error:
                # Refused, reset, gone mid-turn, or no connection within connect_timeout
                # (ServerTimeoutError is a ClientError): the next server takes the turn.
                last_error = error
            except asyncio.TimeoutError as error:
                # Slow, not gone: the server may still finish the turn, and the next one would
                # wait for its lock and then process the message a second time. Say so instead.
                self._failed_at[url] = time.monotonic()
                raise RasaUnavailable(f"{url} did not answer within {self._timeout.total:.0f} s") from error
            self._failed_at[url] = time.monotonic()
            log.warning("rasa server %s failed, trying the next: %s", url, str(last_error) or type(last_error).__name__)
        raise RasaUnavailable(str(last_error))

    async def status(self) -> list[dict[str, Any]]:
        session = await self.session()
        states = []
        for url in self.urls:
            try:
                async with session.get(url + "/", timeout=aiohttp.ClientTimeout(total=3)) as response:
                    states.append({"url": url, "ok": response.status == 200, "version": (await response.text()).strip()})
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                states.append({"url": url, "ok": False, "error": str(error) or type(error).__name__})
        return states
