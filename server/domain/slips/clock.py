"""Estate-local days and times: slips are numbered and reconciled by the estate's day, stored in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.db.models import Estate


def zone(estate: Estate) -> ZoneInfo:
    return ZoneInfo(estate.timezone or "Asia/Shanghai")


def local_day(estate: Estate, at: datetime) -> date:
    return at.astimezone(zone(estate)).date()


def day_bounds(estate: Estate, day: date) -> tuple[datetime, datetime]:
    """The UTC instants where the estate's `day` starts and the next one starts."""
    start = datetime.combine(day, time.min, zone(estate))
    end = datetime.combine(day + timedelta(days=1), time.min, zone(estate))
    return start.astimezone(UTC), end.astimezone(UTC)


def end_of_day(estate: Estate, day: date) -> datetime:
    """The last second of the estate's `day`, in UTC: a slip for that day is valid up to and including it."""
    return day_bounds(estate, day)[1] - timedelta(seconds=1)


def local_text(estate: Estate, at: datetime | None) -> str:
    return at.astimezone(zone(estate)).strftime("%Y-%m-%d %H:%M") if at else ""
