"""The manager's monthly report pack of an estate: one month's figures of every area, each from that area's own
records and queries — releases and refusals at the gates (R-REL-6), repairs against their deadlines (R-REP), cleaning
(R-CLN), feedback by category and the callbacks (R-FB, R-REP-8), key loans and cabinet alarms (R-KEY-12), duty
lateness and absence (R-DUTY-1), move-ins (R-MOVE), renovations' late approvals and refunds (R-REN) and the
vacant-unit statistics 《空置房统计表》 (R-VAC-6).

"Late" is counted as the records stood at the month's end (or now, for the running month), as the boards count it:
a step past its due time and not done."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from server.db.models import (
    CallTask,
    Estate,
    KeyAlarm,
    KeyLoan,
    OrderState,
    ReleaseSlip,
    ServiceKind,
    ServiceOrder,
    SlipRelease,
    SlipState,
    StaffUser,
)
from server.db.models.duty import Shift
from server.db.models.lifecycle import MoveIn, MoveInState
from server.db.models.renovation import Renovation, RenovationState
from server.domain import clock
from server.domain.errors import DomainError
from server.domain.lifecycle.statistics import MonthStatistics, month_statistics
from server.domain.renovation import records as renovations
from server.domain.service import cleaning, feedback
from server.domain.service.repair_registers import LATE_STATES

Figures = dict[str, int]
LEAD_BUCKETS = ((1, "within_1_day"), (3, "within_3_days"))  # the rest: "over_3_days"
CLOSED = (OrderState.done, OrderState.returned, OrderState.called_back, OrderState.filed)


@dataclass
class MonthlyReport:
    estate: Estate
    first: date
    cutoff: datetime  # the instant "late" is counted at: the month's end, or now for the running month
    releases: Figures = field(default_factory=dict)
    by_gate: dict[str, Counter[str]] = field(default_factory=dict)  # gate → released / refused
    refusals: Counter[str] = field(default_factory=Counter)  # reason → refusals
    repairs: Figures = field(default_factory=dict)
    repair_lead: Counter[str] = field(default_factory=Counter)  # lead-time bucket → completed orders
    cleaning: Figures = field(default_factory=dict)
    feedback: feedback.Summary | None = None
    callbacks: Counter[str] = field(default_factory=Counter)  # outcome (or "waiting", "late") → calls
    keys: Figures = field(default_factory=dict)
    alarms: Counter[str] = field(default_factory=Counter)  # alarm kind → alarms
    duty: Figures = field(default_factory=dict)
    duty_people: list[tuple[str, int, int, int]] = field(default_factory=list)  # name, shifts, late, absent
    move_ins: Figures = field(default_factory=dict)
    renovations: Figures = field(default_factory=dict)
    vacancy: MonthStatistics | None = None


def parse_month(text: str) -> date:
    """`YYYY-MM` as its first day; anything else is a clear error."""
    try:
        year, month = (int(p) for p in text.strip().split("-"))
        if not 2000 <= year <= 2200:
            raise ValueError(text)
        return date(year, month, 1)
    except ValueError:
        raise DomainError(
            f"月份不对：{text!r}（年-月）", f"not a month: {text!r} (YYYY-MM)", code="bad_month"
        ) from None


def months(estate: Estate, now: datetime, count: int = 12) -> list[date]:
    """The months a pack can be made for, newest first: this month and the `count - 1` before it."""
    first = clock.today(estate, now).replace(day=1)
    out = []
    for _ in range(count):
        out.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return out


def monthly_report(
    session: Session, estate: Estate, month: date, now: datetime, vacant_fee_percent: int
) -> MonthlyReport:
    start, end = clock.month_bounds(estate, month)
    report = MonthlyReport(estate, month.replace(day=1), min(now, end))
    _releases(session, report, start, end)
    _orders(session, report, start, end)
    report.feedback = feedback.monthly_summary(session, estate, month, report.cutoff)
    _callbacks(session, report, start, end)
    _keys(session, report, start, end)
    _duty(session, report, start, end)
    _move_ins(session, report, start, end)
    _renovations(session, report, start, end)
    report.vacancy = month_statistics(session, estate, report.first, vacant_fee_percent)
    return report


def _count(session: Session, query: object) -> int:
    return int(session.scalar(query) or 0)  # type: ignore[call-overload]


def _within(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def _releases(session: Session, report: MonthlyReport, start: datetime, end: datetime) -> None:
    """R-REL: slips issued in the month, their uses at the gates by outcome and gate, refusals by reason; expired
    and cancelled slips by their validity end / cancellation in the month."""
    estate_id = report.estate.id
    slips = select(func.count()).select_from(ReleaseSlip).where(ReleaseSlip.estate_id == estate_id)
    report.releases["issued"] = _count(session, slips.where(_within(ReleaseSlip.issued_at, start, end)))
    uses = session.execute(
        select(SlipRelease.gate, SlipRelease.outcome, SlipRelease.reason).where(
            SlipRelease.estate_id == estate_id, _within(SlipRelease.at, start, end)
        )
    ).all()
    for gate, outcome, reason in uses:
        report.by_gate.setdefault(gate, Counter())[outcome] += 1
        if outcome == "refused":
            report.refusals[reason or "-"] += 1
    report.releases["released"] = sum(c["released"] for c in report.by_gate.values())
    report.releases["refused"] = sum(c["refused"] for c in report.by_gate.values())
    expired = slips.where(ReleaseSlip.state == SlipState.expired, _within(ReleaseSlip.valid_until, start, end))
    report.releases["expired"] = _count(session, expired)
    report.releases["cancelled"] = _count(session, slips.where(_within(ReleaseSlip.cancelled_at, start, end)))


def _orders(session: Session, report: MonthlyReport, start: datetime, end: datetime) -> None:
    """R-REP, R-CLN: orders opened and completed in the month; late ones at the cutoff; lead times of the completed
    repairs; steps escalated to the supervisor for a missed deadline."""
    for kind, figures in ((ServiceKind.repair, report.repairs), (ServiceKind.cleaning, report.cleaning)):
        orders = (
            select(func.count())
            .select_from(ServiceOrder)
            .where(ServiceOrder.estate_id == report.estate.id, ServiceOrder.kind == kind)
        )
        figures["opened"] = _count(session, orders.where(_within(ServiceOrder.created_at, start, end)))
        figures["completed"] = _count(session, orders.where(_within(ServiceOrder.done_at, start, end)))
        figures["escalated"] = _count(session, orders.where(_within(ServiceOrder.escalated_at, start, end)))
        figures["cancelled"] = _count(
            session,
            orders.where(ServiceOrder.state == OrderState.cancelled, _within(ServiceOrder.created_at, start, end)),
        )
        waiting = LATE_STATES if kind == ServiceKind.repair else cleaning.OPEN
        figures["late"] = _count(
            session,
            orders.where(
                ServiceOrder.state.in_(waiting), ServiceOrder.due_at < report.cutoff, ServiceOrder.created_at < end
            ),
        )
        done_rows = session.execute(
            select(ServiceOrder.created_at, ServiceOrder.done_at, ServiceOrder.satisfied, ServiceOrder.state).where(
                ServiceOrder.estate_id == report.estate.id,
                ServiceOrder.kind == kind,
                _within(ServiceOrder.done_at, start, end),
            )
        ).all()
        figures["unsatisfied"] = sum(1 for row in done_rows if row.satisfied is False)
        if kind == ServiceKind.repair:
            hours = [(row.done_at - row.created_at).total_seconds() / 3600 for row in done_rows]
            for value in hours:
                bucket = next((name for days, name in LEAD_BUCKETS if value <= days * 24), "over_3_days")
                report.repair_lead[bucket] += 1
            figures["mean_lead_hours"] = round(sum(hours) / len(hours)) if hours else 0
        else:
            figures["nobody_home"] = _count(
                session,
                orders.where(
                    ServiceOrder.state == OrderState.nobody_home, _within(ServiceOrder.created_at, start, end)
                ),
            )


def _callbacks(session: Session, report: MonthlyReport, start: datetime, end: datetime) -> None:
    """R-REP-8, 9, R-CLN-7: the month's calls by outcome; those still waiting past their window at the cutoff."""
    calls = select(CallTask.outcome, func.count()).where(
        CallTask.estate_id == report.estate.id, _within(CallTask.done_at, start, end)
    )
    for outcome, n in session.execute(calls.group_by(CallTask.outcome)).all():
        report.callbacks[outcome.value if outcome else "-"] += n
    report.callbacks["late"] = _count(
        session,
        select(func.count())
        .select_from(CallTask)
        .where(CallTask.estate_id == report.estate.id, CallTask.done_at.is_(None), CallTask.due_at < report.cutoff),
    )


