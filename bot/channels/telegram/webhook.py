"""Webhook mode (production): Telegram POSTs updates to the gateway's own aiohttp app, with the
secret token given to `setWebhook` in a header; anything without it is refused."""
from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from telegram import Update

from .channel import TelegramChannel

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def webhook_handler(channel: TelegramChannel):
    expected = channel.config.secret_token.encode("utf-8")

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8")
        if not hmac.compare_digest(given, expected):
            log.warning("telegram webhook: refused a request without the right secret token from %s", request.remote)
            return web.json_response({"error": "forbidden: wrong or missing secret token"}, status=403)
        if not channel.running:  # Telegram retries later: nothing is lost
            return web.json_response({"error": "the Telegram channel is starting"}, status=503)
        try:
            data = json.loads(await request.text())
            update = Update.de_json(data, channel.application.bot)
        except (ValueError, TypeError, KeyError) as error:
            return web.json_response({"error": f"not a Telegram update: {error}"}, status=400)
        await channel.application.update_queue.put(update)
        return web.Response(status=200)

    return receive
