"""The test Bot API server, driven by python-telegram-bot's own `Bot` as the gateway drives it:
it must answer what PTB parses, and refuse what Telegram refuses."""
from __future__ import annotations

import pytest
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict

from ..conftest import PORT_OFFSET
from .bot_api_server import BotApiServer, User, parse_html

TOKEN = "4242:test-token"


@pytest.fixture(scope="module")
def server():
    with BotApiServer(port=28190 + PORT_OFFSET) as running:
        yield running


@pytest.fixture
async def bot(server):
    client = Bot(TOKEN, base_url=server.base_url)
    await client.initialize()
    yield client
    await client.shutdown()


def test_html_parsing_like_telegram():
    assert parse_html("<b>Kurs</b> &amp; &lt;Café&gt; &#1575;") == "Kurs & <Café> ا"
    for broken in ("<b>open", "a </b>", "<x>y</x>", "1 < 2", "<b><i>x</b></i>", "&nbsp;"):
        with pytest.raises(Exception, match="(?i)can't parse entities"):
            parse_html(broken)


async def test_get_me_and_a_message_to_a_user(server, bot):
    assert bot.username == "welcome_4242_bot"
    user = User(501, language_code="ar")
    server.send_text(TOKEN, user, "/start")
    updates = await bot.get_updates(timeout=1)
    assert updates[-1].message.text == "/start" and updates[-1].message.from_user.language_code == "ar"
    assert updates[-1].message.entities[0].type == "bot_command"
    await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)  # confirms
    assert await bot.get_updates(timeout=0) == ()
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("العربية", callback_data="/change_language")]])
    message = await bot.send_message(501, "<b>مرحبا</b> &amp; hello", parse_mode="HTML", reply_markup=markup)
    assert message.text == "مرحبا & hello" and message.chat.id == 501
    sent = server.sent(TOKEN, 501)[-1]
    assert sent.raw_text == "<b>مرحبا</b> &amp; hello" and sent.buttons[0]["callback_data"] == "/change_language"


async def test_callbacks_are_delivered_and_answered(server, bot):
    user = User(502)
    server.send_text(TOKEN, user, "hi")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Topics", callback_data="/help")]])
    await bot.send_message(502, "menu", reply_markup=markup)
    query_id = server.tap(TOKEN, user, server.sent(TOKEN, 502)[-1], "/help")
    update = (await bot.get_updates(timeout=1))[-1]
    assert update.callback_query.data == "/help" and update.callback_query.message.chat.id == 502
    assert await update.callback_query.answer()
    assert server.callback_answer(TOKEN, query_id)["answered"]
    await bot.get_updates(offset=update.update_id + 1, timeout=0)


async def test_refuses_what_telegram_refuses(server, bot):
    server.send_text(TOKEN, User(503), "hi")
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.send_message(503, "<b>unclosed", parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)too long"):
        await bot.send_message(503, "x" * 4097)
    await bot.send_message(503, "x" * 4096)
    with pytest.raises(BadRequest, match="(?i)too long"):  # UTF-16 units: an emoji counts twice
        await bot.send_message(503, "🙂" * 2049)
    with pytest.raises(BadRequest, match="(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(503, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="y" * 65)]]))
    with pytest.raises(BadRequest, match="(?i)chat not found"):
        await bot.send_message(999999, "x")
    with pytest.raises(BadRequest, match="(?i)empty"):
        await bot.send_message(503, "<b> </b>", parse_mode="HTML")


async def test_locations_venues_and_other_messages(server, bot):
    user = User(504)
    server.share_location(TOKEN, user, 51.69, 9.95)
    server.send_sticker(TOKEN, user)
    server.send_voice(TOKEN, user)
    updates = await bot.get_updates(timeout=1)
    messages = [u.message for u in updates if u.message and u.message.chat.id == 504]
    assert messages[0].location.latitude == pytest.approx(51.69)
    assert messages[1].sticker.emoji == "👍" and messages[2].voice.duration == 4
    await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    venue = await bot.send_venue(504, 51.6946, 9.9498, "Sprachcafé", "Lindenstraße 20, 37527 Lindenau")
    assert venue.venue.title == "Sprachcafé"
    with pytest.raises(BadRequest, match="(?i)latitude"):
        await bot.send_location(504, 123.0, 9.0)


async def test_commands_per_language(server, bot):
    await bot.set_my_commands([BotCommand("menu", "Themen zeigen")])
    await bot.set_my_commands([BotCommand("menu", "عرض المواضيع")], language_code="ar")
    assert (await bot.get_my_commands(language_code="ar"))[0].description == "عرض المواضيع"
    assert server.commands(TOKEN)[0]["description"] == "Themen zeigen"
    with pytest.raises(BadRequest, match="(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Menu-1", "x")])


async def test_forum_topics_in_a_staff_group(server, bot):
    server.open_forum(TOKEN, -100777)
    topic = await bot.create_forum_topic(-100777, "Newcomer ar · Lindenau")
    message = await bot.send_message(-100777, "hello Lotse", message_thread_id=topic.message_thread_id)
    assert message.message_thread_id == topic.message_thread_id and message.is_topic_message
    with pytest.raises(BadRequest, match="(?i)thread not found"):
        await bot.send_message(-100777, "x", message_thread_id=topic.message_thread_id + 1000)
    with pytest.raises(BadRequest, match="(?i)not a forum"):
        await bot.create_forum_topic(504, "x")


async def test_webhook_excludes_polling(server, bot):
    assert await bot.set_webhook("http://127.0.0.1:1/telegram/webhook", secret_token="s3cret")
    with pytest.raises(Conflict):
        await bot.get_updates(timeout=0)
    assert await bot.delete_webhook()
    assert await bot.get_updates(timeout=0) is not None


async def test_edits_keep_the_message_and_validate_like_sending(server, bot):
    server.send_text(TOKEN, User(505), "hi")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="/a")]])
    message = await bot.send_message(505, "first", reply_markup=markup)
    edited = await bot.edit_message_text("<i>second</i>", chat_id=505, message_id=message.message_id, parse_mode="HTML")
    assert edited.text == "second" and edited.message_id == message.message_id
    cleared = await bot.edit_message_reply_markup(chat_id=505, message_id=message.message_id)
    assert cleared.text == "second"
    assert [s.method for s in server.sent(TOKEN, 505)] == ["sendMessage", "editMessageText", "editMessageReplyMarkup"]
    with pytest.raises(BadRequest, match="(?i)can't parse entities"):
        await bot.edit_message_text("<i>x", chat_id=505, message_id=message.message_id, parse_mode="HTML")
    with pytest.raises(BadRequest, match="(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=505, message_id=123456789)
