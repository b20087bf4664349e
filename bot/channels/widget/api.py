"""The widget's small JSON API and its event stream (SSE). A thin adapter: every message goes
through `Assistant.handle` as channel "widget"; this module only stores what was shown, pushes
it, and reports the conversation's language so the panel can switch labels and direction.

  POST /widget/api/messages  {session, text | payload (+title), language?, client_languages?, client_id?}
  GET  /widget/api/history   ?session=&after=
  GET  /widget/api/events    ?session=&after=   (text/event-stream; also Last-Event-ID)
  GET  /widget/api/strings   ?language= | ?client_languages=a,b
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any, Optional, Sequence

from aiohttp import web

from welcomebot.i18n import supported_languages, translator

from ...conversation import Assistant, IncomingMessage
from ...incoming import clean_message, decode
from ...keys import ASSISTANT
from ...outbound import DeliveryFailed
from ...ratelimit import UserRateLimiter
from ...state import pseudonym
from .config import WidgetConfig
from .history import BOT, USER, HistoryStore
from .push import PushHub
from .strings import direction, labels, languages

log = logging.getLogger(__name__)

API = "/widget/api/"
CHANNEL = "widget"
SENDER_PREFIX = "web:"
SESSION = re.compile(r"[A-Za-z0-9_-]{16,64}")
CLIENT_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_PAYLOAD = 500
MAX_TITLE = 200  # a button's title as shown for the newcomer's tap
MAX_HINTS = 10
KEEPALIVE_SECONDS = 15.0
PAGE = 200  # history entries read at a time for the stream
# The widget runs on the town's website, another origin than the gateway; nothing it sends is a
# credential except the random session id in the request itself. Which sites may embed it is
# the district's choice (WIDGET_ALLOWED_ORIGINS, config.py).
CORS = {"Access-Control-Allow-Headers": "Content-Type, Last-Event-ID",
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS", "Access-Control-Max-Age": "86400"}

HISTORY: web.AppKey = web.AppKey("widget_history", object)  # a HistoryStore
HUB: web.AppKey = web.AppKey("widget_push", PushHub)
SETTINGS: web.AppKey = web.AppKey("widget_config", WidgetConfig)
LIMITS: web.AppKey = web.AppKey("widget_limits", object)  # (per conversation, per address) UserRateLimiters


class BadRequest(Exception):
    pass


def sender_of(session: str) -> str:
    return SENDER_PREFIX + session


def _cors(request: web.Request) -> dict[str, str]:
    if request.app[SETTINGS].allowed_origins is None:
        return {**CORS, "Access-Control-Allow-Origin": "*"}
    origin = request.headers.get("Origin")
    if origin and request.app[SETTINGS].allows(origin, request.host):
        return {**CORS, "Access-Control-Allow-Origin": origin, "Vary": "Origin"}
    return {**CORS, "Vary": "Origin"}


def _json(request: web.Request, data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, headers=_cors(request), dumps=lambda v: json.dumps(v, ensure_ascii=False))


def _error(request: web.Request, reason: str, status: int = 400) -> web.Response:
    return _json(request, {"error": reason}, status)


@web.middleware
async def allowed_sites_only(request: web.Request, handler: Any) -> web.StreamResponse:
    """A browser on a site that may not embed the widget gets 403 from every API route."""
    if request.path.startswith(API) and not request.app[SETTINGS].allows(request.headers.get("Origin"), request.host):
        return _error(request, "this website may not use the widget (WIDGET_ALLOWED_ORIGINS)", 403)
    return await handler(request)


def _session(value: Any) -> str:
    if not isinstance(value, str) or not SESSION.fullmatch(value):
        raise BadRequest("'session' must be 16-64 characters of A-Z, a-z, 0-9, '-' or '_'")
    return value


def _after(value: Any) -> int:
    try:
        after = int(value or 0)
    except (TypeError, ValueError):
        raise BadRequest("'after' must be a message id (a whole number)") from None
    return max(after, 0)


def _hints(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return []
    return [h.strip()[:35] for h in value if isinstance(h, str) and h.strip()][:MAX_HINTS]


def _language_reply(language: str) -> dict[str, Any]:
    return {"language": language, "dir": direction(language)}


def conversation_language(assistant: Assistant, session: Optional[str], hints: Sequence[str] = ()) -> str:
    """The conversation's language as the core keeps it (before a first message: the browser's)."""
    return assistant.language_of(sender_of(session) if session else None, hints)


def _incoming(body: Any) -> tuple[str, IncomingMessage, dict[str, Any], Optional[str]]:
    """The request as the core's message, what the newcomer is shown as sent, and its client id."""
    if not isinstance(body, dict):
        raise BadRequest('send a JSON object like {"session": "...", "text": "..."}')
    session = _session(body.get("session"))
    text, payload, title = body.get("text"), body.get("payload"), body.get("title")
    if payload is not None:
        if not isinstance(payload, str) or not payload.startswith("/") or len(payload) > MAX_PAYLOAD:
            raise BadRequest(f"'payload' must be a button's payload: text starting with '/', at most {MAX_PAYLOAD} characters")
        shown = {"text": clean_message(title)[:MAX_TITLE] if isinstance(title, str) and title.strip() else payload}
        said: Any = payload
    elif isinstance(text, str):
        # Shown as the core reads it (control characters out, a very long text shortened), so
        # the history never holds more than a message's worth.
        shown, said = {"text": clean_message(text)}, text
    else:
        raise BadRequest("'text' (what the newcomer wrote) or 'payload' (a button) is missing")
    client_id = body.get("client_id")
    if client_id is not None and (not isinstance(client_id, str) or not CLIENT_ID.fullmatch(client_id)):
        raise BadRequest("'client_id' must be 1-64 characters of A-Z, a-z, 0-9, '-' or '_'")
    language = body.get("language")
    message = IncomingMessage(
        sender_id=sender_of(session), text=said, channel=CHANNEL,
        language=language if isinstance(language, str) and language in supported_languages() else None,
        client_languages=_hints(body.get("client_languages")), message_id=f"web-client:{client_id}" if client_id else None,
    )
    return session, message, shown, client_id


