"""A small Telegram Bot API server on loopback for the Lotsen's staff group: a forum supergroup
with topics (createForumTopic, message_thread_id), inline buttons, callback answers and edits,
and members identified by their user id — what `telegram-test-api` lacks (shared/NOTES.md).

It speaks the Bot API to python-telegram-bot through `base_url`, and plays the people: a test
calls `write(...)` and `press(...)` to act as a group member or a private-chat newcomer, and
reads what the bot did with `sent(...)`, `alerts` and `wait_for(...)`. It runs in its own thread
with its own event loop, so the gateway under test may be this process or another one.

Kept apart from `tests/support/bot_api_server.py` (the Telegram channel's emulator, written at
the same time) so the two could be built in parallel; everything here is additive to it.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from aiohttp import web

BOT_USER = {"id": 900000001, "is_bot": True, "first_name": "Welcomebot", "username": "welcomebot_test_bot",
            "can_join_groups": True, "can_read_all_group_messages": True, "supports_inline_queries": False}


@dataclass
class Chat:
    id: int
    type: str  # "private" or "supergroup"
    title: Optional[str] = None
    is_forum: bool = False

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        if self.title:
            data["title"] = self.title
        if self.is_forum:
            data["is_forum"] = True
        if self.type == "private":
            data["first_name"] = "Newcomer"
        return data


@dataclass
class Sent:
    """A message the bot sent (and its later edits)."""

    message_id: int
    chat_id: int
    text: str
    thread_id: Optional[int]
    reply_markup: Optional[dict[str, Any]]
    parse_mode: Optional[str]
    edits: list[str] = field(default_factory=list)

    @property
    def buttons(self) -> list[dict[str, Any]]:
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]


class StaffGroupApi:
    def __init__(self, port: int, token: str = "123456:TEST") -> None:
        self.port, self.token = port, token
        self.chats: dict[int, Chat] = {}
        self.topics: dict[int, dict[int, str]] = {}  # chat id -> thread id -> name
        self.closed_topics: set[tuple[int, int]] = set()
        self.deleted_topics: set[tuple[int, int]] = set()
        self.messages: list[Sent] = []
        self.alerts: list[dict[str, Any]] = []  # answerCallbackQuery calls
        self.calls: list[str] = []
        self.fail_methods: set[str] = set()  # methods that answer 500 (a Telegram outage)
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._thread_ids = itertools.count(500)
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._thread: Optional[threading.Thread] = None
        self._runner: Optional[web.AppRunner] = None

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """For python-telegram-bot's `base_url` (it appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    def start(self) -> "StaffGroupApi":
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            app = web.Application()
            app.router.add_route("*", "/bot{token}/{method}", self._handle)
            self._runner = web.AppRunner(app, access_log=None)
            self._loop.run_until_complete(self._runner.setup())
            self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
            ready.set()
            self._loop.run_forever()
            leftover = asyncio.all_tasks(self._loop)  # long polls still open at stop
            for task in leftover:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*leftover, return_exceptions=True))
            self._loop.close()

        self._thread = threading.Thread(target=run, name="staff-group-api", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the Bot API emulator did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            # Close the server (and its long polls) inside its loop, then stop the loop.
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(15)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    # -- the people's side ----------------------------------------------------------------------

    def forum(self, chat_id: int, title: str = "Lotsen") -> Chat:
        chat = self.chats[chat_id] = Chat(chat_id, "supergroup", title, is_forum=True)
        self.topics.setdefault(chat_id, {})
        return chat

    def write(self, chat_id: int, user_id: int, text: str, thread_id: Optional[int] = None, first_name: str = "Member",
              language_code: Optional[str] = None) -> int:
        """A member writes in the group (in a topic with `thread_id`) or a newcomer privately."""
        chat = self.chats.get(chat_id) or self.chats.setdefault(chat_id, Chat(chat_id, "private"))
        user = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        message_id = next(self._message_ids)
        message: dict[str, Any] = {"message_id": message_id, "date": int(time.time()), "chat": chat.as_json(), "from": user, "text": text}
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            message["is_topic_message"] = True
        self._push({"message": message})
        return message_id

    def press(self, user_id: int, sent: Sent, data: str, first_name: str = "Member") -> str:
        """A member taps an inline button of a message the bot sent."""
        query_id = f"cq{next(self._update_ids)}"
        self._push({"callback_query": {
            "id": query_id, "from": {"id": user_id, "is_bot": False, "first_name": first_name},
            "message": self._message_json(sent), "chat_instance": f"ci{sent.chat_id}", "data": data,
        }})
        return query_id

    def sent(self, chat_id: int, thread_id: Optional[int] = None) -> list[Sent]:
        with self._lock:
            return [m for m in self.messages if m.chat_id == chat_id and (thread_id is None or m.thread_id == thread_id)]

    def texts(self, chat_id: int, thread_id: Optional[int] = None) -> list[str]:
        return [m.text for m in self.sent(chat_id, thread_id)]

    def wait_for(self, check: Callable[[], Any], timeout: float = 20.0, what: str = "the bot") -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = check()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            time.sleep(0.05)

    # -- the Bot API ------------------------------------------------------------------------------

    def _push(self, update: dict[str, Any]) -> None:
        with self._lock:
            self._updates.append({"update_id": next(self._update_ids), **update})

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        params = await _params(request)
        self.calls.append(method)
        if method in self.fail_methods:
            return web.json_response({"ok": False, "error_code": 500, "description": "Internal Server Error: emulated outage"}, status=500)
        handler = getattr(self, "_api_" + method, None)
        result = await handler(params) if handler else True
        if isinstance(result, web.Response):
            return result
        return web.json_response({"ok": True, "result": result})

    async def _api_getMe(self, params: dict[str, Any]) -> Any:
        return BOT_USER

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 2.0)
        while True:
            with self._lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]  # confirmed ones are gone
                pending = list(self._updates)
            if pending or time.monotonic() >= deadline:
                return pending[: int(params.get("limit") or 100)]
            await asyncio.sleep(0.05)

    async def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        thread = int(params["message_thread_id"]) if params.get("message_thread_id") not in (None, "") else None
        if thread is not None and thread not in self.topics.get(chat_id, {}):
            return _error(400, "Bad Request: message thread not found")
        if thread is not None and (chat_id, thread) in self.deleted_topics:
            return _error(400, "Bad Request: message thread not found")
        sent = Sent(next(self._message_ids), chat_id, str(params.get("text", "")), thread, _json(params.get("reply_markup")), params.get("parse_mode"))
        with self._lock:
            self.messages.append(sent)
        return self._message_json(sent)

    async def _api_createForumTopic(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        chat = self.chats.get(chat_id)
        if chat is None or not chat.is_forum:
            return _error(400, "Bad Request: the chat is not a forum")
        thread_id = next(self._thread_ids)
        self.topics[chat_id][thread_id] = str(params["name"])
        return {"message_thread_id": thread_id, "name": str(params["name"]), "icon_color": 7322096}

    async def _api_closeForumTopic(self, params: dict[str, Any]) -> Any:
        self.closed_topics.add((int(params["chat_id"]), int(params["message_thread_id"])))
        return True

    async def _api_deleteForumTopic(self, params: dict[str, Any]) -> Any:
        key = (int(params["chat_id"]), int(params["message_thread_id"]))
        self.deleted_topics.add(key)
        with self._lock:
            self.messages = [m for m in self.messages if (m.chat_id, m.thread_id) != key]
        return True

    async def _api_editMessageText(self, params: dict[str, Any]) -> Any:
        message_id = int(params["message_id"])
        with self._lock:
            sent = next((m for m in self.messages if m.message_id == message_id), None)
        if sent is None:
            return _error(400, "Bad Request: message to edit not found")
        sent.edits.append(sent.text)
        sent.text = str(params.get("text", ""))
        sent.reply_markup = _json(params.get("reply_markup"))
        return self._message_json(sent)

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        self.alerts.append({"id": params.get("callback_query_id"), "text": params.get("text"),
                            "show_alert": str(params.get("show_alert")).lower() == "true"})
        return True

    def _message_json(self, sent: Sent) -> dict[str, Any]:
        chat = self.chats.get(sent.chat_id) or Chat(sent.chat_id, "private")
        data: dict[str, Any] = {"message_id": sent.message_id, "date": int(time.time()), "chat": chat.as_json(),
                                "from": BOT_USER, "text": sent.text}
        if sent.thread_id is not None:
            data.update(message_thread_id=sent.thread_id, is_topic_message=True)
        if sent.reply_markup:
            data["reply_markup"] = sent.reply_markup
        return data


async def _params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        body = await request.json()
        return body if isinstance(body, dict) else {}
    if request.method == "POST":
        return dict(await request.post())
    return dict(request.query)


def _json(value: Any) -> Any:
    if isinstance(value, str) and value:
        return json.loads(value)
    return value or None


def _error(code: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)
