"""Clocks as data (WORKFLOWS.md): the manual's deadlines — "within 1 working day", "the same day between 19:00 and
22:00", "before 22:00 the same day, else by 10:00 the next day", "by Friday", "before the 30th", "3 working days" —
are each declared once as a value, and one function, `due`, turns a clock and the moment its step started into
the window in which the step is due. The due time is stored on the record when the step starts; "late" is then a
query (`due_at < now` and the step not done).

Times are reckoned on the estate's wall clock (its zone) and returned in UTC.
"""

from __future__ import annotations

import calendar as _months
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.domain.workdays import WorkCalendar

DAY_END = time(23, 59, 59)


@dataclass(frozen=True)
class WorkingDays:
    """Due by `by` (end of day when None) on the `count`-th working day after the day the step started.
    "Within 1 working day" of a Friday request is Monday, or the first working day after a holiday."""

    count: int
    by: time | None = None

    def text(self) -> tuple[str, str]:
        at = f" {self.by:%H:%M}" if self.by else ""
        return f"{self.count} 个工作日内{at}", f"within {self.count} working day{'s' if self.count > 1 else ''}{at}"


@dataclass(frozen=True)
class SameDayWindow:
    """Done between `opens` and `closes` on the day the step started; started after `closes`, the next day's
    window (the 19:00–22:00 callback window)."""

    opens: time
    closes: time

    def text(self) -> tuple[str, str]:
        span = f"{self.opens:%H:%M}–{self.closes:%H:%M}"
        return f"当日 {span}", f"the same day, {span}"


@dataclass(frozen=True)
class CutOff:
    """Started before `cutoff`: due by `cutoff` the same day; started at or after it: by `next_day_by` on the next
    calendar day (the cleaning return rule: before 22:00 back the same day, else by 10:00 the next day)."""

    cutoff: time
    next_day_by: time

    def text(self) -> tuple[str, str]:
        return (
            f"{self.cutoff:%H:%M} 前当日完成，否则次日 {self.next_day_by:%H:%M} 前",
            f"by {self.cutoff:%H:%M} the same day, else by {self.next_day_by:%H:%M} the next day",
        )


@dataclass(frozen=True)
class ByWeekday:
    """Due by the end of the coming `weekday` (0 Monday … 4 Friday); a step started on that weekday is due the
    same day (the Friday unreturned-order register)."""

    weekday: int

    def text(self) -> tuple[str, str]:
        zh = "一二三四五六日"[self.weekday]
        return f"本周{'日' if self.weekday == 6 else zh}前", f"by {_months.day_name[self.weekday]}"


@dataclass(frozen=True)
class BeforeMonthDay:
    """Due before day `day` of the month the step started in (the end of the day before it); in a shorter month,
    by its last day. Started on or after that day: before that day of the next month (the monthly summary
    "before the 30th")."""

    day: int

    def text(self) -> tuple[str, str]:
        return f"每月 {self.day} 日前", f"before the {self.day}th of the month"


@dataclass(frozen=True)
class Hours:
    """Due `hours` after the step started, on the clock, whatever the day."""

    hours: float

    def text(self) -> tuple[str, str]:
        return f"{self.hours:g} 小时内", f"within {self.hours:g} hours"


Clock = WorkingDays | SameDayWindow | CutOff | ByWeekday | BeforeMonthDay | Hours


@dataclass(frozen=True)
class Due:
    """When a step may be done (`opens`, None: at once) and when it is late after (`at`), both in UTC."""

    at: datetime
    opens: datetime | None = None

    def late(self, now: datetime) -> bool:
        return self.at < now

    def open_at(self, now: datetime) -> bool:
        """Whether the step may be done at `now`: its window has opened (it may be late, which is a query apart)."""
        return self.opens is None or self.opens <= now


def due(clock: Clock, start: datetime, zone: ZoneInfo, work: WorkCalendar | None = None) -> Due:
    """The window of a step started at `start` (any zone) under `clock`, on the estate's wall clock `zone`."""
    work = work or WorkCalendar()
    local = start.astimezone(zone)
    day = local.date()

    def at(on: date, when: time) -> datetime:
        return datetime.combine(on, when, zone).astimezone(UTC)

    match clock:
        case WorkingDays(count=count, by=by):
            return Due(at(work.add_working_days(day, count), by or DAY_END))
        case SameDayWindow(opens=opens, closes=closes):
            on = day if local.time() < closes else day + timedelta(days=1)
            return Due(at(on, closes), at(on, opens))
        case CutOff(cutoff=cutoff, next_day_by=next_by):
            if local.time() < cutoff:
                return Due(at(day, cutoff))
            return Due(at(day + timedelta(days=1), next_by))
        case ByWeekday(weekday=weekday):
            return Due(at(day + timedelta(days=(weekday - day.weekday()) % 7), DAY_END))
        case BeforeMonthDay(day=month_day):
            limit = _before(day.year, day.month, month_day)
            if day >= limit + timedelta(days=1):
                year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
                limit = _before(year, month, month_day)
            return Due(at(limit, DAY_END))
        case Hours(hours=hours):
            return Due(start.astimezone(UTC) + timedelta(hours=hours))
    raise TypeError(f"not a clock: {clock!r}")


def _before(year: int, month: int, month_day: int) -> date:
    """The last day before `month_day` of the month; in a month too short to have that day, its last day."""
    last = _months.monthrange(year, month)[1]
    return date(year, month, last) if month_day > last else date(year, month, month_day) - timedelta(days=1)
