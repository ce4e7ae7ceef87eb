"""The console's charts, as plain figures the JSON endpoints hand to the chart library: releases per day and per gate
(R-REL-6), refusals by reason, repair lead times against the visit booked (R-REP-2), callback outcomes (R-REP-8),
key loans out and overdue (R-KEY-12), feedback by category (R-FB-1) and vacant units per month (R-VAC-6).

Each chart is counted in SQL — a grouped `COUNT`, or `SUM(CASE …)` per day or month so that days are the estate's
days on every database — over an indexed range; no record is loaded. Series are named by codes; the console puts
them in the reader's language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session

from server.db.models import (
    CallOutcome,
    CallTask,
    Estate,
    FeedbackCategory,
    FeedbackForm,
    KeyLoan,
    LoanPurpose,
    LoanState,
    ServiceKind,
    ServiceOrder,
    SlipRelease,
)
from server.db.models.lifecycle import Vacancy
from server.domain import clock
from server.domain.permissions import Perm

MAX_DAYS = 92
MAX_MONTHS = 24
TOP_REASONS = 8
COUNT_MISMATCH = "count_mismatch"  # a refusal because the items counted differ from the slip's (R-REL-6)
LEAD_BUCKETS = ((4, "h4"), (24, "h24"), (72, "d3"), (168, "d7"))  # hours; beyond the last: "more"


@dataclass
class Chart:
    """What a chart shows: its kind (bar, line, pie), the category labels and one or more named series."""

    name: str
    kind: str
    labels: list[str]
    series: list[dict[str, Any]] = field(default_factory=list)  # {"name": code, "data": [numbers]}
    stacked: bool = False
    label_codes: bool = False  # the labels are codes for the console to translate

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "kind": self.kind, "labels": self.labels, "series": self.series,
                "stacked": self.stacked}  # fmt: skip


def _days(estate: Estate, now: datetime, days: int) -> list[tuple[date, datetime, datetime]]:
    last = clock.local_day(estate, now)
    out = []
    for n in range(days - 1, -1, -1):
        day = last - timedelta(days=n)
        out.append((day, *clock.day_bounds(estate, day)))
    return out


def _hour(session: Session, column: Any) -> Any:
    """The UTC hour an instant falls in, as the database groups it."""
    if session.get_bind().dialect.name == "sqlite":
        return func.substr(column, 1, 13)  # "YYYY-MM-DD HH" of the stored naive UTC text
    return func.date_trunc("hour", column)


def _local_day(estate: Estate, hour: str | datetime) -> date:
    at = datetime.strptime(hour, "%Y-%m-%d %H") if isinstance(hour, str) else hour
    return clock.local_day(estate, at if at.tzinfo else at.replace(tzinfo=UTC))


def releases(session: Session, estate: Estate, now: datetime, days: int) -> Chart:
    """Slips released at the gates per day of the estate, one series per gate (stacked). Counted per gate and UTC
    hour, then the hours folded into the estate's days (its zone is a whole number of hours from UTC)."""
    bounds = _days(estate, now, days)
    hour = _hour(session, SlipRelease.at)
    rows = session.execute(
        select(SlipRelease.gate, hour, func.count())
        .where(
            SlipRelease.estate_id == estate.id,
            SlipRelease.outcome == "released",
            SlipRelease.at >= bounds[0][1],
            SlipRelease.at < bounds[-1][2],
        )
        .group_by(SlipRelease.gate, hour)
    ).all()
    index = {d: n for n, (d, _a, _b) in enumerate(bounds)}
    per_gate: dict[str, list[int]] = {}
    for gate, at, n in rows:
        per_gate.setdefault(gate, [0] * len(bounds))[index[_local_day(estate, at)]] += n
    series = [{"name": gate, "data": per_gate[gate]} for gate in sorted(per_gate)]
    return Chart("releases", "bar", [d.isoformat() for d, _a, _b in bounds], series, stacked=True)


