"""Where things are and which knobs the environment turns.

Every path can be overridden by an environment variable so that tests and deployments can point
the same code at other content or state directories without editing files.
"""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Mapping
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


PROFILES = ("embedded", "production")


def profile() -> str:
    """`WELCOMEBOT_PROFILE` picks the stores (SPEC §2): `embedded` (default: SQLite tracker store,
    in-memory lock, SQLite gateway state) or `production` (PostgreSQL + Redis, several replicas)."""
    value = os.environ.get("WELCOMEBOT_PROFILE", "embedded").strip().lower() or "embedded"
    if value not in PROFILES:
        raise ValueError(f"WELCOMEBOT_PROFILE={value!r}: use one of {', '.join(PROFILES)}")
    return value


def endpoints_file(chosen_profile: str | None = None) -> Path:
    """The Rasa endpoints file of a profile; hosts and secrets in it come from the environment."""
    name = "endpoints.yml" if (chosen_profile or profile()) == "embedded" else "endpoints.production.yml"
    return nlu_dir() / name


def postgres_url(env: Mapping[str, str] = os.environ) -> str:
    """The production PostgreSQL database from the same variables endpoints.production.yml reads."""
    from urllib.parse import quote

    missing = [v for v in ("POSTGRES_HOST", "POSTGRES_PASSWORD") if not env.get(v)]
    if missing:
        raise ValueError(f"the production profile needs {', '.join(missing)} in the environment")
    user = quote(env.get("POSTGRES_USER", "welcomebot"), safe="")
    password = quote(env["POSTGRES_PASSWORD"], safe="")
    return (f"postgresql://{user}:{password}@{env['POSTGRES_HOST']}:{env.get('POSTGRES_PORT', '5432')}"
            f"/{env.get('POSTGRES_DB', 'welcomebot')}")


def retention_days() -> int:
    """SPEC §8: how long conversation data is kept, `WELCOMEBOT_RETENTION_DAYS` (30)."""
    return int(os.environ.get("WELCOMEBOT_RETENTION_DAYS", "30"))


def retention_seconds() -> float:
    return retention_days() * 86400.0


def now(tz: ZoneInfo) -> dt.datetime:
    """The current time; `WELCOMEBOT_NOW` (ISO 8601) pins it, so tests are independent of the
    day they run on (events and `valid_until` depend on it)."""
    pinned = os.environ.get("WELCOMEBOT_NOW")
    if pinned:
        moment = dt.datetime.fromisoformat(pinned)
        return moment if moment.tzinfo else moment.replace(tzinfo=tz)
    return dt.datetime.now(tz)
