"""The outbox: what a device decided or saw, kept in SQLite until the server has recorded it — the gate's releases,
refusals and turned-away scans, the key cabinet's door and key events. Each entry has a nonce (the server records
one event per nonce, so a retried upload never doubles), a route (which call takes it to the server), a body (the
JSON the call sends) and the time it happened. Entries go one by one or in batches; a batch, once formed, keeps
its entries and its key until the server has taken it, so a batch whose answer was lost is resent whole under the
same Idempotency-Key.

Results the server reports (``recorded``, ``conflict``, ``rejected``, ``duplicate``) stay with the entry.

Every write is synced to disk (WAL, ``synchronous=FULL``): what a guard saw recorded survives a power cut. A file
damaged all the same is rebuilt by `terminal.salvage` at start-up.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

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
CREATE TABLE IF NOT EXISTS outbox_batches (
    nonce TEXT PRIMARY KEY,
    batch TEXT NOT NULL
);
"""
# Every column of the outbox table, in the order a rebuild copies rows into a fresh file.
ALL_COLUMNS = ("seq", "nonce", "route", "body", "number", "at", "attempts", "sent_at", "result", "code")
BATCH_COLUMNS = ("nonce", "batch")
_COLUMNS = "seq, nonce, route, body, number, at, attempts, result, code"


def connect(path: Path) -> sqlite3.Connection:
    """A connection usable from the UI, scanner and uploader threads (callers serialise with a lock)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")  # a release the guard saw recorded survives a power cut
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


@dataclass(frozen=True)
class Entry:
    seq: int
    nonce: str
    route: str
    body: str  # the JSON the route sends
    number: str  # what the entry is about as people name it (a slip number), or ""
    at: datetime
    attempts: int
    result: str | None
    code: str | None


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

    def add(self, nonce: str, route: str, body: str, at: datetime, number: str = "") -> None:
        """Keep an entry (once per nonce)."""
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
            return int(self._conn.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0])

    def mark_attempt(self, nonces: list[str]) -> None:
        with self._lock:
            self._conn.executemany("UPDATE outbox SET attempts = attempts + 1 WHERE nonce = ?", [(n,) for n in nonces])

    def mark_sent(self, nonce: str, result: str, code: str, now: datetime) -> None:
        with self._lock:
            self._conn.execute(
                "UPDATE outbox SET sent_at = ?, result = ?, code = ? WHERE nonce = ?",
                (now.isoformat(), result, code, nonce),
            )

    def next_batch(self, limit: int = 100) -> tuple[str, list[Entry]] | None:
        """The batch to send and its key: one formed earlier and not yet taken, else a new one of the oldest
        entries waiting; None when nothing waits."""
        with self._lock, self._conn:
            self._conn.execute("BEGIN")
            row = self._conn.execute(
                "SELECT b.batch FROM outbox_batches b JOIN outbox o ON o.nonce = b.nonce "
                "WHERE o.sent_at IS NULL ORDER BY o.seq LIMIT 1"
            ).fetchone()
            if row is None:
                batch = uuid.uuid4().hex
                self._conn.execute(
                    "INSERT INTO outbox_batches (nonce, batch) "
                    "SELECT nonce, ? FROM outbox WHERE sent_at IS NULL ORDER BY seq LIMIT ?",
                    (batch, limit),
                )
            else:
                batch = row[0]
            rows = self._conn.execute(
                f"SELECT {', '.join('o.' + c for c in _COLUMNS.split(', '))} FROM outbox o "
                "JOIN outbox_batches b ON b.nonce = o.nonce WHERE b.batch = ? ORDER BY o.seq",
                (batch,),
            ).fetchall()
        return (batch, [_entry(r) for r in rows]) if rows else None

    def batch_sent(self, batch: str, result: str, now: datetime) -> None:
        """The server took the batch: its entries are recorded and the batch is done."""
        with self._lock, self._conn:
            self._conn.execute("BEGIN")
            self._conn.execute(
                "UPDATE outbox SET sent_at = ?, result = ?, code = '' "
                "WHERE nonce IN (SELECT nonce FROM outbox_batches WHERE batch = ?)",
                (now.isoformat(), result, batch),
            )
            self._conn.execute("DELETE FROM outbox_batches WHERE batch = ?", (batch,))

    def forget_sent(self, before: datetime) -> None:
        """Drop the entries the server recorded before `before` (a device whose outbox is no record of its own)."""
        with self._lock:
            self._conn.execute("DELETE FROM outbox WHERE sent_at < ?", (before.isoformat(),))

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
