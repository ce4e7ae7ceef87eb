"""The day's slips a gate keeps (R-REL-6): so a guard can type the printed number of a slip whose code will not
read, even while the gate is offline."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server.db.models import Estate, ReleaseSlip
from server.domain import clock
from server.domain.slips.issuing import MAX_DAYS_AHEAD, MAX_VALID_DAYS

MAX_SLIPS = 5000


def day_slips(session: Session, estate: Estate, day: date) -> list[ReleaseSlip]:
    """Slips issued by the end of `day` and still valid at its start, in number order (at most MAX_SLIPS).

    A slip is issued at most MAX_DAYS_AHEAD days before its planned day and is valid MAX_VALID_DAYS after it, which
    bounds how far back its issue day can lie and keeps the query on the (estate, day) index.
    """
    start, _end = clock.day_bounds(estate, day)
    earliest = day - timedelta(days=MAX_DAYS_AHEAD + MAX_VALID_DAYS + 1)
    return list(
        session.scalars(
            select(ReleaseSlip)
            .where(
                ReleaseSlip.estate_id == estate.id,
                ReleaseSlip.day >= earliest,
                ReleaseSlip.day <= day,
                ReleaseSlip.valid_until >= start,
            )
            .options(selectinload(ReleaseSlip.items))
            .order_by(ReleaseSlip.number)
            .limit(MAX_SLIPS)
        )
    )
