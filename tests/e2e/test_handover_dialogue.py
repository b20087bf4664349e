"""The newcomer's side of the handover through the real stack (Rasa, actions, gateway) over REST:
consent, matching, the assistant staying quiet, back to the bot with Rasa's tracker going on,
the nobody-available path, `/lotse`, the offer of a person after two fallbacks, and `/delete`.
(No staff group in this stack: topics are the Telegram desk's tests.)"""
from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

from bot.handover.matching import format_when

from ..conftest import BERLIN, ROOT
from .conftest import buttons, custom, texts


def payloads(replies) -> list[str]:
    return [b["payload"] for b in buttons(replies)]


def store_url(stack) -> str:
    return f"sqlite:///{stack.var_dir / 'handover.sqlite3'}"


def handovers_listing(stack) -> list[tuple[str, str]]:
    """(state, language) of each active handover, as `welcomebot handovers` lists them."""
    out = subprocess.run([sys.executable, "-m", "welcomebot.cli", "handovers", "--store-url", store_url(stack)],
                         cwd=ROOT, capture_output=True, text=True, timeout=60, check=True).stdout
    return [(line.split()[1], line.split()[2]) for line in out.strip().splitlines()[1:-1]]


def test_consent_match_quiet_assistant_and_back_to_the_bot(client, stack):
    sender = "e2e-handover-uk"
    client.send(sender, "/inform" + json.dumps({"municipality": "lindenau"}), {"language": "uk"})
    consent = client.send(sender, "/request_lotse", {"language": "uk"})
    assert payloads(consent) == ["/lotse_consent", "/deny"]
    assert "ім'я користувача" in texts(consent)  # what is not shared, in Ukrainian
    asked = client.send(sender, "/lotse_consent")
    assert "30" in texts(asked) and payloads(asked) == ["/back_to_bot"]  # Olena is available on Tuesday at 10
    assert client.send(sender, "Мені потрібна допомога з документами") == []  # for the Lotse, not for Rasa
    assert ("waiting", "uk") in handovers_listing(stack)
    again = client.send(sender, "/lotse")
    assert payloads(again) == ["/back_to_bot"]  # asking again says where it stands, opens no second one

    back = client.send(sender, "/back_to_bot")
    assert "З поверненням" in texts(back) and "/help" not in payloads(back) and len(buttons(back)) > 10  # the menu
    assert ("waiting", "uk") not in handovers_listing(stack)
    answer = client.send(sender, "Де можна вивчати німецьку?")
    assert custom(answer, "topic") == "integration_course"  # Rasa's tracker simply went on


def test_nobody_available_tells_when_and_keeps_the_message(client, stack):
    sender = "e2e-handover-fa"
    client.send(sender, "/inform" + json.dumps({"municipality": "birkenfelde"}), {"language": "fa"})
    client.send(sender, "/request_lotse")
    queued = client.send(sender, "/lotse_consent")
    when = format_when(dt.datetime(2026, 12, 1, 17, 0, tzinfo=BERLIN), "fa")  # Mariam: Tuesdays from 17:00
    assert when in texts(queued)
    kept = client.send(sender, "من برای کلاس زبان کمک می‌خواهم")
    assert kept and payloads(kept) == ["/back_to_bot"]
    assert ("queued", "fa") in handovers_listing(stack)
    client.send(sender, "/delete")
    assert ("queued", "fa") not in handovers_listing(stack)  # `/delete` erased the handover and the message left


def test_two_fallbacks_in_a_row_offer_a_person(client):
    # `/nlu_fallback` is what Rasa's FallbackClassifier predicts for a message it does not
    # understand; sent as a payload it makes the two turns deterministic.
    sender = "e2e-handover-fallback"
    first = client.send(sender, "/nlu_fallback", {"language": "en"})
    second = client.send(sender, "/nlu_fallback", {"language": "en"})
    assert "not sure I understood" in texts(first) and "/request_lotse" in payloads(first)  # in the menu
    assert payloads(second) == ["/request_lotse", "/help"] and "talk to a person" in texts(second)
    third = client.send(sender, "/ask_work")
    fourth = client.send(sender, "/nlu_fallback")
    assert custom(third, "topic") == "work" or "town" in texts(third)
    assert "not sure I understood" in texts(fourth)  # not in a row: the usual answer
