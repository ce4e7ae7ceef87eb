"""An estate's duty-roster records for tests that need some (the authorisation matrix): a shift of the desk a
week ahead, and the desk's leave request for it, waiting for the supervisor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from server.db.base import utcnow
from server.db.models import Estate, StaffUser
from server.db.models.duty import RequestKind, Shift
from server.domain import clock
from server.domain.actors import SYSTEM
from server.domain.duty import requests, roster


@dataclass(frozen=True)
class DutyRosterRecords:
    shift_id: int  # the desk's early shift a week ahead
    request_id: int  # the desk's leave request for it, asked


def duty_roster_records(db: Session, estate: Estate, desk: StaffUser) -> DutyRosterRecords:
    at = utcnow()
    day = clock.local_day(estate, at) + timedelta(days=7)
    early = roster.patterns(db, estate)[0]
    starts, ends = roster.bounds(estate, day, early)
    shift = Shift(estate_id=estate.id, day=day, pattern_id=early.id, staff_id=desk.id, starts_at=starts, ends_at=ends)
    db.add(shift)
    db.flush()
    request = requests.ask(db, SYSTEM, estate, desk, shift.id, RequestKind.leave, at, reason="病假")
    return DutyRosterRecords(shift.id, request.id)
