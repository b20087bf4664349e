"""The Telegram channel end to end: the real gateway process with python-telegram-bot, real Rasa and
action server, against the test Bot API server (tests/support/bot_api_server.py) on loopback. The
test plays the newcomer on Telegram and checks every reply: language, buttons, text."""
from __future__ import annotations

import datetime as dt
import json
import logging
import re
import shutil
import sqlite3
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml
from aiohttp import web

from actions.location import distance_m, distance_text
from actions.render import TOPIC_ICONS, topic_label
from bot.app import GatewayConfig, create_app
from bot.channels.telegram import TELEGRAM
from bot.channels.telegram.config import telegram_status
from bot.channels.telegram.payloads import PayloadTable
from bot.ratelimit import UserRateLimiter
from bot.channels.telegram.render import MAX_TEXT, split_text, utf16_len
from bot.keys import ASSISTANT
from bot.outbound import DeliveryFailed
from welcomebot.content import ContentStore
from welcomebot.i18n import name_in, own_name, supported_languages, translator
from welcomebot.stack import Ports, Stack

from ..conftest import PINNED_NOW, PORT_OFFSET, REQUIRED_LANGUAGES, ROOT
from ..conftest import test_ports as ports_for  # renamed: pytest would collect a test_* name as a test
from ..support.bot_api_server import BotApiServer, Sent, User
from ..support.waiting import until
from .conftest import ARTIFACTS, RestClient

POLLING_TOKEN = "7001:polling-e2e"
WEBHOOK_TOKEN = "7002:webhook-e2e"
SECRET = "e2e-secret-token"
QUESTIONS = yaml.safe_load((ROOT / "tests" / "data" / "e2e_questions.yml").read_text(encoding="utf-8"))
ARABIC = re.compile(r"[\u0600-\u06FF]")
SPECIAL = '<b>Café & "Treff"</b> _*[x](y) </a> &amp; <i>'
LONG_LINES = [f"Zeile {n:03d}: Hier steht ein langer Absatz über das Angebot, mit allen Einzelheiten." for n in range(1, 121)]
SPRACHCAFE = (51.6946, 9.9498)  # the Sprachcafé in Lindenau, from content/


def _offer(source: dict, **changes) -> dict:
    offer = dict(source)
    offer.update(changes)
    return offer


