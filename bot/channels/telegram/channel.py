"""The Telegram channel: python-telegram-bot's Application inside the gateway's asyncio process,
a thin adapter over `Assistant` (SPEC §2, §6).

Each handler turns one kind of Telegram input into an `IncomingMessage` and shows the assistant's
answer with `render`; nothing here decides what to say. The conversation id is `tg:<chat_id>`.
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import weakref
from typing import Any, Optional

from telegram import LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import InvalidToken, TelegramError
from telegram.ext import (AIORateLimiter, Application, ApplicationHandlerStop, CallbackQueryHandler, CommandHandler,
                          ContextTypes, MessageHandler, TypeHandler, filters)

from welcomebot.i18n import own_name, supported_languages, translator

from ...conversation import Assistant, IncomingMessage
from ...outbound import DeliveryFailed
from ...state import pseudonym
from .commands import COMMANDS, register_commands
from .config import POLLING, TelegramConfig
from .payloads import PayloadTable
from ...ratelimit import UserRateLimiter
from .render import Outgoing, TextOut, VenueOut, format_piece, keyboard, render

log = logging.getLogger(__name__)

CHANNEL = "telegram"
PREFIX = "tg:"
LANGUAGE_CHOICE = re.compile(r"^/change_language(\{.*\})$")
RETRY_SECONDS = (2, 5, 15, 30, 60)
PRIVATE = filters.ChatType.PRIVATE
NEW_MESSAGE = filters.UpdateType.MESSAGE  # edits (live locations, corrected typos) are not new questions


def conversation_id(chat_id: int) -> str:
    return f"{PREFIX}{chat_id}"


def chat_of(sender_id: str) -> int:
    if not sender_id.startswith(PREFIX):
        raise DeliveryFailed(f"not a Telegram conversation: {pseudonym(sender_id)}")
    return int(sender_id[len(PREFIX):])


def chosen_language(payload: str) -> Optional[str]:
    """The language of a picker button's payload, `/change_language{"language": "ar"}`."""
    match = LANGUAGE_CHOICE.match(payload)
    if not match:
        return None
    try:
        value = json.loads(match.group(1)).get("language")
    except (ValueError, AttributeError):
        return None
    return value if value in supported_languages() else None


