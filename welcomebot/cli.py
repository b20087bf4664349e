"""The `welcomebot` command (SPEC §6): run, train, chat, content check."""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

from . import settings

MODEL_NAME = "welcomebot"


def model_path() -> Path:
    return settings.models_dir() / f"{MODEL_NAME}.tar.gz"


def _fingerprint_file() -> Path:
    return settings.models_dir() / f"{MODEL_NAME}.fingerprint"


def train(force: bool = False, quiet: bool = False) -> Path:
    """Train when training data, vocabulary, content towns or NLU config changed."""
    from .i18n import compile_catalogs
    from .stack import training_fingerprint
    from .training_data import write_generated_data

    compile_catalogs()
    write_generated_data()
    fingerprint = training_fingerprint()
    target = model_path()
    stamp = _fingerprint_file()
    if not force and target.exists() and stamp.exists() and stamp.read_text().strip() == fingerprint:
        if not quiet:
            print(f"welcomebot: model is up to date ({target}, {target.stat().st_size / 1e6:.1f} MB)")
        return target
    nlu = settings.nlu_dir()
    settings.models_dir().mkdir(parents=True, exist_ok=True)
    print("welcomebot: training the model (training data or configuration changed) ...", flush=True)
    started = time.perf_counter()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    command = [
        str(Path(sys.executable).parent / "rasa"), "train", "--config", str(nlu / "config.yml"), "--domain", str(nlu / "domain.yml"),
        "--data", str(nlu / "data"), "--out", str(settings.models_dir()), "--fixed-model-name", MODEL_NAME,
    ]
    result = subprocess.run(command, cwd=settings.PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0 or not target.exists():
        print(result.stdout[-4000:], file=sys.stderr)
        raise SystemExit(f"welcomebot: training failed (exit code {result.returncode})")
    stamp.write_text(fingerprint)
    print(f"welcomebot: trained in {seconds:.1f} s; model {target} is {target.stat().st_size / 1e6:.1f} MB")
    return target


def run(args: argparse.Namespace) -> int:
    from .stack import Ports, Stack

    model = train()
    stack = Stack(model=model, ports=Ports(args.rasa_port, args.actions_port, args.gateway_port))
    print("welcomebot: starting Rasa, the action server and the gateway ...", flush=True)
    stack.start()
    try:
        stack.wait_ready(timeout=300)
        print(
            f"welcomebot is running.\n"
            f"  REST:    POST http://127.0.0.1:{args.gateway_port}/webhooks/rest/webhook\n"
            f"  health:  http://127.0.0.1:{args.gateway_port}/health\n"
            f"  chat:    .venv/bin/welcomebot chat\n"
            f"Telegram and the web widget are not part of this version. Stop with Ctrl-C.",
            flush=True,
        )
        return stack.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stack.stop()


def content_check(args: argparse.Namespace) -> int:
    from .content import check_content
    from .i18n import supported_languages

    root = Path(args.content_dir) if args.content_dir else settings.content_dir()
    problems = check_content(root, supported_languages())
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity == "warning"]
    for problem in errors + ([] if args.errors_only else warnings):
        print(problem)
    print(f"{len(errors)} error(s), {len(warnings)} warning(s) in {root}")
    return 1 if errors else 0


def handovers(args: argparse.Namespace) -> int:
    """Open and waiting handovers to a Lotse (SPEC §7), from the gateway's store."""
    from bot.handover import store_url
    from bot.handover.report import handover_lines
    from bot.handover.store import HandoverStore

    from .content import ContentStore
    from .i18n import supported_languages

    store = HandoverStore(args.store_url or store_url())
    try:
        for line in handover_lines(store, ContentStore(settings.content_dir(), supported_languages()).snapshot()):
            print(line)
    finally:
        store.close()
    return 0


def chat(args: argparse.Namespace) -> int:
    from bot.chat import run_chat

    return run_chat(args.url, args.language)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="welcomebot", description="Multilingual welcome assistant for a district and its towns.")
    commands = parser.add_subparsers(dest="command", required=True)

    run_parser = commands.add_parser("run", help="train if needed and start the whole stack on this machine")
    run_parser.add_argument("--rasa-port", type=int, default=5005)
    run_parser.add_argument("--actions-port", type=int, default=5055)
    run_parser.add_argument("--gateway-port", type=int, default=8080)
    run_parser.set_defaults(handler=run)

    train_parser = commands.add_parser("train", help="train the model when its data changed")
    train_parser.add_argument("--force", action="store_true", help="train even if nothing changed")
    train_parser.set_defaults(handler=lambda a: (train(force=a.force), 0)[1])

    chat_parser = commands.add_parser("chat", help="a conversation in the terminal, through the gateway")
    chat_parser.add_argument("--url", default="http://127.0.0.1:8080")
    chat_parser.add_argument("--language", help="start in this language (e.g. ar)")
    chat_parser.set_defaults(handler=chat)

    handovers_parser = commands.add_parser("handovers", help="handovers to a Lotse that are queued, waiting or open")
    handovers_parser.add_argument("--store-url", help="the gateway's handover store (default: WELCOMEBOT_HANDOVER_STORE_URL or var/)")
    handovers_parser.set_defaults(handler=handovers)

    content_parser = commands.add_parser("content", help="content tools for staff")
    content_commands = content_parser.add_subparsers(dest="content_command", required=True)
    check_parser = content_commands.add_parser("check", help="validate every content file")
    check_parser.add_argument("--content-dir")
    check_parser.add_argument("--errors-only", action="store_true")
    check_parser.set_defaults(handler=content_check)

    args = parser.parse_args(argv)
    if shutil.which("rasa") is None and args.command in ("run", "train"):
        os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
