"""The "due today / late" boards of the service desk, one per role (issue 17, item 5): what each must do now, what
is late (a query: `lateness`), each figure a count with its first few records and the filtered list it stands for.

- the front desk: cleaning bookings to dispatch and those where nobody was home (R-CLN-1, 3), the calls open now
  and those late (R-REP-8, 9), feedback forms due today and late (R-FB-1, 3), answers owed to residents (R-FB-4);
- engineering: repairs to assign and to schedule, today's appointments (R-REP-2), orders done and not returned
  (R-REP-7, 9) and those whose reason for the unreturned register is due (R-REP-11), replies owed (R-FB-3);
- environment: cleaning dispatched today, returns due and overdue (R-CLN-6), nobody home (R-CLN-3), replies owed;
- the supervisor: everything late by kind, what was escalated, failed callbacks (R-REP-8), replies to sign (R-FB-4).

`orders_page` is the order list the figures link to (first page, by state, late), as the list pages filter it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, selectinload

from server.db.base import UTCDateTime
from server.db.models import (
    CallOutcome,
    CallTask,
    Estate,
    FeedbackForm,
    FeedbackState,
    OrderState,
    Role,
    ServiceKind,
    ServiceOrder,
    Unit,
)
from server.domain import clock
from server.domain.paging import Page
from server.domain.permissions import Perm, allowed
from server.domain.service import lateness

SHOWN = 5  # records listed under each figure
CALLBACK_REASONS = ("repair_callback", "cleaning_callback", "dissatisfied")
FAILED = (CallOutcome.reached_unsatisfied, CallOutcome.no_answer)
FAILED_WITHIN = timedelta(days=14)  # a failed callback older than this is the monthly filing's business

S, F = OrderState, FeedbackState
LIST = {ServiceKind.repair: "/console/service/repairs", ServiceKind.cleaning: "/console/service/cleaning"}
FEEDBACK_LIST, CALLS_LIST = "/console/service/feedback", "/console/service/calls"


@dataclass(frozen=True)
class Line:
    """One record under a figure: what it is, whose, when it is due, and whether it is late."""

    kind: str  # repair, cleaning, feedback, call
    number: str
    unit: str
    who: str
    state: str
    due_at: datetime | None
    late: bool
    when: datetime | None = None  # an appointment, for the day's visits


@dataclass(frozen=True)
class Figure:
    key: str  # its translation key under service.board.figure.
    count: int
    link: str  # the filtered list this figure counts
    lines: list[Line]
    alarm: bool = False  # late or failed: shown in red when not zero


@dataclass(frozen=True)
class Board:
    role: str  # desk, engineering, environment, supervisor
    figures: list[Figure]


ROLES = ("desk", "engineering", "environment", "supervisor")
ROLE_PERM = {
    "desk": Perm.service_intake,
    "engineering": Perm.repairs_work,
    "environment": Perm.cleaning_work,
    "supervisor": Perm.service_supervise,
}
DEPARTMENT = {"engineering": Role.engineering.value, "environment": Role.environment.value}


def roles_for(role: Role) -> list[str]:
    """The boards a member of staff sees: those of the work they do; one who only views sees the supervisor's."""
    mine = [r for r in ROLES if allowed(role, ROLE_PERM[r])]
    return mine or (["supervisor"] if allowed(role, Perm.service_view) else [])


def link(base: str, **query: Any) -> str:
    text = "&".join(f"{k}={v}" for k, v in query.items() if v not in (None, ""))
    return f"{base}?{text}" if text else base


@dataclass(frozen=True)
class _Spec:
    """A figure before it is read: its count and its first lines as queries, read with the board's others."""

    key: str
    href: str
    alarm: bool
    count: Select[Any]
    lines: Select[Any]  # the columns of `_LINE`, in order


_LINE = ("kind", "number", "unit", "who", "state", "due_at", "when_at", "late")


