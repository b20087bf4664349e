"""Where things are and which knobs the environment turns.

Every path can be overridden by an environment variable so that tests and deployments can point
the same code at other content or state directories without editing files.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from zoneinfo import ZoneInfo

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _path(env: str, default: Path) -> Path:
    value = os.environ.get(env)
    return Path(value).resolve() if value else default


def content_dir() -> Path:
    return _path("WELCOMEBOT_CONTENT_DIR", PROJECT_ROOT / "content")


def locales_dir() -> Path:
    return _path("WELCOMEBOT_LOCALES_DIR", PROJECT_ROOT / "locales")


def nlu_dir() -> Path:
    return _path("WELCOMEBOT_NLU_DIR", PROJECT_ROOT / "nlu")


def var_dir() -> Path:
    """Runtime state (SQLite files, logs, models' training stamps); never committed."""
    path = _path("WELCOMEBOT_VAR_DIR", PROJECT_ROOT / "var")
    path.mkdir(parents=True, exist_ok=True)
    return path


def models_dir() -> Path:
    return _path("WELCOMEBOT_MODELS_DIR", PROJECT_ROOT / "models")


def now(tz: ZoneInfo) -> dt.datetime:
    """The current time; `WELCOMEBOT_NOW` (ISO 8601) pins it, so tests are independent of the
    day they run on (events and `valid_until` depend on it)."""
    pinned = os.environ.get("WELCOMEBOT_NOW")
    if pinned:
        moment = dt.datetime.fromisoformat(pinned)
        return moment if moment.tzinfo else moment.replace(tzinfo=tz)
    return dt.datetime.now(tz)
