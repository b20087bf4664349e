"""The staff desk on Telegram (SPEC §7): a supergroup with topics (forum), `LOTSE_GROUP_ID`.

One forum topic per handover, opened with the summary and a "take over" button. In the topic:
the Lotse who took it over writes to the newcomer; `/end` ends it. Only Lotsen listed in
content/lotsen/ may act; anyone else gets a short refusal. It runs on the same python-telegram-
bot `Application` as the Telegram channel (one bot token): `install` adds its handlers in a
group that runs before the channel's and stops there for updates from the staff group, so the
channel never mistakes a Lotse for a newcomer.
"""
from __future__ import annotations

import html
import logging
from typing import Any, Optional

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from welcomebot.content import Lotse
from welcomebot.i18n import Translator, translator

from ..outbound import DeliveryFailed
from .desk import Summary
from .machine import Actor, Handover
from .service import Handovers

log = logging.getLogger(__name__)

TAKE = "lotse_take:"
# The Bot API failed, the network did, or the bot is not started yet (PTB raises RuntimeError).
UNREACHABLE = (TelegramError, OSError, RuntimeError)
HANDLER_GROUP = -10  # before the Telegram channel's handlers (group 0)
TOPIC_NAME_MAX = 128  # Telegram's limit for a forum topic's name