class _Reader:
    """The board's queries for one estate at one moment. Each figure is a count and a short list; a board's counts
    are read in one statement and its lists in another, so a board costs two round trips, whatever its figures."""

    def __init__(self, session: Session, estate: Estate, now: datetime) -> None:
        self.session, self.estate, self.now = session, estate, now
        self.day_start, self.day_end = clock.day_bounds(estate, clock.local_day(estate, now))

    def _spec(self, key: str, href: str, alarm: bool, model: type[Any], conditions: list[ColumnElement[bool]],
              columns: list[Any], joined: Select[Any], order: Sequence[Any]) -> _Spec:  # fmt: skip
        count = select(func.count()).select_from(model).where(*conditions)
        labelled = [c.label(name) for c, name in zip(columns, _LINE, strict=True)]
        lines = joined.with_only_columns(*labelled).where(*conditions).order_by(*order).limit(SHOWN)
        return _Spec(key, href, alarm, count, lines)

    def _late(self, condition: ColumnElement[bool]) -> ColumnElement[int]:
        return case((condition, 1), else_=0)

    # orders

    def orders(self, key: str, kind: ServiceKind, where: Sequence[ColumnElement[bool]], href: str, *,
               alarm: bool = False, by_appointment: bool = False) -> _Spec:  # fmt: skip
        o = ServiceOrder
        conditions = [o.estate_id == self.estate.id, o.kind == kind, *where]
        late = self._late(and_(o.state.in_(lateness.ORDER_CLOCKED[kind]), o.due_at < self.now))
        columns = [literal(kind.value), o.number, Unit.code, o.contact_name, cast(o.state, String), o.due_at,
                   o.appointment_start, late]  # fmt: skip
        order = (o.appointment_start, o.id) if by_appointment else (o.due_at, o.id)
        joined = select(o.id).join(Unit, Unit.id == o.unit_id)
        return self._spec(key, href, alarm, o, conditions, columns, joined, order)

    def in_states(self, kind: ServiceKind, *states: OrderState) -> ColumnElement[bool]:
        return ServiceOrder.state.in_(states) if len(states) > 1 else ServiceOrder.state == states[0]

    def late_order(self, kind: ServiceKind, *states: OrderState) -> list[ColumnElement[bool]]:
        return [self.in_states(kind, *states), ServiceOrder.due_at < self.now]

    def pending_order(self, kind: ServiceKind, *states: OrderState) -> list[ColumnElement[bool]]:
        return [self.in_states(kind, *states), or_(ServiceOrder.due_at.is_(None), ServiceOrder.due_at >= self.now)]

    def today(self) -> list[ColumnElement[bool]]:
        return [ServiceOrder.appointment_start >= self.day_start, ServiceOrder.appointment_start < self.day_end]

    # feedback forms

    def forms(self, key: str, where: Sequence[ColumnElement[bool]], href: str, *, alarm: bool = False) -> _Spec:
        f = FeedbackForm
        conditions = [f.estate_id == self.estate.id, *where]
        late = self._late(and_(f.state.in_(lateness.FORM_CLOCKED), f.due_at < self.now))
        columns = [literal("feedback"), f.number, func.coalesce(Unit.code, ""), f.contact_name, cast(f.state, String),
                   f.due_at, cast(null(), UTCDateTime()), late]  # fmt: skip
        joined = select(f.id).outerjoin(Unit, Unit.id == f.unit_id)
        return self._spec(key, href, alarm, f, conditions, columns, joined, (f.due_at, f.id))

    # call tasks

    def tasks(self, key: str, where: Sequence[ColumnElement[bool]], href: str, *, alarm: bool = False) -> _Spec:
        t = CallTask
        conditions = [t.estate_id == self.estate.id, *where]
        late = self._late(and_(t.done_at.is_(None), t.due_at < self.now))
        columns = [literal("call"), func.coalesce(ServiceOrder.number, FeedbackForm.number, ""), literal(""), t.phone,
                   func.coalesce(cast(t.outcome, String), cast(t.reason, String)), t.due_at,
                   cast(null(), UTCDateTime()), late]  # fmt: skip
        joined = (
            select(t.id)
            .outerjoin(ServiceOrder, t.order_id == ServiceOrder.id)
            .outerjoin(FeedbackForm, t.feedback_id == FeedbackForm.id)
        )
        return self._spec(key, href, alarm, t, conditions, columns, joined, (t.due_at, t.id))

    def read(self, specs: list[_Spec], *, with_lines: bool = True) -> list[Figure]:
        """Every figure's count in one statement and every figure's lines in another (`with_lines`: else none)."""
        counts = self.session.execute(select(*(s.count.scalar_subquery() for s in specs))).one()
        if not with_lines:
            return [Figure(s.key, counts[n] or 0, s.href, [], s.alarm) for n, s in enumerate(specs)]
        parts = [select(literal(n).label("figure"), *s.lines.subquery().c) for n, s in enumerate(specs)]
        rows = self.session.execute(union_all(*parts)).all()
        lines: list[list[Line]] = [[] for _ in specs]
        for figure, kind, number, unit, who, state, due_at, when_at, late in rows:
            lines[figure].append(Line(kind, number, unit, who, state, due_at, bool(late), when_at))
        return [Figure(s.key, counts[n] or 0, s.href, lines[n], s.alarm) for n, s in enumerate(specs)]


