"""The field types of every request: what a kiosk, gate, cabinet or console form sends is checked here, once.

- `Text`: no control characters (NUL included, which PostgreSQL cannot store) and no lone surrogates (which no
  encoding can write), so they are never stored and never break an export later.
- `Day` and `Moment`: dates and times the estate can have dealt with and the database can store, in UTC.

Anything else is a 422 naming the field.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import AfterValidator

_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)


def check_text(value: str) -> str:
    found = _FORBIDDEN.search(value)
    if found is not None:
        raise ValueError(
            f"不能包含控制字符 / must not contain a control character or lone surrogate (U+{ord(found.group()):04X})"
        )
    return value


def clean_text(value: str) -> str:
    """`value` with each character `check_text` refuses replaced by U+FFFD: for a client that must pass on text it
    did not write (a gate's scanned code) in a field of this type."""
    return _FORBIDDEN.sub("\ufffd", value)


def check_day(value: date) -> date:
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"日期须在 {FIRST_DAY} 至 {LAST_DAY} 之间 / a date between {FIRST_DAY} and {LAST_DAY}")
    return value


def parse_day(text: str) -> date:
    """A date typed into a console form or query (YYYY-MM-DD); ValueError when it is not one or out of range."""
    return check_day(date.fromisoformat(text))


def to_utc(value: datetime) -> datetime:
    """The same instant in UTC (a time without a zone is taken as UTC); ValueError when it cannot be one."""
    try:
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise ValueError("时间超出范围 / the time is out of range") from None


Text = Annotated[str, AfterValidator(check_text)]
Day = Annotated[date, AfterValidator(check_day)]
Moment = Annotated[datetime, AfterValidator(to_utc)]
