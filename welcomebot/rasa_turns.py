"""A turn the gateway sends again is answered once, applied in the Rasa process.

The gateway (bot/rasa_client.py) gives every turn an id, `turn_id` in the message's metadata,
and when the replica it sent the turn to dies mid-turn, it sends the same turn to the next
replica with `retry: true`. The dying replica may already have finished and saved the turn:
processing it again would store the newcomer's message twice and could answer differently
(its slots have moved on). For a retried turn, `_handle_message` looks in the tracker for the
turn's message; when it is there, the answers stored after it are sent again, exactly as Rasa
sent them the first time (`send_response` with each `BotUttered` event's message), and nothing
is processed. A turn that is not there is processed as usual. Only retries pay for the look:
Rasa's agent holds the conversation's lock around both.

Applied by `welcomebot.rasa_speedups.apply()`, with the other fixes for the Rasa process.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

TURN_ID, RETRY = "turn_id", "retry"
RASA_HANDLE_MESSAGE = MessageProcessor.handle_message
logger = logging.getLogger(__name__)


def answers_of(tracker: DialogueStateTracker, turn_id: Text) -> Optional[List[Dict[Text, Any]]]:
    """The bot's messages that answered turn `turn_id`, or None when the turn is not stored."""
    events = list(tracker.events)
    for index in range(len(events) - 1, -1, -1):
        event = events[index]
        if isinstance(event, UserUttered) and (event.metadata or {}).get(TURN_ID) == turn_id:
            answers = []
            for later in events[index + 1:]:
                if isinstance(later, UserUttered):
                    break
                if isinstance(later, BotUttered):
                    answers.append(later.message())
            return answers
    return None


async def _handle_message(self: MessageProcessor, message: UserMessage) -> Optional[List[Dict[Text, Any]]]:
    metadata = message.metadata or {}
    if metadata.get(RETRY) and metadata.get(TURN_ID):
        tracker = await self.tracker_store.retrieve(message.sender_id)
        answers = answers_of(tracker, str(metadata[TURN_ID])) if tracker is not None else None
        if answers is not None:
            logger.info("turn %s was answered before this retry: its answers are sent again", metadata[TURN_ID])
            for answer in answers:
                await message.output_channel.send_response(message.sender_id, answer)
            return message.output_channel.messages if isinstance(message.output_channel, CollectingOutputChannel) else None
    return await RASA_HANDLE_MESSAGE(self, message)


def apply() -> None:
    MessageProcessor.handle_message = _handle_message  # type: ignore[method-assign]
