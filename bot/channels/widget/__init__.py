"""The web widget channel (SPEC §6): `GET /widget.js` for the town's website, the demo town page
at `GET /`, and the widget's JSON API with server push. Thin over the one `Assistant`: see api.py.
"""
from __future__ import annotations

import logging
from pathlib import Path

from aiohttp import web

from welcomebot import settings

from ...keys import ASSISTANT, CONFIG
from ...periodic import every
from .api import CHANNEL, HISTORY, HUB, add_routes, make_deliver
from .config import WidgetConfig
from .history import SQLiteHistoryStore
from .push import PushHub

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
PURGE_EVERY_SECONDS = 3600.0


async def widget_js(request: web.Request) -> web.Response:
    # Read per request: small, and an edited file is served without a restart.
    return web.Response(body=(STATIC / "widget.js").read_bytes(), content_type="application/javascript", charset="utf-8",
                        headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"})


async def demo_page(request: web.Request) -> web.Response:
    return web.Response(body=(STATIC / "demo.html").read_bytes(), content_type="text/html", charset="utf-8")


def setup(app: web.Application) -> None:
    config = app[CONFIG]
    # The gateway's own SQLite file (as bot.app's state store), in a table of its own.
    history = SQLiteHistoryStore(config.local_file("gateway.sqlite3"))
    hub = PushHub()
    app[HISTORY], app[HUB] = history, hub
    assistant = app[ASSISTANT]
    assistant.outbound.register(CHANNEL, make_deliver(history, hub))
    assistant.erase_hooks.append(history.erase)  # `/delete` erases what the widget shows, too
    add_routes(app, WidgetConfig.from_env())
    app.router.add_get("/widget.js", widget_js)
    app.router.add_get("/", demo_page)

    async def purge() -> None:
        removed = history.purge_older_than(settings.retention_seconds())
        if removed:
            log.info("widget history: %d messages past the retention period removed", removed)

    async def end_streams(_: web.Application) -> None:
        hub.close()  # open event streams end so that shutdown does not wait for them

    app.cleanup_ctx.append(every(PURGE_EVERY_SECONDS, purge, "widget history purge"))
    app.on_shutdown.append(end_streams)
