"""The SQLite file behind one of the gateway's own stores (conversation state, widget history,
Telegram buttons): one connection per thread, WAL journal."""
from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Sequence


class SQLiteFile:
    def __init__(self, path: Path, schema: Sequence[str] = ()) -> None:
        """`schema`: statements run once on opening (CREATE ... IF NOT EXISTS)."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        with self.connection() as db:
            for statement in schema:
                db.execute(statement)

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (sqlite3 connections stay in the thread that made them)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=10)
            db.execute("PRAGMA journal_mode=WAL")
            # WAL with NORMAL sync: no fsync on every commit (a power cut may lose the last
            # writes, never corrupt the file) — an fsync per message blocked the event loop.
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        return db
