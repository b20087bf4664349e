"""Anonymous statistics (issue 6, SPEC §8): counts of questions per day, language, municipality
and intent, thumbs-up/down per intent and language, and the fallback questions as scrubbed texts.

`store` keeps them (SQLite by default, any SQLAlchemy URL in production), `scrub` removes what
could identify a person before a text is stored, `record` is what the action server calls on
every answered turn, `report` makes the text, HTML and CSV reports of `welcomebot stats`.
"""
from .store import StatsStore, stats_store  # noqa: F401