def board(session: Session, estate: Estate, role: str, now: datetime, *, with_lines: bool = True) -> Board:
    """The board of `role` (one of ROLES) for `estate` at `now` (`with_lines`: each figure's first records too; the
    dashboard reads only the counts)."""
    r = _Reader(session, estate, now)
    repair, cleaning = ServiceKind.repair, ServiceKind.cleaning
    repairs, cleanings = LIST[repair], LIST[cleaning]
    figures: list[_Spec]
    if role == "desk":
        figures = [
            r.orders("to_dispatch", cleaning, [ServiceOrder.state == S.new], link(cleanings, state="new")),
            r.orders("nobody_home", cleaning, [ServiceOrder.state == S.nobody_home],
                     link(cleanings, state="nobody_home")),
            r.tasks("calls_open", [CallTask.done_at.is_(None),
                                   or_(CallTask.opens_at.is_(None), CallTask.opens_at <= now),
                                   or_(CallTask.due_at.is_(None), CallTask.due_at >= now)], CALLS_LIST),
            r.tasks("calls_late", [lateness.task_late(now)], link(CALLS_LIST, late=1), alarm=True),
            r.forms("forms_due_today", [FeedbackForm.state.in_(lateness.FORM_CLOCKED), FeedbackForm.due_at >= now,
                                        FeedbackForm.due_at < r.day_end], link(FEEDBACK_LIST, state="received")),
            r.forms("forms_late", [lateness.form_late(now)], link(FEEDBACK_LIST, late=1), alarm=True),
            r.forms("answers_owed", [FeedbackForm.state == F.signed], link(FEEDBACK_LIST, state="signed")),
        ]  # fmt: skip
    elif role == "engineering":
        figures = [
            r.orders("to_assign", repair, [r.in_states(repair, S.new, S.reopened)], link(repairs, state="new")),
            r.orders("to_schedule", repair, [r.in_states(repair, S.assigned, S.unfinished)],
                     link(repairs, state="assigned")),
            r.orders("visits_today", repair, [r.in_states(repair, S.scheduled, S.in_progress), *r.today()],
                     link(repairs, state="scheduled"), by_appointment=True),
            r.orders("not_returned", repair, r.pending_order(repair, S.done), link(repairs, state="done")),
            r.orders("returns_late", repair, r.late_order(repair, S.done), link(repairs, state="done", late=1),
                     alarm=True),
            r.orders("reasons_due", repair, [*r.late_order(repair, S.done), ServiceOrder.unreturned_reason == ""],
                     link(repairs, state="done", late=1), alarm=True),
            r.forms("replies_due", [FeedbackForm.state == F.referred, FeedbackForm.department == DEPARTMENT[role]],
                    link(FEEDBACK_LIST, state="referred")),
        ]  # fmt: skip
    elif role == "environment":
        figures = [
            r.orders("cleaning_today", cleaning, [ServiceOrder.state == S.dispatched, *r.today()],
                     link(cleanings, state="dispatched"), by_appointment=True),
            r.orders("returns_due", cleaning, r.pending_order(cleaning, S.done), link(cleanings, state="done")),
            r.orders("returns_overdue", cleaning, r.late_order(cleaning, S.done), link(cleanings, state="done", late=1),
                     alarm=True),
            r.orders("nobody_home", cleaning, [ServiceOrder.state == S.nobody_home],
                     link(cleanings, state="nobody_home")),
            r.forms("replies_due", [FeedbackForm.state == F.referred, FeedbackForm.department == DEPARTMENT[role]],
                    link(FEEDBACK_LIST, state="referred")),
        ]  # fmt: skip
    elif role == "supervisor":
        figures = [
            r.orders("repairs_late", repair, [lateness.order_late(repair, now)], link(repairs, late=1), alarm=True),
            r.orders("cleaning_late", cleaning, [lateness.order_late(cleaning, now)], link(cleanings, late=1),
                     alarm=True),
            r.forms("forms_late", [lateness.form_late(now)], link(FEEDBACK_LIST, late=1), alarm=True),
            r.tasks("calls_late", [lateness.task_late(now)], link(CALLS_LIST, late=1), alarm=True),
            r.orders("repairs_escalated", repair, [lateness.order_late(repair, now), lateness.escalated(ServiceOrder)],
                     link(repairs, late=1, escalated=1), alarm=True),
            r.orders("cleaning_escalated", cleaning,
                     [lateness.order_late(cleaning, now), lateness.escalated(ServiceOrder)],
                     link(cleanings, late=1, escalated=1), alarm=True),
            r.forms("forms_escalated", [lateness.form_late(now), lateness.escalated(FeedbackForm)],
                    link(FEEDBACK_LIST, late=1, escalated=1), alarm=True),
            r.tasks("callbacks_failed", [CallTask.done_at >= now - FAILED_WITHIN, CallTask.outcome.in_(FAILED),
                                         CallTask.reason.in_(CALLBACK_REASONS),
                                         CallTask.order_id.in_(_awaiting_supervisor(estate))],
                    link(CALLS_LIST, outcome="failed"), alarm=True),
            r.forms("replies_to_sign", [FeedbackForm.state == F.replied], link(FEEDBACK_LIST, state="replied")),
        ]  # fmt: skip
    else:
        raise ValueError(f"no board for {role!r}")
    return Board(role, r.read(figures, with_lines=with_lines))


