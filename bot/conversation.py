"""The conversation core every channel uses: language (SPEC §3), Rasa, state, erasure.

A channel adapter turns its input into an `IncomingMessage`, calls `Assistant.handle`, and shows
the returned Rasa REST messages (`text`, `buttons`, `custom`) in its own way.
"""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Callable, Optional, Sequence

import sqlalchemy

from welcomebot.content import ContentStore
from welcomebot.i18n import supported_languages, translator
from welcomebot.language import EXPLICIT, LanguageChoice, choose_language

from .handover import hook as handover_hook
from .incoming import clean_message
from .outbound import Outbound
from .rasa_client import RasaClient, RasaUnavailable
from .state import ConversationState, StateStore, pseudonym

log = logging.getLogger(__name__)

DELETE_COMMANDS = {"/delete", "/löschen", "/loeschen"}
# How stale a conversation's `updated_at` may get while it goes on unchanged; retention (days)
# counts from it.
TOUCH_SECONDS = 60.0


@dataclass
class IncomingMessage:
    sender_id: str
    text: Any
    channel: str = "rest"
    language: Optional[str] = None  # an explicit choice made in the client (picker)
    client_languages: Sequence[str] = ()  # hints: Telegram language_code, navigator.languages
    # The channel's id of this message (a Telegram update, the widget's client id): a message
    # the channel delivers twice (an update redelivered after a crash) reaches a Lotse once.
    message_id: Optional[str] = None


class Assistant:
    def __init__(
        self, rasa: RasaClient, state: StateStore, content: ContentStore,
        tracker_store_url: Optional[str] = None, outbound: Optional[Outbound] = None,
    ) -> None:
        self.rasa, self.state, self.content = rasa, state, content
        self.outbound = outbound or Outbound()
        self.erase_hooks: list[Callable[[str], None]] = []  # channels' own stores of a conversation
        self._tracker_engine = sqlalchemy.create_engine(tracker_store_url) if tracker_store_url else None
        self.handovers = None  # a bot.handover.Handovers, set by bot.handover.setup (SPEC §7)

    def _language(self, state: ConversationState, text: str, chosen: Optional[str], client_hints: Sequence[str]) -> LanguageChoice:
        """SPEC §3 for this conversation: a choice made now, else as `choose_language` decides
        from the text and what the conversation chose so far."""
        supported = supported_languages()
        return choose_language(
            text=text, supported=supported, default=self.content.snapshot().district.default_language,
            explicit=chosen if chosen in supported else state.explicit_language, previous=state.language,
            client_hints=client_hints,
        )

    def language_of(self, sender_id: Optional[str], client_hints: Sequence[str] = ()) -> str:
        """The conversation's language where there is no text to read it from: a channel's own
        sentences, the widget's labels (no `sender_id`: before the first message)."""
        state = self.state.load(sender_id) if sender_id else ConversationState("")
        return self._language(state, "", None, client_hints).code

    async def handle(self, message: IncomingMessage) -> list[dict[str, Any]]:
        supported = supported_languages()
        text = clean_message(message.text)
        state = self.state.load(message.sender_id)
        loaded = _what_is_kept(state)
        choice = self._language(state, text, message.language, message.client_languages)
        if text.lower() in DELETE_COMMANDS:
            await self.erase(message.sender_id)
            _ = translator(choice.code)
            return [_text(message.sender_id, _("Your conversation has been deleted. If you write again, we start afresh."))]
        state.language, state.language_source = choice.code, choice.source
        state.channel = message.channel
        metadata = {"language": choice.code, "language_source": choice.source, "channel": message.channel}
        if self.handovers is not None:  # while a Lotse has the conversation, Rasa does not answer
            text = handover_hook.command(text)
            diverted = await handover_hook.divert(self.handovers, message.sender_id, text, message.message_id)
            if diverted is not None:
                self._keep(state, loaded)
                return diverted
        try:
            replies = await self.rasa.send(message.sender_id, text or "/help", metadata)
        except RasaUnavailable as error:
            log.error("no Rasa server answered for %s: %s", pseudonym(message.sender_id), error)
            return [_text(message.sender_id, self._unavailable_text(choice.code))]
        if self.handovers is not None:
            replies = await handover_hook.act_on(self.handovers, message.sender_id, message.channel, choice.code, replies)
        for reply in replies:
            chosen = ((reply.get("custom") or {}).get("welcomebot") or {}).get("language")
            if chosen in supported:
                state.language, state.language_source = chosen, EXPLICIT
        self._keep(state, loaded)
        return replies

    def _keep(self, state: ConversationState, loaded: tuple) -> None:
        """Write the state when it changed, and otherwise once every `TOUCH_SECONDS` to mark
        the conversation as alive for retention: not one write per message."""
        if _what_is_kept(state) != loaded or time.time() - state.updated_at > TOUCH_SECONDS:
            self.state.save(state)

    def _unavailable_text(self, language: str) -> str:
        _ = translator(language)
        office = self.content.snapshot().district.contact
        return _("Sorry, I cannot answer right now. Please try again in a few minutes, or call the integration office: %(phone)s", phone=office.contact.phone or "")

    async def erase(self, sender_id: str) -> None:
        """`/delete` (SPEC §8): the gateway's state and Rasa's tracker of this conversation."""
        self.state.erase(sender_id)
        if self.handovers is not None:
            await self.handovers.erase(sender_id)
        for erase_also in self.erase_hooks:
            erase_also(sender_id)
        if self._tracker_engine is not None:
            await asyncio.get_running_loop().run_in_executor(None, self._erase_tracker, sender_id)
        log.info("erased conversation %s", pseudonym(sender_id))

    def purge_past_retention(self, seconds: float) -> dict[str, int]:
        """SPEC §8: conversations nobody wrote in for `seconds` are deleted — the gateway's state
        and Rasa's tracker (the newcomer's messages). Counts of what went, by store."""
        removed = {"states": self.state.purge_older_than(seconds)}
        if self._tracker_engine is not None:
            removed["tracker_conversations"] = self._purge_tracker(time.time() - seconds)
        return removed

    def _purge_tracker(self, before: float) -> int:
        with self._tracker_engine.begin() as db:
            if not sqlalchemy.inspect(db).has_table("events"):
                return 0
            idle = [row[0] for row in db.execute(sqlalchemy.text(
                "SELECT sender_id FROM events GROUP BY sender_id HAVING MAX(timestamp) < :before"), {"before": before})]
            for sender_id in idle:
                db.execute(sqlalchemy.text("DELETE FROM events WHERE sender_id = :sender"), {"sender": sender_id})
        return len(idle)

    def _erase_tracker(self, sender_id: str) -> None:
        with self._tracker_engine.begin() as db:
            if sqlalchemy.inspect(db).has_table("events"):
                db.execute(sqlalchemy.text("DELETE FROM events WHERE sender_id = :sender"), {"sender": sender_id})


def _what_is_kept(state: ConversationState) -> tuple:
    return state.language, state.language_source, state.channel


def _text(recipient: str, text: str) -> dict[str, Any]:
    return {"recipient_id": recipient, "text": text}
