"""Staff features through the real stack (own Rasa, action server and gateway, own content copy
and statistics database): hot reload under load, and statistics of scripted conversations."""
from __future__ import annotations

import datetime as dt
import re
import shutil
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from welcomebot.i18n import translator
from welcomebot.stack import Stack
from welcomebot.stats.store import StatsStore

from .. import conftest as shared
from ..conftest import ROOT
from .conftest import ARTIFACTS, RestClient, buttons, custom, texts

pytestmark = pytest.mark.e2e

DAY = dt.date(2026, 12, 1)  # WELCOMEBOT_NOW, tests/conftest.py
OFFER = "notruf-112-leitstelle-auental"


@pytest.fixture(scope="module")
def staff(model: Path, tmp_path_factory):
    base = tmp_path_factory.mktemp("staff")
    content = base / "content"
    shutil.copytree(ROOT / "content", content)
    running = Stack(
        model=model, ports=shared.test_ports(26005, 26055, 29080), var_dir=base / "var", log_dir=ARTIFACTS / "e2e-staff-logs",
        extra_env={"WELCOMEBOT_CONTENT_DIR": str(content)},
    )
    with running.running():
        yield running, RestClient(running.ports.gateway), content, base / "var" / "stats.sqlite3"


# -- hot reload under load ------------------------------------------------------------------------

def version_text(original: str, version: str) -> str:
    """The offer with both its German title and summary marked with `version`."""
    text = original.replace('  de: "Notruf 112 – Feuerwehr und Rettungsdienst"', f'  de: "Notruf 112 – Fassung {version}"', 1)
    text = text.replace('  de: "Bei Feuer,', f'  de: "Fassung {version} im Text. Bei Feuer,', 1)
    assert text.count(f"Fassung {version}") == 2
    return text


