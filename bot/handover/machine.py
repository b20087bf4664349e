"""The handover state machine (SPEC §7): every state a handover can be in, every transition, and
who may make it. Pure: no I/O, no clock; `service.py` applies the result and stores it.

    (consent given) ──► queued ──(a Lotse becomes available)──► waiting ──(take over)──► open
                          │                                        │                      │
                          └─────────────── end ────────────────────┴──────── end ─────────┴──► ended

- `queued`: nobody who speaks the language and covers the town is available now; what the
  newcomer writes is kept as a message left for later.
- `waiting`: the staff topic is (being) opened; matched Lotsen were asked; nobody took it yet.
- `open`: one Lotse took it over (the first one wins); messages are relayed both ways.
- `ended`: by the newcomer ("back to the bot"), by a Lotse (`/end`), or by `/delete`.

The consent question itself is a turn of the Rasa dialogue (buttons); a handover starts when
the newcomer consents, so there is no stored state before it.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from typing import Optional


class State(str, enum.Enum):
    QUEUED = "queued"
    WAITING = "waiting"
    OPEN = "open"
    ENDED = "ended"


# While a handover is in one of these, the assistant does not answer the newcomer.
ACTIVE = frozenset({State.QUEUED, State.WAITING, State.OPEN})


class Actor(str, enum.Enum):
    NEWCOMER = "newcomer"
    LOTSE = "lotse"
    SYSTEM = "system"  # the gateway itself: availability changed, retention, /delete


class NotAllowed(Exception):
    """The transition is not possible in this state or not for this actor; `reason` says which,
    for a short answer to whoever tried."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Handover:
    id: str
    sender_id: str  # the newcomer's conversation id on their channel (never shown to Lotsen)
    channel: str
    language: str
    municipality: Optional[str]
    topic: Optional[str]  # the content category last discussed, for the summary
    state: State
    created_at: float
    lotse_id: Optional[int] = None  # Telegram user id of the Lotse who took over
    topic_id: Optional[int] = None  # the staff forum topic (message_thread_id)
    ended_by: Optional[Actor] = None
    ended_at: Optional[float] = None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE

    @property
    def short_ref(self) -> str:
        """What staff call it: a few characters of the random id, nothing about the person."""
        return self.id[:6]


def initial_state(anyone_available: bool) -> State:
    return State.WAITING if anyone_available else State.QUEUED


def become_available(handover: Handover) -> Handover:
    """A matching Lotse is available now: the left messages go to a new staff topic."""
    if handover.state is not State.QUEUED:
        raise NotAllowed("not queued")
    return replace(handover, state=State.WAITING)


def take_over(handover: Handover, lotse_id: int, is_listed_lotse: bool) -> Handover:
    """The first listed Lotse wins; the store applies this with a compare-and-set on the state,
    so two Lotsen tapping at once cannot both win."""
    if not is_listed_lotse:
        raise NotAllowed("not a listed Lotse")
    if handover.state is State.OPEN:
        raise NotAllowed("already taken")
    if handover.state is State.ENDED:
        raise NotAllowed("ended")
    if handover.state is not State.WAITING:
        raise NotAllowed("not waiting")
    return replace(handover, state=State.OPEN, lotse_id=lotse_id)


def may_write_to_newcomer(handover: Handover, lotse_id: int, is_listed_lotse: bool) -> None:
    """Only the Lotse who took it over writes to the newcomer; others are told why not."""
    if not is_listed_lotse:
        raise NotAllowed("not a listed Lotse")
    if handover.state is State.WAITING:
        raise NotAllowed("take over first")
    if handover.state is not State.OPEN:
        raise NotAllowed("ended")
    if handover.lotse_id != lotse_id:
        raise NotAllowed("taken by another Lotse")


def end(handover: Handover, actor: Actor, now: float, lotse_id: Optional[int] = None, is_listed_lotse: bool = False) -> Handover:
    """The newcomer may always end their own handover; a Lotse only one that is open to them or
    still waiting (nobody took it: any listed Lotse may close it); the system always."""
    if not handover.active:
        raise NotAllowed("ended")
    if actor is Actor.LOTSE:
        if not is_listed_lotse:
            raise NotAllowed("not a listed Lotse")
        if handover.state is State.OPEN and handover.lotse_id != lotse_id:
            raise NotAllowed("taken by another Lotse")
    return replace(handover, state=State.ENDED, ended_by=actor, ended_at=now)
