"""Working days (WORKFLOWS.md): China's statutory holidays and make-up working days, with an estate's own
exceptions on top. Everything that says "working day" asks a `WorkCalendar`; nothing counts weekdays by hand.

The national schedule comes from `chinesecalendar`, which carries each year's State Council notice once it is
published. A year it does not cover yet (the notice comes out in late autumn) falls back to Monday–Friday, and
`WorkCalendar.known` says so, so the console can ask someone to enter that year's holidays as estate exceptions
until the library is updated. An exception always wins: an estate closed for a typhoon, a local holiday, or a
national day entered by hand.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import chinese_calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import CalendarDay, Estate
from server.domain import audit
from server.domain.actors import Actor

# Counting further than this from one day means a calendar with no working day in it: a configuration error.
_SEARCH_LIMIT = 366


@dataclass(frozen=True)
class EstateDay:
    """An estate's own answer for one day: working or not, and why (shown to staff)."""

    day: date
    working: bool
    name: str = ""


def national_working_day(day: date) -> bool | None:
    """The State Council's answer for `day`: a working day (make-up Saturdays included) or not; None when the
    library has no schedule for that year."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def national_holiday_name(day: date) -> str:
    """The statutory holiday `day` belongs to, in English as the library names it ("" for none or unknown)."""
    try:
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return ""
    return str(name or "") if is_holiday else ""


@dataclass(frozen=True)
class WorkCalendar:
    """Working days for one estate: its exceptions over the national schedule over Monday–Friday."""

    exceptions: Mapping[date, bool] = field(default_factory=dict)
    names: Mapping[date, str] = field(default_factory=dict)  # why, for the estate's own days

    @classmethod
    def of(cls, exceptions: list[EstateDay] | tuple[EstateDay, ...] = ()) -> WorkCalendar:
        return cls({e.day: e.working for e in exceptions}, {e.day: e.name for e in exceptions})

    def name(self, day: date) -> str:
        """Why `day` is what it is: the estate's reason, else the statutory holiday's name ("" for an ordinary day)."""
        return self.names.get(day) or national_holiday_name(day)

    def is_working_day(self, day: date) -> bool:
        own = self.exceptions.get(day)
        if own is not None:
            return own
        national = national_working_day(day)
        return national if national is not None else day.weekday() < 5

    def known(self, day: date) -> bool:
        """Whether `day`'s answer comes from a published schedule or an exception, not the Monday–Friday guess."""
        return day in self.exceptions or national_working_day(day) is not None

    def working_days_from(self, day: date) -> Iterator[date]:
        """The working days after `day`, in order (`day` itself excluded)."""
        current = day
        for _ in range(_SEARCH_LIMIT * 10):
            current += timedelta(days=1)
            if self.is_working_day(current):
                yield current
        raise ValueError(f"no working day within {_SEARCH_LIMIT * 10} days after {day}")

    def add_working_days(self, day: date, count: int) -> date:
        """The `count`-th working day after `day` (count ≥ 1): 1 from a Friday is the next Monday, unless that is a
        holiday; from the eve of National Day it is the first working day after the holiday."""
        if count < 1:
            raise ValueError("count working days from 1")
        days = self.working_days_from(day)
        found = day
        for _ in range(count):
            found = next(days)
        return found

    def first_working_day(self, day: date) -> date:
        """`day` if it is a working day, else the next one."""
        return day if self.is_working_day(day) else self.add_working_days(day, 1)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when `end` is not after `start`)."""
        count, current = 0, start
        while current < end:
            current += timedelta(days=1)
            count += self.is_working_day(current)
        return count

    def unknown_days(self, start: date, end: date) -> list[date]:
        """Days from `start` to `end` (inclusive) answered only by the Monday–Friday guess."""
        out, current = [], start
        while current <= end:
            if not self.known(current):
                out.append(current)
            current += timedelta(days=1)
        return out


def estate_calendar(session: Session, estate: Estate) -> WorkCalendar:
    """The estate's working days: its own exceptions over the national schedule."""
    rows = session.scalars(select(CalendarDay).where(CalendarDay.estate_id == estate.id))
    return WorkCalendar.of([EstateDay(row.day, row.working, row.name) for row in rows])


def set_day(
    session: Session, actor: Actor, estate: Estate, day: date, *, working: bool, name: str = "", now: datetime
) -> CalendarDay:
    """Say whether the estate works on `day` (replacing an earlier answer); recorded in the audit log."""
    row = session.get(CalendarDay, (estate.id, day))
    if row is None:
        row = CalendarDay(estate_id=estate.id, day=day)
        session.add(row)
    row.working, row.name, row.set_by, row.set_at = working, name.strip()[:40], actor.label[:80], now
    session.flush()
    audit.record(
        session,
        actor,
        "calendar.set_day",
        "calendar_day",
        day.isoformat(),
        estate_id=estate.id,
        working=working,
        name=row.name,
    )
    return row


def clear_day(session: Session, actor: Actor, estate: Estate, day: date) -> bool:
    """Drop the estate's answer for `day` (the national schedule applies again). False when there was none."""
    row = session.get(CalendarDay, (estate.id, day))
    if row is None:
        return False
    session.delete(row)
    audit.record(session, actor, "calendar.clear_day", "calendar_day", day.isoformat(), estate_id=estate.id)
    return True
