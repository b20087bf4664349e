"""`welcomebot chat`: a conversation in the terminal, through the gateway's REST interface —
the same path as every other client. Buttons are numbered; type the number to tap one."""
from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from typing import Any, Optional


def _post(url: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read().decode("utf-8"))


def _show(replies: list[dict[str, Any]]) -> list[dict[str, str]]:
    buttons: list[dict[str, str]] = []
    for reply in replies:
        if reply.get("text"):
            print("\n" + reply["text"])
        for button in reply.get("buttons") or []:
            buttons.append(button)
            print(f"  [{len(buttons)}] {button['title']}")
    return buttons


def run_chat(base_url: str, language: Optional[str] = None) -> int:
    url = base_url.rstrip("/") + "/webhooks/rest/webhook"
    sender = "chat-" + secrets.token_hex(6)
    metadata: dict[str, Any] = {"channel": "terminal"}
    if language:
        metadata["language"] = language
    print("welcomebot chat — write a message, a button's number, or Ctrl-D to leave.")
    buttons: list[dict[str, str]] = []
    try:
        buttons = _show(_post(url, {"sender": sender, "message": "/greet", "metadata": metadata}))
        while True:
            text = input("\n> ").strip()
            if text.isdigit() and 0 < int(text) <= len(buttons):
                text = buttons[int(text) - 1]["payload"]
            buttons = _show(_post(url, {"sender": sender, "message": text, "metadata": metadata}))
    except (EOFError, KeyboardInterrupt):
        print()
        return 0
    except urllib.error.URLError as error:
        print(f"The gateway at {base_url} does not answer ({error.reason}). Start it with: ./welcomebot run")
        return 1
