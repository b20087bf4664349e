"""Handover to a Lotse end to end (SPEC §7): real Rasa, action server and gateway processes, the
Telegram channel and the Lotsen's staff group on one bot, against the test Bot API server.

A Ukrainian newcomer on Telegram asks for a person, Olena (a listed, Ukrainian-speaking Lotse)
takes over in the forum topic, messages go both ways, someone who is not a listed Lotse is
refused, Olena ends it and the bot is back. The gateway is killed mid-handover and restarted:
the handover goes on and what was written meanwhile arrives once. A Persian newcomer finds
nobody available, leaves a message, and it reaches Mariam when she is. All of it twice: with
the SQLite store and with PostgreSQL from Debian's package.
"""
from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Optional

import pytest

from bot.handover.telegram_desk import TAKE
from welcomebot.i18n import translator
from welcomebot.stack import Stack

from ..conftest import PORT_OFFSET
from ..conftest import test_ports as ports_for  # renamed: pytest would collect a test_* name as a test
from ..support.bot_api_server import BotApiServer, Sent, User
from ..support.postgres import fresh_database
from .conftest import ARTIFACTS

TOKEN = "7101:handover-e2e"
GROUP = -1009876543210
OLENA = User(7100000001, "Olena")
IRINA = User(7100000006, "Irina")
STRANGER = User(4040404, "Neugierig")
UK, FA = translator("uk"), translator("fa")


@pytest.fixture(scope="module")
def bot_api():
    with BotApiServer(port=28391 + PORT_OFFSET) as server:
        server.open_forum(TOKEN, GROUP)
        yield server


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store_env(request) -> dict[str, str]:
    if request.param == "sqlite":
        return {}
    return {"WELCOMEBOT_HANDOVER_STORE_URL": request.getfixturevalue("postgres_module_url")}


@pytest.fixture(scope="module")
def chat_base(store_env) -> int:
    """Newcomers' chat ids of their own per store variant: the Bot API server is shared."""
    return 5560000 if store_env else 5550000


@pytest.fixture(scope="module")
def postgres_module_url(postgres_server: str) -> str:
    return fresh_database(postgres_server, "handover_e2e_")


@pytest.fixture(scope="module")
def base_stack(model: Path, e2e_content: Path, bot_api: BotApiServer, tmp_path_factory):
    """Rasa, actions and a gateway on Telegram with the staff group; the store variants below
    restart only the gateway."""
    running = Stack(
        model=model, ports=ports_for(25105, 25155, 28180), var_dir=tmp_path_factory.mktemp("handover-var"),
        log_dir=ARTIFACTS / "e2e-logs" / "handover",
        extra_env={"WELCOMEBOT_CONTENT_DIR": str(e2e_content), **bot_api.gateway_env(TOKEN, GROUP), "WELCOMEBOT_HANDOVER_RETRY_SECONDS": "0.5"},
    )
    with running.running():
        yield running


@pytest.fixture(scope="module")
def lotse_stack(base_stack: Stack, bot_api: BotApiServer, store_env):
    base_stack.extra_env.pop("WELCOMEBOT_HANDOVER_STORE_URL", None)
    base_stack.extra_env.update(store_env)
    base_stack.restart("gateway")
    base_stack.wait_ready(timeout=120, names=["gateway"])
    wait_telegram_running(bot_api)
    return base_stack


def wait_telegram_running(bot_api: BotApiServer) -> None:
    calls = bot_api.bot(TOKEN).get_updates_calls
    bot_api.wait_for(lambda: bot_api.bot(TOKEN).get_updates_calls > calls + 1, 60, "the gateway polling Telegram")


# -- helpers: the newcomer's chat and the staff topic -------------------------------------------

def texts(sent: list[Sent]) -> list[str]:
    return [s.text or "" for s in sent if s.method == "sendMessage"]


def button(sent: list[Sent], title: str) -> tuple[Sent, str]:
    for message in reversed(sent):
        for b in message.buttons:
            if title in b.get("text", ""):
                return message, b["callback_data"]
    raise AssertionError(f"no button {title!r} in {[b.get('text') for m in sent for b in m.buttons]}")


def topic_of(bot_api: BotApiServer, since: int) -> int:
    """The thread of the first topic opened after `since` topics existed."""
    topics = bot_api.wait_for(lambda: len(bot_api.bot(TOKEN).topics.get(GROUP, {})) > since and bot_api.bot(TOKEN).topics[GROUP], 30, "a staff topic")
    return sorted(topics)[since]


def in_topic(bot_api: BotApiServer, thread: int) -> list[Sent]:
    return [s for s in bot_api.sent(TOKEN, GROUP) if s.message_thread_id == thread]


def opening(bot_api: BotApiServer, thread: int) -> Sent:
    return bot_api.wait_for(lambda: next((s for s in in_topic(bot_api, thread) if any(b.get("callback_data", "").startswith(TAKE) for b in s.buttons)), None),
                            30, "the topic's summary with the take-over button")