def _awaiting_supervisor(estate: Estate) -> Select[int]:
    """Orders whose failed callback the supervisor has not acted on: still returned or called back (not reopened,
    not filed)."""
    return select(ServiceOrder.id).where(
        ServiceOrder.estate_id == estate.id,
        ServiceOrder.kind.in_(tuple(ServiceKind)),
        ServiceOrder.state.in_((S.returned, S.called_back)),
    )


def boards(session: Session, estate: Estate, role: Role, now: datetime) -> list[Board]:
    return [board(session, estate, r, now) for r in roles_for(role)]


# --- the order list the figures link to -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderFilter:
    kind: ServiceKind
    state: OrderState | None = None
    late: bool = False
    escalated: bool = False
    day: date | None = None  # an appointment on this local day


def orders_query(estate: Estate, f: OrderFilter, now: datetime) -> Select[ServiceOrder]:
    conditions: list[ColumnElement[bool]] = [ServiceOrder.estate_id == estate.id, ServiceOrder.kind == f.kind]
    if f.state is not None:
        conditions.append(ServiceOrder.state == f.state)
    if f.late:
        late = lateness.order_late(f.kind, now)
        conditions.append(late if f.state is None else and_(late, ServiceOrder.state == f.state))
    if f.escalated:
        conditions.append(lateness.escalated(ServiceOrder))
    if f.day is not None:
        start, end = clock.day_bounds(estate, f.day)
        conditions += [ServiceOrder.appointment_start >= start, ServiceOrder.appointment_start < end]
    return select(ServiceOrder).where(*conditions)


def orders_page(
    session: Session, estate: Estate, f: OrderFilter, now: datetime, page: int = 1, size: int = 25
) -> Page[ServiceOrder]:
    """A page of the estate's orders of a kind, newest first (late ones: the longest late first)."""
    query = orders_query(estate, f, now)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = max(1, min(page, max(1, -(-total // size))))
    order = (ServiceOrder.due_at, ServiceOrder.id) if f.late else (ServiceOrder.id.desc(),)
    items = list(
        session.scalars(
            query.options(selectinload(ServiceOrder.unit)).order_by(*order).limit(size).offset((page - 1) * size)
        )
    )
    return Page(items, total, page, size)
