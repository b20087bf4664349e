"""The gateway's HTTP side: the Rasa-compatible REST webhook and `/health` (SPEC §6)."""
from __future__ import annotations

import asyncio
import gc
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import aiohttp
import uvloop
from aiohttp import web

from welcomebot import settings
from welcomebot.content import ContentStore
from welcomebot.i18n import supported_languages
from welcomebot.language import detector_for

from . import handover
from .channels import rest, telegram, widget
from .conversation import Assistant
from .keys import ASSISTANT, CONFIG
from .outbound import Outbound
from .periodic import every
from .rasa_client import RasaClient
from .state import open_state_store

log = logging.getLogger(__name__)

# Every channel of SPEC §6, each a thin adapter over the same Assistant.
CHANNELS = (rest, telegram, widget)


@dataclass
class GatewayConfig:
    rasa_urls: list[str] = field(default_factory=lambda: ["http://127.0.0.1:5005"])
    actions_url: str = "http://127.0.0.1:5055"
    state_db: Optional[str] = None  # a SQLite path or a postgresql:// URL (bot/state.py)
    tracker_store_url: Optional[str] = None
    rasa_timeout: float = 30.0

    def local_file(self, name: str) -> Path:
        """A SQLite file of a channel's own (widget history, Telegram buttons): beside the state
        file when the state is SQLite, else in the var folder — never at a database URL."""
        if self.state_db and "://" not in str(self.state_db):
            return Path(self.state_db).parent / name
        return settings.var_dir() / name

    @classmethod
    def from_env(cls) -> "GatewayConfig":
        """Embedded profile: SQLite files. Production profile (WELCOMEBOT_PROFILE=production):
        state and tracker in the PostgreSQL named by POSTGRES_*, unless the URLs are given."""
        env = os.environ
        urls = env.get("WELCOMEBOT_RASA_URLS", "http://127.0.0.1:5005")
        tracker_db = env.get("WELCOMEBOT_TRACKER_DB")
        production = settings.profile() == "production"
        database = settings.postgres_url() if production else None
        return cls(
            rasa_urls=[u.strip() for u in urls.split(",") if u.strip()],
            actions_url=env.get("WELCOMEBOT_ACTIONS_HEALTH_URL", "http://127.0.0.1:5055"),
            state_db=env.get("WELCOMEBOT_STATE_DB_URL") or database or env.get("WELCOMEBOT_STATE_DB"),
            tracker_store_url=env.get("WELCOMEBOT_TRACKER_STORE_URL") or database or (f"sqlite:///{tracker_db}" if tracker_db else None),
            rasa_timeout=float(env.get("WELCOMEBOT_RASA_TIMEOUT", "30")),
        )


async def health(request: web.Request) -> web.Response:
    assistant: Assistant = request.app[ASSISTANT]
    config: GatewayConfig = request.app[CONFIG]
    rasa = await assistant.rasa.status()
    actions: dict[str, Any] = {"url": config.actions_url}
    try:
        session = await assistant.rasa.session()
        async with session.get(config.actions_url + "/health", timeout=aiohttp.ClientTimeout(total=3)) as response:
            actions["ok"] = response.status == 200
    except (aiohttp.ClientError, asyncio.TimeoutError) as error:  # not the builtin one before 3.11
        actions.update(ok=False, error=str(error) or type(error).__name__)
    try:
        content = assistant.content.health()
    except Exception as error:  # a broken first load: report it, do not fail the health check
        content = {"ok": False, "error": str(error)}
    ok = all(r["ok"] for r in rasa) and actions["ok"] and content["ok"]
    return web.json_response({
        "status": "ok" if ok else "degraded",
        "rasa": rasa, "actions": actions, "content": content,
        "languages": list(supported_languages()),
    })


def create_app(config: Optional[GatewayConfig] = None) -> web.Application:
    config = config or GatewayConfig.from_env()
    app = web.Application(client_max_size=1024 * 1024)
    content = ContentStore(settings.content_dir(), supported_languages())
    state = open_state_store(config.state_db or settings.var_dir() / "gateway.sqlite3")
    assistant = Assistant(RasaClient(config.rasa_urls, timeout=config.rasa_timeout), state, content, config.tracker_store_url, outbound=Outbound())
    app[ASSISTANT] = assistant
    app[CONFIG] = config
    app.router.add_get("/health", health)
    for channel in CHANNELS:
        channel.setup(app)
    handover.setup(app)  # after the channels: its staff desk uses the Telegram channel's bot

    async def close(_: web.Application) -> None:
        await assistant.rasa.close()

    app.on_startup.append(_loaded_and_frozen)
    app.cleanup_ctx.append(_purging_regularly(assistant))
    app.on_cleanup.append(close)
    return app


PURGE_EVERY_SECONDS = 3600.0


def _purging_regularly(assistant: Assistant) -> Any:
    """Conversations past the retention period go, from the gateway's state and Rasa's
    tracker, every hour while the gateway runs (the channels purge their own stores)."""

    async def purge() -> None:
        removed = await asyncio.get_running_loop().run_in_executor(None, assistant.purge_past_retention, settings.retention_seconds())
        if any(removed.values()):
            log.info("retention: removed %s", ", ".join(f"{n} {store}" for store, n in removed.items()))

    return every(PURGE_EVERY_SECONDS, purge, "retention purge")


async def _loaded_and_frozen(_: web.Application) -> None:
    """Load what the first message would (the language detector's models) before serving, then
    move everything loaded out of the garbage collector's full collections: they walked the
    whole heap, the detector's models included, and stopped every conversation for 65-90 ms
    (a `gc.callbacks` probe under bench/latency.py). Later garbage is collected as before."""
    detector_for(tuple(supported_languages()))
    gc.collect()  # what is already garbage is not frozen with the rest
    gc.freeze()
    log.info("gateway ready: %d loaded objects frozen", gc.get_freeze_count())


def main() -> None:
    logging.basicConfig(level=os.environ.get("WELCOMEBOT_LOG_LEVEL", "INFO"), format="%(asctime)s %(name)s %(levelname)s %(message)s")
    port = int(os.environ.get("WELCOMEBOT_GATEWAY_PORT", "8080"))
    host = os.environ.get("WELCOMEBOT_GATEWAY_HOST", "127.0.0.1")
    # libuv's event loop: socket reads and writes were a quarter of the gateway's time per
    # message on asyncio's own (py-spy under bench/latency.py).
    uvloop.install()
    web.run_app(create_app(), host=host, port=port, access_log=None, print=lambda *_: log.info("gateway listening on %s:%d", host, port))


if __name__ == "__main__":
    main()