def ask_for_a_lotse(bot_api: BotApiServer, newcomer: User, _) -> list[Sent]:
    """/lotse, then "yes" to the consent question; returns what the bot answered to the yes."""
    consent = bot_api.exchange(TOKEN, newcomer.id, lambda: bot_api.send_text(TOKEN, newcomer, "/lotse"))
    assert _("For this, the Lotsen in the district's staff group on Telegram see your language, your town, your topic and your last messages here — not your name, username or phone number. Do you agree?") in "\n".join(texts(consent))
    message, data = button(consent, _("Yes, connect me with a Lotse"))
    return bot_api.exchange(TOKEN, newcomer.id, lambda: bot_api.tap(TOKEN, newcomer, message, data))


def take_over(bot_api: BotApiServer, thread: int, lotse: User) -> str:
    summary = opening(bot_api, thread)
    data = next(b["callback_data"] for b in summary.buttons if b["callback_data"].startswith(TAKE))
    return bot_api.tap(TOKEN, lotse, summary, data)


def answered(bot_api: BotApiServer, query_id: str) -> dict:
    return bot_api.wait_for(lambda: bot_api.callback_answer(TOKEN, query_id).get("answered") and bot_api.callback_answer(TOKEN, query_id), 30, "the button's answer")


def lotse_writes(bot_api: BotApiServer, lotse: User, thread: int, text: str) -> None:
    bot_api.send_text(TOKEN, lotse, text, chat_id=GROUP, thread_id=thread)


# -- the tests ----------------------------------------------------------------------------------

def test_a_telegram_newcomer_is_taken_over_by_a_ukrainian_lotse_and_comes_back_to_the_bot(lotse_stack, bot_api, chat_base):
    newcomer = User(chat_base + 1, "Оксана", "uk")
    topics_before = len(bot_api.bot(TOKEN).topics.get(GROUP, {}))
    asked = ask_for_a_lotse(bot_api, newcomer, UK)
    assert any("30" in t for t in texts(asked))
    thread = topic_of(bot_api, topics_before)
    summary = opening(bot_api, thread)
    assert "Ukrainisch" in bot_api.bot(TOKEN).topics[GROUP][thread]
    assert "Оксана" not in summary.text and str(newcomer.id) not in summary.text  # no name, no Telegram id (SPEC §8)

    refused = answered(bot_api, take_over(bot_api, thread, STRANGER))
    assert _true(refused.get("show_alert")) and "Nur Lotsen" in refused["text"]
    assert answered(bot_api, take_over(bot_api, thread, OLENA)).get("text") in (None, "")
    bot_api.wait_for(lambda: any("Übernommen von Olena" in (s.text or "") for s in in_topic(bot_api, thread) if s.method == "editMessageText"), 30, "the summary showing who took it")
    bot_api.wait_for(lambda: any("Olena" in t for t in texts(bot_api.sent(TOKEN, newcomer.id))), 30, "the newcomer told who is with them")
    late = answered(bot_api, take_over(bot_api, thread, IRINA))
    assert late["text"] == "Olena hat das schon übernommen."

    bot_api.send_text(TOKEN, newcomer, "Добрий день! Мені потрібна квартира в Lindenau")
    bot_api.wait_for(lambda: any("Мені потрібна квартира" in t for t in texts(in_topic(bot_api, thread))), 30, "the newcomer's message in the topic")
    reply = bot_api.exchange(TOKEN, newcomer.id, lambda: lotse_writes(bot_api, OLENA, thread, "Привіт! Я допоможу з житлом."))
    assert texts(reply) == ["Olena: Привіт! Я допоможу з житлом."]

    newcomer_count = len(bot_api.sent(TOKEN, newcomer.id))
    lotse_writes(bot_api, STRANGER, thread, "Ich schreibe einfach mit")
    bot_api.wait_for(lambda: any("Nur Lotsen" in t for t in texts(in_topic(bot_api, thread))), 30, "the refusal in the topic")
    assert len(bot_api.sent(TOKEN, newcomer.id)) == newcomer_count  # nothing reached the newcomer

    back = bot_api.exchange(TOKEN, newcomer.id, lambda: lotse_writes(bot_api, OLENA, thread, "/end"), quiet=2.0)
    assert UK("The Lotse has ended the conversation. Thank you for writing!") in texts(back)
    assert any(t.startswith("З поверненням") for t in texts(back)) and sum(len(s.buttons) for s in back) > 10  # the menu
    bot_api.wait_for(lambda: (GROUP, thread) in bot_api.bot(TOKEN).closed_topics, 30, "the topic closed")
    answer = bot_api.exchange(TOKEN, newcomer.id, lambda: bot_api.send_text(TOKEN, newcomer, "Де можна вивчати німецьку мову?"), quiet=2.0)
    assert answer and not any(t.startswith("Olena") for t in texts(answer))  # the assistant answers again (Rasa: which town?)
    assert any(b.get("callback_data", "").startswith("/inform") for s in answer for b in s.buttons)


