"""Messages to a newcomer that nobody asked for in this request: a Lotse's reply, a message left
for later (SPEC §7). Each channel registers how it delivers to one of its conversations; the
core only knows the channel's name, which it keeps with the conversation's state.
"""
from __future__ import annotations

from typing import Any, Awaitable, Callable

Deliver = Callable[[str, list[dict[str, Any]]], Awaitable[None]]


class DeliveryFailed(Exception):
    """The channel could not hand the messages over now; the caller keeps them and retries."""


class Outbound:
    def __init__(self) -> None:
        self._channels: dict[str, Deliver] = {}

    def register(self, channel: str, deliver: Deliver) -> None:
        self._channels[channel] = deliver

    def channels(self) -> list[str]:
        return sorted(self._channels)

    async def deliver(self, channel: str, sender_id: str, messages: list[dict[str, Any]]) -> None:
        """Rasa REST-shaped messages (`text`, `buttons`, `custom`) to one conversation."""
        deliver = self._channels.get(channel)
        if deliver is None:
            raise DeliveryFailed(f"no channel {channel!r} is running in this gateway")
        try:
            await deliver(sender_id, messages)
        except DeliveryFailed:
            raise
        except Exception as error:  # a channel's own errors (network, API) mean: try again later
            raise DeliveryFailed(f"{channel}: {error}") from error
