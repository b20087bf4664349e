"""The whole stack on one machine (SPEC §2): Rasa, the action server and the gateway as
processes. Used by `welcomebot run`, the end-to-end and topology tests and the benchmarks, so they
start exactly what a district would run.

Profile `embedded` (default): one Rasa on SQLite with an in-memory lock. Profile `production`:
`replicas` Rasa servers on ports `rasa`, `rasa + 1`, ... sharing the PostgreSQL tracker store and
the Redis lock store named by POSTGRES_* / REDIS_* (welcomebot/services.py starts throwaway ones),
the gateway spreading conversations over them and keeping its own state in PostgreSQL too.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Optional

from . import settings

BIN = Path(sys.executable).parent


@dataclass
class Ports:
    rasa: int = 5005
    actions: int = 5055
    gateway: int = 8080


@dataclass
class Stack:
    model: Path
    ports: Ports = field(default_factory=Ports)
    var_dir: Path = field(default_factory=settings.var_dir)
    extra_env: dict[str, str] = field(default_factory=dict)
    log_dir: Optional[Path] = None
    profile: str = field(default_factory=settings.profile)
    replicas: int = 1
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    started_at: dict[str, float] = field(default_factory=dict)
    ready_after: dict[str, float] = field(default_factory=dict)  # seconds from start to answering
    log_starts: dict[str, int] = field(default_factory=dict)  # where each process's last start began its log

    def __post_init__(self) -> None:
        if self.profile not in settings.PROFILES:
            raise ValueError(f"unknown profile {self.profile!r}: use one of {', '.join(settings.PROFILES)}")
        if self.replicas > 1 and self.profile != "production":
            # SQLite and the in-memory lock belong to one process: replicas would corrupt turns.
            raise ValueError("several Rasa replicas need the production profile (PostgreSQL + Redis)")

    def rasa_names(self) -> list[str]:
        return ["rasa"] + [f"rasa-{i + 1}" for i in range(1, self.replicas)]

    def rasa_port(self, name: str) -> int:
        return self.ports.rasa + self.rasa_names().index(name)

    def rasa_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{self.rasa_port(name)}" for name in self.rasa_names()]

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "WELCOMEBOT_ACTIONS_URL": f"http://127.0.0.1:{self.ports.actions}/webhook",
            "WELCOMEBOT_ACTIONS_HEALTH_URL": f"http://127.0.0.1:{self.ports.actions}",
            "WELCOMEBOT_TRACKER_DB": str(self.var_dir / "tracker.sqlite3"),
            "WELCOMEBOT_STATE_DB": str(self.var_dir / "gateway.sqlite3"),
            "WELCOMEBOT_STATS_DB": str(self.var_dir / "stats.sqlite3"),
            "WELCOMEBOT_RASA_URLS": ",".join(self.rasa_urls()),
            "WELCOMEBOT_GATEWAY_PORT": str(self.ports.gateway),
            "WELCOMEBOT_PROFILE": self.profile,
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "PYTHONUNBUFFERED": "1",
        })
        env.update(self.extra_env)
        if self.profile == "production":
            database = settings.postgres_url(env)
            env.setdefault("WELCOMEBOT_TRACKER_STORE_URL", database)
            env.setdefault("WELCOMEBOT_STATE_DB_URL", database)
            # A replica killed mid-turn leaves its ticket in Redis; the next replica waits for it
            # to expire. Rasa's default of 60 s is longer than the gateway waits for a turn.
            env.setdefault("TICKET_LOCK_LIFETIME", "10")
        return env

    def commands(self) -> dict[str, list[str]]:
        nlu = settings.nlu_dir()
        commands = {"actions": [str(BIN / "rasa"), "run", "actions", "--actions", "actions", "--port", str(self.ports.actions)]}
        for name in self.rasa_names():
            commands[name] = [
                str(BIN / "rasa"), "run", "--model", str(self.model), "--endpoints", str(settings.endpoints_file(self.profile)),
                "--credentials", str(nlu / "credentials.yml"), "--interface", "127.0.0.1", "--port", str(self.rasa_port(name)),
            ]
        commands["gateway"] = [sys.executable, "-m", "bot.app"]
        return commands

    def start(self) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        env = self.env()
        for name, command in self.commands().items():
            self.start_process(name, command, env)

    def start_process(self, name: str, command: list[str], env: Optional[dict[str, str]] = None) -> None:
        output = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            output = open(self.log_dir / f"{name}.log", "ab")
            self.log_starts[name] = output.tell()
        self.started_at[name] = time.monotonic()
        self.ready_after.pop(name, None)
        self.processes[name] = subprocess.Popen(
            command, cwd=settings.PROJECT_ROOT, env=env or self.env(), stdout=output, stderr=subprocess.STDOUT if output else None,
            start_new_session=True,
        )

    def log_of(self, name: str) -> str:
        """What process `name` has written to its log since it was last started (log files are
        appended to across runs)."""
        assert self.log_dir is not None, "this stack keeps no logs"
        with open(self.log_dir / f"{name}.log", "rb") as log:
            log.seek(self.log_starts.get(name, 0))
            return log.read().decode("utf-8", "replace")

    def restart(self, name: str) -> None:
        self.stop_process(name)
        self.start_process(name, self.commands()[name])

    def urls(self) -> dict[str, str]:
        urls = {"actions": f"http://127.0.0.1:{self.ports.actions}/health"}
        urls.update({name: f"http://127.0.0.1:{self.rasa_port(name)}/" for name in self.rasa_names()})
        urls["gateway"] = f"http://127.0.0.1:{self.ports.gateway}/health"
        return urls

    def wait_ready(self, timeout: float = 180.0, names: Optional[list[str]] = None) -> None:
        deadline = time.monotonic() + timeout
        pending = dict((n, u) for n, u in self.urls().items() if names is None or n in names)
        while pending:
            for name, url in list(pending.items()):
                process = self.processes.get(name)
                if process is not None and process.poll() is not None:
                    raise RuntimeError(f"{name} exited with code {process.returncode} while starting")
                if _answers(url):
                    del pending[name]
                    if name in self.started_at:
                        self.ready_after[name] = time.monotonic() - self.started_at[name]
            if pending and time.monotonic() > deadline:
                raise TimeoutError(f"not ready after {timeout:.0f} s: {', '.join(pending)}")
            time.sleep(0.3)

    def stop_process(self, name: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop(self) -> None:
        for name in list(self.processes):
            self.stop_process(name)

    @contextlib.contextmanager
    def running(self, timeout: float = 300.0) -> Iterator["Stack"]:
        """Started and ready inside the block, stopped after it (also when start-up fails)."""
        self.start()
        try:
            self.wait_ready(timeout=timeout)
            yield self
        finally:
            self.stop()

    def wait(self) -> int:
        """Block while every process runs; returns the exit code of the first to stop."""
        while True:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    print(f"welcomebot: {name} stopped (exit code {process.returncode}); stopping the rest", file=sys.stderr)
                    return process.returncode or 1
            time.sleep(0.5)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def training_fingerprint() -> str:
    """What the model depends on: NLU project files and the code that shapes features."""
    digest = hashlib.sha256()
    nlu = settings.nlu_dir()
    files = sorted(
        [*nlu.glob("*.yml"), *nlu.glob("data/**/*.yml"), *nlu.glob("vocabulary/*.yml")]
        + [settings.PROJECT_ROOT / "welcomebot" / name for name in ("normalize.py", "nlu_components.py")]
    )
    for path in files:
        if path.name.startswith(("endpoints", "credentials")) or not path.exists():
            continue
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
