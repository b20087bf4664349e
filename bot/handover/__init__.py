"""Handover to a Lotse (SPEC §7): one core for every channel.

- `machine`: states, transitions, who may do what (pure);
- `store`: the gateway's own store for handovers and relayed messages (SQLite / PostgreSQL);
- `matching`: language, town and availability; when someone will be available;
- `service`: the core (`Handovers`) — newcomer side, staff side, reliable delivery;
- `hook`: the two calls `bot/conversation.py` makes;
- `desk`: the staff side as the core sees it; `telegram_desk`: it on a Telegram forum group.

`setup(app)` wires it into the gateway: the store from `WELCOMEBOT_HANDOVER_STORE_URL`
(default: SQLite beside the gateway's state file), the background delivery task, and the
Telegram staff desk when `LOTSE_GROUP_ID` is set.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from aiohttp import web

from welcomebot import settings

from .service import BACK_TO_BOT, Handovers
from .store import HandoverStore

log = logging.getLogger(__name__)

HANDOVERS: web.AppKey = web.AppKey("handovers", Handovers)


def store_url() -> str:
    """WELCOMEBOT_HANDOVER_STORE_URL; else the production profile's PostgreSQL; else SQLite."""
    url = os.environ.get("WELCOMEBOT_HANDOVER_STORE_URL")
    if url:
        return url
    profile = getattr(settings, "profile", None)  # the production stack's profiles, where present
    if profile is not None and profile() == "production":
        return settings.postgres_url()
    state_db = os.environ.get("WELCOMEBOT_STATE_DB")
    folder = Path(state_db).parent if state_db else settings.var_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / 'handover.sqlite3'}"


def retry_interval() -> float:
    return float(os.environ.get("WELCOMEBOT_HANDOVER_RETRY_SECONDS", "5"))


def setup(app: web.Application) -> None:
    from ..keys import ASSISTANT

    assistant = app[ASSISTANT]

    async def back_to_bot(sender_id: str, language: str, channel: str) -> list[dict[str, Any]]:
        return await assistant.rasa.send(sender_id, BACK_TO_BOT, {"language": language, "language_source": "explicit", "channel": channel})

    handovers = Handovers(HandoverStore(store_url()), assistant.content, assistant.outbound, back_to_bot)
    assistant.handovers = handovers
    app[HANDOVERS] = handovers
    install_telegram_desk(app, handovers)

    async def background(_: web.Application):
        task = asyncio.create_task(handovers.run_forever(retry_interval()))
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        handovers.store.close()

    app.cleanup_ctx.append(background)


def install_telegram_desk(app: web.Application, handovers: Handovers) -> None:
    """The staff group runs on the Telegram channel's bot (one token). Without LOTSE_GROUP_ID or
    without Telegram, handovers still start and wait; `welcomebot handovers` shows them."""
    group = os.environ.get("LOTSE_GROUP_ID", "").strip()
    if not group:
        log.info("Lotse handover: no staff group (set LOTSE_GROUP_ID to the Telegram supergroup's id)")
        return
    try:
        group_id = int(group)
    except ValueError:
        log.error("Lotse handover: LOTSE_GROUP_ID=%r is not a Telegram chat id (a number like -1001234567890)", group)
        return
    try:
        from ..channels.telegram import TELEGRAM
    except ImportError:  # a gateway built without the Telegram channel
        TELEGRAM = None
    channel = app.get(TELEGRAM) if TELEGRAM is not None else None
    if channel is None:
        log.error("Lotse handover: LOTSE_GROUP_ID is set, but Telegram is off; set TELEGRAM_TOKEN too")
        return
    from .telegram_desk import TelegramDesk

    TelegramDesk(channel.application, group_id, handovers).install()
    log.info("Lotse handover: staff group %d", group_id)
