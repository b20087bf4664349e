"""Where the handover meets the conversation (`bot/conversation.py` calls these two functions).

- Before Rasa: while a handover is active, the newcomer's message goes to it, not to Rasa —
  Rasa never sees relayed messages, so its tracker simply continues after the handover.
  "Back to the bot" ends the handover and is then passed on to Rasa, which greets them back.
- After Rasa: the consent turn is Rasa's (action `action_lotse_consent`); it asks the gateway
  for a handover with custom data `{"welcomebot": {"handover": {...}}}`, which is taken out of
  the replies here and answered with the core's own message (asked / nobody available now).
"""
from __future__ import annotations

from typing import Any, Optional

from .service import BACK_COMMANDS, BACK_TO_BOT, Handovers

# Typed commands that mean a payload: `/lotse` asks for a person (SPEC §7).
ALIASES = {"/lotse": "/request_lotse", "/lotsen": "/request_lotse", "/person": "/request_lotse", **{c: BACK_TO_BOT for c in BACK_COMMANDS}}
REQUESTS = {"/request_lotse", "/lotse_consent"}


def command(text: str) -> str:
    return ALIASES.get(text.strip().lower(), text)


async def divert(handovers: Handovers, sender_id: str, text: str, key: Optional[str] = None) -> Optional[list[dict[str, Any]]]:
    """The replies when the handover takes the message; None when Rasa should answer it."""
    handover = handovers.active(sender_id)
    if handover is None:
        return None
    if text == BACK_TO_BOT:
        await handovers.end_by_newcomer(handover)
        return None
    if text in REQUESTS:  # asking again while one is running: say where it stands
        return await handovers.request(sender_id, handover.channel, handover.language)
    return await handovers.from_newcomer(handover, text, key)


async def act_on(handovers: Handovers, sender_id: str, channel: str, language: str, replies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rasa's replies, with a handover request replaced by what the core says about it."""
    kept: list[dict[str, Any]] = []
    for reply in replies:
        data = ((reply.get("custom") or {}).get("welcomebot") or {}).get("handover")
        if not isinstance(data, dict):
            kept.append(reply)
            continue
        recent = [m for m in data.get("recent") or [] if isinstance(m, dict) and isinstance(m.get("text"), str)]
        kept += await handovers.request(
            sender_id, channel, language, municipality=_text(data.get("municipality")),
            topic=_text(data.get("topic")), recent=[{"from": str(m.get("from") or ""), "text": m["text"]} for m in recent],
        )
    return kept


def _text(value: Any) -> Optional[str]:
    return value if isinstance(value, str) and value else None
