"""The widget's JSON API and event stream in a real gateway app (in-process aiohttp server), with
no Rasa running: the core answers with its "cannot answer right now" message, which is enough to
check storage, resumption, push of messages nobody asked for (a Lotse's), erasure and bad input.
The conversation itself is tested with the real stack in test_widget.py."""
from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import GatewayConfig, create_app
from bot.channels.widget.api import HISTORY
from bot.keys import ASSISTANT

from ..conftest import PORT_OFFSET

SESSION = "s" * 8 + "0123456789abcdef"
DEAD_RASA = f"http://127.0.0.1:{27999 + PORT_OFFSET}"  # nothing listens there


@pytest.fixture
async def client(tmp_path):
    app = create_app(GatewayConfig(rasa_urls=[DEAD_RASA], state_db=str(tmp_path / "gateway.sqlite3")))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def post(client, **body):
    response = await client.post("/widget/api/messages", json={"session": SESSION, **body})
    return response.status, await response.json()


async def read_events(response, count: int, timeout: float = 10.0) -> list[dict]:
    """The next `count` message events of an open stream."""
    events: list[dict] = []
    data, event_id = None, None

    async def collect():
        nonlocal data, event_id
        async for raw in response.content:
            line = raw.decode("utf-8").rstrip("\n")
            if line.startswith("id: "):
                event_id = int(line[4:])
            elif line.startswith("data: "):
                data = json.loads(line[6:])
            elif line == "" and data is not None:
                assert data["id"] == event_id
                events.append(data)
                data = None
                if len(events) == count:
                    return

    await asyncio.wait_for(collect(), timeout)
    return events


async def test_messages_are_stored_with_increasing_ids_and_answered(client):
    status, first = await post(client, text="Hallo", client_languages=["ar-SY", "de"], client_id="c1")
    assert status == 200
    assert [m["from"] for m in first["messages"]] == ["user", "bot"]
    assert first["messages"][0]["text"] == "Hallo" and first["messages"][0]["client_id"] == "c1"
    assert first["messages"][1]["text"]  # the core's "cannot answer right now", in a language
    status, second = await post(client, payload="/ask_work", title="💼 Arbeit", client_id="c2")
    assert second["messages"][0]["text"] == "💼 Arbeit"
    ids = [m["id"] for m in first["messages"] + second["messages"]]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    history = await (await client.get(f"/widget/api/history?session={SESSION}")).json()
    assert [m["id"] for m in history["messages"]] == ids
    resumed = await (await client.get(f"/widget/api/history?session={SESSION}&after={ids[1]}")).json()
    assert [m["id"] for m in resumed["messages"]] == ids[2:]


async def test_a_message_sent_again_is_handled_once(client):
    await post(client, text="Wo ist das Jobcenter?", client_id="again")
    status, repeated = await post(client, text="Wo ist das Jobcenter?", client_id="again")
    assert status == 200 and repeated["duplicate"] is True and repeated["messages"] == []
    history = await (await client.get(f"/widget/api/history?session={SESSION}")).json()
    assert [m["text"] for m in history["messages"] if m["from"] == "user"] == ["Wo ist das Jobcenter?"]


async def test_stream_resumes_after_an_id_and_pushes_a_lotse_message(client):
    await post(client, text="eins")
    await post(client, text="zwei")
    history = (await (await client.get(f"/widget/api/history?session={SESSION}")).json())["messages"]
    response = await client.get(f"/widget/api/events?session={SESSION}&after={history[1]['id']}")
    assert response.headers["Content-Type"].startswith("text/event-stream")
    replayed = await read_events(response, 2)
    assert [m["id"] for m in replayed] == [m["id"] for m in history[2:]]
    # A message nobody asked for in this request, through the Outbound registry as a Lotse's
    # reply would come: stored and pushed to the open stream at once.
    await client.app[ASSISTANT].outbound.deliver("widget", f"web:{SESSION}", [{"recipient_id": f"web:{SESSION}", "text": "Hallo, ich bin Ihre Lotsin."}])
    pushed = await read_events(response, 1)
    assert pushed[0]["text"] == "Hallo, ich bin Ihre Lotsin." and pushed[0]["from"] == "bot"
    assert pushed[0]["id"] > history[-1]["id"]
    response.close()
    stored = (await (await client.get(f"/widget/api/history?session={SESSION}")).json())["messages"]
    assert stored[-1]["text"] == "Hallo, ich bin Ihre Lotsin."