def _keys(session: Session, report: MonthlyReport, start: datetime, end: datetime) -> None:
    """R-KEY-12, 14: loans registered, taken and returned in the month, flagged overdue, still out past their due
    time at the cutoff; the cabinet's alarms by kind."""
    loans = select(func.count()).select_from(KeyLoan).where(KeyLoan.estate_id == report.estate.id)
    report.keys["registered"] = _count(session, loans.where(_within(KeyLoan.registered_at, start, end)))
    report.keys["taken"] = _count(session, loans.where(_within(KeyLoan.out_at, start, end)))
    report.keys["returned"] = _count(session, loans.where(_within(KeyLoan.returned_at, start, end)))
    report.keys["flagged_overdue"] = _count(session, loans.where(_within(KeyLoan.overdue_flagged_at, start, end)))
    report.keys["out_overdue"] = _count(
        session,
        loans.where(
            KeyLoan.out_at < report.cutoff,
            KeyLoan.due_at < report.cutoff,
            (KeyLoan.returned_at.is_(None)) | (KeyLoan.returned_at > report.cutoff),
        ),
    )
    alarms = select(KeyAlarm.kind, func.count()).where(
        KeyAlarm.estate_id == report.estate.id, _within(KeyAlarm.at, start, end)
    )
    for kind, n in session.execute(alarms.group_by(KeyAlarm.kind)).all():
        report.alarms[kind.value] += n