def test_hot_reload_under_load_answers_entirely_old_or_entirely_new(staff):
    _stack, client, content, _db = staff
    path = content / "offers" / f"{OFFER}.yml"
    original = path.read_text(encoding="utf-8")
    versions = {v: version_text(original, v) for v in "AB"}
    path.write_text(versions["A"], encoding="utf-8")
    time.sleep(0.5)
    # The running stack has served content before the edits start (a process that first reads a
    # file while it is half saved has no last good version to fall back on).
    assert "Fassung A" in texts(client.send("e2e-reload-warm", "/ask_emergency", {"language": "de"}))
    stop = threading.Event()
    writes = {"good": 0, "broken": 0}

    def rewrite() -> None:
        cycle = 0
        while not stop.is_set():
            good = versions["AB"[cycle % 2]]
            cycle += 1
            # What editors do: a half-saved file, written in two steps with a pause between ...
            with path.open("w", encoding="utf-8") as out:
                out.write(good[: len(good) // 2])
                out.flush()
                time.sleep(0.15)
                out.write(good[len(good) // 2:])
            writes["good"] += 1
            time.sleep(0.2)
            # ... and a broken save (bad YAML), then a save with a required field missing.
            path.write_text(good.replace("category: emergency", "category: emergency: x"), encoding="utf-8")
            time.sleep(0.15)
            path.write_text(good.replace("provider:", "lieferant:"), encoding="utf-8")
            writes["broken"] += 2
            time.sleep(0.15)
            path.write_text(good, encoding="utf-8")
            time.sleep(0.2)

    def ask(n: int) -> tuple[int, set[str], bool]:
        replies = client.send(f"e2e-reload-{n}", "/ask_emergency", {"language": "de"})
        shown = {o["id"] for o in custom(replies, "offers") or []}
        found = set(re.findall(r"Fassung ([AB])", texts(replies)))
        markers = re.findall(r"Fassung ([AB])", texts(replies))
        return n, found, OFFER in shown and len(markers) == 2

    writer = threading.Thread(target=rewrite, daemon=True)
    writer.start()
    deadline = time.monotonic() + 25
    results = []
    try:
        with ThreadPoolExecutor(max_workers=3) as pool:
            n = 0
            while time.monotonic() < deadline and n < 600:
                batch = list(pool.map(ask, range(n, n + 6)))
                results += batch
                n += 6
    finally:
        stop.set()
        writer.join(timeout=10)
    mixed = [(n, found) for n, found, _ in results if len(found) != 1]
    missing = [n for n, _, complete in results if not complete]
    assert not mixed, f"answers mixing versions or without the offer: {mixed[:5]}"
    assert not missing, f"answers without the whole offer: {missing[:5]}"
    print(f"\nhot reload: {len(results)} answers during {writes['good']} good and {writes['broken']} broken saves")
    seen = {v for _, found, _ in results for v in found}
    assert seen == {"A", "B"}, f"only {seen} seen in {len(results)} answers over {writes}"
    assert len(results) >= 30 and writes["broken"] >= 10
    # The change is visible in the next answer (after the store's 0.25 s check interval).
    path.write_text(versions["B"], encoding="utf-8")
    time.sleep(0.4)
    assert set(re.findall(r"Fassung ([AB])", texts(client.send("e2e-reload-last", "/ask_emergency", {"language": "de"})))) == {"B"}
    path.write_text(original, encoding="utf-8")


# -- statistics -------------------------------------------------------------------------------

TYPED_EMAIL = "amira.k@example.org"
TYPED_PHONES = ("0176 12345678", "+49 5563 700-12")
# Texts the NLU model takes as out of scope (checked: the test fails clearly if that changes).
UNANSWERABLE = (
    f"Wie wird morgen das Wetter? {TYPED_EMAIL}",
    f"what is the capital of peru {TYPED_PHONES[0]}",
    f"xqzv wrrp {TYPED_EMAIL} {TYPED_PHONES[0]} {TYPED_PHONES[1]}",
)


def test_statistics_of_scripted_conversations_are_exact(staff):
    _stack, client, _content, db = staff
    StatsStore(f"sqlite:///{db}").engine.dispose()  # the tables exist even if nothing was asked yet
    with sqlite3.connect(db) as raw:
        for table in ("question_counts", "feedback_counts", "fallback_texts"):
            raw.execute(f"DELETE FROM {table}")  # the reload test's questions are not part of this script

    def say(sender: str, message: str, language: str) -> list[dict]:
        return client.send(sender, message, {"language": language})

    # German newcomer: a work question, the town question answered by a button, then 👍.
    first = say("stats-de", "/ask_work", "de")
    assert any(b["payload"].startswith("/inform") for b in buttons(first))
    answer = say("stats-de", '/inform{"municipality":"lindenau"}', "de")
    assert custom(answer, "topic") == "work"
    rating = [b["payload"] for b in buttons(answer) if b["payload"].startswith("/feedback")]
    assert rating == ['/feedback{"feedback": "up"}', '/feedback{"feedback": "down"}']
    say("stats-de", rating[0], "de")
    say("stats-de", rating[1], "de")  # a second rating of the same answer is not counted
    # Arabic newcomer: an emergency (answered at once, no town), then 👎.
    say("stats-ar", "/ask_emergency", "ar")
    say("stats-ar", '/feedback{"feedback": "down"}', "ar")
    # Ukrainian newcomer: greeting, names the town, then health for that town.
    say("stats-uk", "/greet", "uk")
    say("stats-uk", '/inform{"municipality":"wiesbach"}', "uk")
    assert custom(say("stats-uk", "/ask_health", "uk"), "topic") == "health"
    say("stats-fb", "/nlu_fallback", "de")  # a payload, not a question: counted, no text kept
    # Questions the bot cannot answer, with contact data typed in: their texts are kept, scrubbed.
    out_of_scope = translator("de")("I can only help with questions about living in %(district)s, for example courses, offices, work or health.",
                                    district="Landkreis Auental")
    for n, text in enumerate(UNANSWERABLE):
        replies = say(f"stats-oos-{n}", text, "de")
        assert out_of_scope in texts(replies), f"the model no longer takes {text!r} as out of scope; choose another text: {texts(replies)}"

    store = StatsStore(f"sqlite:///{db}")
    counts = {(q.language, q.municipality, q.intent): q.count for q in store.question_counts(DAY, DAY)}
    assert counts == {
        ("de", "lindenau", "ask_work"): 1,
        ("ar", "unknown", "ask_emergency"): 1,
        ("uk", "unknown", "greet"): 1,
        ("uk", "wiesbach", "inform"): 1,
        ("uk", "wiesbach", "ask_health"): 1,
        ("de", "unknown", "nlu_fallback"): 1,
        ("de", "unknown", "out_of_scope"): 3,
    }
    feedback = {(f.language, f.intent, f.rating): f.count for f in store.feedback_counts(DAY, DAY)}
    assert feedback == {("de", "ask_work", "up"): 1, ("ar", "ask_emergency", "down"): 1}
    kept = [f.text for f in store.fallback_texts(DAY, DAY)]
    # (as the NLU pipeline normalised them: lower case)
    assert kept == ["wie wird morgen das wetter? [e-mail]", "what is the capital of peru [number]", "xqzv wrrp [e-mail] [number] [number]"]
    # No stored text anywhere in the statistics holds what the newcomers typed.
    with sqlite3.connect(db) as raw:
        dump = "\n".join(raw.iterdump())
    assert TYPED_EMAIL not in dump and "@" not in dump.replace("'", "")
    for phone in TYPED_PHONES:
        assert phone not in dump and re.sub(r"\D", "", phone) not in re.sub(r"\D", "", dump)
