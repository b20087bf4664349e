"""The widget channel's settings, from the environment.

WIDGET_ALLOWED_ORIGINS: the town websites that may embed the widget, comma-separated
  (`https://www.auenstadt.de,https://auental.de`); `*` (the default) lets any site embed it.
  The gateway's own pages (the demo page) are always allowed.
WIDGET_SESSION_BURST / WIDGET_SESSION_PER_MINUTE: messages one conversation may send at once /
  per minute (default 10 / 20, as Telegram's).
WIDGET_ADDRESS_BURST / WIDGET_ADDRESS_PER_MINUTE: the same for all conversations from one IP
  address (default 100 / 300: a shelter's or a town hall's shared connection carries many).
WIDGET_TRUSTED_PROXIES: addresses or networks of the reverse proxies in front of the gateway
  (default: loopback and private networks, where nginx on the host or Caddy in compose connect
  from). For a request through them the address is the one they name in X-Forwarded-For.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from typing import Mapping, Optional, Sequence

from ...ratelimit import rates_from_env


DEFAULT_PROXIES = ("127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")


@dataclass(frozen=True)
class WidgetConfig:
    allowed_origins: Optional[frozenset[str]] = None  # None: any origin
    session_burst: int = 10
    session_per_minute: float = 20.0
    address_burst: int = 100
    address_per_minute: float = 300.0
    trusted_proxies: tuple = tuple(ipaddress.ip_network(n) for n in DEFAULT_PROXIES)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> "WidgetConfig":
        origins = {o.strip().rstrip("/") for o in env.get("WIDGET_ALLOWED_ORIGINS", "*").split(",") if o.strip()}
        session = rates_from_env(env, "WIDGET_SESSION_BURST", "WIDGET_SESSION_PER_MINUTE", cls.session_burst, cls.session_per_minute)
        address = rates_from_env(env, "WIDGET_ADDRESS_BURST", "WIDGET_ADDRESS_PER_MINUTE", cls.address_burst, cls.address_per_minute)
        proxies = [p.strip() for p in env.get("WIDGET_TRUSTED_PROXIES", ",".join(DEFAULT_PROXIES)).split(",") if p.strip()]
        try:
            trusted = tuple(ipaddress.ip_network(p, strict=False) for p in proxies)
        except ValueError as error:
            raise ValueError(f"WIDGET_TRUSTED_PROXIES: {error}") from None
        return cls(None if "*" in origins or not origins else frozenset(origins), *session, *address, trusted)

    def client_address(self, peer: Optional[str], forwarded_for: Optional[str]) -> str:
        """The newcomer's address: the peer's, or — when the peer is one of our proxies — the
        last one in X-Forwarded-For that is not ours (the entries left of it are the client's
        own word)."""
        if not peer or not forwarded_for or not self._trusted(peer):
            return peer or "unknown"
        hops: Sequence[str] = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self._trusted(hop):
                return hop
        return hops[0] if hops else peer

    def _trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.trusted_proxies)

    def allows(self, origin: Optional[str], own_host: str) -> bool:
        """Whether a browser on `origin` may use the API. No Origin header: not a cross-site
        browser request (the gateway's own page, a script), which the rate limits cover."""
        if origin is None or self.allowed_origins is None:
            return True
        return origin.rstrip("/") in self.allowed_origins or origin.split("://", 1)[-1] == own_host