def refusals(session: Session, estate: Estate, now: datetime, days: int) -> Chart:
    """Refusals at the gates in the last `days` by reason: a count that did not match the slip, else the reason the
    guard wrote (the most frequent, the rest as `other`)."""
    start = clock.day_bounds(estate, clock.local_day(estate, now) - timedelta(days=days - 1))[0]
    mismatch = SlipRelease.reason.contains("实点", autoescape=True)
    reason = case((mismatch, COUNT_MISMATCH), else_=SlipRelease.reason)
    rows = session.execute(
        select(reason, func.count())
        .where(SlipRelease.estate_id == estate.id, SlipRelease.at >= start, SlipRelease.outcome == "refused")
        .group_by(reason)
        .order_by(func.count().desc(), reason)
    ).all()
    top, rest = rows[:TOP_REASONS], sum(n for _r, n in rows[TOP_REASONS:])
    labels = [r or "unstated" for r, _n in top] + (["other"] if rest else [])
    data = [n for _r, n in top] + ([rest] if rest else [])
    return Chart("refusals", "pie", labels, [{"name": "refusals", "data": data}], label_codes=True)


def _hours(session: Session, later: Any, earlier: Any) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "sqlite":
        return (func.julianday(later) - func.julianday(earlier)) * 24
    return func.extract("epoch", later - earlier) / 3600


def repair_lead(session: Session, estate: Estate, now: datetime, days: int) -> Chart:
    """Repairs finished in the last `days` by their lead time (opened to finished), split into those finished
    within the visit booked with the resident (its deadline, R-REP-2) and those finished after it."""
    start = clock.day_bounds(estate, clock.local_day(estate, now) - timedelta(days=days - 1))[0]
    hours = _hours(session, ServiceOrder.done_at, ServiceOrder.created_at)
    edges = [h for h, _k in LEAD_BUCKETS]
    bucket = case(*((hours < h, n) for n, h in enumerate(edges)), else_=len(edges))
    on_time = case(
        (and_(ServiceOrder.appointment_end.is_not(None), ServiceOrder.done_at <= ServiceOrder.appointment_end), 1),
        else_=0,
    )
    rows = session.execute(
        select(bucket, cast(func.sum(on_time), Integer), func.count())
        .where(
            ServiceOrder.estate_id == estate.id,
            ServiceOrder.kind == ServiceKind.repair,
            ServiceOrder.done_at >= start,
            ServiceOrder.done_at < now,
        )
        .group_by(bucket)
    ).all()
    within, late = [0] * (len(edges) + 1), [0] * (len(edges) + 1)
    for n, kept, total in rows:
        within[int(n)], late[int(n)] = int(kept or 0), int(total) - int(kept or 0)
    labels = [k for _h, k in LEAD_BUCKETS] + ["more"]
    series = [{"name": "within_deadline", "data": within}, {"name": "past_deadline", "data": late}]
    return Chart("repair_lead", "bar", labels, series, stacked=True, label_codes=True)


def callbacks(session: Session, estate: Estate, now: datetime, days: int) -> Chart:
    """The outcomes of the calls made to residents in the last `days` (R-REP-8, R-CLN-7, R-FB-4)."""
    start = clock.day_bounds(estate, clock.local_day(estate, now) - timedelta(days=days - 1))[0]
    rows = dict(
        session.execute(
            select(CallTask.outcome, func.count())
            .where(CallTask.estate_id == estate.id, CallTask.done_at >= start, CallTask.outcome.is_not(None))
            .group_by(CallTask.outcome)
        ).all()
    )
    found = [(o.value, int(rows[o])) for o in CallOutcome if rows.get(o)]
    return Chart(
        "callbacks", "pie", [o for o, _n in found], [{"name": "callbacks", "data": [n for _o, n in found]}],
        label_codes=True,
    )  # fmt: skip


