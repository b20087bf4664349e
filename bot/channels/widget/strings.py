"""The panel's own labels, from the catalogs: the widget shows them in the conversation's language
and switches them with it, so none of them is written in widget.js."""
from __future__ import annotations

from welcomebot.i18n import N_, is_rtl, own_name, supported_languages, translator

LABELS: dict[str, str] = {
    "title": N_("Questions? Chat with us"),
    "open": N_("Open the chat"),
    "close": N_("Close the chat"),
    "intro": N_("Hello! Ask me about living here: courses, work, housing, doctors and more. Write in your language."),
    "placeholder": N_("Write your question…"),
    "input": N_("Your message"),
    "send": N_("Send"),
    "language": N_("Language"),
    "topics": N_("Topics"),
    "log": N_("Conversation"),
    "you": N_("You"),
    "assistant": N_("Assistant"),
    "map": N_("Show on map"),
    "queued": N_("Not sent yet: it will be sent when the connection is back."),
    "offline": N_("No connection. Trying again…"),
    "failed": N_("This message could not be sent."),
}


def labels(language: str) -> dict[str, str]:
    _ = translator(language)
    return {key: _(text) for key, text in LABELS.items()}


def direction(language: str) -> str:
    return "rtl" if is_rtl(language) else "ltr"


def languages() -> list[dict[str, str]]:
    """For the picker: each language in its own name, with its writing direction."""
    return [{"code": code, "name": own_name(code), "dir": direction(code)} for code in supported_languages()]
