"""A small Telegram Bot API server on loopback, for tests that drive the real python-telegram-bot.

The bot under test talks to it through PTB's `base_url` exactly as it would talk to
api.telegram.org; the test plays the newcomer through the user-side methods (`send_text`, `tap`,
`share_location`, ...) and reads what the bot sent (`sent`, `exchange`). It implements the part of
the Bot API the gateway uses and validates parameters the way Telegram does (text length, HTML
entities, callback_data size), so a message Telegram would refuse is refused here too.

Why not the npm `telegram-test-api`: it has no locations, venues or forum topics, and three of its
responses do not parse in PTB 22 (shared/NOTES.md).

The server runs its own asyncio loop in a thread, so synchronous tests and the gateway process
can use it at the same time; its state is guarded by one lock.
"""
from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import aiohttp
from aiohttp import web

MAX_TEXT = 4096  # Telegram's limit, counted after entity parsing, in UTF-16 code units
MAX_CALLBACK_DATA = 64  # bytes
JSON_FIELDS = {"reply_markup", "commands", "scope", "allowed_updates", "link_preview_options", "reply_parameters", "entities"}
INT_FIELDS = {"chat_id", "message_id", "offset", "limit", "timeout", "message_thread_id", "icon_color", "max_connections"}
FLOAT_FIELDS = {"latitude", "longitude"}
HTML_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre", "blockquote", "tg-emoji"}
_TOKEN = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)([^<>]*)>|<|&(#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z]+);")
_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class BadRequest(Exception):
    """A call Telegram would refuse: answered with {"ok": false, "error_code", "description"}."""

    def __init__(self, description: str, code: int = 400) -> None:
        super().__init__(description)
        self.description, self.code = description, code


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def parse_html(text: str) -> str:
    """The plain text of a message in Telegram's HTML parse mode, or BadRequest like the real API's
    "can't parse entities" for an unsupported tag, an unmatched end tag or an unclosed tag."""
    plain: list[str] = []
    open_tags: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        plain.append(text[position:match.start()])
        position = match.end()
        offset = len(text[:match.start()].encode("utf-8"))
        closing, name, _attributes, entity = match.group(1), match.group(2), match.group(3), match.group(4)
        if entity is not None:
            plain.append(_entity_text(entity, offset))
        elif name is None:
            raise BadRequest(f"Bad Request: can't parse entities: Unsupported start tag at byte offset {offset}")
        elif name.lower() not in HTML_TAGS:
            raise BadRequest(f'Bad Request: can\'t parse entities: Unsupported start tag "{name}" at byte offset {offset}')
        elif closing:
            if not open_tags or open_tags[-1] != name.lower():
                expected = f'"</{open_tags[-1]}>"' if open_tags else "nothing"
                raise BadRequest(f'Bad Request: can\'t parse entities: Unmatched end tag at byte offset {offset}, expected {expected}, found "</{name}>"')
            open_tags.pop()
        else:
            open_tags.append(name.lower())
    plain.append(text[position:])
    if open_tags:
        raise BadRequest(f'Bad Request: can\'t parse entities: Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(plain)


def _entity_text(entity: str, offset: int) -> str:
    if entity in _ENTITIES:
        return _ENTITIES[entity]
    if entity.startswith("#x"):
        return chr(int(entity[2:], 16))
    if entity.startswith("#"):
        return chr(int(entity[1:]))
    raise BadRequest(f'Bad Request: can\'t parse entities: Unsupported HTML entity "&{entity};" at byte offset {offset}')


@dataclass
class User:
    """A newcomer on Telegram, played by the test."""

    id: int
    first_name: str = "Newcomer"
    language_code: Optional[str] = None

    def as_json(self) -> dict[str, Any]:
        data = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            data["language_code"] = self.language_code
        return data


@dataclass
class Sent:
    """One message the bot sent (or edited), as the test inspects it."""

    method: str
    chat_id: int
    message_id: int
    text: Optional[str] = None  # after entity parsing: what the newcomer reads
    raw_text: Optional[str] = None  # as the bot sent it
    parse_mode: Optional[str] = None
    reply_markup: Optional[dict[str, Any]] = None
    location: Optional[tuple[float, float]] = None
    venue: Optional[dict[str, Any]] = None
    message_thread_id: Optional[int] = None
    message: dict[str, Any] = field(default_factory=dict)  # the Message object returned to the bot

    @property
    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]


@dataclass
class Bot:
    token: str
    id: int
    username: str
    updates: list[dict[str, Any]] = field(default_factory=list)
    webhook_url: str = ""
    webhook_secret: Optional[str] = None
    webhook_statuses: list[int] = field(default_factory=list)
    commands: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    callback_answers: dict[str, dict[str, Any]] = field(default_factory=dict)
    chats: dict[int, dict[str, Any]] = field(default_factory=dict)
    topics: dict[int, dict[int, str]] = field(default_factory=dict)  # chat id -> thread id -> name
    closed_topics: set[tuple[int, int]] = field(default_factory=set)  # (chat id, thread id)
    get_updates_calls: int = 0

    def me(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": True, "first_name": "Welcome bot", "username": self.username,
                "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}


class BotApiServer:
    """Start with `start()`; PTB connects with `base_url=server.base_url`."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host, self.port = host, port
        self.root_url = f"http://{host}:{port}"  # what TELEGRAM_API_BASE_URL is set to
        self.base_url = self.root_url + "/bot"  # what PTB's base_url is
        self._lock = threading.Lock()
        self._bots: dict[str, Bot] = {}
        self._ids = itertools.count(1)
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._runner: Optional[web.AppRunner] = None
        self._ready = threading.Event()
        self._closing = False  # ends open long polls at once when the server stops
        self.failing_methods: set[str] = set()  # Bot API methods that answer 500 while listed

    def gateway_env(self, token: str, lotse_group: Optional[int] = None) -> dict[str, str]:
        """The environment that puts a gateway's Telegram channel (and staff desk) on this server."""
        env = {"TELEGRAM_TOKEN": token, "TELEGRAM_API_BASE_URL": self.root_url}
        if lotse_group is not None:
            env["LOTSE_GROUP_ID"] = str(lotse_group)
        return env

    # --- running -------------------------------------------------------------------------------

    def start(self) -> "BotApiServer":
        self._thread = threading.Thread(target=self._run, name="bot-api-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the Bot API server did not start")
        return self

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        self._loop.run_until_complete(self._runner.setup())
        self._loop.run_until_complete(web.TCPSite(self._runner, self.host, self.port).start())
        self._ready.set()
        self._loop.run_forever()
        leftovers = asyncio.all_tasks(self._loop)  # handlers of connections a client left open
        for task in leftovers:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*leftovers, return_exceptions=True))
        self._loop.close()

    def stop(self) -> None:
        if self._loop is not None:
            # Open long polls end first, so no request is left pending when the loop stops.
            self._closing = True
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(15)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> "BotApiServer":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    # --- the bot's side: the Bot API -----------------------------------------------------------

    def bot(self, token: str) -> Bot:
        with self._lock:
            return self._bot(token)

    def _bot(self, token: str) -> Bot:
        if token not in self._bots:
            number = token.split(":", 1)[0]
            if not number.isdigit() or ":" not in token:
                raise BadRequest("Unauthorized", 401)
            self._bots[token] = Bot(token, int(number), f"welcome_{number}_bot")
        return self._bots[token]

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await _params(request)
            handler = getattr(self, "api_" + method, None)
            if method in self.failing_methods:  # a Telegram outage, for tests of retries
                raise BadRequest("Internal Server Error: the test made this method fail", 500)
            if method == "getUpdates":  # the one call that waits (long polling)
                result = await self._get_updates(request.match_info["token"], params)
            elif handler is None:
                raise BadRequest("Not Found: method not found", 404)
            else:
                with self._lock:
                    result = handler(self._bot(request.match_info["token"]), params)
        except BadRequest as error:
            return web.json_response({"ok": False, "error_code": error.code, "description": error.description}, status=error.code)
        return web.json_response({"ok": True, "result": result}, dumps=lambda v: json.dumps(v, ensure_ascii=False))

    def api_getMe(self, bot: Bot, params: dict[str, Any]) -> dict[str, Any]:
        return bot.me()

    async def _get_updates(self, token: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Long polling: waits up to `timeout` seconds for an update; `offset` confirms earlier ones."""
        deadline = time.monotonic() + min(int(params.get("timeout") or 0), 50)
        while True:
            with self._lock:
                bot = self._bot(token)
                bot.get_updates_calls += 1
                if bot.webhook_url:
                    raise BadRequest("Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first", 409)
                offset = int(params.get("offset") or 0)
                bot.updates = [u for u in bot.updates if u["update_id"] >= offset]
                pending = bot.updates[: int(params.get("limit") or 100)]
            if pending or self._closing or time.monotonic() >= deadline:
                return pending
            await asyncio.sleep(0.05)

    def api_setWebhook(self, bot: Bot, params: dict[str, Any]) -> bool:
        url = params.get("url") or ""
        secret = params.get("secret_token")
        if url and not url.startswith(("https://", "http://")):
            raise BadRequest("Bad Request: bad webhook: invalid URL")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise BadRequest("Bad Request: bad webhook: secret token contains unallowed characters")
        bot.webhook_url, bot.webhook_secret = url, secret
        return True

    def api_deleteWebhook(self, bot: Bot, params: dict[str, Any]) -> bool:
        bot.webhook_url, bot.webhook_secret = "", None
        if _true(params.get("drop_pending_updates")):
            bot.updates.clear()
        return True

    def api_getWebhookInfo(self, bot: Bot, params: dict[str, Any]) -> dict[str, Any]:
        return {"url": bot.webhook_url, "has_custom_certificate": False, "pending_update_count": len(bot.updates)}

    def api_setMyCommands(self, bot: Bot, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise BadRequest("Bad Request: commands must be a list of at most 100 BotCommand")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise BadRequest("Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise BadRequest("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        bot.commands[_command_key(params)] = commands
        return True

    def api_getMyCommands(self, bot: Bot, params: dict[str, Any]) -> list[dict[str, str]]:
        return bot.commands.get(_command_key(params), [])

    def api_deleteMyCommands(self, bot: Bot, params: dict[str, Any]) -> bool:
        bot.commands.pop(_command_key(params), None)
        return True

    def api_sendMessage(self, bot: Bot, params: dict[str, Any]) -> dict[str, Any]:
        chat, thread = self._chat_and_thread(bot, params)
        text, plain, markup = self._text_and_markup(params)
        sent = Sent("sendMessage", chat["id"], self._next_id(), plain, text, params.get("parse_mode"), markup, message_thread_id=thread)
        return self._record(bot, chat, sent, {"text": plain})

    def api_sendLocation(self, bot: Bot, params: dict[str, Any]) -> dict[str, Any]:
        chat, thread = self._chat_and_thread(bot, params)
        latitude, longitude = _coordinates(params)
        sent = Sent("sendLocation", chat["id"], self._next_id(), location=(latitude, longitude), message_thread_id=thread,
                    reply_markup=self._markup(params))
        return self._record(bot, chat, sent, {"location": {"latitude": latitude, "longitude": longitude}})

    def api_sendVenue(self, bot: Bot, params: dict[str, Any]) -> dict[str, Any]:
        chat, thread = self._chat_and_thread(bot, params)
        latitude, longitude = _coordinates(params)
        title, address = params.get("title") or "", params.get("address") or ""
        if not title or not address:
            raise BadRequest("Bad Request: venue title and address must be non-empty")
        venue = {"location": {"latitude": latitude, "longitude": longitude}, "title": title, "address": address}
        sent = Sent("sendVenue", chat["id"], self._next_id(), location=(latitude, longitude), venue=venue,
                    message_thread_id=thread, reply_markup=self._markup(params))
        return self._record(bot, chat, sent, {"venue": venue, "location": venue["location"]})

    def api_editMessageText(self, bot: Bot, params: dict[str, Any]) -> dict[str, Any]:
        original = self._message(bot, params)
        text, plain, markup = self._text_and_markup(params)
        edited = Sent("editMessageText", original.chat_id, original.message_id, plain, text, params.get("parse_mode"), markup,
                      message_thread_id=original.message_thread_id)
        return self._record(bot, bot.chats[original.chat_id], edited, {"text": plain, "edit_date": int(time.time())})

    def api_editMessageReplyMarkup(self, bot: Bot, params: dict[str, Any]) -> dict[str, Any]:
        original = self._message(bot, params)
        edited = Sent("editMessageReplyMarkup", original.chat_id, original.message_id, original.text, original.raw_text,
                      original.parse_mode, self._markup(params), original.location, original.venue, original.message_thread_id)
        content = {k: v for k, v in original.message.items() if k in ("text", "location", "venue")}
        return self._record(bot, bot.chats[original.chat_id], edited, {**content, "edit_date": int(time.time())})

    def api_answerCallbackQuery(self, bot: Bot, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in bot.callback_answers:
            raise BadRequest("Bad Request: query is too old and response timeout expired or query ID is invalid")
        if len(params.get("text") or "") > 200:
            raise BadRequest("Bad Request: MESSAGE_TOO_LONG")
        bot.callback_answers[query_id] = {"answered": True, **params}
        return True

    def api_createForumTopic(self, bot: Bot, params: dict[str, Any]) -> dict[str, Any]:
        chat = bot.chats.get(int(params.get("chat_id") or 0))
        if chat is None:
            raise BadRequest("Bad Request: chat not found")
        if not chat.get("is_forum"):
            raise BadRequest("Bad Request: the chat is not a forum")
        name = params.get("name") or ""
        if not 1 <= len(name) <= 128:
            raise BadRequest("Bad Request: TOPIC_TITLE_EMPTY" if not name else "Bad Request: topic name is too long")
        thread = self._next_id()
        bot.topics.setdefault(chat["id"], {})[thread] = name
        return {"message_thread_id": thread, "name": name, "icon_color": int(params.get("icon_color") or 7322096)}

    def api_closeForumTopic(self, bot: Bot, params: dict[str, Any]) -> bool:
        chat_id, thread = int(params.get("chat_id") or 0), int(params.get("message_thread_id") or 0)
        if thread not in bot.topics.get(chat_id, {}):
            raise BadRequest("Bad Request: TOPIC_ID_INVALID")
        bot.closed_topics.add((chat_id, thread))
        return True

    def api_deleteForumTopic(self, bot: Bot, params: dict[str, Any]) -> bool:
        """Removes the topic and every message in it, as Telegram does."""
        chat_id, thread = int(params.get("chat_id") or 0), int(params.get("message_thread_id") or 0)
        if bot.topics.get(chat_id, {}).pop(thread, None) is None:
            raise BadRequest("Bad Request: TOPIC_ID_INVALID")
        bot.sent = [s for s in bot.sent if (s.chat_id, s.message_thread_id) != (chat_id, thread)]
        return True

    # --- helpers of the bot's side ---------------------------------------------------------------

    def _next_id(self) -> int:
        return next(self._ids)

    def _chat_and_thread(self, bot: Bot, params: dict[str, Any]) -> tuple[dict[str, Any], Optional[int]]:
        if params.get("chat_id") in (None, ""):
            raise BadRequest("Bad Request: chat_id is empty")
        chat = bot.chats.get(int(params["chat_id"]))
        if chat is None:
            raise BadRequest("Bad Request: chat not found")
        thread = params.get("message_thread_id")
        if thread is not None and int(thread) not in bot.topics.get(chat["id"], {}):
            raise BadRequest("Bad Request: message thread not found")
        return chat, int(thread) if thread is not None else None

    def _text_and_markup(self, params: dict[str, Any]) -> tuple[str, str, Optional[dict[str, Any]]]:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise BadRequest("Bad Request: message text is empty")
        mode = (params.get("parse_mode") or "").lower()
        if mode == "html":
            plain = parse_html(text)
        elif mode == "":
            plain = text
        else:
            raise BadRequest(f"Bad Request: this test server implements parse_mode HTML only, not {params.get('parse_mode')!r}")
        if not plain.strip():
            raise BadRequest("Bad Request: message text is empty")
        if utf16_len(plain) > MAX_TEXT:
            raise BadRequest("Bad Request: message is too long")
        return text, plain, self._markup(params)

    def _markup(self, params: dict[str, Any]) -> Optional[dict[str, Any]]:
        markup = params.get("reply_markup")
        if markup is None:
            return None
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        if rows is None:
            return markup  # a reply keyboard or its removal: not validated here
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise BadRequest("Bad Request: can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        for button in (b for row in rows for b in row):
            if not str(button.get("text") or "").strip():
                raise BadRequest("Bad Request: inline keyboard button text is empty")
            data = button.get("callback_data")
            if data is None and not button.get("url"):
                raise BadRequest("Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA:
                raise BadRequest("Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _message(self, bot: Bot, params: dict[str, Any]) -> Sent:
        chat_id, message_id = int(params.get("chat_id") or 0), int(params.get("message_id") or 0)
        for sent in reversed(bot.sent):
            if sent.chat_id == chat_id and sent.message_id == message_id:
                return sent
        raise BadRequest("Bad Request: message to edit not found")

    def _record(self, bot: Bot, chat: dict[str, Any], sent: Sent, content: dict[str, Any]) -> dict[str, Any]:
        message = {"message_id": sent.message_id, "from": bot.me(), "chat": chat, "date": int(time.time()), **content}
        if sent.reply_markup is not None:
            message["reply_markup"] = sent.reply_markup
        if sent.message_thread_id is not None:
            message.update(message_thread_id=sent.message_thread_id, is_topic_message=True)
        sent.message = message
        bot.sent.append(sent)
        return message

    # --- the newcomer's side (called by tests) --------------------------------------------------

    def open_forum(self, token: str, chat_id: int, title: str = "Lotsen") -> dict[str, Any]:
        """A staff supergroup with topics, which the bot may write into."""
        with self._lock:
            chat = {"id": chat_id, "type": "supergroup", "title": title, "is_forum": True}
            self._bot(token).chats[chat_id] = chat
            return chat

    def send_text(self, token: str, user: User, text: str, chat_id: Optional[int] = None, thread_id: Optional[int] = None) -> Optional[int]:
        content: dict[str, Any] = {"text": text}
        command = re.match(r"/[A-Za-z0-9_]+(@\w+)?", text)
        if command:
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command.group(0))}]
        return self._user_message(token, user, content, chat_id, thread_id)

    def share_location(self, token: str, user: User, latitude: float, longitude: float) -> Optional[int]:
        return self._user_message(token, user, {"location": {"latitude": latitude, "longitude": longitude}})

    def send_photo(self, token: str, user: User) -> Optional[int]:
        photo = [{"file_id": "photo-1", "file_unique_id": "p1", "width": 90, "height": 90, "file_size": 1200}]
        return self._user_message(token, user, {"photo": photo, "caption": "<b>my paper</b> & letter"})

    def send_sticker(self, token: str, user: User) -> Optional[int]:
        sticker = {"file_id": "sticker-1", "file_unique_id": "s1", "type": "regular", "width": 512, "height": 512,
                   "is_animated": False, "is_video": False, "emoji": "👍"}
        return self._user_message(token, user, {"sticker": sticker})

    def send_voice(self, token: str, user: User) -> Optional[int]:
        return self._user_message(token, user, {"voice": {"file_id": "voice-1", "file_unique_id": "v1", "duration": 4, "mime_type": "audio/ogg"}})

    def send_document(self, token: str, user: User) -> Optional[int]:
        return self._user_message(token, user, {"document": {"file_id": "doc-1", "file_unique_id": "d1", "file_name": "Bescheid.pdf"}})

    def tap(self, token: str, user: User, sent: Sent, callback_data: str) -> str:
        """The newcomer taps an inline button of a message the bot sent. Returns the query id."""
        if callback_data not in [b.get("callback_data") for b in sent.buttons]:
            raise ValueError(f"no button with callback_data {callback_data!r} on message {sent.message_id}")
        query_id = str(self._next_id())
        with self._lock:
            bot = self._bot(token)
            bot.callback_answers[query_id] = {"answered": False}
        query = {"id": query_id, "from": user.as_json(), "message": sent.message, "chat_instance": f"ci-{sent.chat_id}",
                 "data": callback_data}
        self._deliver(token, {"callback_query": query})
        return query_id

    def _user_message(self, token: str, user: User, content: dict[str, Any], chat_id: Optional[int] = None,
                      thread_id: Optional[int] = None) -> Optional[int]:
        with self._lock:
            bot = self._bot(token)
            chat = bot.chats.get(chat_id) if chat_id is not None else None
            if chat is None:
                chat = bot.chats.setdefault(user.id, {"id": user.id, "type": "private", "first_name": user.first_name})
            message = {"message_id": self._next_id(), "from": user.as_json(), "chat": chat, "date": int(time.time()), **content}
            if thread_id is not None:
                message.update(message_thread_id=thread_id, is_topic_message=True)
        return self._deliver(token, {"message": message})

    def _deliver(self, token: str, update: dict[str, Any]) -> Optional[int]:
        """Queues the update for getUpdates, or POSTs it to the webhook like Telegram does.
        Returns the webhook's HTTP status (None when polling)."""
        with self._lock:
            bot = self._bot(token)
            update = {"update_id": self._next_id(), **update}
            if not bot.webhook_url:
                bot.updates.append(update)
                return None
            url, secret = bot.webhook_url, bot.webhook_secret
        status = asyncio.run_coroutine_threadsafe(_post_update(url, secret, update), self._loop).result(30)
        with self._lock:
            bot.webhook_statuses.append(status)
        return status

    def sent(self, token: str, chat_id: Optional[int] = None) -> list[Sent]:
        with self._lock:
            return [s for s in self._bot(token).sent if chat_id is None or s.chat_id == chat_id]

    def wait_for(self, condition: Callable[[], Any], timeout: float = 30.0, what: str = "the bot") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout:.0f} s for {what}")
            time.sleep(0.05)

    def exchange(self, token: str, chat_id: int, act: Callable[[], Any], quiet: float = 1.0, timeout: float = 60.0) -> list[Sent]:
        """Does `act` (a user action) and returns everything the bot sent to the chat in answer:
        at least one message, then nothing new for `quiet` seconds."""
        before = len(self.sent(token, chat_id))
        act()
        self.wait_for(lambda: len(self.sent(token, chat_id)) > before, timeout, f"an answer in chat {chat_id}")
        count, last_change = len(self.sent(token, chat_id)), time.monotonic()
        while time.monotonic() - last_change < quiet:
            time.sleep(0.05)
            now_count = len(self.sent(token, chat_id))
            if now_count != count:
                count, last_change = now_count, time.monotonic()
        return self.sent(token, chat_id)[before:]

    def callback_answer(self, token: str, query_id: str) -> dict[str, Any]:
        with self._lock:
            return dict(self._bot(token).callback_answers.get(query_id) or {})

    def commands(self, token: str, language_code: str = "") -> list[dict[str, str]]:
        with self._lock:
            return list(self._bot(token).commands.get(("default", language_code), []))


