"""Events waiting for the server, in a SQLite file so a restart or a long outage loses none of them.

Events are sent in batches. A batch, once formed, keeps its rows and its key until the server has taken it, so a
batch whose answer was lost is resent whole under the same Idempotency-Key and recorded once.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any


class EventOutbox:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, body TEXT NOT NULL, batch TEXT)"
            )

    def add(self, event: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute("INSERT INTO events (body) VALUES (?)", (json.dumps(event, ensure_ascii=False),))

    def next_batch(self, limit: int = 100) -> tuple[str, list[dict[str, Any]]] | None:
        """The batch to send: one formed earlier and not yet taken, else a new one of the oldest events."""
        with self._lock:
            row = self._db.execute("SELECT batch FROM events WHERE batch IS NOT NULL ORDER BY id LIMIT 1").fetchone()
            if row is None:
                batch = uuid.uuid4().hex
                self._db.execute(
                    "UPDATE events SET batch = ? WHERE id IN "
                    "(SELECT id FROM events WHERE batch IS NULL ORDER BY id LIMIT ?)",
                    (batch, limit),
                )
            else:
                batch = row[0]
            bodies = self._db.execute("SELECT body FROM events WHERE batch = ? ORDER BY id", (batch,)).fetchall()
        return (batch, [json.loads(b) for (b,) in bodies]) if bodies else None

    def done(self, batch: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM events WHERE batch = ?", (batch,))

    def pending(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
