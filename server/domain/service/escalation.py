"""Escalating late work to the supervisor (issue 17, item 5; R-REP-8, R-CLN-7, R-FB-3): every repair or cleaning
order, feedback form and call task that is late (`lateness`) is escalated once for its deadline — `escalated_at`
set and an audit entry `service.escalated` — so the supervisor's board shows it and nothing late is forgotten.

The sweep runs every minute in the server (`service_sweep_seconds`) and from `estate service sweep`. It is safe
with several workers: only the holder of the sweep's lease runs it (`sweeps`), and each record is claimed by a
conditional update, so even two sweeps at once escalate it once. A record late again for a later deadline (a
repair returned late, then not called back in time) is escalated again for that one."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypeVar, cast

from sqlalchemy import ColumnElement, exists, select, update
from sqlalchemy.orm import Session

from server.db.models import CallTask, Estate, FeedbackForm, ServiceOrder
from server.domain import audit, sweeps
from server.domain.actors import Actor
from server.domain.renovation import escalation as renovation_escalation
from server.domain.service import lateness

SWEEP = "service_escalation"
HOLD = timedelta(minutes=5)  # a sweep cut off leaves its lease to lapse after this
T = TypeVar("T")
Model = type[ServiceOrder] | type[FeedbackForm] | type[CallTask]


@dataclass(frozen=True)
class Escalated:
    entity: str  # the audit entity: repair, cleaning, feedback, call_task
    id: int
    estate_id: int
    number: str  # an order's or form's number; for a call task, its reason
    due_at: datetime


def _late(model: Model, now: datetime) -> ColumnElement[bool]:
    if model is ServiceOrder:
        return lateness.any_order_late(now)
    if model is FeedbackForm:
        return lateness.form_late(now)
    return lateness.task_late(now)


def any_to_escalate(session: Session, now: datetime) -> bool:
    """Whether a sweep would escalate anything now (a read, so an idle server's sweep writes nothing)."""
    return any(
        session.scalar(select(exists().where(_late(model, now), lateness.not_escalated(model))))
        for model in (ServiceOrder, FeedbackForm, CallTask)
    ) or renovation_escalation.any_to_escalate(session, now)


def escalate(session: Session, actor: Actor, estate: Estate, now: datetime) -> list[Escalated]:
    """Escalate what is late in `estate` and not yet escalated for its deadline; what was escalated now."""
    out: list[Escalated] = []
    models: tuple[Model, ...] = (ServiceOrder, FeedbackForm, CallTask)
    for model in models:
        found = cast(
            Sequence[ServiceOrder | FeedbackForm | CallTask],
            session.scalars(
                select(model)
                .where(model.estate_id == estate.id, _late(model, now), lateness.not_escalated(model))
                .order_by(model.due_at, model.id)
            ).all(),
        )
        for record in found:
            claimed = session.execute(
                update(model)
                .where(model.id == record.id, lateness.not_escalated(model))
                .values(escalated_at=now)
                .execution_options(synchronize_session=False)
            )
            if not claimed.rowcount:  # type: ignore[attr-defined]
                continue  # another sweep got there first
            session.refresh(record, ["escalated_at"])
            item = _escalated(record)
            out.append(item)
            audit.record(
                session,
                actor,
                "service.escalated",
                item.entity,
                item.id,
                estate_id=estate.id,
                number=item.number,
                state=str(getattr(record, "state", "")),
                due_at=item.due_at,
                alert=True,
            )
    return out


def _escalated(record: ServiceOrder | FeedbackForm | CallTask) -> Escalated:
    assert record.due_at is not None  # late records have a deadline
    if isinstance(record, ServiceOrder):
        return Escalated(record.kind.value, record.id, record.estate_id, record.number, record.due_at)
    if isinstance(record, FeedbackForm):
        return Escalated("feedback", record.id, record.estate_id, record.number, record.due_at)
    return Escalated("call_task", record.id, record.estate_id, record.reason.value, record.due_at)


def escalate_all(session: Session, actor: Actor, now: datetime) -> list[Escalated]:
    """The sweep over every estate."""
    out: list[Escalated] = []
    for estate in session.scalars(select(Estate).order_by(Estate.id)):
        out += escalate(session, actor, estate, now)
        out += [
            Escalated("renovation", r.id, r.estate_id, r.number, r.due_at)
            for r in renovation_escalation.escalate(session, actor, estate, now)
            if r.due_at is not None
        ]
    return out


class Runner(Protocol):
    """Runs a piece of work in a transaction of its own and gives its result."""

    def __call__(self, work: Callable[[Session], T], /) -> T: ...


def sweep(read: Runner, write: Runner, holder: str, actor: Actor, now: datetime) -> list[Escalated]:
    """One sweep by worker `holder`: `read` looks in a transaction of its own, `write` writes and commits one (the
    server's writer, or the CLI's transaction). Nothing late → nothing written; the lease held by another worker →
    that worker sweeps, this one does nothing."""
    if not read(lambda session: any_to_escalate(session, now)):
        return []
    if not write(lambda session: sweeps.take_lease(session, SWEEP, holder, now, HOLD)):
        return []
    try:
        return write(lambda session: escalate_all(session, actor, now))
    finally:
        write(lambda session: sweeps.release_lease(session, SWEEP, holder))
