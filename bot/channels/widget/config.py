"""The widget channel's settings, from the environment.

WIDGET_ALLOWED_ORIGINS: the town websites that may embed the widget, comma-separated
  (`https://www.auenstadt.de,https://auental.de`); `*` (the default) lets any site embed it.
  The gateway's own pages (the demo page) are always allowed.
WIDGET_SESSION_BURST / WIDGET_SESSION_PER_MINUTE: messages one conversation may send at once /
  per minute (default 10 / 20, as Telegram's).
WIDGET_ADDRESS_BURST / WIDGET_ADDRESS_PER_MINUTE: the same for all conversations from one IP
  address (default 100 / 300: a shelter's or a town hall's shared connection carries many).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Mapping, Optional

from ...ratelimit import rates_from_env


@dataclass(frozen=True)
class WidgetConfig:
    allowed_origins: Optional[frozenset[str]] = None  # None: any origin
    session_burst: int = 10
    session_per_minute: float = 20.0
    address_burst: int = 100
    address_per_minute: float = 300.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "WidgetConfig":
        origins = {o.strip().rstrip("/") for o in env.get("WIDGET_ALLOWED_ORIGINS", "*").split(",") if o.strip()}
        session = rates_from_env(env, "WIDGET_SESSION_BURST", "WIDGET_SESSION_PER_MINUTE", cls.session_burst, cls.session_per_minute)
        address = rates_from_env(env, "WIDGET_ADDRESS_BURST", "WIDGET_ADDRESS_PER_MINUTE", cls.address_burst, cls.address_per_minute)
        return cls(None if "*" in origins or not origins else frozenset(origins), *session, *address)

    def allows(self, origin: Optional[str], own_host: str) -> bool:
        """Whether a browser on `origin` may use the API. No Origin header: not a cross-site
        browser request (the gateway's own page, a script), which the rate limits cover."""
        if origin is None or self.allowed_origins is None:
            return True
        return origin.rstrip("/") in self.allowed_origins or origin.split("://", 1)[-1] == own_host
