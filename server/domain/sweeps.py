"""Periodic sweeps (WORKFLOWS.md): what must happen at a time — an overdue alert, an escalation — runs from one
sweep, safe with several server workers. A worker runs a sweep only while it holds the sweep's lease, taken by a
single atomic statement (insert, or take over a lapsed lease), so two workers never run the same sweep at once;
and every sweep is written to be idempotent, so a sweep cut off half-way and run again does no harm."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.db.models import SweepLease


def take_lease(session: Session, name: str, holder: str, now: datetime, hold: timedelta) -> bool:
    """Whether `holder` now holds the lease of sweep `name` until `now + hold` (in the caller's transaction, which
    should commit at once): True when nobody held it, its lease had lapsed, or `holder` held it already."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(SweepLease).values(name=name, holder=holder, until=now + hold)
    taken = statement.on_conflict_do_update(
        index_elements=["name"],
        set_={"holder": statement.excluded.holder, "until": statement.excluded.until},
        where=or_(SweepLease.until < now, SweepLease.holder == holder),
    ).returning(SweepLease.holder)
    return session.execute(taken).scalar_one_or_none() == holder


def release_lease(session: Session, name: str, holder: str) -> None:
    """Give the lease up early (the sweep is done), so another worker need not wait for it to lapse."""
    lease = session.get(SweepLease, name)
    if lease is not None and lease.holder == holder:
        session.delete(lease)