def test_the_gateway_killed_mid_handover_loses_nothing_and_delivers_once(lotse_stack, bot_api, chat_base):
    newcomer = User(chat_base + 2, "Петро", "uk")
    topics_before = len(bot_api.bot(TOKEN).topics.get(GROUP, {}))
    ask_for_a_lotse(bot_api, newcomer, UK)
    thread = topic_of(bot_api, topics_before)
    answered(bot_api, take_over(bot_api, thread, OLENA))
    bot_api.wait_for(lambda: any("Olena" in t for t in texts(bot_api.sent(TOKEN, newcomer.id))), 30, "the take-over notice")

    lotse_stack.stop_process("gateway", signal.SIGKILL)
    lotse_writes(bot_api, OLENA, thread, "Перше повідомлення")
    lotse_writes(bot_api, OLENA, thread, "Друге повідомлення")
    bot_api.send_text(TOKEN, newcomer, "Я ще тут, поки бот не працює")
    time.sleep(1.0)
    lotse_stack.start_process("gateway", lotse_stack.commands()["gateway"])
    lotse_stack.wait_ready(timeout=120, names=["gateway"])

    expected = ["Olena: Перше повідомлення", "Olena: Друге повідомлення"]
    bot_api.wait_for(lambda: all(e in texts(bot_api.sent(TOKEN, newcomer.id)) for e in expected), 60, "the Lotse's messages after the restart")
    bot_api.wait_for(lambda: any("поки бот не працює" in t for t in texts(in_topic(bot_api, thread))), 60, "the newcomer's message in the topic")
    time.sleep(3.0)  # retries and redelivered updates would arrive by now
    got = texts(bot_api.sent(TOKEN, newcomer.id))
    assert [t for t in got if t in expected] == expected  # once each, in order
    assert sum("поки бот не працює" in t for t in texts(in_topic(bot_api, thread))) == 1
    reply = bot_api.exchange(TOKEN, newcomer.id, lambda: lotse_writes(bot_api, OLENA, thread, "Після перезапуску все працює"))
    assert texts(reply) == ["Olena: Після перезапуску все працює"]  # the handover simply went on
    bot_api.exchange(TOKEN, newcomer.id, lambda: lotse_writes(bot_api, OLENA, thread, "/end"), quiet=2.0)


def test_nobody_available_then_the_left_message_reaches_the_lotse_who_becomes_available(lotse_stack, bot_api, chat_base):
    newcomer = User(chat_base + 3, "Ali", "fa")
    topics_before = len(bot_api.bot(TOKEN).topics.get(GROUP, {}))
    queued = ask_for_a_lotse(bot_api, newcomer, FA)
    assert any(FA("You can leave a message here now: it is passed on as soon as a Lotse is available.") in t for t in texts(queued))
    assert any("17:00" in t for t in texts(queued))  # Mariam: Tuesdays from 17:00 (WELCOMEBOT_NOW is Tuesday 10:00)
    kept = bot_api.exchange(TOKEN, newcomer.id, lambda: bot_api.send_text(TOKEN, newcomer, "سلام، برای ثبت‌نام در کلاس زبان کمک می‌خواهم"))
    assert FA("Thank you. Your message is kept and passed on to a Lotse as soon as one is available.") in texts(kept)
    time.sleep(1.5)
    assert len(bot_api.bot(TOKEN).topics.get(GROUP, {})) == topics_before  # nobody to ask yet

    # Time passes: the gateway, restarted at 17:05, finds Mariam available.
    lotse_stack.extra_env["WELCOMEBOT_NOW"] = "2026-12-01T17:05:00+01:00"
    try:
        lotse_stack.restart("gateway")
        lotse_stack.wait_ready(timeout=120, names=["gateway"])
        thread = topic_of(bot_api, topics_before)
        summary = opening(bot_api, thread)
        assert "tg://user?id=7100000003" in (summary.raw_text or "")  # Mariam is asked
        bot_api.wait_for(lambda: any("کلاس زبان" in t for t in texts(in_topic(bot_api, thread))), 30, "the left message in the topic")
        bot_api.wait_for(lambda: any(FA("A Lotse is available now and has been asked. It may take about %(minutes)d minutes until someone answers here.", minutes=30) in t
                                     for t in texts(bot_api.sent(TOKEN, newcomer.id))), 30, "the newcomer told")
    finally:
        lotse_stack.extra_env.pop("WELCOMEBOT_NOW")
        lotse_stack.restart("gateway")
        lotse_stack.wait_ready(timeout=120, names=["gateway"])


def _true(value: Optional[object]) -> bool:
    return value is True or str(value).lower() == "true"
