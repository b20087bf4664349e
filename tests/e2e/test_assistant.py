"""End to end through the gateway's REST interface: every topic in every language, language
switches, bad input, broken content, health."""
from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from actions.render import topic_label
from welcomebot.content import ContentStore, category_of_intent
from welcomebot.i18n import name_in, translator

from ..conftest import REQUIRED_LANGUAGES, ROOT
from .conftest import RestClient, buttons, custom, texts

QUESTIONS = yaml.safe_load((ROOT / "tests" / "data" / "e2e_questions.yml").read_text(encoding="utf-8"))
TOWN = "lindenau"


def ask_topic(client, sender: str, question: str, hint: str = None) -> list[dict]:
    """Ask, and answer the town question if the assistant asks it (tapping the button).
    `hint` is the client's language, as the widget and Telegram send it."""
    replies = client.send(sender, question, {"client_languages": [hint]} if hint else None)
    towns = [b for b in buttons(replies) if b["payload"].startswith("/inform")]
    if towns and custom(replies, "offers") is None:
        payload = next(b["payload"] for b in towns if TOWN in b["payload"])
        replies = client.send(sender, payload)
    return replies


CASES = [(lang, intent) for lang in REQUIRED_LANGUAGES for intent in QUESTIONS[lang]]


def test_every_topic_in_every_language_is_answered_from_its_category(client, e2e_content):
    content = ContentStore(e2e_content, REQUIRED_LANGUAGES).snapshot()

    def run(case):
        lang, intent = case
        question = QUESTIONS[lang][intent][0]
        replies = ask_topic(client, f"e2e-topic-{lang}-{intent}", question, hint=lang)
        return case, question, replies

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(run, CASES))
    failures = []
    for (lang, intent), question, replies in results:
        category = category_of_intent(intent)
        offers = custom(replies, "offers") or []
        heading = topic_label(category, translator(lang))
        problems = []
        if custom(replies, "topic") != category:
            problems.append(f"topic {custom(replies, 'topic')!r}")
        if not offers or any(content.offers.get(o["id"], content.events.get(o["id"])).category != category for o in offers):
            problems.append("offers of another category")
        if heading not in texts(replies):
            problems.append("heading not in the language")
        for offer in offers:
            item = content.offers.get(offer["id"]) or content.events.get(offer["id"])
            if offer["title"] != item.title.text(lang) or item.title.text(lang) not in texts(replies):
                problems.append(f"offer {offer['id']} not in {lang}")
        if problems:
            failures.append(f"{lang} {intent} {question!r}: {', '.join(problems)} | {texts(replies)[:120]!r}")
    assert failures == [], "\n".join(failures)


def test_offers_show_address_hours_contact_and_languages(client, e2e_content):
    content = ContentStore(e2e_content, REQUIRED_LANGUAGES).snapshot()
    replies = ask_topic(client, "e2e-details-de", "Wo kann ich in Lindenau einen Deutschkurs machen?")
    offer = content.offers[custom(replies, "offers")[0]["id"]]
    text = texts(replies)
    assert offer.address.one_line() in text
    assert offer.contact.phone in text or offer.contact.email in text
    spoken = ", ".join(name_in(code, "de") for code in offer.languages_spoken)
    assert translator("de")("Languages spoken: %(languages)s", languages=spoken) in text
    assert "🕒" in text  # opening hours, rendered per weekday


def test_the_town_is_asked_once_and_remembered(client):
    first = client.send("e2e-town", "Ich suche eine Wohnung")
    assert any(b["payload"].startswith("/inform") for b in buttons(first))
    answered = client.send("e2e-town", '/inform{"municipality": "wiesbach"}')
    assert custom(answered, "topic") == "housing"
    later = client.send("e2e-town", "Wo ist das Bürgerbüro? Ich muss mich anmelden")
    assert custom(later, "topic") == "registration"
    assert not any(b["payload"].startswith("/inform") for b in buttons(later))
    assert "Wiesbach" in texts(later)


def test_a_town_named_in_the_question_is_used(client):
    replies = client.send("e2e-town-named", "deutschkurs in steinhagen")
    assert custom(replies, "topic") == "integration_course"
    assert "Steinhagen" in texts(replies)


def test_emergency_is_answered_at_once_with_110_and_112(client):
    replies = client.send("e2e-emergency", "Hilfe mein Mann schlägt mich, ich brauche die Polizei")
    assert custom(replies, "topic") == "emergency"
    assert "110" in texts(replies) and "112" in texts(replies)


