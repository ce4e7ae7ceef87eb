"""The outbox: every release, refusal and turned-away scan the gate decided, kept in SQLite until the server has
recorded it. Each entry has a nonce (the server records one event per nonce, so a retried upload never doubles)
and the original time of the guard's decision, which the server keeps as the release time (R-REL-6).

Two routes to the server:
- ``sync``: the gate was offline when it decided; uploaded in order through ``POST /gate/sync``.
- ``release``: a release sent online whose answer was lost; resent through ``POST /gate/releases`` with the same
  Idempotency-Key (the nonce), so if the first one arrived the server answers it again and records nothing more.

Results the server reports (``recorded``, ``conflict``, ``rejected``, ``duplicate``) stay with the entry; conflicts
are shown to the guard and go to the security captain on the server.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from gate.store import connect
from server.contract.schemas import GateEvent, ReleaseRequest

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    nonce TEXT NOT NULL UNIQUE,
    route TEXT NOT NULL,
    body TEXT NOT NULL,
    number TEXT NOT NULL,
    at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at TEXT,
    result TEXT,
    code TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (sent_at, seq);
"""


@dataclass(frozen=True)
class Entry:
    seq: int
    nonce: str
    route: str  # sync | release
    body: str
    number: str
    at: datetime
    attempts: int
    result: str | None
    code: str | None

    def event(self) -> GateEvent:
        return GateEvent.model_validate_json(self.body)

    def release_request(self) -> ReleaseRequest:
        return ReleaseRequest.model_validate_json(self.body)


_COLUMNS = "seq, nonce, route, body, number, at, attempts, result, code"
# Every column, in the order `gate.storage` copies rows into a fresh file.
ALL_COLUMNS = ("seq", "nonce", "route", "body", "number", "at", "attempts", "sent_at", "result", "code")


def _entry(row: tuple) -> Entry:
    return Entry(row[0], row[1], row[2], row[3], row[4], datetime.fromisoformat(row[5]), row[6], row[7], row[8])


class Outbox:
    def __init__(self, path: Path) -> None:
        self._conn = connect(path)
        self._conn.executescript(SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def add_event(self, event: GateEvent, number: str) -> None:
        self._add(event.nonce, "sync", event.model_dump_json(), number, event.at)

    def add_release(self, nonce: str, request: ReleaseRequest, number: str, at: datetime) -> None:
        self._add(nonce, "release", request.model_dump_json(), number, at)

    def _add(self, nonce: str, route: str, body: str, number: str, at: datetime) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO outbox (nonce, route, body, number, at) VALUES (?, ?, ?, ?, ?)",
                (nonce, route, body, number, at.isoformat()),
            )

    def pending(self, limit: int = 500) -> list[Entry]:
        """Entries not yet recorded by the server, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()
        return [_entry(r) for r in rows]

    def pending_count(self) -> int:
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]

    def mark_sent(self, nonce: str, result: str, code: str, now: datetime) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE outbox SET sent_at = ?, result = ?, code = ? WHERE nonce = ?",
                (now.isoformat(), result, code, nonce),
            )

    def mark_attempt(self, nonces: list[str]) -> None:
        with self._lock:
            self._conn.executemany("UPDATE outbox SET attempts = attempts + 1 WHERE nonce = ?", [(n,) for n in nonces])

    def conflicts(self) -> list[Entry]:
        """Uploaded entries the server reported as conflicts (e.g. a slip released at two gates while offline)."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {_COLUMNS} FROM outbox WHERE result = 'conflict' ORDER BY seq"
            ).fetchall()
        return [_entry(r) for r in rows]

    def all(self) -> list[Entry]:
        with self._lock:
            rows = self._conn.execute(f"SELECT {_COLUMNS} FROM outbox ORDER BY seq").fetchall()
        return [_entry(r) for r in rows]

    def summary(self) -> dict[str, int]:
        with self._lock:
            rows = self._conn.execute("SELECT coalesce(result, 'pending'), count(*) FROM outbox GROUP BY 1").fetchall()
        return {str(k): int(v) for k, v in rows}
