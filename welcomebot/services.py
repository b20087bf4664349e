"""Throwaway PostgreSQL and Redis servers from Debian's packages, for the production topology
on one machine without Docker: the topology test and `bench/load.py` start them the same way.

Each server lives in its own directory and on its own port, keeps nothing after `stop()`, and
says what is missing when the Debian package is not installed (scripts/system-packages.txt).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

PG_BIN = Path(os.environ.get("WELCOMEBOT_PG_BIN", "/usr/lib/postgresql/15/bin"))
DATABASE = "welcomebot"


class ServiceError(RuntimeError):
    pass


def _as_postgres(command: list[str]) -> list[str]:
    """initdb and pg_ctl refuse to run as root: run them as the `postgres` user then."""
    if os.geteuid() != 0:
        return command
    return ["runuser", "-u", "postgres", "--", *command]


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if result.returncode != 0:
        raise ServiceError(f"{what} failed (exit code {result.returncode}): {result.stdout[-2000:]}")


def wait_for_port(port: int, timeout: float = 30.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise ServiceError(f"nothing listens on {host}:{port} after {timeout:.0f} s")
            time.sleep(0.2)


@dataclass
class PostgresServer:
    """A private PostgreSQL cluster (trust authentication on loopback only) with one database."""

    port: int
    user: str = "postgres"
    password: str = "welcomebot"  # trust auth ignores it; kept so URLs look like production ones
    database: str = DATABASE
    directory: Optional[Path] = None
    _owned: bool = field(default=False, init=False)

    def start(self) -> "PostgresServer":
        initdb = PG_BIN / "initdb"
        if not initdb.exists():
            raise ServiceError(f"{initdb} not found: apt-get install postgresql (scripts/system-packages.txt)")
        if self.directory is None:
            # Under /tmp, not pytest's tmp_path: the postgres user must be able to reach it.
            self.directory = Path(tempfile.mkdtemp(prefix="welcomebot-pg-"))
            self._owned = True
        data = self.directory / "data"
        data.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres")
            shutil.chown(data, "postgres")
        _run(_as_postgres([str(initdb), "-D", str(data), "-A", "trust", "-U", self.user, "-E", "UTF8", "--locale", "C.UTF-8"]), "initdb")
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        _run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(self.directory / "postgres.log"), "-w", "start"]), "pg_ctl start")
        _run([str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", self.user, self.database], "createdb")
        return self

    def url(self) -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    def env(self) -> dict[str, str]:
        """The variables nlu/endpoints.production.yml and the gateway read."""
        return {
            "POSTGRES_HOST": "127.0.0.1", "POSTGRES_PORT": str(self.port), "POSTGRES_USER": self.user,
            "POSTGRES_PASSWORD": self.password, "POSTGRES_DB": self.database,
        }

    def stop(self) -> None:
        if self.directory is None:
            return
        data = self.directory / "data"
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"]),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if self._owned:
            shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class RedisServer:
    """A private Redis without persistence, in the foreground so that stop() ends only it."""

    port: int
    process: Optional[subprocess.Popen] = None

    def start(self) -> "RedisServer":
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceError("redis-server not found: apt-get install redis-server (scripts/system-packages.txt)")
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)
        return self

    def env(self) -> dict[str, str]:
        return {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(self.port), "REDIS_PASSWORD": "", "REDIS_DB": "1"}

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class ProductionServices:
    """PostgreSQL (tracker store and gateway state) and Redis (lock store) together."""

    postgres: PostgresServer
    redis: RedisServer

    @classmethod
    def on_ports(cls, postgres_port: int, redis_port: int) -> "ProductionServices":
        return cls(PostgresServer(postgres_port), RedisServer(redis_port))

    def start(self) -> "ProductionServices":
        self.postgres.start()
        try:
            self.redis.start()
        except Exception:
            self.postgres.stop()
            raise
        return self

    def env(self) -> dict[str, str]:
        """What `Stack(profile="production")` needs in its environment."""
        return {"WELCOMEBOT_PROFILE": "production", **self.postgres.env(), **self.redis.env()}

    def stop(self) -> None:
        self.redis.stop()
        self.postgres.stop()
