"""The gate's local memory (stdlib sqlite3), in two files (see `gate.storage`):

- the cache: what it downloaded for offline checks (public keys, revocations, the guard roster and the day's slips,
  each with its ETag). Rebuilt from the server whenever it is lost;
- the decisions file, shared with the outbox: what this gate itself released or refused, so a slip used here is
  refused here at once, before the server has heard of it. Never thrown away.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel

from terminal.outbox import connect

REFERENCE_SCHEMA = """
CREATE TABLE IF NOT EXISTS reference (
    name TEXT PRIMARY KEY,
    etag TEXT,
    body TEXT NOT NULL,
    fetched_at TEXT NOT NULL
);
"""
USES_COLUMNS = ("number", "outcome", "at", "guard")


def uses_schema(schema: str = "main") -> str:
    return f"""
CREATE TABLE IF NOT EXISTS {schema}.local_uses (
    number TEXT PRIMARY KEY,
    outcome TEXT NOT NULL,
    at TEXT NOT NULL,
    guard TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class LocalUse:
    number: str
    outcome: str  # released | refused
    at: datetime
    guard: str


class LocalStore:
    """The cache (`cache`) with the decisions file (`decisions`) attached for the gate's own uses of slips."""

    def __init__(self, cache: Path, decisions: Path) -> None:
        self._conn = connect(cache)
        self._conn.executescript(REFERENCE_SCHEMA)
        self._conn.execute("ATTACH DATABASE ? AS decisions", (str(decisions),))
        self._conn.execute("PRAGMA decisions.journal_mode=WAL")
        self._conn.execute("PRAGMA decisions.synchronous=FULL")
        self._conn.executescript(uses_schema("decisions"))
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def save_reference(self, name: str, model: BaseModel, etag: str | None, now: datetime) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO reference (name, etag, body, fetched_at) VALUES (?, ?, ?, ?)",
                (name, etag, model.model_dump_json(), now.isoformat()),
            )

    def reference(self, name: str) -> tuple[str, str | None, datetime] | None:
        """The stored body, its ETag and when it was fetched."""
        with self._lock:
            row = self._conn.execute("SELECT body, etag, fetched_at FROM reference WHERE name = ?", (name,)).fetchone()
        return None if row is None else (row[0], row[1], datetime.fromisoformat(row[2]))

    def etag(self, name: str) -> str | None:
        found = self.reference(name)
        return found[1] if found else None

    def record_use(self, use: LocalUse) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR REPLACE INTO decisions.local_uses (number, outcome, at, guard) VALUES (?, ?, ?, ?)",
                (use.number, use.outcome, use.at.isoformat(), use.guard),
            )

    def local_use(self, number: str) -> LocalUse | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT number, outcome, at, guard FROM decisions.local_uses WHERE number = ?", (number,)
            ).fetchone()
        return None if row is None else LocalUse(row[0], row[1], datetime.fromisoformat(row[2]), row[3])