@pytest.fixture(scope="module")
def tg_content(tmp_path_factory) -> Path:
    """content/ plus two meeting places in Lindenau made to break a careless channel: one far longer
    than a Telegram message, one full of HTML and Markdown characters."""
    target = tmp_path_factory.mktemp("telegram") / "content"
    shutil.copytree(ROOT / "content", target)
    base = yaml.safe_load((target / "offers" / "sprachcafe-lindenau.yml").read_text(encoding="utf-8"))
    del base["address"]["lat"], base["address"]["lon"]
    every = lambda text: {code: text for code in REQUIRED_LANGUAGES}
    offers = {
        "aaa-langes-angebot": _offer(base, id="aaa-langes-angebot", title=every("Langes Angebot"), summary=every("\n".join(LONG_LINES))),
        "aab-sonderzeichen": _offer(base, id="aab-sonderzeichen", title=every(SPECIAL), summary=every(f"{SPECIAL} *fett* _kursiv_ `code` 1 < 2 > 0")),
    }
    for name, offer in offers.items():
        (target / "offers" / f"{name}.yml").write_text(yaml.safe_dump(offer, allow_unicode=True), encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def bot_api():
    with BotApiServer(port=28191 + PORT_OFFSET) as server:
        yield server


def _telegram_env(content: Path, bot_api: BotApiServer, token: str, **more: str) -> dict[str, str]:
    return {"WELCOMEBOT_CONTENT_DIR": str(content), **bot_api.gateway_env(token), **more}


@pytest.fixture(scope="module")
def tg_stack(model, tg_content, bot_api, tmp_path_factory):
    """Rasa, actions and a gateway with Telegram in polling mode, as `welcomebot run` starts them."""
    running = Stack(model=model, ports=ports_for(25006, 25056, 28081), var_dir=tmp_path_factory.mktemp("tg-var"),
                    log_dir=ARTIFACTS / "telegram-logs", extra_env=_telegram_env(tg_content, bot_api, POLLING_TOKEN, TELEGRAM_MODE="polling"))
    with running.running():
        bot_api.wait_for(lambda: bot_api.bot(POLLING_TOKEN).get_updates_calls > 0, 60, "the bot to poll")
        yield running


@pytest.fixture(scope="module")
def webhook_gateway(tg_stack, tg_content, bot_api):
    """A second gateway on the same Rasa, with Telegram in webhook mode."""
    port = 28082 + PORT_OFFSET
    gateway = Stack(model=tg_stack.model, ports=Ports(tg_stack.ports.rasa, tg_stack.ports.actions, port), var_dir=tg_stack.var_dir,
                    log_dir=ARTIFACTS / "telegram-webhook-logs", extra_env=_telegram_env(
                        tg_content, bot_api, WEBHOOK_TOKEN, TELEGRAM_MODE="webhook", TELEGRAM_SECRET_TOKEN=SECRET,
                        TELEGRAM_WEBHOOK_URL=f"http://127.0.0.1:{port}/telegram/webhook"))
    gateway.start_process("gateway", gateway.commands()["gateway"])
    try:
        gateway.wait_ready(timeout=60, names=["gateway"])
        bot_api.wait_for(lambda: bot_api.bot(WEBHOOK_TOKEN).webhook_url, 60, "the bot to set its webhook")
        yield port
    finally:
        gateway.stop()


class Newcomer:
    """One person on Telegram, talking to the polling bot."""

    def __init__(self, bot_api: BotApiServer, user_id: int, language_code: str, token: str = POLLING_TOKEN) -> None:
        self.api, self.token = bot_api, token
        self.user = User(user_id, language_code=language_code)

    def _exchange(self, act, what: str = "(other message)") -> list[Sent]:
        sent = self.api.exchange(self.token, self.user.id, act)
        _transcript(self.user, what, sent)
        return sent

    def says(self, text: str) -> list[Sent]:
        return self._exchange(lambda: self.api.send_text(self.token, self.user, text), text)

    def taps(self, message: Sent, callback_data: str) -> list[Sent]:
        query: list[str] = []
        sent = self._exchange(lambda: query.append(self.api.tap(self.token, self.user, message, callback_data)), f"[taps {callback_data}]")
        assert self.api.callback_answer(self.token, query[0])["answered"], "the button's spinner was not stopped"
        return sent

    def taps_title(self, messages: list[Sent], title: str) -> list[Sent]:
        message, button = _button(messages, title)
        return self.taps(message, button["callback_data"])

    def shares_location(self, latitude: float, longitude: float) -> list[Sent]:
        return self._exchange(lambda: self.api.share_location(self.token, self.user, latitude, longitude), f"[location {latitude}, {longitude}]")


def _transcript(user: User, what: str, sent: list[Sent]) -> None:
    """Every exchange, as the newcomer saw it, in test-artifacts/ for people to read."""
    ARTIFACTS.mkdir(exist_ok=True)
    lines = [f"> {user.id} ({user.language_code}): {what}"]
    for message in sent:
        body = message.text if message.venue is None else f"📍 venue {message.venue['title']} | {message.venue['address']}"
        lines.append(f"< {message.method}: {body}")
        lines += [f"    [{b['text']}] -> {b.get('callback_data')}" for b in message.buttons]
    with (ARTIFACTS / "telegram-transcript.txt").open("a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n\n")


def _button(messages: list[Sent], title: str) -> tuple[Sent, dict]:
    for message in messages:
        for button in message.buttons:
            if button["text"] == title:
                return message, button
    raise AssertionError(f"no button {title!r} in {[b['text'] for m in messages for b in m.buttons]}")


def _titles(messages: list[Sent]) -> list[str]:
    return [b["text"] for m in messages for b in m.buttons]


def _text(messages: list[Sent]) -> str:
    return "\n".join(m.text for m in messages if m.text)


def test_commands_are_registered_in_every_language(tg_stack, bot_api):
    bot_api.wait_for(lambda: bot_api.commands(POLLING_TOKEN, "fa"), 30, "the command lists")
    for language in supported_languages():
        _ = translator(language)
        commands = {c["command"]: c["description"] for c in bot_api.commands(POLLING_TOKEN, language)}
        assert set(commands) == {"start", "language", "menu", "lotse", "privacy", "delete"}
        assert commands["menu"] == _("Show the topics") and commands["delete"] == _("Delete my conversation now")
    assert ARABIC.search(bot_api.commands(POLLING_TOKEN, "ar")[0]["description"])
    assert bot_api.commands(POLLING_TOKEN)[0]["description"] == translator("de")("Start: greeting, language and topics")


def test_a_newcomer_starts_picks_arabic_taps_a_topic_asks_and_shares_a_location(tg_stack, bot_api, tg_content):
    content = ContentStore(tg_content, REQUIRED_LANGUAGES).snapshot()
    en, ar = translator("en"), translator("ar")
    newcomer = Newcomer(bot_api, 910001, "en")

    # /start: greeting in the client's language (English), language picker with own names, topics.
    start = newcomer.says("/start")
    district = content.district.name.text("en")
    assert start[0].text.startswith(en("Hello and welcome to %(district)s! I answer questions about life here, in your language.", district=district))
    assert start[1].text == en("Choose your language:")
    assert [b["text"] for b in start[1].buttons] == [own_name(code) for code in supported_languages()]
    assert {"العربية", "Українська", "فارسی"} <= set(_titles([start[1]]))
    assert start[-1].text == en("What would you like to know? Tap a topic or write your question.")
    assert topic_label("work", en) in _titles([start[-1]])

    # picks Arabic
    picked = newcomer.taps_title(start, "العربية")
    assert picked[0].text == ar("All right, from now on I will write in %(language)s.", language=name_in("ar", "ar"))
    assert _titles(picked) == ["📋 " + ar("Topics")]

    # taps Topics, then a topic, then the town
    menu = newcomer.taps_title(picked, "📋 " + ar("Topics"))
    assert topic_label("meeting_places", ar) in _titles(menu) and all(ARABIC.search(t) for t in _titles(menu))
    town_question = newcomer.taps_title(menu, topic_label("meeting_places", ar))
    assert town_question[0].text == ar("Which town do you live in? Then I can show you the offers near you.")
    lindenau = content.district.municipality("lindenau").name.text("ar")
    offers = newcomer.taps_title(town_question, lindenau)
    assert offers[0].text.startswith(f"{topic_label('meeting_places', ar)} — {lindenau}")
    assert content.offers["sprachcafe-lindenau"].title.text("ar") in _text(offers)
    assert offers[-1].text == ar("Can I help you with anything else?")
    assert _titles(offers) == ["👍 " + ar("Helpful"), "👎 " + ar("Not helpful"), "📋 " + ar("Topics"), "🙋 " + ar("Talk to a person")]

    # asks a free-text question in Arabic: the town is remembered
    question = QUESTIONS["ar"]["ask_integration_course"][0]
    answer = newcomer.says(question)
    assert answer[0].text.startswith(f"{topic_label('integration_course', ar)} — {lindenau}")
    courses = content.offers_for("integration_course", dt.datetime.fromisoformat(PINNED_NOW), "lindenau")
    assert courses[0].title.text("ar") in _text(answer)
    assert all(ARABIC.search(m.text) for m in answer if m.text)
    assert _titles(answer) == ["👍 " + ar("Helpful"), "👎 " + ar("Not helpful"), "📋 " + ar("Topics"), "🙋 " + ar("Talk to a person")]

    # shares a location: the nearest offers of the topic being discussed, with distance and pins
    nearby = newcomer.shares_location(*SPRACHCAFE)
    assert nearby[0].text == topic_label("integration_course", ar) + "\n" + ar("The nearest offers to your location:")
    metres, nearest = _nearest(content, "integration_course", SPRACHCAFE)
    texts = [m.text for m in nearby if m.method == "sendMessage"]
    assert texts[1].startswith(f"{TOPIC_ICONS['integration_course']} {nearest.title.text('ar')}")
    assert texts[1].endswith("📏 " + ar("%(distance)s from you", distance=distance_text(metres, ar)))
    venues = [m for m in nearby if m.method == "sendVenue"]
    assert venues and venues[0].venue["title"] == nearest.title.text("ar")
    assert venues[0].location == (nearest.address.lat, nearest.address.lon)


def _nearest(content, category: str, where: tuple[float, float]):
    now = dt.datetime.fromisoformat(PINNED_NOW)
    return min(((distance_m(*where, o.address.lat, o.address.lon), o) for o in content.offers_for(category, now)
                if o.address and o.address.lat is not None), key=lambda pair: pair[0])


def test_start_greets_in_the_client_language(tg_stack, bot_api):
    start = Newcomer(bot_api, 910002, "ar").says("/start")
    assert ARABIC.search(start[0].text) and start[1].text == translator("ar")("Choose your language:")
    assert start[-1].text == translator("ar")("What would you like to know? Tap a topic or write your question.")


def test_a_location_without_topic_asks_which_topic_then_answers_with_distance(tg_stack, bot_api):
    uk = translator("uk")
    newcomer = Newcomer(bot_api, 910003, "uk")
    asked = newcomer.shares_location(*SPRACHCAFE)
    assert asked[0].text == uk("Thank you. Which topic should I look for near you?")
    _message, button = _button(asked, topic_label("meeting_places", uk))
    assert button["callback_data"].startswith("#")  # a payload with coordinates is longer than 64 bytes
    answer = newcomer.taps(asked[0], button["callback_data"])
    assert answer[0].text.startswith(topic_label("meeting_places", uk))
    assert f"📏 {uk('%(distance)s from you', distance=distance_text(0, uk))}" in _text(answer)  # 10 m: at the café
    assert [m.venue["title"] for m in answer if m.venue][0].startswith("Мовне кафе")

    # a button older than the retention period (its payload purged) leads to the topics
    _message, old_button = _button(asked, topic_label("work", uk))
    with sqlite3.connect(tg_stack.var_dir / "telegram-buttons.sqlite3") as db:
        db.execute("DELETE FROM callback_payloads WHERE key = ?", (old_button["callback_data"],))
    expired = newcomer.taps(asked[0], old_button["callback_data"])
    assert expired[0].text == uk("I can help you with these topics. Tap one or just write your question:")


def test_commands_map_onto_the_assistant(tg_stack, bot_api):
    de = translator("de")
    newcomer = Newcomer(bot_api, 910004, "de")
    assert newcomer.says("/menu")[0].text == de("I can help you with these topics. Tap one or just write your question:")
    assert newcomer.says("/language")[0].text == de("Which language would you like?")
    assert newcomer.says("/lotse")[0].text.startswith(de("A volunteer mentor (Lotse) from the district can write with you here, in this chat."))  # the consent question (SPEC §7)
    assert de("Statistics count questions, never who asked. Questions I could not answer are kept for the staff without numbers, e-mail addresses or names, and deleted after the same time. Write /delete to erase your conversation now.") in newcomer.says("/privacy")[0].text
    assert newcomer.says("/delete")[0].text == de("Your conversation has been deleted. If you write again, we start afresh.")


def test_voice_photos_stickers_and_files_get_a_polite_answer(tg_stack, bot_api):
    fa = translator("fa")
    newcomer = Newcomer(bot_api, 910005, "fa")
    expected = fa("Sorry, I cannot understand voice messages, pictures, stickers or files. I understand text messages, buttons and shared locations: please write your question, tap a button or share your location.")
    for send in (bot_api.send_voice, bot_api.send_photo, bot_api.send_sticker, bot_api.send_document):
        answer = newcomer._exchange(lambda: send(POLLING_TOKEN, newcomer.user))
        assert [m.text for m in answer] == [expected]


def test_a_flood_is_slowed_down_with_one_notice(tg_stack, bot_api):
    tr = translator("tr")
    newcomer = Newcomer(bot_api, 910006, "tr")
    answers = newcomer._exchange(lambda: [bot_api.send_sticker(POLLING_TOKEN, newcomer.user) for _ in range(20)])
    notices = [m for m in answers if m.text == tr("You are writing faster than I can read. Please wait a moment, then write again.")]
    assert len(notices) == 1
    assert 10 <= len(answers) - 1 <= 12  # the burst of 10, perhaps one more refilled meanwhile


def test_long_content_is_split_at_lines_and_nothing_is_cut(tg_stack, bot_api):
    newcomer = Newcomer(bot_api, 910007, "de")
    town_question = newcomer.says("/ask_meeting_places")
    offers = newcomer.taps_title(town_question, "Lindenau")
    pieces = [m for m in offers if m.text and "Zeile" in m.text]
    assert len(pieces) >= 2 and all(utf16_len(m.text) <= MAX_TEXT for m in pieces)
    received = "\n".join(m.text for m in pieces).split("\n")
    assert [line for line in received if line.startswith("Zeile")] == LONG_LINES
    assert pieces[0].text.startswith("☕ Langes Angebot") and pieces[0].raw_text.startswith("<b>☕ Langes Angebot</b>")


def test_html_and_markdown_characters_never_break_a_message(tg_stack, bot_api):
    newcomer = Newcomer(bot_api, 910008, "de")
    town_question = newcomer.says(f"{SPECIAL} Wo ist ein Treffpunkt?")  # the newcomer's own text, too
    assert town_question and all(m.text for m in town_question)
    offers = newcomer.taps_title(newcomer.says("/ask_meeting_places"), "Lindenau")
    special = next(m for m in offers if m.text and SPECIAL in m.text)
    assert f"{SPECIAL} *fett* _kursiv_ `code` 1 < 2 > 0" in special.text  # shown exactly as written
    assert "&lt;b&gt;Café &amp; \"Treff\"&lt;/b&gt;" in special.raw_text


def test_rest_and_telegram_give_the_same_answers(tg_stack, bot_api):
    rest = RestClient(tg_stack.ports.gateway)  # the same gateway, its REST interface
    newcomer = Newcomer(bot_api, 910009, "fr")
    steps = ["Bonjour", QUESTIONS["fr"]["ask_integration_course"][0], '/inform{"municipality": "lindenau"}', "merci"]
    for step in steps:
        by_rest = rest.send("rest-fr-equal", step, {"client_languages": ["fr"]})
        if step.startswith("/inform"):
            by_telegram = newcomer.taps(previous[-1], step)
        else:
            by_telegram = newcomer.says(step)
        rest_texts = [r["text"] for r in by_rest if r.get("text")]
        telegram_texts = [m.text for m in by_telegram if m.method == "sendMessage"]
        assert telegram_texts == rest_texts, step
        assert _titles(by_telegram) == [b["title"] for r in by_rest for b in r.get("buttons") or []], step
        previous = by_telegram


def test_webhook_refuses_requests_without_the_secret_and_answers_updates(webhook_gateway, bot_api):
    url = f"http://127.0.0.1:{webhook_gateway}/telegram/webhook"
    update = json.dumps({"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "hi"}}).encode()
    for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
        request = urllib.request.Request(url, data=update, headers={"Content-Type": "application/json", **headers})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403
    assert bot_api.bot(WEBHOOK_TOKEN).webhook_secret == SECRET
    newcomer = Newcomer(bot_api, 910010, "ru", token=WEBHOOK_TOKEN)
    start = newcomer.says("/start")
    assert bot_api.bot(WEBHOOK_TOKEN).webhook_statuses[-1] == 200
    assert start[1].text == translator("ru")("Choose your language:")
    assert start[-1].text == translator("ru")("What would you like to know? Tap a topic or write your question.")


@pytest.mark.parametrize("text", ["", "a", "x" * 5000, "\n".join(LONG_LINES), "🙂" * 3000 + "\nend", "a\n\nb"])
def test_split_text_keeps_everything_within_the_limit(text):
    pieces = split_text(text)
    assert all(utf16_len(p) <= MAX_TEXT for p in pieces)
    assert "".join(pieces).replace("\n", "") == text.replace("\n", "")
    if "\n" in text and all(utf16_len(line) <= MAX_TEXT for line in text.split("\n")):
        assert "\n".join(pieces) == text  # split only at line boundaries


# --- the channel's pieces, in this process ------------------------------------------------------

INPROCESS_TOKEN = "7003:in-process"


async def test_outbound_messages_reach_the_chat_and_a_rasa_outage_is_said(bot_api, tmp_path, monkeypatch):
    monkeypatch.setenv("TELEGRAM_TOKEN", INPROCESS_TOKEN)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", bot_api.root_url)
    monkeypatch.delenv("TELEGRAM_MODE", raising=False)
    app = create_app(GatewayConfig(rasa_urls=["http://127.0.0.1:9"], state_db=str(tmp_path / "gateway.sqlite3")))
    runner = web.AppRunner(app)
    await runner.setup()  # the gateway's start-up: the channel starts polling
    try:
        await until(lambda: app[TELEGRAM].running)
        user = User(920001, language_code="de")
        bot_api.send_text(INPROCESS_TOKEN, user, "Hallo")
        told = await until(lambda: bot_api.sent(INPROCESS_TOKEN, user.id), what="the answer")
        phone = ContentStore(ROOT / "content", REQUIRED_LANGUAGES).snapshot().district.contact.contact.phone
        assert told[0].text == translator("de")("Sorry, I cannot answer right now. Please try again in a few minutes, or call the integration office: %(phone)s", phone=phone)

        message = {"text": "Ihre Lotsin <Anna> & Team *schreibt*", "buttons": [{"title": "👍", "payload": "/affirm"}]}
        await app[ASSISTANT].outbound.deliver("telegram", "tg:920001", [message])
        delivered = bot_api.sent(INPROCESS_TOKEN, user.id)[-1]
        assert delivered.text == message["text"] and delivered.buttons == [{"text": "👍", "callback_data": "/affirm"}]
        with pytest.raises(DeliveryFailed):
            await app[ASSISTANT].outbound.deliver("telegram", "widget-abc", [message])
    finally:
        await runner.cleanup()
    assert not app[TELEGRAM].running


def test_without_a_token_telegram_is_off_and_says_how_to_switch_it_on(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv("TELEGRAM_TOKEN", raising=False)
    with caplog.at_level(logging.INFO):
        app = create_app(GatewayConfig(state_db=str(tmp_path / "gateway.sqlite3")))
    assert TELEGRAM not in app
    assert "Telegram is off: set TELEGRAM_TOKEN" in caplog.text
    assert telegram_status({}).startswith("Telegram is off: set TELEGRAM_TOKEN")
    assert "TELEGRAM_WEBHOOK_URL" in telegram_status({"TELEGRAM_TOKEN": "1:x", "TELEGRAM_MODE": "webhook"})
    assert telegram_status({"TELEGRAM_TOKEN": "1:x"}).startswith("Telegram: on, polling mode")


def test_the_rate_limit_tells_once_and_refills():
    now = [0.0]
    limiter = UserRateLimiter(burst=3, per_minute=30, clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(6)] == ["ok", "ok", "ok", "warn", "drop", "drop"]
    assert limiter.take("b") == "ok"  # per newcomer
    now[0] += 2.0  # 30 per minute: one message per 2 s
    assert [limiter.take("a"), limiter.take("a")] == ["ok", "warn"]


def test_long_payloads_are_kept_for_buttons_and_survive_a_restart(tmp_path):
    long_payload = "/share_location" + json.dumps({"latitude": 51.69461, "longitude": 9.94983, "topic": "integration_course"})
    table = PayloadTable(tmp_path / "buttons.sqlite3")
    short = '/inform{"municipality": "lindenau"}'
    assert table.callback_data(short) == short
    key = table.callback_data(long_payload)
    assert len(key.encode()) <= 64 and key == table.callback_data(long_payload)
    assert PayloadTable(tmp_path / "buttons.sqlite3").payload(key) == long_payload
    assert table.payload("#unknown") is None
