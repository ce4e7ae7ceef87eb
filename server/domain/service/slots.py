"""The visit times a resident may book for a repair or a home cleaning (R-REP-2, R-CLN-1): on the estate's next
working days (its calendar: statutory holidays, make-up working days and its own exceptions), three day parts a
day, each taking as many visits as the department can make in it (a setting), less the orders already booked in
it. A slot that has begun is no longer offered."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import Estate, OrderState, ServiceKind, ServiceOrder
from server.domain import clock, throttle, workdays
from server.domain.errors import Conflict, DomainError

DAY_PARTS: tuple[tuple[time, time], ...] = ((time(9), time(11)), (time(14), time(16)), (time(16), time(18)))
MAX_DAYS = 14  # how far ahead a kiosk may look


@dataclass(frozen=True)
class Slot:
    day: date  # the estate's local day
    start: datetime  # UTC
    end: datetime
    capacity: int
    booked: int

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.booked)


def working_days(session: Session, estate: Estate, now: datetime, count: int) -> list[date]:
    """The estate's next `count` working days, today first when it is one."""
    calendar = workdays.estate_calendar(session, estate)
    day = calendar.first_working_day(clock.local_day(estate, now))
    out = [day]
    while len(out) < count:
        day = calendar.add_working_days(day, 1)
        out.append(day)
    return out


def slots(
    session: Session, estate: Estate, kind: ServiceKind, now: datetime, *, days: int, capacity: int
) -> list[Slot]:
    """The bookable slots of the next `days` working days (at most `MAX_DAYS`), each with what is left of its
    `capacity`; slots that have begun by `now` are left out."""
    zone = clock.zone(estate)
    spans = [
        (day, datetime.combine(day, start, zone).astimezone(UTC), datetime.combine(day, end, zone).astimezone(UTC))
        for day in working_days(session, estate, now, max(1, min(days, MAX_DAYS)))
        for start, end in DAY_PARTS
    ]
    spans = [s for s in spans if s[1] > now]
    booked = _booked(session, estate, kind, [start for _, start, _ in spans])
    return [Slot(day, start, end, capacity, booked.get(start, 0)) for day, start, end in spans]


def _booked(session: Session, estate: Estate, kind: ServiceKind, starts: list[datetime]) -> dict[datetime, int]:
    if not starts:
        return {}
    rows = session.execute(
        select(ServiceOrder.appointment_start, func.count())
        .where(
            ServiceOrder.estate_id == estate.id,
            ServiceOrder.kind == kind,
            ServiceOrder.appointment_start.in_(starts),
            ServiceOrder.state != OrderState.cancelled,
        )
        .group_by(ServiceOrder.appointment_start)
    ).all()
    return {start.astimezone(UTC): count for start, count in rows if start is not None}


def book(
    session: Session, estate: Estate, kind: ServiceKind, start: datetime, now: datetime, *, days: int, capacity: int
) -> Slot:
    """The slot starting at `start` if it is offered now and has room: `bad_slot` when it is not one of the slots
    offered (a past slot, a non-working day, another time), `slot_full` when it is booked up. Bookings of one slot
    are taken one at a time, so its capacity holds with several kiosks."""
    throttle.serialize(session, f"service-slot:{estate.id}:{kind.value}:{start.astimezone(UTC).isoformat()}")
    for slot in slots(session, estate, kind, now, days=days, capacity=capacity):
        if slot.start == start.astimezone(UTC):
            if slot.free <= 0:
                raise Conflict(
                    "该时段已约满，请另选时间", "this time slot is fully booked: choose another", code="slot_full"
                )
            return slot
    raise DomainError(
        "没有这个预约时段（已过去、非工作日或不在可选时间内）",
        "no such time slot (past, not a working day, or not one of the times offered)",
        code="bad_slot",
        field="slot",
    )
