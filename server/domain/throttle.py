"""Counting failed sign-ins one attempt at a time, so a burst of concurrent guesses cannot all be checked against
the same count (resident PINs, staff sign-in, guard PINs).

`serialize` makes every attempt on the same keys wait for the one before it to commit its count: on PostgreSQL
with transaction-scoped advisory locks, taken in a fixed order; on SQLite every write transaction already runs
alone (server.db.engine begins them IMMEDIATE)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from server.db.plain import Plain


@dataclass(frozen=True)
class LockOut:
    """How many wrong tries within `window` lock further tries (even right ones) until the window has passed."""

    max_failures: int = 5
    window: timedelta = timedelta(minutes=15)

    @property
    def minutes(self) -> int:
        return int(self.window.total_seconds() // 60)

    def locked(self, failures: int) -> bool:
        return failures >= self.max_failures


# The one lock-out for guessable secrets: resident PINs, guard PINs and console passwords (the server's settings
# may change the console's).
LOCK_OUT = LockOut()


def _lock_id(key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"estate-throttle:{key}".encode()).digest()[:8], "big", signed=True)


def serialize_plain(db: Plain, *keys: str) -> None:
    """`serialize` for plain statements (the gate's release lane), on the same locks."""
    if db.sqlite:
        return
    ids = sorted({_lock_id(k) for k in keys})  # taken in this order, one statement for all of them
    db.execute("SELECT pg_advisory_xact_lock(k) FROM unnest(?::bigint[]) AS k", ("{" + ",".join(map(str, ids)) + "}",))


def serialize(session: Session, *keys: str) -> None:
    """Wait until no other transaction is counting an attempt on any of `keys`; held until this one ends."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for lock_id in sorted({_lock_id(k) for k in keys}):
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_id})
