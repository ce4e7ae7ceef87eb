"""The front desk's call queue (R-REP-8, 9, R-CLN-3, 7, R-FB-4): every open call task of the estate whatever area
opened it, each with the order or form it is about and whether its window is open now, and the calls made today
with their outcomes (every caller of the day, R-REP-9)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import CallTask, Estate, FeedbackForm, ServiceOrder
from server.domain import clock
from server.domain.errors import NotFound


@dataclass(frozen=True)
class QueuedCall:
    task: CallTask
    order: ServiceOrder | None
    feedback: FeedbackForm | None
    state: str  # "waiting" (its window not open yet), "open", "missed" (its window has passed)

    @property
    def subject(self) -> str:
        return self.order.number if self.order else self.feedback.number if self.feedback else ""


def window_state(task: CallTask, now: datetime) -> str:
    if task.opens_at is not None and now < task.opens_at:
        return "waiting"
    if task.due_at is not None and now > task.due_at:
        return "missed"
    return "open"


def _queued(session: Session, tasks: list[CallTask], now: datetime) -> list[QueuedCall]:
    order_ids = {t.order_id for t in tasks if t.order_id is not None}
    form_ids = {t.feedback_id for t in tasks if t.feedback_id is not None}
    orders = (
        {o.id: o for o in session.scalars(select(ServiceOrder).where(ServiceOrder.id.in_(order_ids)))}
        if order_ids
        else {}
    )
    forms = (
        {f.id: f for f in session.scalars(select(FeedbackForm).where(FeedbackForm.id.in_(form_ids)))}
        if form_ids
        else {}
    )
    return [
        QueuedCall(
            t,
            orders.get(t.order_id) if t.order_id else None,
            forms.get(t.feedback_id) if t.feedback_id else None,
            window_state(t, now),
        )
        for t in tasks
    ]


def open_calls(session: Session, estate: Estate, now: datetime) -> list[QueuedCall]:
    """Every call still owed, those due first (a task without a deadline: at once)."""
    tasks = list(
        session.scalars(
            select(CallTask)
            .where(CallTask.estate_id == estate.id, CallTask.done_at.is_(None))
            .order_by(CallTask.due_at.is_(None).desc(), CallTask.due_at, CallTask.id)
        )
    )
    return _queued(session, tasks, now)


def calls_made(session: Session, estate: Estate, day: date, now: datetime) -> list[QueuedCall]:
    """The calls recorded on `day`, with their outcomes."""
    start, end = clock.day_bounds(estate, day)
    tasks = list(
        session.scalars(
            select(CallTask)
            .where(CallTask.estate_id == estate.id, CallTask.done_at >= start, CallTask.done_at < end)
            .order_by(CallTask.done_at, CallTask.id)
        )
    )
    return _queued(session, tasks, now)


def get_task(session: Session, estate: Estate, task_id: int) -> CallTask:
    task = session.get(CallTask, task_id)
    if task is None or task.estate_id != estate.id:
        raise NotFound("本小区没有该来电任务", "no such call in this estate", code="call_not_found")
    return task
