"""Checks of the information log (R-DUTY-6): the supervisor checks it daily, the manager spot-checks it at least
weekly, each with findings; a missing check is flagged: yesterday's daily check, or no spot check in 7 days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Estate, StaffUser
from server.db.models.dutylog import CheckKind, LogCheck
from server.domain import audit, clock
from server.domain.actors import Actor
from server.domain.errors import DomainError

SPOT_CHECK_EVERY = timedelta(days=7)


def record(
    session: Session, actor: Actor, estate: Estate, kind: str, day: date, findings: str, at: datetime, *,
    by: StaffUser,
) -> LogCheck:  # fmt: skip
    if kind not in CheckKind.__members__:
        raise DomainError("检查类型无效", "unknown kind of check", code="bad_kind", fields=["kind"])
    if day > clock.local_day(estate, at):
        raise DomainError("不能检查未来的记录", "a future day cannot be checked", code="future_day", fields=["day"])
    text = findings.strip()
    if not text:
        raise DomainError("请填写检查结果", "enter the findings", code="missing_fields", fields=["findings"])
    if len(text) > 1000:
        raise DomainError("检查结果过长", "the findings are too long", code="too_long", fields=["findings"])
    row = LogCheck(estate_id=estate.id, kind=CheckKind(kind), day=day, at=at, findings=text, by_id=by.id)
    session.add(row)
    session.flush()
    audit.record(session, actor, f"log_check.{kind}", "log_check", row.id, estate_id=estate.id, day=day.isoformat())
    return row


@dataclass(frozen=True)
class Missing:
    daily: date | None  # yesterday, when its daily check is missing
    weekly: bool  # no spot check in the last 7 days


def missing(session: Session, estate: Estate, now: datetime) -> Missing:
    today = clock.local_day(estate, now)
    yesterday = today - timedelta(days=1)
    daily = session.scalar(
        select(LogCheck.id).where(
            LogCheck.estate_id == estate.id, LogCheck.kind == CheckKind.daily, LogCheck.day == yesterday
        )
    )
    weekly = session.scalar(
        select(LogCheck.id).where(
            LogCheck.estate_id == estate.id, LogCheck.kind == CheckKind.weekly, LogCheck.at > now - SPOT_CHECK_EVERY
        )
    )
    return Missing(daily=yesterday if daily is None else None, weekly=weekly is None)


def recent(session: Session, estate: Estate, limit: int = 60) -> list[LogCheck]:
    return list(
        session.scalars(
            select(LogCheck).where(LogCheck.estate_id == estate.id).order_by(LogCheck.at.desc()).limit(limit)
        )
    )
