"""What an offline gate must refuse although a slip's signature is good."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Estate, ReleaseSlip, SlipState


@dataclass(frozen=True)
class Revocations:
    revoked: list[str]
    released: list[str]


def revocations(session: Session, estate: Estate, now: datetime) -> Revocations:
    """What an offline gate must refuse although the signature is good: revoked, cancelled and used slips that
    are still inside their validity (expired ones the gate refuses by itself)."""
    rows = session.execute(
        select(ReleaseSlip.number, ReleaseSlip.state, ReleaseSlip.revoked_at)
        .where(
            ReleaseSlip.estate_id == estate.id,
            ReleaseSlip.valid_until >= now,
            ReleaseSlip.state != SlipState.issued,
        )
        .order_by(ReleaseSlip.number)
    ).all()
    revoked_now = session.scalars(
        select(ReleaseSlip.number).where(
            ReleaseSlip.estate_id == estate.id,
            ReleaseSlip.valid_until >= now,
            ReleaseSlip.state == SlipState.issued,
            ReleaseSlip.revoked_at.is_not(None),
        )
    ).all()
    revoked = sorted(
        {n for n, state, revoked_at in rows if state == SlipState.cancelled or revoked_at is not None}
        | set(revoked_now)
    )
    released = [n for n, state, revoked_at in rows if state in (SlipState.released, SlipState.refused)]
    return Revocations(revoked, sorted(set(released) - set(revoked)))