def test_events_are_upcoming_and_dated_in_the_locale(client, e2e_content):
    import datetime as dt

    from ..conftest import PINNED_NOW

    content = ContentStore(e2e_content, REQUIRED_LANGUAGES).snapshot()
    replies = ask_topic(client, "e2e-events-fr", "Quels événements sont prévus prochainement ?")
    dated = [o for o in custom(replies, "offers") if "start" in o]
    assert dated, texts(replies)
    now = dt.datetime.fromisoformat(PINNED_NOW)
    assert all(dt.datetime.fromisoformat(o["start"]) >= now - dt.timedelta(days=30) for o in dated)
    first = content.events[dated[0]["id"]]
    assert first.end > now
    from babel.dates import format_skeleton
    assert format_skeleton("yMMMMEd", first.start, locale="fr") in texts(replies)


def test_first_steps_gives_the_checklist(client, e2e_content):
    content = ContentStore(e2e_content, REQUIRED_LANGUAGES).snapshot()
    replies = client.send("e2e-first-uk", "Я щойно приїхала, що мені робити спочатку?")
    text = texts(replies)
    for step in content.first_steps.steps:
        assert step.title.text("uk") in text


def test_conversation_that_switches_language(client):
    sender = "e2e-switch"
    german = client.send(sender, "Wo finde ich einen Arzt?")
    assert translator("de")("Which town do you live in? Then I can show you the offers near you.") in texts(german)
    client.send(sender, '/inform{"municipality": "auenstadt"}')
    # Writing in another language switches the conversation (a confident detection).
    french = client.send(sender, "Je cherche un cours d'allemand s'il vous plaît")
    assert topic_label("integration_course", translator("fr")) in texts(french)
    # An explicit choice wins over detection from then on.
    arabic = client.send(sender, "I want to speak Arabic")
    assert custom(arabic, "language") == "ar"
    assert translator("ar")("All right, from now on I will write in %(language)s.", language="العربية") in texts(arabic)
    housing = client.send(sender, "I am looking for a flat")
    assert topic_label("housing", translator("ar")) in texts(housing)
    # Short messages keep the conversation's language.
    thanks = client.send(sender, "ok")
    assert translator("ar")("All right. What else can I help you with?") in texts(thanks) or any(
        "\u0600" <= ch <= "\u06ff" for ch in texts(thanks))


def test_german_office_word_inside_arabic_keeps_arabic(client):
    replies = ask_topic(client, "e2e-mixed-ar", "أريد موعد في Ausländerbehörde لتمديد الإقامة")
    assert topic_label("immigration_office", translator("ar")) in texts(replies)


def test_client_hint_is_used_for_short_greetings(client):
    replies = client.send("e2e-hint", "hi", {"client_languages": ["uk-UA", "en"]})
    assert translator("uk")("What would you like to know? Tap a topic or write your question.") in texts(replies)


BAD_INPUTS = {
    "empty": "",
    "spaces": "   \n\t ",
    "10000 characters": ("Ich bin vor drei Monaten aus Syrien gekommen und wohne jetzt bei meinem Bruder. " * 130)[:9950] + " Wo kann ich Deutsch lernen?",
    "emoji only": "🙂🙏🏽🇩🇪❤️",
    "mixed scripts": "hello مرحبا привет 你好 γειά שלום",
    "control characters": "\x00\x07wo\x1b[31m ist\x08 das\x7f Jobcenter\u200b?",
    "unknown command": "/foo",
    "number": 12345,
    "null": None,
}


@pytest.mark.parametrize("name", list(BAD_INPUTS))
def test_bad_input_gets_a_sensible_answer(client, name):
    replies = client.send(f"e2e-bad-{name}", BAD_INPUTS[name])
    assert replies and all(isinstance(r, dict) for r in replies)
    assert texts(replies).strip(), replies


def test_invalid_utf8_gets_an_answer(client):
    body = b'{"sender": "e2e-bad-bytes", "message": "wo ist das B\xfcrgerb\xfcro \xff\xfe"}'
    status, replies = client.post_raw(body)
    assert status == 200 and texts(replies).strip()


def test_malformed_requests_get_a_clear_error(client):
    status, error = client.post_raw(b"{not json")
    assert status == 400 and "not JSON" in error["error"]
    status, error = client.post_raw(json.dumps({"message": "hallo"}).encode())
    assert status == 400 and "sender" in error["error"]


def test_health_reports_rasa_actions_and_content(client):
    status, health = client.get("/health")
    assert status == 200 and health["status"] == "ok"
    assert health["rasa"][0]["ok"] and health["actions"]["ok"]
    assert health["content"]["offers"] >= 60 and health["content"]["errors"] == []


