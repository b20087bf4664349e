"""The statistics store on a real PostgreSQL server (production, SPEC §2): a fresh database on
the tests' throwaway server (tests/conftest.py)."""
from __future__ import annotations

import datetime as dt

from welcomebot.stats.store import StatsStore

DAY = dt.date(2026, 12, 1)


def test_counts_and_texts_on_postgresql(postgres_url):
    store = StatsStore(postgres_url)
    for _ in range(3):
        store.count_question(DAY, "fa", "lindenau", "ask_housing")
    store.count_question(DAY, "fa", None, "ask_housing")
    store.count_feedback(DAY, "fa", "ask_housing", "up")
    store.count_feedback(DAY, "fa", "ask_housing", "up")
    store.keep_fallback(DAY - dt.timedelta(days=31), "fa", None, "old")
    store.keep_fallback(DAY, "fa", None, "new")
    assert [(q.municipality, q.count) for q in store.question_counts(DAY, DAY)] == [("lindenau", 3), ("unknown", 1)]
    assert [(f.rating, f.count) for f in store.feedback_counts(DAY, DAY)] == [("up", 2)]
    assert store.purge_texts(DAY, 30) == 1
    assert [f.text for f in store.fallback_texts(DAY - dt.timedelta(days=40), DAY)] == ["new"]
