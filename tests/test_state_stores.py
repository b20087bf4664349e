"""The gateway's conversation state behaves the same on SQLite (embedded) and PostgreSQL
(production): what is saved is loaded, erased is gone, retention purges the idle."""
from __future__ import annotations

import time

import pytest

from bot.state import ConversationState, open_state_store


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request, tmp_path):
    location = tmp_path / "state.sqlite3" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    return open_state_store(location)


def test_saved_state_is_loaded_erased_and_purged(store, monkeypatch):
    assert store.load("a") == ConversationState("a")
    store.save(ConversationState("a", "fa", "explicit", channel="widget"))
    store.save(ConversationState("b", "uk", "detected", channel="telegram"))
    loaded = store.load("a")
    assert (loaded.sender_id, loaded.language, loaded.language_source, loaded.channel) == ("a", "fa", "explicit", "widget")
    assert abs(loaded.updated_at - time.time()) < 60

    store.save(ConversationState("a", "ar", "explicit", channel="widget"))  # saved again: updated
    assert store.load("a").language == "ar"
    store.erase("a")
    assert store.load("a") == ConversationState("a")

    later = time.time() + 3600
    monkeypatch.setattr(time, "time", lambda: later)
    assert store.purge_older_than(60) == 1
    assert store.load("b").language is None
