"""The handover core (SPEC §7), one for every channel: the newcomer side (`Assistant` calls it),
the staff side (a `StaffDesk` calls it), and the background work that makes delivery reliable.

Every message that crosses is first written to the store, then delivered, then marked
delivered (`store.py`); whatever failed is retried by `run_once`, which also runs right after a
restart, so no message and no open handover is lost. Deliveries of one handover and direction
are serialised by a lock, so a retry and a fresh message never deliver the same row twice.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import secrets
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Optional

from welcomebot import settings
from welcomebot.content import ContentStore, Lotse
from welcomebot.i18n import name_in, translator

from ..outbound import DeliveryFailed, Outbound
from ..state import pseudonym
from . import machine
from .desk import StaffDesk, Summary
from .machine import Actor, Handover, NotAllowed, State
from .matching import format_when, match
from .store import TO_NEWCOMER, TO_STAFF, HandoverStore

log = logging.getLogger(__name__)

# The newcomer's "back to the bot" button and its typed forms; `/lotse` asks for a person.
BACK_TO_BOT = "/back_to_bot"
BACK_COMMANDS = {BACK_TO_BOT, "/bot"}
RETRY_DELAYS = (2.0, 5.0, 15.0, 60.0, 300.0)  # seconds after the 1st, 2nd, ... failure

# Rasa's answer when a handover ends ("welcome back" + menu), asked for by the core so that the
# tracker goes on from where it stopped: (sender_id, language, channel) -> Rasa REST messages.
BackToBot = Callable[[str, str, str], Awaitable[list[dict[str, Any]]]]


def wait_minutes() -> int:
    """What the newcomer is told a Lotse may take to answer."""
    return int(os.environ.get("WELCOMEBOT_LOTSE_WAIT_MINUTES", "30"))


@dataclass(frozen=True)
class Outcome:
    """What a Lotse's action in the staff group led to; `refused` is a reason from
    `machine.NotAllowed` for a short reply, `lotse` who holds the handover now."""

    handover: Optional[Handover]
    refused: Optional[str] = None
    lotse: Optional[Lotse] = None


class Handovers:
    def __init__(
        self, store: HandoverStore, content: ContentStore, outbound: Outbound,
        back_to_bot: Optional[BackToBot] = None, clock: Optional[Callable[[], dt.datetime]] = None,
    ) -> None:
        self.store, self.content, self.outbound = store, content, outbound
        self.back_to_bot = back_to_bot
        self.desk: Optional[StaffDesk] = None
        self._clock = clock
        self._locks: dict[tuple[str, str], asyncio.Lock] = defaultdict(asyncio.Lock)

    def now(self) -> dt.datetime:
        return self._clock() if self._clock else settings.now(self.content.snapshot().district.timezone)

    def attach_desk(self, desk: StaffDesk) -> None:
        self.desk = desk

    # -- the newcomer's side ------------------------------------------------------------------

    def active(self, sender_id: str) -> Optional[Handover]:
        return self.store.active_for(sender_id)

    async def request(
        self, sender_id: str, channel: str, language: str, municipality: Optional[str] = None,
        topic: Optional[str] = None, recent: Optional[list[dict[str, str]]] = None,
    ) -> list[dict[str, Any]]:
        """The newcomer consented: match, store, open the staff topic; what to tell them."""
        existing = self.active(sender_id)
        if existing is not None:
            return [self._notice(existing, self._waiting_text(existing))]
        lotsen = self.content.snapshot().lotsen.values()
        found = match(lotsen, language, municipality, self.now())
        handover = Handover(
            id=secrets.token_hex(8), sender_id=sender_id, channel=channel, language=language,
            municipality=municipality, topic=topic, state=machine.initial_state(found.anyone_now), created_at=time.time(),
        )
        self.store.create(handover, [m for m in (recent or []) if m.get("text")][-10:])
        log.info("handover %s for %s: %s", handover.short_ref, pseudonym(sender_id), handover.state.value)
        if handover.state is State.WAITING:
            await self._open_topic(handover)
            return [self._notice(handover, self._waiting_text(handover))]
        return [self._notice(handover, self._queued_text(handover, found.next_available))]

    async def from_newcomer(self, handover: Handover, text: str, key: Optional[str] = None) -> list[dict[str, Any]]:
        """A message while a handover is active: into the topic, or kept for later (queued)."""
        left = handover.state is State.QUEUED
        stored = self.store.add_message(handover.id, TO_STAFF, key or secrets.token_hex(8), {"text": text}, left=left)
        if stored is None:
            return []  # the same message again (a channel's retry): already relayed
        if left:
            _ = translator(handover.language)
            return [self._notice(handover, _("Thank you. Your message is kept and passed on to a Lotse as soon as one is available."))]
        await self.flush(handover.id, TO_STAFF)
        return []

    async def end_by_newcomer(self, handover: Handover) -> None:
        """"Back to the bot": the caller lets Rasa greet the newcomer back."""
        ended = self._end(handover, Actor.NEWCOMER)
        if ended is not None and ended.topic_id is not None:
            await self._tell_desk("closed", ended, Actor.NEWCOMER)

    async def erase(self, sender_id: str) -> None:
        """`/delete` (SPEC §8): the handovers, their messages, and their staff topics."""
        for handover in self.store.erase_sender(sender_id):
            if handover.topic_id is not None:
                await self._tell_desk("erase", handover)

    # -- the staff side -----------------------------------------------------------------------

    def lotse(self, user_id: int) -> Optional[Lotse]:
        """Only Lotsen listed in content may act in the staff group."""
        return self.content.snapshot().lotse_by_telegram_id(user_id)

    def holder(self, handover: Optional[Handover]) -> Optional[Lotse]:
        """The Lotse who has taken the handover over, if one has."""
        return self.lotse(handover.lotse_id) if handover is not None and handover.lotse_id else None

    def by_topic(self, topic_id: int) -> Optional[Handover]:
        return self.store.by_topic(topic_id)

    async def take_over(self, handover_id: str, user_id: int) -> Outcome:
        handover = self.store.get(handover_id)
        lotse = self.lotse(user_id)
        if handover is None:
            return Outcome(None, "ended")
        try:
            taken = machine.take_over(handover, user_id, lotse is not None)
        except NotAllowed as refusal:
            return Outcome(handover, refusal.reason, self.holder(handover))
        if not self.store.transition(taken, State.WAITING):
            current = self.store.get(handover_id)  # someone else was faster
            holder = self.holder(current)
            return Outcome(current, "already taken" if holder else "ended", holder)
        log.info("handover %s taken over by Lotse %s", taken.short_ref, lotse.id)
        _ = translator(taken.language)
        await self._to_newcomer(taken, f"taken:{user_id}", {
            "text": _("%(name)s, a volunteer Lotse, is now with you. Write your question here; %(name)s reads it.", name=lotse.name),
            "buttons": [self.back_button(taken.language)],
        })
        await self._tell_desk("show_taken", taken, lotse)
        return Outcome(taken, None, lotse)

    async def from_lotse(self, topic_id: int, user_id: int, text: str, key: str) -> Outcome:
        """A message written in the topic: to the newcomer, if it is the Lotse who took it."""
        handover = self.store.by_topic(topic_id)
        lotse = self.lotse(user_id)
        if handover is None:
            return Outcome(None, "ended")
        try:
            machine.may_write_to_newcomer(handover, user_id, lotse is not None)
        except NotAllowed as refusal:
            return Outcome(handover, refusal.reason, self.holder(handover))
        await self._to_newcomer(handover, key, {"text": f"{lotse.name}: {text}", "custom": {"welcomebot": {"lotse": lotse.name}}})
        return Outcome(handover, None, lotse)

    async def end_by_lotse(self, topic_id: int, user_id: int) -> Outcome:
        handover = self.store.by_topic(topic_id)
        lotse = self.lotse(user_id)
        if handover is None:
            return Outcome(None, "ended")
        try:
            machine.end(handover, Actor.LOTSE, time.time(), user_id, lotse is not None)
        except NotAllowed as refusal:
            return Outcome(handover, refusal.reason)
        ended = self._end(handover, Actor.LOTSE, user_id, lotse is not None)
        if ended is None:
            return Outcome(self.store.get(handover.id), "ended")
        _ = translator(ended.language)
        await self._to_newcomer(ended, "ended", {"text": _("The Lotse has ended the conversation. Thank you for writing!")})
        await self._greet_back(ended)
        await self._tell_desk("closed", ended, Actor.LOTSE)
        return Outcome(ended, None, lotse)

    # -- reliable delivery --------------------------------------------------------------------

    async def flush(self, handover_id: str, direction: str, due_only: bool = False) -> int:
        """Deliver what is pending for one handover in one direction, in order; stops at the
        first failure (order matters in a conversation) and schedules a retry. Returns how many
        were delivered."""
        delivered = 0
        async with self._locks[(handover_id, direction)]:
            handover = self.store.get(handover_id)
            if handover is None or (direction == TO_STAFF and (handover.topic_id is None or self.desk is None)):
                return 0
            due = time.time() if due_only else None
            for message in self.store.pending(direction, handover_id, due):
                try:
                    if direction == TO_STAFF:
                        await self.desk.post(handover, {**message.body, "left": message.left})
                    else:
                        await self.outbound.deliver(handover.channel, handover.sender_id, [self._shaped(handover, message.id, message.body)])
                except DeliveryFailed as error:
                    delay = RETRY_DELAYS[min(message.attempts, len(RETRY_DELAYS) - 1)]
                    self.store.mark_failed(message.id, str(error), time.time() + delay)
                    log.warning("handover %s: %s delivery failed, retry in %.0f s: %s", handover.short_ref, direction, delay, error)
                    break
                self.store.mark_delivered(message.id)
                delivered += 1
        return delivered

    async def run_once(self, retry_all: bool = False) -> None:
        """The background round: open topics that are missing, move queued handovers to a
        Lotse who became available, retry what failed (`retry_all`: without waiting for its
        back-off, as after a start), purge what is past retention."""
        for handover in self.store.in_states([State.QUEUED]):
            await self._promote_if_available(handover)
        for handover in self.store.in_states([State.WAITING]):
            if handover.topic_id is None:
                await self._open_topic(handover)
        for direction in (TO_NEWCOMER, TO_STAFF):
            due = None if retry_all else time.time()
            for handover_id in sorted({m.handover_id for m in self.store.pending(direction, due_before=due)}):
                await self.flush(handover_id, direction, due_only=not retry_all)
        for handover in self.store.purge_ended_before(time.time() - settings.retention_seconds()):
            if handover.topic_id is not None:
                await self._tell_desk("erase", handover)

    async def run_forever(self, interval: float = 5.0) -> None:
        first = True
        while True:
            try:
                await self.run_once(retry_all=first)
                first = False
            except asyncio.CancelledError:
                raise
            except Exception:  # a store hiccup must not stop the retries for good
                log.exception("handover background round failed")
            await asyncio.sleep(interval)

    # -- helpers ------------------------------------------------------------------------------

    async def _promote_if_available(self, handover: Handover) -> None:
        found = match(self.content.snapshot().lotsen.values(), handover.language, handover.municipality, self.now())
        if not found.anyone_now:
            return
        waiting = machine.become_available(handover)
        if not self.store.transition(waiting, State.QUEUED):
            return
        _ = translator(waiting.language)
        await self._to_newcomer(waiting, "available", {
            "text": _("A Lotse is available now and has been asked. It may take about %(minutes)d minutes until someone answers here.", minutes=wait_minutes()),
            "buttons": [self.back_button(waiting.language)],
        })
        await self._open_topic(waiting)

    async def _open_topic(self, handover: Handover) -> None:
        if self.desk is None:
            log.warning("handover %s is waiting, but no staff desk is configured (LOTSE_GROUP_ID)", handover.short_ref)
            return
        async with self._locks[(handover.id, "topic")]:
            current = self.store.get(handover.id)
            if current is None or current.topic_id is not None or current.state is not State.WAITING:
                return
            try:
                topic_id = await self.desk.open_topic(self._summary(current))
            except DeliveryFailed as error:
                log.warning("handover %s: opening the staff topic failed, retrying later: %s", current.short_ref, error)
                return
            self.store.set_topic(current.id, topic_id)
        await self.flush(handover.id, TO_STAFF)

    def _summary(self, handover: Handover) -> Summary:
        from actions.render import topic_label  # the labels the newcomer saw in the menu

        content = self.content.snapshot()
        staff = content.district.default_language
        town = content.district.municipality(handover.municipality)
        found = match(content.lotsen.values(), handover.language, handover.municipality, self.now())
        return Summary(
            handover=handover, language_name=name_in(handover.language, staff),
            municipality_name=town.name.text(staff) if town else None,
            topic_label=topic_label(handover.topic, translator(staff)) if handover.topic else None,
            recent=tuple(self.store.summary(handover.id)), asked=found.available or found.candidates,
            left_for_later=any(m.left for m in self.store.messages(handover.id)),
        )

    def _end(self, handover: Handover, actor: Actor, lotse_id: Optional[int] = None, is_lotse: bool = False) -> Optional[Handover]:
        try:
            ended = machine.end(handover, actor, time.time(), lotse_id, is_lotse)
        except NotAllowed:
            return None
        if not self.store.transition(ended, handover.state):
            return None
        log.info("handover %s ended by %s", ended.short_ref, actor.value)
        return ended

    async def _greet_back(self, handover: Handover) -> None:
        """Rasa's tracker goes on: its "welcome back" answer, stored and delivered like the rest."""
        if self.back_to_bot is None:
            return
        try:
            replies = await self.back_to_bot(handover.sender_id, handover.language, handover.channel)
        except Exception as error:  # Rasa down: the newcomer already has the gateway's notice
            log.warning("handover %s: no welcome back from Rasa: %s", handover.short_ref, error)
            return
        for index, reply in enumerate(replies):
            body = {k: v for k, v in reply.items() if k != "recipient_id"}
            await self._to_newcomer(handover, f"back:{index}", body, flush=False)
        await self.flush(handover.id, TO_NEWCOMER)

    async def _to_newcomer(self, handover: Handover, key: str, body: dict[str, Any], flush: bool = True) -> None:
        if self.store.add_message(handover.id, TO_NEWCOMER, key, body) is not None and flush:
            await self.flush(handover.id, TO_NEWCOMER)

    @staticmethod
    def _shaped(handover: Handover, message_id: int, body: dict[str, Any]) -> dict[str, Any]:
        """A Rasa REST message; `relay_id` lets a channel drop a message it already shows."""
        custom = dict(body.get("custom") or {})
        custom["welcomebot"] = {**(custom.get("welcomebot") or {}), "relay_id": f"{handover.id}:{message_id}"}
        return {"recipient_id": handover.sender_id, **body, "custom": custom}

    async def _tell_desk(self, what: str, *args: Any) -> None:
        """Staff-side notices are shown at best effort: the state is already stored."""
        if self.desk is None:
            return
        try:
            await getattr(self.desk, what)(*args)
        except Exception as error:
            log.warning("staff desk %s failed: %s", what, error)

    def back_button(self, language: str) -> dict[str, str]:
        _ = translator(language)
        return {"title": "🤖 " + _("Back to the bot"), "payload": BACK_TO_BOT}

    def _notice(self, handover: Handover, text: str) -> dict[str, Any]:
        return {"recipient_id": handover.sender_id, "text": text, "buttons": [self.back_button(handover.language)]}

    def _waiting_text(self, handover: Handover) -> str:
        _ = translator(handover.language)
        if handover.state is State.QUEUED:
            return _("Your message is kept and passed on to a Lotse as soon as one is available.")
        if handover.state is State.OPEN:
            return _("A Lotse is with you. Write your question here.")
        return _("I have asked a Lotse. It may take about %(minutes)d minutes until someone answers here. You can already write your question; the assistant stays quiet meanwhile.",
                 minutes=wait_minutes())

    def _queued_text(self, handover: Handover, when: Optional[dt.datetime]) -> str:
        _ = translator(handover.language)
        language = name_in(handover.language, handover.language)
        if when is None:
            first = _("Right now no Lotse who speaks %(language)s is available.", language=language)
        else:
            first = _("Right now no Lotse who speaks %(language)s is available. The next one will be available on %(when)s.",
                      language=language, when=format_when(when, handover.language))
        return first + "\n" + _("You can leave a message here now: it is passed on as soon as a Lotse is available.")
