"""Record numbers (WORKFLOWS.md): per estate, per kind of record and per month, readable and sortable like slip
numbers — ``GH-WX-202611-0042`` is the 42nd repair order (维修) of estate GH in November 2026 — from one counter
taken atomically, so concurrent requests never share a number."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.db.models import Estate, RecordCounter

_KIND = re.compile(r"^[A-Z]{2,6}$")


def next_seq(session: Session, estate: Estate, kind: str, period: str) -> int:
    """The next sequence of `kind` in `period` for `estate`, in the caller's transaction."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(RecordCounter)
        .values(estate_id=estate.id, kind=kind, period=period, last=1)
        .on_conflict_do_update(index_elements=["estate_id", "kind", "period"], set_={"last": RecordCounter.last + 1})
        .returning(RecordCounter.last)
    )
    return int(session.execute(statement).scalar_one())


def next_number(session: Session, estate: Estate, kind: str, day: date) -> str:
    """A new number of `kind` (two to six capitals, e.g. WX) for a record the estate opens on its local `day`."""
    if not _KIND.match(kind):
        raise ValueError(f"a record kind is 2–6 capital letters, not {kind!r}")
    period = f"{day:%Y%m}"
    seq = next_seq(session, estate, kind, period)
    return f"{estate.code}-{kind}-{period}-{seq:04d}"
