"""The Telegram channel's settings, all from the environment (SPEC §6: polling for development,
webhook with a secret token for production)."""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Mapping, Optional

from ...ratelimit import rates_from_env

POLLING, WEBHOOK = "polling", "webhook"
WEBHOOK_PATH = "/telegram/webhook"
OFF_MESSAGE = ("Telegram is off: set TELEGRAM_TOKEN (from @BotFather) to switch it on; "
               "TELEGRAM_MODE=webhook with TELEGRAM_WEBHOOK_URL for production, polling otherwise.")


class ConfigError(ValueError):
    """A setting that cannot work; the message says which and how to fix it."""


@dataclass(frozen=True)
class TelegramConfig:
    token: str
    mode: str = POLLING
    webhook_url: str = ""
    secret_token: str = ""
    api_base_url: str = "https://api.telegram.org"  # TELEGRAM_API_BASE_URL: a Bot API server or a test emulator
    user_burst: int = 10  # messages a newcomer may send at once ...
    user_per_minute: float = 20.0  # ... and on average afterwards

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Optional["TelegramConfig"]:
        """None when no token is set: Telegram is off and everything else runs."""
        token = env.get("TELEGRAM_TOKEN", "").strip()
        if not token:
            return None
        mode = env.get("TELEGRAM_MODE", POLLING).strip().lower() or POLLING
        if mode not in (POLLING, WEBHOOK):
            raise ConfigError(f"TELEGRAM_MODE is {mode!r}; use {POLLING!r} or {WEBHOOK!r}.")
        webhook_url = env.get("TELEGRAM_WEBHOOK_URL", "").strip()
        if mode == WEBHOOK and not webhook_url.startswith("https://") and not webhook_url.startswith("http://127.0.0.1"):
            raise ConfigError("TELEGRAM_MODE=webhook needs TELEGRAM_WEBHOOK_URL, the public https:// address that "
                              f"reaches this gateway's {WEBHOOK_PATH}.")
        # Without a configured secret a random one is used: the gateway sets the webhook itself,
        # so Telegram learns it, and nobody else can post updates.
        secret = env.get("TELEGRAM_SECRET_TOKEN", "").strip() or secrets.token_urlsafe(32)
        try:
            burst, per_minute = rates_from_env(env, "TELEGRAM_USER_BURST", "TELEGRAM_USER_PER_MINUTE", cls.user_burst, cls.user_per_minute)
        except ValueError as error:
            raise ConfigError(str(error)) from None
        return cls(
            token=token, mode=mode, webhook_url=webhook_url, secret_token=secret,
            api_base_url=env.get("TELEGRAM_API_BASE_URL", "").strip().rstrip("/") or cls.api_base_url,
            user_burst=burst, user_per_minute=per_minute,
        )


def telegram_status(env: Mapping[str, str] = os.environ) -> str:
    """One line for `welcomebot run`: whether Telegram is on, and how to switch it on."""
    try:
        config = TelegramConfig.from_env(env)
    except ConfigError as error:
        return f"Telegram is off: {error}"
    if config is None:
        return OFF_MESSAGE
    if config.mode == WEBHOOK:
        return f"Telegram: on, webhook mode ({config.webhook_url} -> {WEBHOOK_PATH})."
    return "Telegram: on, polling mode (for development; TELEGRAM_MODE=webhook for production)."
