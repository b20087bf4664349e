"""The Telegram channel (SPEC §6, issue 3): python-telegram-bot 22 in the gateway's process.

`setup(app)` reads the settings from the environment (`config.py`). Without TELEGRAM_TOKEN the
channel stays off and says how to switch it on; everything else of the gateway runs either way.
"""
from __future__ import annotations

import logging

from aiohttp import web


from .config import OFF_MESSAGE, WEBHOOK, WEBHOOK_PATH, ConfigError, TelegramConfig

log = logging.getLogger(__name__)

TELEGRAM: web.AppKey = web.AppKey("telegram", object)  # the running TelegramChannel


def setup(app: web.Application) -> None:
    from ...keys import ASSISTANT, CONFIG

    try:
        config = TelegramConfig.from_env()
    except ConfigError as error:
        log.error("Telegram is off: %s", error)
        return
    if config is None:
        log.info(OFF_MESSAGE)
        return
    # Imported here: a gateway without Telegram does not load python-telegram-bot at all.
    from .channel import CHANNEL, TelegramChannel
    from .payloads import PayloadTable
    from .webhook import webhook_handler

    assistant = app[ASSISTANT]
    buttons_db = app[CONFIG].local_file("telegram-buttons.sqlite3")  # beside the gateway's state
    channel = TelegramChannel(assistant, config, PayloadTable(buttons_db))
    app[TELEGRAM] = channel
    assistant.outbound.register(CHANNEL, channel.deliver)
    if config.mode == WEBHOOK:
        app.router.add_post(WEBHOOK_PATH, webhook_handler(channel))
    app.on_startup.append(channel.on_startup)
    app.on_cleanup.append(channel.on_cleanup)