class TelegramChannel:
    def __init__(self, assistant: Assistant, config: TelegramConfig, payloads: PayloadTable) -> None:
        self.assistant, self.config, self.payloads = assistant, config, payloads
        self.limiter = UserRateLimiter(config.user_burst, config.user_per_minute)
        self._locks: "weakref.WeakValueDictionary[int, asyncio.Lock]" = weakref.WeakValueDictionary()
        self._starter: Optional[asyncio.Task] = None
        self.running = False
        self.application = self._build()

    # --- the PTB application ------------------------------------------------------------------

    def _build(self) -> Application:
        builder = (
            Application.builder().token(self.config.token)
            .base_url(self.config.api_base_url + "/bot").base_file_url(self.config.api_base_url + "/file/bot")
            .rate_limiter(AIORateLimiter(max_retries=3))
            # Updates of different chats run concurrently; `_lock` keeps each chat's order.
            .concurrent_updates(64)
        )
        if self.config.mode != POLLING:
            builder = builder.updater(None)
        application = builder.build()
        application.add_handler(TypeHandler(Update, self.limit_rate), group=-1)
        application.add_handler(CommandHandler("start", self.start, filters=PRIVATE))
        for command, (payload, _description) in COMMANDS.items():
            if command != "start":
                application.add_handler(CommandHandler(command, self.command_handler(payload), filters=PRIVATE))
        application.add_handler(CallbackQueryHandler(self.button))
        application.add_handler(MessageHandler(PRIVATE & NEW_MESSAGE & filters.LOCATION, self.location))
        application.add_handler(MessageHandler(PRIVATE & NEW_MESSAGE & filters.TEXT, self.text))
        application.add_handler(MessageHandler(PRIVATE & NEW_MESSAGE & ~filters.StatusUpdate.ALL, self.not_understood))
        application.add_error_handler(self.error)
        return application

    # --- handlers: one kind of input each ------------------------------------------------------

    async def limit_rate(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None or chat.type != chat.PRIVATE:
            return
        verdict = self.limiter.take(str(chat.id))
        if verdict == "ok":
            return
        if update.callback_query:
            await update.callback_query.answer()
        if verdict == "warn":
            _ = translator(self.language_of(update))
            await self.send(chat.id, [TextOut(format_piece(_("You are writing faster than I can read. Please wait a moment, then write again."), False))])
        log.info("telegram: rate limit for %s (%s)", pseudonym(conversation_id(chat.id)), verdict)
        raise ApplicationHandlerStop

    async def start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """/start: the greeting, the language picker, then the topics (in this order)."""
        chat_id = update.effective_chat.id
        async with self._lock(chat_id):
            replies = await self.ask(update, COMMANDS["start"][0])
            first_menu = next((i for i, r in enumerate(replies) if r.get("buttons")), len(replies))
            picker = self.language_picker(self.assistant.state.load(conversation_id(chat_id)).language or self.language_of(update))
            await self.send(chat_id, render(replies[:first_menu], self.payloads) + [picker] + render(replies[first_menu:], self.payloads))

    def command_handler(self, payload: str):
        async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            await self.answer(update, payload)
        return command

    async def text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self.answer(update, update.effective_message.text)

    async def location(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        where = update.effective_message.location
        await self.answer(update, "/share_location" + json.dumps({"latitude": where.latitude, "longitude": where.longitude}))

    async def button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        await query.answer()  # stops the button's spinner at once; the answer follows as messages
        payload = self.payloads.payload(query.data or "") or COMMANDS["menu"][0]  # an expired button: the menu
        await self.answer(update, payload, language=chosen_language(payload))

    async def not_understood(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Voice, photos, stickers, files: say politely what the bot understands."""
        _ = translator(self.language_of(update))
        text = _("Sorry, I cannot understand voice messages, pictures, stickers or files. I understand text messages, buttons and shared locations: please write your question, tap a button or share your location.")
        await self.send(update.effective_chat.id, [TextOut(format_piece(text, False))])

    async def error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        who = pseudonym(conversation_id(chat.id)) if chat else "-"
        log.error("telegram: handling an update of %s failed: %r", who, context.error, exc_info=context.error)

    # --- talking to the assistant -------------------------------------------------------------

    async def answer(self, update: Update, text: str, language: Optional[str] = None) -> None:
        chat_id = update.effective_chat.id
        async with self._lock(chat_id):
            replies = await self.ask(update, text, language)
            await self.send(chat_id, render(replies, self.payloads))

    async def ask(self, update: Update, text: str, language: Optional[str] = None) -> list[dict[str, Any]]:
        user = update.effective_user
        hints = [user.language_code] if user and user.language_code else []
        return await self.assistant.handle(IncomingMessage(
            sender_id=conversation_id(update.effective_chat.id), text=text, channel=CHANNEL,
            language=language, client_languages=hints, message_id=f"tg-update:{update.update_id}",
        ))

    def language_of(self, update: Update) -> str:
        """The conversation's language for the channel's own few sentences (SPEC §3, without a text)."""
        user = update.effective_user
        hints = [user.language_code] if user and user.language_code else []
        return self.assistant.language_of(conversation_id(update.effective_chat.id), hints)

    def language_picker(self, language: str) -> TextOut:
        _ = translator(language)
        buttons = [{"title": own_name(code), "payload": "/change_language" + json.dumps({"language": code})} for code in supported_languages()]
        return TextOut(format_piece(_("Choose your language:"), False), keyboard(buttons, self.payloads))

    def _lock(self, chat_id: int) -> asyncio.Lock:
        lock = self._locks.get(chat_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[chat_id] = lock
        return lock

    # --- sending ------------------------------------------------------------------------------

    async def send(self, chat_id: int, outgoing: list[Outgoing]) -> None:
        bot = self.application.bot
        for item in outgoing:
            if isinstance(item, VenueOut):
                await bot.send_venue(chat_id, item.latitude, item.longitude, item.title, item.address)
            else:
                await bot.send_message(chat_id, item.html, parse_mode=ParseMode.HTML, reply_markup=item.markup,
                                       link_preview_options=LinkPreviewOptions(is_disabled=True))

    async def deliver(self, sender_id: str, messages: list[dict[str, Any]]) -> None:
        """`Outbound` delivery: messages nobody asked for in this turn (a Lotse's reply)."""
        if not self.running:
            raise DeliveryFailed("the Telegram channel is not running")
        chat_id = chat_of(sender_id)
        async with self._lock(chat_id):
            await self.send(chat_id, render(messages, self.payloads))

    # --- lifecycle, run from the gateway's aiohttp start-up and clean-up ---------------------

    async def on_startup(self, _app: Any) -> None:
        # In the background: a Telegram outage must not keep REST and the widget from starting.
        self._starter = asyncio.create_task(self._start_with_retries())

    async def _start_with_retries(self) -> None:
        for attempt in range(10**9):
            try:
                await self._start()
                return
            except InvalidToken:
                log.error("Telegram is off: Telegram refused TELEGRAM_TOKEN; get a valid token from @BotFather")
                return
            except (TelegramError, OSError) as error:
                delay = RETRY_SECONDS[min(attempt, len(RETRY_SECONDS) - 1)]
                log.warning("Telegram: cannot reach the Bot API at %s (%s); trying again in %d s", self.config.api_base_url, error, delay)
                await self._stop()
                await asyncio.sleep(delay)

    async def _start(self) -> None:
        application = self.application
        await application.initialize()
        await register_commands(application.bot, self.assistant.content.snapshot().district.default_language)
        await application.start()
        self.running = True  # updates may come in as soon as Telegram knows where to send them
        if self.config.mode == POLLING:
            await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
        else:
            await application.bot.set_webhook(self.config.webhook_url, secret_token=self.config.secret_token,
                                              allowed_updates=Update.ALL_TYPES)
        log.info("Telegram is on: @%s, %s mode", application.bot.username, self.config.mode)

    async def on_cleanup(self, _app: Any) -> None:
        if self._starter is not None and not self._starter.done():
            self._starter.cancel()
        await self._stop()

    async def _stop(self) -> None:
        self.running = False
        application = self.application
        try:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            await application.shutdown()
        except (TelegramError, OSError, RuntimeError) as error:
            log.warning("Telegram: stopping: %s", error)
