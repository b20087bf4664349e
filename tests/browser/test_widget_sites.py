"""The widget on two towns' websites in Debian's Chromium: the site the district names
(WIDGET_ALLOWED_ORIGINS) works, a copy of the tag on another site does not get through — the
browser enforces what the gateway answers to each origin. The gateway is a real app with no
Rasa (as test_widget_api.py), in a thread of its own; each site is a page on another port."""
from __future__ import annotations

import asyncio
import threading
from typing import Iterator

import pytest
from aiohttp import web

from bot.app import GatewayConfig, create_app
from bot.channels.widget.api import HISTORY
from welcomebot.i18n import translator

from ..conftest import PORT_OFFSET
from .test_widget_api import DEAD_RASA
from .widget import Widget

GATEWAY, TOWN, COPYCAT = 28711 + PORT_OFFSET, 28712 + PORT_OFFSET, 28713 + PORT_OFFSET
UNAVAILABLE = "Sorry, I cannot answer right now. Please try again in a few minutes, or call the integration office: %(phone)s"


def _site(title: str) -> web.Application:
    page = (f'<!doctype html><html lang="de"><head><meta charset="utf-8"><title>{title}</title></head>'
            f'<body><h1>{title}</h1><script src="http://127.0.0.1:{GATEWAY}/widget.js" data-language="de" defer></script></body></html>')
    app = web.Application()
    app.router.add_get("/", lambda _request: web.Response(text=page, content_type="text/html"))
    return app


@pytest.fixture(scope="module")
def servers(tmp_path_factory) -> Iterator[web.Application]:
    """The gateway (allowing only the town's site) and both sites, served from one loop in a
    thread: Playwright's sync API runs its own loop in the test's thread."""
    monkey = pytest.MonkeyPatch()
    monkey.setenv("WIDGET_ALLOWED_ORIGINS", f"http://127.0.0.1:{TOWN}")
    gateway = create_app(GatewayConfig(rasa_urls=[DEAD_RASA], state_db=str(tmp_path_factory.mktemp("sites") / "gateway.sqlite3")))
    loop = asyncio.new_event_loop()
    runners: list[web.AppRunner] = []
    ready = threading.Event()

    async def start() -> None:
        for app, port in ((gateway, GATEWAY), (_site("Stadt Lindenau"), TOWN), (_site("Kopie"), COPYCAT)):
            runner = web.AppRunner(app)
            await runner.setup()
            await web.TCPSite(runner, "127.0.0.1", port).start()
            runners.append(runner)
        ready.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()), daemon=True)
    thread.start()
    assert ready.wait(30)
    try:
        yield gateway
    finally:
        async def stop() -> None:
            for runner in runners:
                await runner.cleanup()
        asyncio.run_coroutine_threadsafe(stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        monkey.undo()


def _stored_user_texts(gateway: web.Application) -> list[str]:
    history = gateway[HISTORY]
    with history.file.connection() as db:
        rows = db.execute("SELECT message FROM widget_history WHERE sender = 'user'").fetchall()
    return [row[0] for row in rows]


def test_the_towns_own_site_may_use_the_widget_and_a_copy_elsewhere_may_not(browser, servers):
    context = browser.new_context()
    try:
        town = context.new_page()
        town.goto(f"http://127.0.0.1:{TOWN}/")
        widget = Widget(town)
        widget.open()
        widget.ask("Wo kann ich Deutsch lernen?")  # through CORS: the gateway allows this origin
        assert translator("de")(UNAVAILABLE, phone="")[:30] in widget.log_text()  # the core's answer (no Rasa here)

        copy = context.new_page()
        refused = []
        copy.on("console", lambda message: refused.append(message.text) if "CORS" in message.text or "403" in message.text else None)
        copy.goto(f"http://127.0.0.1:{COPYCAT}/")
        other = Widget(copy)
        other.open()
        other.input.fill("Hallo von der Kopie")
        other.input.press("Enter")
        copy.wait_for_timeout(3000)
        assert other.bot_count() == 0  # no answer got through
        assert refused  # the browser says why: the gateway refused this origin
    finally:
        context.close()
    stored = _stored_user_texts(servers)
    assert any("Deutsch lernen" in text for text in stored)
    assert not any("Kopie" in text for text in stored)  # never reached the core