async def post_message(request: web.Request) -> web.Response:
    raw = await request.read()
    try:
        body = json.loads(decode(raw)) if raw else None
        session, message, shown, client_id = _incoming(body)
    except json.JSONDecodeError as error:
        return _error(request, f"the body is not JSON: {error.msg} at position {error.pos}")
    except BadRequest as error:
        return _error(request, str(error))
    assistant: Assistant = request.app[ASSISTANT]
    history: HistoryStore = request.app[HISTORY]
    if client_id and history.has_client_id(message.sender_id, client_id):
        # Sent again after a lost answer (offline queue, gateway restart): handled once already,
        # its answer is in the history and reaches the browser through the stream.
        return _json(request, {**_language_reply(conversation_language(assistant, session)), "messages": [], "duplicate": True})
    verdict = _rate_limit(request, session)
    if verdict == "drop":
        return _error(request, "too many messages: wait a moment, then write again", 429)
    replies = await assistant.handle(message) if verdict == "ok" else [_slow_down(assistant, session)]
    # Stored after the core answered: a request cut off by a restart leaves nothing half-stored,
    # and the browser sends it again.
    entries = history.append(message.sender_id, USER, [shown], client_id)
    entries += history.append(message.sender_id, BOT, [_shown(r) for r in replies])
    request.app[HUB].notify(message.sender_id)
    language = conversation_language(assistant, session, message.client_languages)
    return _json(request, {**_language_reply(language), "messages": [e.as_json() for e in entries]})


def _rate_limit(request: web.Request, session: str) -> str:
    """'ok', 'warn' (over the limit: the newcomer is told once) or 'drop' (over it, told already).
    An address over its own limit is dropped: that is no single newcomer typing fast."""
    per_session, per_address = request.app[LIMITS]
    address = request.app[SETTINGS].client_address(request.remote, request.headers.get("X-Forwarded-For"))
    if per_address.take(address) != "ok":
        log.warning("widget: rate limit for address of %s", pseudonym(sender_of(session)))
        return "drop"
    verdict = per_session.take(session)
    if verdict != "ok":
        log.info("widget: rate limit for %s (%s)", pseudonym(sender_of(session)), verdict)
    return verdict


