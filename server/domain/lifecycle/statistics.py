"""The monthly vacant-unit statistics 《空置房统计表》 (R-VAC-6): each unit vacant at some time in the month with its
vacant days, patrols, findings, cleaning rounds and sales viewings, and the month's counts — vacant on the 1st,
taken over, moved in, vacant at the end. The management fee of a vacant unit follows the city's rules (R-VAC-5):
the share of the full fee configured for the estate's city is shown against the vacant days."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from server.db.models import Estate, Key, KeyLoan, KeySet, LoanPurpose, Unit
from server.db.models.lifecycle import PatrolFinding, Vacancy, VacantCleaning, VacantPatrol
from server.domain import clock
from server.domain.errors import DomainError


@dataclass(frozen=True)
class VacancyLine:
    unit: str
    building: str
    starts_on: date
    ends_on: date | None
    days: int  # vacant days in the month
    fee_days: float  # the vacant days charged in full-fee days, at the city's share (R-VAC-5)
    patrols: int
    findings: int
    cleanings: int
    viewings: int


@dataclass(frozen=True)
class MonthStatistics:
    first: date
    last: date
    lines: list[VacancyLine]
    at_start: int
    taken_over: int
    moved_in: int
    at_end: int
    fee_percent: int


def parse_month(text: str, today: date) -> date:
    """`YYYY-MM` as the month's first day; empty: this month."""
    if not text.strip():
        return today.replace(day=1)
    try:
        year, month = (int(p) for p in text.strip().split("-"))
        return date(year, month, 1)
    except ValueError:
        raise DomainError(
            f"月份不对：{text!r}（年-月）", f"not a month: {text!r} (YYYY-MM)", code="bad_month"
        ) from None


def _next_month(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


def month_statistics(session: Session, estate: Estate, first: date, fee_percent: int) -> MonthStatistics:
    after = _next_month(first)
    last = after - timedelta(days=1)
    zone = clock.zone(estate)
    start, end = (datetime.combine(d, time(0), zone) for d in (first, after))
    spells = session.execute(
        select(Vacancy, Unit)
        .join(Unit, Vacancy.unit_id == Unit.id)
        .where(
            Vacancy.estate_id == estate.id,
            Vacancy.starts_on <= last,
            or_(Vacancy.ends_on.is_(None), Vacancy.ends_on >= first),
        )
        .order_by(Unit.code)
    ).all()

    def count(query: object) -> int:
        return int(session.scalar(query) or 0)  # type: ignore[call-overload]

    lines = []
    for spell, unit in spells:
        ends = min(spell.ends_on or after, after)
        days = max(0, (ends - max(spell.starts_on, first)).days)
        in_month = and_(
            VacantPatrol.unit_id == unit.id, VacantPatrol.patrolled_at >= start, VacantPatrol.patrolled_at < end
        )
        lines.append(
            VacancyLine(
                unit=unit.code,
                building=unit.building.number,
                starts_on=spell.starts_on,
                ends_on=spell.ends_on,
                days=days,
                fee_days=round(days * fee_percent / 100, 1),
                patrols=count(select(func.count()).select_from(VacantPatrol).where(in_month)),
                findings=count(select(func.count()).select_from(PatrolFinding).join(VacantPatrol).where(in_month)),
                cleanings=count(
                    select(func.count())
                    .select_from(VacantCleaning)
                    .where(
                        VacantCleaning.unit_id == unit.id,
                        VacantCleaning.cleaned_at >= start,
                        VacantCleaning.cleaned_at < end,
                    )
                ),
                viewings=count(
                    select(func.count())
                    .select_from(KeyLoan)
                    .join(Key, KeyLoan.key_id == Key.id)
                    .join(KeySet, Key.set_id == KeySet.id)
                    .where(
                        KeySet.unit_id == unit.id,
                        KeyLoan.purpose == LoanPurpose.sales_viewing,
                        KeyLoan.registered_at >= start,
                        KeyLoan.registered_at < end,
                    )
                ),
            )
        )
    return MonthStatistics(
        first=first,
        last=last,
        lines=lines,
        fee_percent=fee_percent,
        at_start=sum(1 for x in lines if x.starts_on < first),
        taken_over=sum(1 for x in lines if x.starts_on >= first),
        moved_in=sum(1 for x in lines if x.ends_on is not None and x.ends_on <= last),
        at_end=sum(1 for x in lines if x.ends_on is None or x.ends_on > last),
    )
