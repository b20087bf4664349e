"""The aiohttp application keys that the gateway and its channels share."""
from __future__ import annotations

from aiohttp import web

from .conversation import Assistant

ASSISTANT: web.AppKey = web.AppKey("assistant", Assistant)
CONFIG: web.AppKey = web.AppKey("config", object)  # a bot.app.GatewayConfig
