"""Estate-local days and times: the one place that knows an estate's zone. Times are stored in UTC and shown,
numbered and reconciled by the estate's day. Rules take `now` as an argument (the system clock by default), so
tests and callers can ask "what would this answer at 00:30 local time?" without waiting for it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, available_timezones

from server.contract.zones import DEFAULT_ZONE
from server.db.base import utcnow
from server.db.models import Estate
from server.domain.errors import DomainError


def check_zone(name: str) -> str:
    """An IANA zone name such as Asia/Shanghai, checked; a clear error for anything else."""
    name = name.strip()
    if name not in available_timezones():
        raise DomainError(
            f"未知的时区 {name!r}，应如 Asia/Shanghai",
            f"unknown time zone {name!r}: use one like Asia/Shanghai",
            code="bad_timezone",
        )
    return name


def zone(estate: Estate | None) -> ZoneInfo:
    return ZoneInfo(estate.timezone if estate is not None and estate.timezone else DEFAULT_ZONE)


def local_day(estate: Estate | None, at: datetime) -> date:
    return at.astimezone(zone(estate)).date()


def today(estate: Estate | None, now: datetime | None = None) -> date:
    """The estate's day at `now` (the system clock by default); with no estate, the default zone's."""
    return local_day(estate, now or utcnow())


def day_bounds(estate: Estate, day: date) -> tuple[datetime, datetime]:
    """The UTC instants where the estate's `day` starts and the next one starts."""
    start = datetime.combine(day, time.min, zone(estate))
    end = datetime.combine(day + timedelta(days=1), time.min, zone(estate))
    return start.astimezone(UTC), end.astimezone(UTC)


def end_of_day(estate: Estate, day: date) -> datetime:
    """The last second of the estate's `day`, in UTC: a slip for that day is valid up to and including it."""
    return day_bounds(estate, day)[1] - timedelta(seconds=1)


def local_text(estate: Estate | None, at: datetime | None, empty: str = "") -> str:
    """`at` as the estate's wall-clock time, minutes precision (`empty` when there is no time)."""
    return at.astimezone(zone(estate)).strftime("%Y-%m-%d %H:%M") if at else empty


def month_bounds(estate: Estate, month: date) -> tuple[datetime, datetime]:
    """The UTC instants where the estate's month of `month` (any day of it) starts and the next one starts."""
    first = month.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return day_bounds(estate, first)[0], day_bounds(estate, following)[0]