class TelegramDesk:
    def __init__(self, application: Application, group_id: int, handovers: Handovers) -> None:
        self.application, self.group_id, self.handovers = application, group_id, handovers

    @property
    def _(self) -> Translator:
        """The staff group's language: the district's default language."""
        return translator(self.handovers.content.snapshot().district.default_language)

    def install(self) -> None:
        in_group = filters.Chat(chat_id=self.group_id)
        self.application.add_handler(CallbackQueryHandler(self._on_take, pattern=f"^{TAKE}"), group=HANDLER_GROUP)
        self.application.add_handler(MessageHandler(in_group, self._on_message), group=HANDLER_GROUP)
        self.handovers.attach_desk(self)

    # -- what the core asks the desk to do ------------------------------------------------------

    async def open_topic(self, summary: Summary) -> int:
        handover, _ = summary.handover, self._
        name = " · ".join(p for p in (summary.language_name, summary.municipality_name, summary.topic_label, "#" + handover.short_ref) if p)
        try:
            topic = await self.application.bot.create_forum_topic(self.group_id, name[:TOPIC_NAME_MAX])
            await self.application.bot.send_message(
                self.group_id, self._summary_text(summary), message_thread_id=topic.message_thread_id, parse_mode="HTML",
                reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("🙋 " + _("Take over"), callback_data=TAKE + handover.id)]]),
            )
        except UNREACHABLE as error:
            raise DeliveryFailed(f"staff group: {error}") from error
        return topic.message_thread_id

    async def post(self, handover: Handover, body: dict[str, Any]) -> None:
        _ = self._
        label = _("Message left for later") if body.get("left") else _("Newcomer")
        text = f"💬 <b>{html.escape(label)}:</b> {html.escape(body.get('text') or '')}"
        await self._send(handover, text)

    async def show_taken(self, handover: Handover, lotse: Lotse) -> None:
        await self._send(handover, "✅ " + html.escape(self._("%(name)s has taken over. Write here to answer the newcomer; /end ends the conversation.", name=lotse.name)))

    async def closed(self, handover: Handover, by: Actor) -> None:
        _ = self._
        text = _("The newcomer went back to the bot. The conversation has ended.") if by is Actor.NEWCOMER else _("The conversation has ended.")
        await self._send(handover, "🔚 " + html.escape(text))
        try:
            await self.application.bot.close_forum_topic(self.group_id, handover.topic_id)
        except UNREACHABLE as error:
            log.warning("closing topic of handover %s failed: %s", handover.short_ref, error)

    async def erase(self, handover: Handover) -> None:
        try:
            await self.application.bot.delete_forum_topic(self.group_id, handover.topic_id)
        except UNREACHABLE as error:
            log.warning("deleting topic of handover %s failed: %s", handover.short_ref, error)

    # -- what Lotsen do ---------------------------------------------------------------------

    async def _on_take(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query.message is None or query.message.chat.id != self.group_id:
            return
        outcome = await self.handovers.take_over(query.data[len(TAKE):], query.from_user.id)
        if outcome.refused:
            await query.answer(self._refusal(outcome.refused, outcome.lotse), show_alert=True)
            raise ApplicationHandlerStop
        await query.answer()
        taken = "\n\n✅ " + html.escape(self._("Taken over by %(name)s", name=outcome.lotse.name))
        try:
            await query.edit_message_text(query.message.text_html + taken, parse_mode="HTML", reply_markup=None)
        except UNREACHABLE as error:
            log.warning("showing who took handover %s failed: %s", outcome.handover.short_ref, error)
        raise ApplicationHandlerStop

    async def _on_message(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        user = update.effective_user
        if message is None or user is None or user.is_bot or not message.is_topic_message or message.message_thread_id is None:
            raise ApplicationHandlerStop  # the group's general chat is for staff among themselves
        text = message.text or message.caption or ""
        command = text.split()[0].split("@")[0].lower() if text.startswith("/") else None
        if command == "/end":
            outcome = await self.handovers.end_by_lotse(message.message_thread_id, user.id)
        elif command is None and text:
            key = f"tg:{message.chat.id}:{message.message_id}"  # Telegram's identity: a redelivered update is relayed once
            outcome = await self.handovers.from_lotse(message.message_thread_id, user.id, text, key)
        else:
            raise ApplicationHandlerStop
        if outcome.refused and outcome.handover is not None:
            await self._reply(message, self._refusal(outcome.refused, outcome.lotse))
        raise ApplicationHandlerStop

    # -- helpers ------------------------------------------------------------------------------

    def _refusal(self, reason: str, holder: Optional[Lotse]) -> str:
        _ = self._
        if reason == "not a listed Lotse":
            return _("Only Lotsen listed in the content may take over or write to newcomers.")
        if reason in ("already taken", "taken by another Lotse"):
            return _("%(name)s has already taken this over.", name=holder.name) if holder else _("Someone has already taken this over.")
        if reason == "take over first":
            return _("Please tap \"Take over\" first; only then your messages go to the newcomer.")
        return _("This conversation has ended; nothing is sent to the newcomer.")

    def _summary_text(self, summary: Summary) -> str:
        _, h = self._, html.escape
        # Labels first: gettext extraction does not look inside f-strings.
        heading, language, town, topic = _("A newcomer would like to talk to a Lotse"), _("Language"), _("Town"), _("Topic")
        where = summary.municipality_name or _("not given")
        lines = [f"🙋 <b>{h(heading)}</b> (#{summary.handover.short_ref})",
                 f"🗣 {h(language)}: {h(summary.language_name)}",
                 f"📍 {h(town)}: {h(where)}"]
        if summary.topic_label:
            lines.append(f"📋 {h(topic)}: {h(summary.topic_label)}")
        if summary.left_for_later:
            lines.append("⏳ " + h(_("Nobody was available when they asked; their messages follow.")))
        if summary.recent:
            lines += ["", "<b>" + h(_("Last messages")) + "</b>"]
            newcomer, bot = _("Newcomer"), _("Bot")
            for message in summary.recent:
                who = newcomer if message.get("from") == "newcomer" else bot
                lines.append(f"<i>{h(who)}:</i> {h(message.get('text', '')[:500])}")
        if summary.asked:
            mentions = ", ".join(f'<a href="tg://user?id={l.telegram_user_id}">{h(l.name)}</a>' for l in summary.asked)
            lines += ["", h(_("Asked: %(names)s", names="\x00")).replace("\x00", mentions)]
        return "\n".join(lines)

    async def _send(self, handover: Handover, text: str) -> None:
        try:
            await self.application.bot.send_message(self.group_id, text, message_thread_id=handover.topic_id, parse_mode="HTML")
        except UNREACHABLE as error:
            raise DeliveryFailed(f"staff group: {error}") from error

    async def _reply(self, message: Any, text: str) -> None:
        try:
            await message.reply_text(text)
        except UNREACHABLE as error:
            log.warning("reply in the staff group failed: %s", error)