def test_broken_content_is_reported_and_last_good_keeps_serving(client, e2e_content):
    path = e2e_content / "offers" / "buergerbuero-lindenau.yml"
    good = path.read_text(encoding="utf-8")
    sender = "e2e-broken"
    client.send(sender, '/inform{"municipality": "lindenau"}')
    try:
        path.write_text(good.replace("category: registration", "category: registraton\ntitle: [broken"), encoding="utf-8")
        check = subprocess.run([sys.executable, "-m", "welcomebot.cli", "content", "check", "--content-dir", str(e2e_content), "--errors-only"],
                               capture_output=True, text=True, cwd=ROOT)
        assert check.returncode == 1
        assert "content/offers/buergerbuero-lindenau.yml:" in check.stdout and "not valid YAML" in check.stdout
        time.sleep(0.5)
        replies = client.send(sender, "Wo kann ich meine Wohnung anmelden?")
        assert "buergerbuero-lindenau" in [o["id"] for o in custom(replies, "offers")]
        # A good edit shows in the next answer, without a restart.
        path.write_text(good.replace("  de: ", "  de: Neu im Rathaus – ", 1), encoding="utf-8")
        time.sleep(0.5)
        replies = client.send(sender, "Wo kann ich meine Wohnung anmelden?")
        assert "Neu im Rathaus – Bürgerbüro Lindenau" in texts(replies)
    finally:
        path.write_text(good, encoding="utf-8")


def test_delete_erases_the_conversation(client, stack):
    import sqlite3

    sender = "e2e-delete"
    client.send(sender, "Ich suche Arbeit")
    tracker = sqlite3.connect(Path(stack.var_dir) / "tracker.sqlite3")
    assert tracker.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0] > 0
    replies = client.send(sender, "/delete")
    assert texts(replies)
    assert tracker.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (sender,)).fetchone()[0] == 0


def test_terminal_chat_talks_through_the_gateway(stack):
    result = subprocess.run(
        [sys.executable, "-m", "welcomebot.cli", "chat", "--url", f"http://127.0.0.1:{stack.ports.gateway}", "--language", "uk"],
        input="1\nде можна вивчити німецьку мову\n", capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    _ = translator("uk")
    assert _("What would you like to know? Tap a topic or write your question.") in result.stdout
    assert f"[1] {topic_label('first_steps', _)}" in result.stdout  # buttons are numbered
    after_tap = result.stdout.split("> ", 1)[1]  # "1" tapped the first button: first steps
    assert _("Which town do you live in? Then I can show you the offers near you.") in after_tap
    after_question = after_tap.split("> ", 1)[1]
    assert _("Which town do you live in? Then I can show you the offers near you.") in after_question


def test_a_turn_sent_again_after_a_replica_failed_is_answered_once(stack):
    """What the gateway does when a replica dies mid-turn (bot/rasa_client.py): the same turn,
    marked `retry`, to the next replica. Here one real Rasa plays both replicas: the turn was
    finished and stored, so the retry gets the same answers and nothing is stored twice."""
    rasa = RestClient(stack.ports.rasa)
    sender = "e2e-retried-turn"
    first = rasa.send(sender, "wo kann ich in lindenau deutsch lernen", {"language": "de", "turn_id": "turn-1"})
    assert custom(first, "offers")  # a real answer with offers
    again = rasa.send(sender, "wo kann ich in lindenau deutsch lernen", {"language": "de", "turn_id": "turn-1", "retry": True})
    assert again == first
    # A retry of a turn the failed replica never stored is processed as any turn.
    fresh = rasa.send(sender, "wo ist ein arzt in lindenau", {"language": "de", "turn_id": "turn-2", "retry": True})
    assert custom(fresh, "offers") and fresh != first
    with sqlite3.connect(stack.var_dir / "tracker.sqlite3") as db:
        said = [json.loads(data)["text"] for (data,) in db.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sender,))]
    assert said.count("wo kann ich in lindenau deutsch lernen") == 1 and said.count("wo ist ein arzt in lindenau") == 1


def test_the_gateway_and_the_action_server_serve_with_their_loaded_heap_frozen(stack, client):
    """Full garbage collections that walked everything loaded stopped every conversation for
    65-230 ms; both servers freeze what they loaded before serving (Rasa: tests/test_core_pieces.py)."""
    assert client.send("frozen-heap", "hallo")
    logs = {name: stack.log_of(name) for name in ("gateway", "actions")}
    assert re.search(r"gateway ready: [1-9]\d{4,} loaded objects frozen", logs["gateway"]), logs["gateway"][-2000:]
    assert re.search(r"action server ready: [1-9]\d{4,} loaded objects frozen", logs["actions"]), logs["actions"][-2000:]