def _slow_down(assistant: Assistant, session: str) -> dict[str, Any]:
    _ = translator(conversation_language(assistant, session))
    return {"recipient_id": sender_of(session), "text": _("You are writing faster than I can read. Please wait a moment, then write again.")}


def _shown(reply: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in reply.items() if k in ("text", "buttons", "custom")}


async def get_history(request: web.Request) -> web.Response:
    try:
        session = _session(request.query.get("session"))
        after = _after(request.query.get("after"))
    except BadRequest as error:
        return _error(request, str(error))
    entries = request.app[HISTORY].since(sender_of(session), after)
    language = conversation_language(request.app[ASSISTANT], session, _hints(request.query.get("client_languages")))
    return _json(request, {**_language_reply(language), "messages": [e.as_json() for e in entries]})


async def get_strings(request: web.Request) -> web.Response:
    wanted = request.query.get("language")
    if wanted not in supported_languages():
        wanted = conversation_language(request.app[ASSISTANT], None, _hints(request.query.get("client_languages")))
    return _json(request, {**_language_reply(wanted), "strings": labels(wanted), "languages": languages()})


async def events(request: web.Request) -> web.StreamResponse:
    """Server-Sent Events: every history entry after `after` (or Last-Event-ID), then new ones as
    they come (a Lotse's reply), with a comment line as keep-alive."""
    try:
        session = _session(request.query.get("session"))
        after = _after(request.headers.get("Last-Event-ID") or request.query.get("after"))
    except BadRequest as error:
        return _error(request, str(error))
    conversation = sender_of(session)
    history: HistoryStore = request.app[HISTORY]
    hub: PushHub = request.app[HUB]
    response = web.StreamResponse(headers={
        **_cors(request), "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", "X-Accel-Buffering": "no",
    })
    await response.prepare(request)
    try:
        await response.write(b": open\n\n")
        with hub.subscribe(conversation) as news:
            while not hub.closing:
                news.clear()
                while True:  # in pages: a long history is sent whole
                    page = history.since(conversation, after, PAGE)
                    for entry in page:
                        data = json.dumps(entry.as_json(), ensure_ascii=False)
                        await response.write(f"id: {entry.id}\nevent: message\ndata: {data}\n\n".encode("utf-8"))
                        after = entry.id
                    if len(page) < PAGE:
                        break
                try:
                    await asyncio.wait_for(news.wait(), KEEPALIVE_SECONDS)
                except asyncio.TimeoutError:
                    await response.write(b": keep-alive\n\n")
    except (ConnectionResetError, ConnectionError):
        log.debug("event stream of %s closed by the browser", pseudonym(conversation))
    return response


async def preflight(request: web.Request) -> web.Response:
    return web.Response(status=204, headers=_cors(request))


def make_deliver(history: HistoryStore, hub: PushHub):
    """The widget's `Outbound` delivery: a message nobody asked for in this request (a Lotse's
    reply) is stored in the history and pushed to the conversation's open streams."""
    async def deliver(sender_id: str, messages: list[dict[str, Any]]) -> None:
        if not sender_id.startswith(SENDER_PREFIX):
            raise DeliveryFailed(f"{pseudonym(sender_id)} is not a widget conversation")
        for message in messages:
            # A relayed message is delivered at least once (the gateway may die between storing
            # it here and marking it delivered): its relay id keeps the second copy out.
            relay_id = ((message.get("custom") or {}).get("welcomebot") or {}).get("relay_id")
            if relay_id and history.has_client_id(sender_id, str(relay_id)):
                continue
            history.append(sender_id, BOT, [_shown(message)], str(relay_id) if relay_id else None)
        hub.notify(sender_id)

    return deliver


def add_routes(app: web.Application, config: WidgetConfig) -> None:
    app[SETTINGS] = config
    app[LIMITS] = (UserRateLimiter(config.session_burst, config.session_per_minute),
                   UserRateLimiter(config.address_burst, config.address_per_minute))
    app.middlewares.append(allowed_sites_only)
    app.router.add_post("/widget/api/messages", post_message)
    app.router.add_get("/widget/api/history", get_history)
    app.router.add_get("/widget/api/events", events)
    app.router.add_get("/widget/api/strings", get_strings)
    app.router.add_route("OPTIONS", "/widget/api/{tail:.*}", preflight)

