"""The staff side as the handover core sees it: a desk where Lotsen work. `telegram_desk.py`
implements it on a Telegram forum supergroup; the core knows nothing of Telegram.

A desk calls back into the core (`service.Handovers.take_over`, `.from_lotse`, `.end_by_lotse`)
for what Lotsen do; the core calls the desk for what Lotsen must see.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional, Protocol

from welcomebot.content import Lotse

from .machine import Actor, Handover


@dataclass(frozen=True)
class Summary:
    """What a topic opens with (SPEC §7): language, town, topic, the last messages — and nothing
    that identifies the newcomer (SPEC §8: no name, username or phone number)."""

    handover: Handover
    language_name: str
    municipality_name: Optional[str]
    topic_label: Optional[str]
    recent: tuple[dict[str, str], ...]  # {"from": "newcomer" | "bot", "text": ...}, oldest first
    asked: tuple[Lotse, ...]  # the matched Lotsen, to be pinged; any listed Lotse may take over
    left_for_later: bool  # nobody was available when the newcomer asked


class StaffDesk(Protocol):
    async def open_topic(self, summary: Summary) -> int:
        """Open the handover's topic with the summary and a take-over button; its thread id.
        Raises `bot.outbound.DeliveryFailed` when the desk cannot be reached (retried)."""

    async def post(self, handover: Handover, body: dict[str, Any]) -> None:
        """A newcomer's message into the handover's topic; DeliveryFailed to retry later."""

    async def show_taken(self, handover: Handover, lotse: Lotse) -> None:
        """Everyone in the topic sees who took it over."""

    async def closed(self, handover: Handover, by: Actor) -> None:
        """The handover ended (by the newcomer, a Lotse or the system)."""

    async def erase(self, handover: Handover) -> None:
        """`/delete` or retention: remove the topic and its messages from the staff group."""
