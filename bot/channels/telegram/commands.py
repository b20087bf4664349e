"""The bot's commands: what each asks the assistant, and the command list Telegram shows each
newcomer in their client's language (`set_my_commands` once per catalog language)."""
from __future__ import annotations

from telegram import Bot, BotCommand

from welcomebot.i18n import N_, supported_languages, translator

# command -> (payload for the assistant, description shown in Telegram's command menu).
# /start is answered by the channel itself (greeting, language picker, topics).
COMMANDS: dict[str, tuple[str, str]] = {
    "start": ("/greet", N_("Start: greeting, language and topics")),
    "language": ("/change_language", N_("Choose your language")),
    "menu": ("/help", N_("Show the topics")),
    "lotse": ("/request_lotse", N_("Talk to a person (Lotse)")),
    "privacy": ("/privacy", N_("What happens with my data")),
    "delete": ("/delete", N_("Delete my conversation now")),
}


def bot_commands(language: str) -> list[BotCommand]:
    _ = translator(language)
    return [BotCommand(command, _(description)) for command, (_payload, description) in COMMANDS.items()]


async def register_commands(bot: Bot, default_language: str) -> None:
    """One list per language; the list without a language (the district's default) is what
    clients in any other language see."""
    await bot.set_my_commands(bot_commands(default_language))
    for language in supported_languages():
        await bot.set_my_commands(bot_commands(language), language_code=language)
