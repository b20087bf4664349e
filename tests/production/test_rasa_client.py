"""The gateway's spreading over Rasa replicas (bot/rasa_client.py) against small real HTTP
servers that speak the REST channel's protocol: sticky, fails over, remembers a failure, and
does not replay a turn that is only slow."""
from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from bot.rasa_client import RasaClient, RasaUnavailable

from ..conftest import PORT_OFFSET

pytestmark = pytest.mark.production


class Replica:
    def __init__(self, port: int, delay: float = 0.0) -> None:
        self.port, self.delay, self.received, self.metadata = port, delay, [], []
        self.dies_mid_turn = False  # takes the turn, then drops the connection without answering
        self.runner = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> "Replica":
        async def webhook(request: web.Request) -> web.Response:
            body = await request.json()
            self.received.append(body["message"])
            self.metadata.append(body.get("metadata") or {})
            if self.dies_mid_turn:
                request.transport.close()
                raise ConnectionResetError("replica died mid-turn")
            await asyncio.sleep(self.delay)
            return web.json_response([{"recipient_id": body["sender"], "text": f"{self.port}:{body['message']}"}])

        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", webhook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        await self.runner.cleanup()


BASE = 29110 + PORT_OFFSET


async def test_a_conversation_sticks_to_its_replica_and_fails_over_when_it_goes():
    first, second = await Replica(BASE).start(), await Replica(BASE + 1).start()
    client = RasaClient([first.url, second.url], retry_after=60)
    try:
        senders = [f"newcomer-{i}" for i in range(20)]
        homes = {s: client.home(s) for s in senders}
        assert set(homes.values()) == {first.url, second.url}  # spread over both
        for sender in senders:
            for turn in range(2):
                replies = await client.send(sender, f"{sender}-{turn}", {})
                assert replies[0]["text"].startswith(homes[sender].rsplit(":", 1)[1])
        await second.stop()
        moved = [s for s in senders if homes[s] == second.url]
        for sender in moved:
            assert (await client.send(sender, "after", {}))[0]["text"] == f"{BASE}:after"
        # The failed replica is tried last while it is remembered: one failed attempt, not one per turn.
        assert client._order(moved[0])[-1] == second.url
    finally:
        await client.close()
        await first.stop()


async def test_a_slow_replica_is_not_replayed_on_the_next_and_none_answering_is_an_error():
    slow, spare = await Replica(BASE + 2, delay=3).start(), await Replica(BASE + 3).start()
    client = RasaClient([slow.url, spare.url], timeout=1)
    try:
        sender = next(f"slow-{i}" for i in range(100) if client.home(f"slow-{i}") == slow.url)
        with pytest.raises(RasaUnavailable, match="did not answer"):
            await client.send(sender, "hello", {})
        assert spare.received == []  # the turn may still finish on the slow one: not sent twice
    finally:
        await client.close()
        await slow.stop()
        await spare.stop()
    nobody = RasaClient([f"http://127.0.0.1:{BASE + 4}", f"http://127.0.0.1:{BASE + 5}"], timeout=2)
    try:
        with pytest.raises(RasaUnavailable):
            await nobody.send("anyone", "hello", {})
    finally:
        await nobody.close()


async def test_a_turn_sent_to_the_next_replica_is_marked_as_a_retry_of_the_same_turn():
    first, second = await Replica(BASE + 4, delay=0.0).start(), await Replica(BASE + 5).start()
    client = RasaClient([first.url, second.url], retry_after=60)
    try:
        sender = next(s for s in (f"n-{i}" for i in range(100)) if client.home(s) == first.url)
        await client.send(sender, "eins", {"language": "uk"})
        await client.send(sender, "zwei", {"language": "uk"})
        ids = [m["turn_id"] for m in first.metadata]
        assert len(set(ids)) == 2 and not any(m.get("retry") for m in first.metadata)  # a new id per turn
        assert first.metadata[0]["language"] == "uk"  # the channel's metadata is kept

        first.dies_mid_turn = True
        replies = await client.send(sender, "drei", {"language": "uk"})
        assert replies[0]["text"] == f"{second.port}:drei"
        assert second.metadata[-1]["turn_id"] == first.metadata[-1]["turn_id"] and second.metadata[-1]["retry"] is True
        assert not first.metadata[-1].get("retry")
    finally:
        await client.close()
        await first.stop()
        await second.stop()