async def _post_update(url: str, secret: Optional[str], update: dict[str, Any]) -> int:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        async with session.post(url, json=update, headers=headers) as response:
            return response.status


async def _params(request: web.Request) -> dict[str, Any]:
    """Parameters as Telegram accepts them: query string, JSON body, or form fields whose complex
    values are JSON-serialised (what PTB sends)."""
    params: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
        else:
            params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    for name in JSON_FIELDS & params.keys():
        if isinstance(params[name], str):
            try:
                params[name] = json.loads(params[name])
            except json.JSONDecodeError:
                raise BadRequest(f"Bad Request: can't parse {name} JSON object") from None
    for name in INT_FIELDS & params.keys():
        try:
            params[name] = int(params[name])
        except (TypeError, ValueError):
            raise BadRequest(f"Bad Request: {name} must be an integer") from None
    for name in FLOAT_FIELDS & params.keys():
        try:
            params[name] = float(params[name])
        except (TypeError, ValueError):
            raise BadRequest(f"Bad Request: {name} must be a number") from None
    return params


def _coordinates(params: dict[str, Any]) -> tuple[float, float]:
    latitude, longitude = params.get("latitude"), params.get("longitude")
    if latitude is None or longitude is None or not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise BadRequest("Bad Request: wrong latitude or longitude")
    return latitude, longitude


def _command_key(params: dict[str, Any]) -> tuple[str, str]:
    scope = params.get("scope") or {"type": "default"}
    return scope.get("type", "default"), params.get("language_code") or ""


def _true(value: Any) -> bool:
    return value is True or str(value).lower() == "true"


def escape(text: str) -> str:
    """What a bot must do to user text in HTML mode (used by the server's own tests)."""
    return html.escape(text, quote=False)
