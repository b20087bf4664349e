"""The Rasa REST channel's protocol (SPEC §6): any Rasa REST client works against the gateway."""
from __future__ import annotations

import json

from aiohttp import web

from ..conversation import IncomingMessage
from ..incoming import decode
from ..keys import ASSISTANT


def _bad_request(reason: str) -> web.Response:
    return web.json_response({"error": reason}, status=400)


async def rest_webhook(request: web.Request) -> web.Response:
    """Rasa's REST channel protocol: {"sender", "message", "metadata"?} -> list of messages."""
    raw = await request.read()
    try:
        body = json.loads(decode(raw)) if raw else None
    except json.JSONDecodeError as error:
        return _bad_request(f"the body is not JSON: {error.msg} at position {error.pos}")
    if not isinstance(body, dict):
        return _bad_request('send a JSON object like {"sender": "id", "message": "text"}')
    sender = body.get("sender")
    if not isinstance(sender, (str, int)) or str(sender).strip() == "":
        return _bad_request("'sender' (the conversation id) is missing")
    metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else {}
    hints = metadata.get("client_languages") or []
    message = IncomingMessage(
        sender_id=str(sender)[:128],
        text=body.get("message"),
        channel=str(metadata.get("channel") or "rest")[:32],
        language=metadata.get("language") if isinstance(metadata.get("language"), str) else None,
        client_languages=[h for h in hints if isinstance(h, str)] if isinstance(hints, list) else [],
    )
    replies = await request.app[ASSISTANT].handle(message)
    return web.json_response(replies, dumps=lambda v: json.dumps(v, ensure_ascii=False))


def setup(app: web.Application) -> None:
    app.router.add_post("/webhooks/rest/webhook", rest_webhook)
