"""Per-newcomer rate limiting: a token bucket per key (a conversation, an address), so one flood
cannot take the assistant's time from everybody else. Used by the Telegram and widget channels;
Telegram's sending is limited separately by PTB's AIORateLimiter."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

MAX_TRACKED = 10_000  # conversations remembered; the quietest are forgotten first


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned: bool = False  # the newcomer was told to slow down since the bucket ran empty


@dataclass
class UserRateLimiter:
    burst: int
    per_minute: float
    clock: Callable[[], float] = time.monotonic
    _buckets: dict[str, _Bucket] = field(default_factory=dict)

    def take(self, key: str) -> str:
        """'ok' (go ahead), 'warn' (limited: tell the newcomer once) or 'drop' (limited, told already)."""
        now = self.clock()
        bucket = self._buckets.pop(key, None) or _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.per_minute / 60.0)
        bucket.updated = now
        self._buckets[key] = bucket  # re-inserted: dict order is least recently used first
        if len(self._buckets) > MAX_TRACKED:
            del self._buckets[next(iter(self._buckets))]
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.warned = False
            return "ok"
        if bucket.warned:
            return "drop"
        bucket.warned = True
        return "warn"


def rates_from_env(env: Mapping[str, str], burst_name: str, per_minute_name: str, burst: int, per_minute: float) -> tuple[int, float]:
    """(burst, per minute) from two environment variables, or ValueError naming them."""
    try:
        burst, per_minute = int(env.get(burst_name, burst)), float(env.get(per_minute_name, per_minute))
    except ValueError as error:
        raise ValueError(f"{burst_name} / {per_minute_name} must be numbers: {error}") from None
    if burst < 1 or per_minute <= 0:
        raise ValueError(f"{burst_name} must be at least 1 and {per_minute_name} above 0.")
    return burst, per_minute