def _duty(session: Session, report: MonthlyReport, start: datetime, end: datetime) -> None:
    """R-DUTY-1: the month's shifts, lateness and absence, in total and per person."""
    rows = session.execute(
        select(StaffUser.display_name, Shift.late_minutes, Shift.absent)
        .join(StaffUser, Shift.staff_id == StaffUser.id, isouter=True)
        .where(Shift.estate_id == report.estate.id, _within(Shift.starts_at, start, end))
    ).all()
    people: dict[str, list[int]] = {}
    for name, late, absent in rows:
        line = people.setdefault(name or "-", [0, 0, 0])
        line[0] += 1
        line[1] += 1 if late else 0
        line[2] += 1 if absent else 0
    report.duty = {
        "shifts": len(rows),
        "late": sum(1 for r in rows if r.late_minutes),
        "late_minutes": sum(r.late_minutes for r in rows),
        "absent": sum(1 for r in rows if r.absent),
    }
    report.duty_people = sorted((name, *figures) for name, figures in people.items())  # type: ignore[misc]


def _move_ins(session: Session, report: MonthlyReport, start: datetime, end: datetime) -> None:
    """R-MOVE: owners queued in the month, move-ins filed and cancelled, and those still open at the cutoff."""
    records = select(func.count()).select_from(MoveIn).where(MoveIn.estate_id == report.estate.id)
    queued = records.where(_within(MoveIn.queued_at, start, end))
    report.move_ins = {
        "queued": _count(session, queued),
        "filed": _count(session, records.where(_within(MoveIn.filed_at, start, end))),
        "cancelled": _count(session, queued.where(MoveIn.state == MoveInState.cancelled)),
        "open": _count(
            session,
            queued.where(MoveIn.state.not_in((MoveInState.filed, MoveInState.cancelled))),
        ),
    }


def _renovations(session: Session, report: MonthlyReport, start: datetime, end: datetime) -> None:
    """R-REN-2, 9: applications received and decided in the month; approvals past engineering's 3 working days and
    refunds past their 10 at the cutoff; refunds falling due and paid in the month."""
    records = select(func.count()).select_from(Renovation).where(Renovation.estate_id == report.estate.id)
    late = renovations.late(report.cutoff)
    report.renovations = {
        "received": _count(session, records.where(_within(Renovation.received_at, start, end))),
        "decided": _count(session, records.where(_within(Renovation.decided_at, start, end))),
        "approvals_late": _count(session, records.where(late, Renovation.state == RenovationState.received)),
        "refunds_due": _count(session, records.where(_within(Renovation.refund_due_at, start, end))),
        "refunds_paid": _count(session, records.where(_within(Renovation.refunded_at, start, end))),
        "refunds_late": _count(session, records.where(late, Renovation.state == RenovationState.accepted)),
    }