def key_loans(session: Session, estate: Estate, now: datetime, days: int) -> Chart:
    """Keys out on loan now by purpose, split into those within their due time and those overdue (R-KEY-12)."""
    overdue = case((and_(KeyLoan.due_at.is_not(None), KeyLoan.due_at < now), 1), else_=0)
    rows = {
        purpose: (int(total), int(late or 0))
        for purpose, total, late in session.execute(
            select(KeyLoan.purpose, func.count(), cast(func.sum(overdue), Integer))
            .where(KeyLoan.estate_id == estate.id, KeyLoan.state == LoanState.out)
            .group_by(KeyLoan.purpose)
        ).all()
    }
    purposes = [p for p in LoanPurpose if p in rows]
    series = [
        {"name": "out", "data": [rows[p][0] - rows[p][1] for p in purposes]},
        {"name": "overdue", "data": [rows[p][1] for p in purposes]},
    ]
    return Chart("key_loans", "bar", [p.value for p in purposes], series, stacked=True, label_codes=True)


def feedback(session: Session, estate: Estate, now: datetime, days: int) -> Chart:
    """Feedback forms received in the last `days` by category (R-FB-1)."""
    start = clock.day_bounds(estate, clock.local_day(estate, now) - timedelta(days=days - 1))[0]
    rows = dict(
        session.execute(
            select(FeedbackForm.category, func.count())
            .where(FeedbackForm.estate_id == estate.id, FeedbackForm.received_at >= start)
            .group_by(FeedbackForm.category)
        ).all()
    )
    categories = list(FeedbackCategory)
    data = [int(rows.get(c, 0)) for c in categories]
    return Chart("feedback", "bar", [c.value for c in categories], [{"name": "forms", "data": data}], label_codes=True)


def _months(estate: Estate, now: datetime, months: int) -> list[tuple[date, date]]:
    first = clock.local_day(estate, now).replace(day=1)
    out = []
    for _ in range(months):
        after = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        out.append((first, after))
        first = (first - timedelta(days=1)).replace(day=1)
    return out[::-1]


def vacancy(session: Session, estate: Estate, now: datetime, months: int) -> Chart:
    """Units vacant at some time in each month, as the month's statistics list them (R-VAC-6)."""
    spans = _months(estate, now, months)
    columns = [
        func.count(
            func.distinct(
                case(
                    (and_(Vacancy.starts_on < after, or_(Vacancy.ends_on.is_(None), Vacancy.ends_on >= first)),
                     Vacancy.unit_id),
                )
            )
        )
        for first, after in spans
    ]  # fmt: skip
    row = session.execute(
        select(*columns).where(
            Vacancy.estate_id == estate.id,
            Vacancy.starts_on < spans[-1][1],
            or_(Vacancy.ends_on.is_(None), Vacancy.ends_on >= spans[0][0]),
        )
    ).one()
    labels = [first.strftime("%Y-%m") for first, _a in spans]
    return Chart("vacancy", "line", labels, [{"name": "vacant_units", "data": [int(n or 0) for n in row]}])


Reader = Callable[[Session, Estate, datetime, int], Chart]


@dataclass(frozen=True)
class Spec:
    read: Reader
    perm: Perm
    span: str = "days"  # the query parameter's unit: days or months
    default: int = 30


CHARTS: dict[str, Spec] = {
    "releases": Spec(releases, Perm.slips_view),
    "refusals": Spec(refusals, Perm.slips_view),
    "repair_lead": Spec(repair_lead, Perm.service_view),
    "callbacks": Spec(callbacks, Perm.service_view),
    "key_loans": Spec(key_loans, Perm.keys_view),
    "feedback": Spec(feedback, Perm.service_view),
    "vacancy": Spec(vacancy, Perm.vacancy_view, "months", 12),
}


def span(spec: Spec, asked: int | None) -> int:
    """The days (or months) a chart covers: as asked, within bounds."""
    top = MAX_MONTHS if spec.span == "months" else MAX_DAYS
    return spec.default if asked is None else max(1, min(asked, top))