async def test_last_event_id_header_wins_and_nothing_is_sent_twice(client):
    await post(client, text="eins")
    history = (await (await client.get(f"/widget/api/history?session={SESSION}")).json())["messages"]
    response = await client.get(f"/widget/api/events?session={SESSION}&after=0", headers={"Last-Event-ID": str(history[-1]["id"])})
    await post(client, text="zwei")
    events = await read_events(response, 2)
    assert [e["text"] for e in events][0] == "zwei"
    assert all(e["id"] > history[-1]["id"] for e in events)
    response.close()


async def test_delete_erases_the_widget_history(client):
    await post(client, text="Ich wohne in der Lindenstraße 5")
    status, deleted = await post(client, text="/delete")
    assert status == 200
    history = (await (await client.get(f"/widget/api/history?session={SESSION}")).json())["messages"]
    assert "Lindenstraße" not in json.dumps(history, ensure_ascii=False)
    assert [m["from"] for m in history] == ["user", "bot"]  # the command and its confirmation


async def test_retention_purges_old_conversations(client):
    await post(client, text="alt")
    store = client.app[HISTORY]
    assert store.purge_older_than(3600) == 0
    assert store.purge_older_than(-1) == 2
    assert store.since(f"web:{SESSION}") == []


async def test_strings_follow_the_browser_languages_and_direction(client):
    arabic = await (await client.get("/widget/api/strings?client_languages=ar-EG,en")).json()
    assert arabic["language"] == "ar" and arabic["dir"] == "rtl"
    assert arabic["strings"]["send"] == "إرسال"
    assert {"code": "fa", "name": "فارسی", "dir": "rtl"} in arabic["languages"]
    unknown = await (await client.get("/widget/api/strings?client_languages=zh-CN")).json()
    assert unknown["language"] == "de"  # the district's default
    french = await (await client.get("/widget/api/strings?language=fr")).json()
    assert french["strings"]["close"] == "Fermer le chat" and french["dir"] == "ltr"


@pytest.mark.parametrize("body, reason", [
    ({"text": "hallo"}, "session"),
    ({"session": "short", "text": "hallo"}, "session"),
    ({"session": SESSION}, "'text'"),
    ({"session": SESSION, "payload": "no slash"}, "payload"),
    ({"session": SESSION, "text": "x", "client_id": "bad id!"}, "client_id"),
])
async def test_bad_requests_get_a_clear_error(client, body, reason):
    response = await client.post("/widget/api/messages", json=body)
    assert response.status == 400 and reason in (await response.json())["error"]


async def test_not_json_and_bad_after(client):
    response = await client.post("/widget/api/messages", data=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status == 400 and "not JSON" in (await response.json())["error"]
    response = await client.get(f"/widget/api/history?session={SESSION}&after=abc")
    assert response.status == 400 and "after" in (await response.json())["error"]


async def test_widget_and_demo_page_are_served_with_cors_for_the_api(client):
    script = await client.get("/widget.js")
    assert script.status == 200 and script.headers["Content-Type"].startswith("application/javascript")
    assert "attachShadow" in await script.text()
    page = await client.get("/")
    assert page.status == 200 and '<script src="/widget.js"' in await page.text()
    preflight = await client.options("/widget/api/messages", headers={"Origin": "https://www.lindenau.example", "Access-Control-Request-Method": "POST"})
    assert preflight.status == 204 and preflight.headers["Access-Control-Allow-Origin"] == "*"


async def test_shown_text_is_what_the_core_reads_and_bounded(client):
    long_text = "Ich bin neu hier. " * 500 + "Wo ist das Bürgerbüro?"
    status, reply = await post(client, text="\x00Hallo\x07 " + long_text)
    assert status == 200
    shown = reply["messages"][0]["text"]
    assert shown.startswith("Hallo") and "\x00" not in shown and "\x07" not in shown
    assert len(shown) <= 2010 and shown.endswith("Wo ist das Bürgerbüro?")


async def test_a_relayed_message_delivered_again_after_a_crash_is_shown_once(client):
    # The handover core delivers at least once: a message stored here just before the gateway
    # died is delivered again after the restart, with the same relay id.
    relayed = {"recipient_id": f"web:{SESSION}", "text": "Olena: Ich bin da.", "custom": {"welcomebot": {"relay_id": "h-1:7"}}}
    for _ in range(2):
        await client.app[ASSISTANT].outbound.deliver("widget", f"web:{SESSION}", [relayed])
    other = {**relayed, "text": "Olena: Noch etwas?", "custom": {"welcomebot": {"relay_id": "h-1:8"}}}
    await client.app[ASSISTANT].outbound.deliver("widget", f"web:{SESSION}", [other])
    stored = (await (await client.get(f"/widget/api/history?session={SESSION}")).json())["messages"]
    assert [m["text"] for m in stored] == ["Olena: Ich bin da.", "Olena: Noch etwas?"]
    assert all("client_id" not in m for m in stored)  # relay ids stay in the gateway
