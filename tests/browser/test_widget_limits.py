"""Which websites may use the widget's API, and how fast one conversation or one address may
write: a real gateway app in process, no Rasa (as test_widget_api.py)."""
from __future__ import annotations

from typing import Optional

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import GatewayConfig, create_app
from bot.channels.widget.config import WidgetConfig
from welcomebot.i18n import translator

from .test_widget_api import DEAD_RASA

TOWN = "https://www.auenstadt.de"
SLOW_DOWN = "You are writing faster than I can read. Please wait a moment, then write again."


def session(n: int = 0) -> str:
    return f"limits-session-{n:06d}"


@pytest.fixture
async def gateway(tmp_path, monkeypatch):
    clients: list[TestClient] = []

    async def start(**env: str) -> TestClient:
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        client = TestClient(TestServer(create_app(GatewayConfig(rasa_urls=[DEAD_RASA], state_db=str(tmp_path / "gateway.sqlite3")))))
        await client.start_server()
        clients.append(client)
        return client

    yield start
    for client in clients:
        await client.close()


async def post(client: TestClient, text: str = "Hallo", n: int = 0, origin: Optional[str] = None):
    headers = {"Origin": origin} if origin else {}
    return await client.post("/widget/api/messages", json={"session": session(n), "text": text}, headers=headers)


async def test_any_site_may_embed_the_widget_unless_the_district_names_its_sites(gateway):
    anywhere = await gateway()
    response = await post(anywhere, origin="https://somewhere.example")
    assert response.status == 200 and response.headers["Access-Control-Allow-Origin"] == "*"


async def test_only_the_named_sites_and_the_gateways_own_pages_may_use_the_api(gateway):
    client = await gateway(WIDGET_ALLOWED_ORIGINS=f"{TOWN}, https://auental.de/")
    allowed = await post(client, origin=TOWN)
    assert allowed.status == 200
    assert allowed.headers["Access-Control-Allow-Origin"] == TOWN and allowed.headers["Vary"] == "Origin"
    assert (await post(client, origin="https://auental.de")).status == 200  # the trailing slash does not matter

    refused = await post(client, text="from a copied widget", origin="https://copycat.example")
    assert refused.status == 403
    assert "WIDGET_ALLOWED_ORIGINS" in (await refused.json())["error"]
    assert "Access-Control-Allow-Origin" not in refused.headers
    for path in (f"/widget/api/history?session={session()}", f"/widget/api/events?session={session()}", "/widget/api/strings"):
        assert (await client.get(path, headers={"Origin": "https://copycat.example"})).status == 403, path
    preflight = await client.options("/widget/api/messages", headers={"Origin": TOWN, "Access-Control-Request-Method": "POST"})
    assert preflight.status == 204 and preflight.headers["Access-Control-Allow-Origin"] == TOWN

    # The demo page is served by the gateway itself; a script without Origin is not a browser
    # on another site.
    own = f"http://{client.server.host}:{client.server.port}"
    assert (await post(client, origin=own)).status == 200
    assert (await post(client)).status == 200
    history = await (await client.get(f"/widget/api/history?session={session()}")).json()
    assert "from a copied widget" not in [m.get("text") for m in history["messages"]]  # refused: never handled


async def test_a_conversation_writing_too_fast_is_told_once_then_refused_until_it_slows_down(gateway):
    client = await gateway(WIDGET_SESSION_BURST="3", WIDGET_SESSION_PER_MINUTE="0.001")
    for _ in range(3):
        assert (await post(client, text="Arzt?")).status == 200
    told = await post(client, text="Arzt???")
    assert told.status == 200
    shown = (await told.json())["messages"]
    assert [m["from"] for m in shown] == ["user", "bot"]
    assert shown[1]["text"] == translator("de")(SLOW_DOWN)  # in the conversation's language
    refused = await post(client, text="ARZT")
    assert refused.status == 429 and "too many messages" in (await refused.json())["error"]
    assert (await post(client, text="Hallo", n=1)).status == 200  # another newcomer is not held up


async def test_one_address_is_limited_across_conversations(gateway):
    client = await gateway(WIDGET_ADDRESS_BURST="4", WIDGET_ADDRESS_PER_MINUTE="0.001")
    statuses = [(await post(client, n=n)).status for n in range(6)]  # a new conversation each time
    assert statuses == [200, 200, 200, 200, 429, 429]


@pytest.mark.parametrize("env, message", [
    ({"WIDGET_SESSION_BURST": "many"}, "WIDGET_SESSION_BURST / WIDGET_SESSION_PER_MINUTE must be numbers"),
    ({"WIDGET_ADDRESS_PER_MINUTE": "0"}, "WIDGET_ADDRESS_BURST must be at least 1 and WIDGET_ADDRESS_PER_MINUTE above 0."),
])
def test_bad_limits_are_named(env, message):
    with pytest.raises(ValueError) as error:
        WidgetConfig.from_env(env)
    assert message in str(error.value)


async def test_behind_the_districts_proxy_each_newcomers_own_address_counts(gateway):
    client = await gateway(WIDGET_ADDRESS_BURST="2", WIDGET_ADDRESS_PER_MINUTE="0.001")  # the test client is on loopback: a proxy

    async def from_address(address: str, n: int) -> int:
        response = await client.post("/widget/api/messages", json={"session": session(n), "text": "Hallo"},
                                     headers={"X-Forwarded-For": f"203.0.113.99, {address}"})  # the left entry is the client's own word
        return response.status

    assert [await from_address("198.51.100.7", n) for n in range(3)] == [200, 200, 429]
    assert await from_address("198.51.100.8", 10) == 200  # another newcomer behind the same proxy


def test_the_client_address_is_read_past_trusted_proxies_only():
    config = WidgetConfig.from_env({"WIDGET_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"})
    assert config.client_address("127.0.0.1", "198.51.100.7") == "198.51.100.7"
    assert config.client_address("127.0.0.1", "198.51.100.7, 10.1.2.3") == "198.51.100.7"  # two of our proxies
    assert config.client_address("198.51.100.9", "1.2.3.4") == "198.51.100.9"  # not a proxy: its header is ignored
    assert config.client_address("127.0.0.1", None) == "127.0.0.1"
    assert config.client_address("127.0.0.1", "not an address, 10.1.2.3") == "not an address"
    with pytest.raises(ValueError, match="WIDGET_TRUSTED_PROXIES"):
        WidgetConfig.from_env({"WIDGET_TRUSTED_PROXIES": "proxy.example"})
