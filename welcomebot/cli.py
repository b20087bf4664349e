"""The `welcomebot` command (SPEC §6): run, train, chat, content check/report/translations/
import-ics, stats."""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
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
        "--data", str(nlu / "data"), "--out", "OUT", "--fixed-model-name", MODEL_NAME,
    ]
    # Train into a private folder and move the finished model into place: a stack that is
    # loading the model meanwhile never reads a half-written file.
    with tempfile.TemporaryDirectory(dir=settings.models_dir(), prefix=".training-") as out:
        command[command.index("OUT")] = out
        result = subprocess.run(command, cwd=settings.PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        trained = Path(out) / target.name
        if result.returncode != 0 or not trained.exists():
            print(result.stdout[-4000:], file=sys.stderr)
            raise SystemExit(f"welcomebot: training failed (exit code {result.returncode})")
        os.replace(trained, target)
    seconds = time.perf_counter() - started
    stamp.write_text(fingerprint)
    print(f"welcomebot: trained in {seconds:.1f} s; model {target} is {target.stat().st_size / 1e6:.1f} MB")
    return target


def run(args: argparse.Namespace) -> int:
    from bot.channels.telegram.config import telegram_status

    from .stack import Ports, Stack

    model = train()
    # WELCOMEBOT_PROFILE picks the stores (embedded SQLite, or production PostgreSQL + Redis).
    try:
        stack = Stack(model=model, ports=Ports(args.rasa_port, args.actions_port, args.gateway_port), replicas=args.replicas)
    except ValueError as error:
        raise SystemExit(f"welcomebot: {error}")
    print(f"welcomebot: starting {args.replicas} Rasa server(s) ({stack.profile} profile), the action server and the gateway ...", flush=True)
    stack.start()
    try:
        stack.wait_ready(timeout=300)
        print(
            f"welcomebot is running.\n"
            f"  REST:    POST http://127.0.0.1:{args.gateway_port}/webhooks/rest/webhook\n"
            f"  health:  http://127.0.0.1:{args.gateway_port}/health\n"
            f"  chat:    .venv/bin/welcomebot chat\n"
            f"  {telegram_status()}\n"
            f"The web widget is not part of this version. Stop with Ctrl-C.",
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
    # Exit codes for CI: 1 on errors; with --strict also on warnings.
    return 1 if errors or (args.strict and warnings) else 0


def _content_root(args: argparse.Namespace) -> Path:
    return Path(args.content_dir) if args.content_dir else settings.content_dir()


def content_report(args: argparse.Namespace) -> int:
    from .content import ContentError, ContentStore
    from .content.report import ContentReport, html_report, text_report
    from .i18n import supported_languages

    root = _content_root(args)
    try:
        snapshot = ContentStore(root, supported_languages()).snapshot()
    except ContentError as error:
        print(f"welcomebot content report: the content cannot be read: {error}", file=sys.stderr)
        return 1
    report = ContentReport.build(snapshot, supported_languages(), settings.now(snapshot.district.timezone))
    print(text_report(report))
    if args.html:
        Path(args.html).write_text(html_report(report), encoding="utf-8")
        print(f"\nHTML report: {args.html}")
    return 0


def content_translations(args: argparse.Namespace) -> int:
    from .content.translations import STAMP_FILE, confirm

    root = _content_root(args)
    if not args.confirm:
        print("welcomebot content translations: add --confirm to record that the translations of FILE (or of "
              "every file) match the German text now.", file=sys.stderr)
        return 2
    missing = [f for f in args.files if not Path(f).is_file()]
    if missing:
        print(f"welcomebot content translations: no such file: {', '.join(missing)}", file=sys.stderr)
        return 2
    done = confirm(root, [Path(f) for f in args.files])
    print(f"confirmed the translations of {len(done)} file(s) in {root / STAMP_FILE}")
    return 0


def content_import_ics(args: argparse.Namespace) -> int:
    from .content.ics import import_calendar, read_calendars
    from .content.loader import _Reader, parse_yaml

    root = _content_root(args)
    path = root / "calendars.yml"
    reader = _Reader(str(path), ())
    data = parse_yaml(path, reader) if path.is_file() else None
    if data is None:
        print(f"welcomebot content import-ics: {path} is missing or broken: " + "; ".join(map(str, reader.problems)), file=sys.stderr)
        return 1
    calendars, problems = read_calendars(data, str(path), _town_ids(root))
    for problem in problems:
        print(problem, file=sys.stderr)
    failed = 0
    for calendar in calendars.values():
        if not calendar.url:
            continue
        try:
            target = import_calendar(calendar, root / "events")
            print(f"{calendar.id}: imported {calendar.url} into {target}")
        except (OSError, ValueError) as error:  # the last good file stays in place
            failed += 1
            print(f"{calendar.id}: not imported ({error}); the previous file is kept", file=sys.stderr)
    return 1 if failed or problems else 0


def _town_ids(root: Path) -> set[str]:
    from .content.loader import read_district

    district, _ = read_district(root / "district.yml", ())
    return {m.id for m in district.municipalities} if district else set()


def stats(args: argparse.Namespace) -> int:
    import datetime as dt

    from .stats import stats_store
    from .stats.report import Period, StatsReport, html_report, text_report, write_csv

    today = _today()
    try:
        end = dt.date.fromisoformat(args.to) if args.to else today
        start = dt.date.fromisoformat(args.from_) if args.from_ else end - dt.timedelta(days=29)
    except ValueError as error:
        print(f"welcomebot stats: dates are written like 2026-12-01 ({error})", file=sys.stderr)
        return 2
    if start > end:
        print("welcomebot stats: --from is after --to", file=sys.stderr)
        return 2
    store = stats_store(args.db)
    store.purge_texts(today, settings.retention_days())  # SPEC §8, also when nobody asks
    report = StatsReport.load(store, Period(start, end))
    print(text_report(report))
    if args.html:
        Path(args.html).write_text(html_report(report), encoding="utf-8")
        print(f"HTML report: {args.html}")
    if args.csv:
        write_csv(report, Path(args.csv))
        print(f"CSV: {args.csv}")
    return 0


def _today():
    """Today in the district's time zone (WELCOMEBOT_NOW pins it); the machine's date without content."""
    import datetime as dt

    from .content.loader import read_district

    district, _ = read_district(settings.content_dir() / "district.yml", ())
    return settings.now(district.timezone).date() if district else dt.date.today()


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
    run_parser.add_argument("--replicas", type=int, default=1, help="Rasa servers on --rasa-port and the ports after it (production profile)")
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
    check_parser.add_argument("--strict", action="store_true", help="exit code 1 on warnings too")
    check_parser.set_defaults(handler=content_check)
    report_parser = content_commands.add_parser("report", help="coverage: categories x towns, missing translations, gaps")
    report_parser.add_argument("--content-dir")
    report_parser.add_argument("--html", metavar="FILE", help="also write a static HTML page")
    report_parser.set_defaults(handler=content_report)
    translations_parser = content_commands.add_parser("translations", help="record that translations match the German text")
    translations_parser.add_argument("--content-dir")
    translations_parser.add_argument("--confirm", action="store_true")
    translations_parser.add_argument("files", nargs="*", metavar="FILE", help="content files (default: all)")
    translations_parser.set_defaults(handler=content_translations)
    import_parser = content_commands.add_parser("import-ics", help="fetch the calendars listed in content/calendars.yml")
    import_parser.add_argument("--content-dir")
    import_parser.set_defaults(handler=content_import_ics)

    stats_parser = commands.add_parser("stats", help="anonymous statistics of a period (default: the last 30 days)")
    stats_parser.add_argument("--from", dest="from_", metavar="DATE", help="first day, e.g. 2026-11-01")
    stats_parser.add_argument("--to", metavar="DATE", help="last day (default: today)")
    stats_parser.add_argument("--html", metavar="FILE", help="also write a static HTML report with charts")
    stats_parser.add_argument("--csv", metavar="FILE", help="also write the counts as CSV")
    stats_parser.add_argument("--db", help="SQLAlchemy URL of the statistics (default: WELCOMEBOT_STATS_DB or var/stats.sqlite3)")
    stats_parser.set_defaults(handler=stats)

    args = parser.parse_args(argv)
    if shutil.which("rasa") is None and args.command in ("run", "train"):
        os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
