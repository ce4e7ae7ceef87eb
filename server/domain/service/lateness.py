"""When a service-desk record is late (WORKFLOWS.md: "late" is a query, `due_at < now` and the step not done).

A record's `due_at` is set by the step that started its clock (`processes`), and stays as it was when a later step
starts no clock. So a record is late only while it is still in a state some clocked step leads to — a repair done
and not returned, or returned and not called back; a cleaning done and not returned (R-CLN-6); a feedback form
received and not formed, or referred and not replied to (R-FB-3) — and a call task while it is not made. These
conditions are derived from the processes, so a clock added to a step is picked up here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, or_

from server.db.models import CallTask, FeedbackForm, FeedbackState, OrderState, ServiceKind, ServiceOrder
from server.domain.service.processes import CLEANING, FEEDBACK, REPAIR
from server.domain.workflow import Process


def clocked_states(flow: Process) -> tuple[str, ...]:
    """The states a step with a clock leads to: while a record is in one, its `due_at` is the live deadline."""
    return tuple(sorted({t.target for t in flow.transitions.values() if t.starts is not None}))


ORDER_CLOCKED: dict[ServiceKind, tuple[OrderState, ...]] = {
    ServiceKind.repair: tuple(OrderState(s) for s in clocked_states(REPAIR)),
    ServiceKind.cleaning: tuple(OrderState(s) for s in clocked_states(CLEANING)),
}
FORM_CLOCKED: tuple[FeedbackState, ...] = tuple(FeedbackState(s) for s in clocked_states(FEEDBACK))


def order_late(kind: ServiceKind, now: datetime) -> ColumnElement[bool]:
    return and_(ServiceOrder.kind == kind, ServiceOrder.state.in_(ORDER_CLOCKED[kind]), ServiceOrder.due_at < now)


def any_order_late(now: datetime) -> ColumnElement[bool]:
    return or_(*(order_late(kind, now) for kind in ServiceKind))


def form_late(now: datetime) -> ColumnElement[bool]:
    return and_(FeedbackForm.state.in_(FORM_CLOCKED), FeedbackForm.due_at < now)


def task_late(now: datetime) -> ColumnElement[bool]:
    return and_(CallTask.done_at.is_(None), CallTask.due_at < now)


def not_escalated(model: type[ServiceOrder] | type[FeedbackForm] | type[CallTask]) -> ColumnElement[bool]:
    """Not yet escalated for its current deadline: never, or before that deadline (an earlier, met-late step's)."""
    return or_(model.escalated_at.is_(None), model.escalated_at < model.due_at)


def escalated(model: type[ServiceOrder] | type[FeedbackForm] | type[CallTask]) -> ColumnElement[bool]:
    """Escalated for its current deadline (the supervisor has been told)."""
    return and_(model.escalated_at.is_not(None), model.escalated_at >= model.due_at)
