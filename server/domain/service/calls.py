"""The calls the front desk owes residents (R-REP-8, 9, R-CLN-3, 7, R-FB-4): each a task with the window in which it
may be made (`opens_at` … `due_at`, from a clock of `server.domain.deadlines`) and, once made, its outcome.

Every area opens its tasks here (`open_task`) and closes them here (`close_task`); the area's own step that follows
a call (a repair called back, a cleaning rebooked) is taken by the area's function, which closes the task in the
same transaction. A task outside its window is refused, never silently taken."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.db.models import CallOutcome, CallReason, CallTask, Estate, FeedbackForm, ServiceOrder, StaffUser
from server.domain import audit, clock, deadlines, workdays
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError


def open_task(
    session: Session,
    actor: Actor,
    estate: Estate,
    reason: CallReason,
    at: datetime,
    *,
    window: deadlines.Clock | None = None,
    order: ServiceOrder | None = None,
    feedback: FeedbackForm | None = None,
    phone: str = "",
    note: str = "",
) -> CallTask:
    """A call to make about `order` or `feedback`, due under `window` reckoned from `at` (None: at once, no
    deadline)."""
    due = (
        deadlines.due(window, at, clock.zone(estate), workdays.estate_calendar(session, estate))
        if window is not None
        else None
    )
    task = CallTask(
        estate_id=estate.id,
        reason=reason,
        order_id=order.id if order is not None else None,
        feedback_id=feedback.id if feedback is not None else None,
        phone=phone or (order.contact_phone if order is not None else feedback.contact_phone if feedback else ""),
        opens_at=due.opens if due else None,
        due_at=due.at if due else None,
        created_at=at,
        note=note,
    )
    session.add(task)
    session.flush()
    audit.record(session, actor, "call_task.opened", "call_task", task.id, estate_id=estate.id, reason=reason.value)
    return task


def check_open(task: CallTask, at: datetime) -> None:
    """Refuse a call already recorded, or one made before its window opens (the 19:00–22:00 callbacks)."""
    if task.done_at is not None:
        raise Conflict("该来电任务已完成", "this call has already been recorded", code="call_already_done")
    if task.opens_at is not None and at < task.opens_at:
        raise DomainError("未到回访时段", "the window for this call has not opened yet", code="outside_call_window")


def close_task(
    session: Session,
    actor: Actor,
    task: CallTask,
    outcome: CallOutcome,
    at: datetime,
    *,
    by: StaffUser,
    note: str = "",
) -> None:
    """Record the call's outcome; the caller takes the area's step that follows it in the same transaction."""
    check_open(task, at)
    task.done_at, task.outcome, task.note, task.called_by_id = at, outcome, note or task.note, by.id
    session.flush()
    audit.record(
        session,
        actor,
        "call_task.closed",
        "call_task",
        task.id,
        estate_id=task.estate_id,
        reason=task.reason.value,
        outcome=outcome.value,
        late=bool(task.due_at is not None and at > task.due_at),
    )
