"""`welcomebot handovers`: what staff need to see at a glance — every handover that is queued
(nobody available yet), waiting (nobody took it yet) or open, oldest first. No newcomer ids:
a short reference, language, town, topic, who has it, and what is still undelivered."""
from __future__ import annotations

import time
from typing import Optional

from welcomebot.content import ContentSnapshot

from .machine import ACTIVE, State
from .store import TO_NEWCOMER, TO_STAFF, HandoverStore

STATE_ORDER = (State.QUEUED, State.WAITING, State.OPEN)


def handover_lines(store: HandoverStore, content: ContentSnapshot, now: Optional[float] = None) -> list[str]:
    now = time.time() if now is None else now
    rows = [("ref", "state", "lang", "town", "topic", "since", "lotse", "undelivered")]
    active = sorted(store.in_states(ACTIVE), key=lambda h: (STATE_ORDER.index(h.state), h.created_at))
    for handover in active:
        lotse = content.lotse_by_telegram_id(handover.lotse_id) if handover.lotse_id else None
        undelivered = len(store.pending(TO_STAFF, handover.id)) + len(store.pending(TO_NEWCOMER, handover.id))
        rows.append((
            handover.short_ref, handover.state.value, handover.language, handover.municipality or "-",
            handover.topic or "-", _age(now - handover.created_at), lotse.name if lotse else "-", str(undelivered),
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]
    counts = {state: sum(1 for h in active if h.state is state) for state in STATE_ORDER}
    lines.append(f"{counts[State.QUEUED]} queued (nobody available yet), {counts[State.WAITING]} waiting for a Lotse, {counts[State.OPEN]} open")
    return lines


def _age(seconds: float) -> str:
    minutes = int(max(seconds, 0) // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // 1440} d"
