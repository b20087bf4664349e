"""A fresh stack for the end-to-end tests: real `rasa run`, real action server, real gateway,
started exactly as `welcomebot run` starts them, on spare ports, with a private copy of content/
and fresh SQLite stores."""
from __future__ import annotations

import json
import shutil
import urllib.request
from pathlib import Path
from typing import Any, Optional

import pytest

from welcomebot.cli import train
from welcomebot.stack import Ports, Stack

from ..conftest import ROOT, test_ports

ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="session")
def model() -> Path:
    return train(quiet=True)


@pytest.fixture(scope="session")
def e2e_content(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("e2e") / "content"
    shutil.copytree(ROOT / "content", target)
    return target


@pytest.fixture(scope="session")
def stack(model: Path, e2e_content: Path, tmp_path_factory):
    var = tmp_path_factory.mktemp("var")
    running = Stack(
        model=model, ports=test_ports(25005, 25055, 28080), var_dir=var, log_dir=ARTIFACTS / "e2e-logs",
        # TELEGRAM_TOKEN emptied: a developer's own token must not put this stack on Telegram.
        extra_env={"WELCOMEBOT_CONTENT_DIR": str(e2e_content), "TELEGRAM_TOKEN": ""},
    )
    running.start()
    try:
        running.wait_ready(timeout=300)
        yield running
    finally:
        running.stop()


class RestClient:
    """A plain HTTP client of the gateway's REST interface, as any Rasa REST client would be."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"

    def post_raw(self, body: bytes, content_type: str = "application/json") -> tuple[int, Any]:
        request = urllib.request.Request(self.base + "/webhooks/rest/webhook", data=body, headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read().decode("utf-8"))

    def send(self, sender: str, message: Any, metadata: Optional[dict] = None) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"sender": sender, "message": message}
        if metadata is not None:
            body["metadata"] = metadata
        status, replies = self.post_raw(json.dumps(body).encode("utf-8"))
        assert status == 200, replies
        return replies

    def get(self, path: str) -> tuple[int, Any]:
        with urllib.request.urlopen(self.base + path, timeout=30) as response:
            return response.status, json.loads(response.read().decode("utf-8"))


@pytest.fixture(scope="session")
def client(stack: Stack) -> RestClient:
    return RestClient(stack.ports.gateway)


def texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(r["text"] for r in replies if r.get("text"))


def custom(replies: list[dict[str, Any]], key: str) -> Any:
    for reply in replies:
        value = ((reply.get("custom") or {}).get("welcomebot") or {}).get(key)
        if value is not None:
            return value
    return None


def buttons(replies: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [b for r in replies for b in (r.get("buttons") or [])]
