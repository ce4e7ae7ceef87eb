"""Late renovation steps escalated to the supervisor (R-REN-2, 9): an application engineering has not decided
within 3 working days, a deposit not refunded 10 working days after acceptance. Each is escalated once for its
deadline (claimed by a conditional update, so two sweeps at once escalate it once), from the service desk's sweep."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, exists, or_, select, update
from sqlalchemy.orm import Session

from server.db.models import Estate
from server.db.models.renovation import Renovation
from server.domain import audit
from server.domain.actors import Actor
from server.domain.renovation.records import late


def _not_escalated() -> ColumnElement[bool]:
    return or_(Renovation.escalated_at.is_(None), Renovation.escalated_at < Renovation.due_at)


def any_to_escalate(session: Session, now: datetime) -> bool:
    return bool(session.scalar(select(exists().where(late(now), _not_escalated()))))


def escalate(session: Session, actor: Actor, estate: Estate, now: datetime) -> list[Renovation]:
    """Escalate the estate's late renovation steps not yet escalated for their deadline; those escalated now."""
    out = []
    found = session.scalars(
        select(Renovation)
        .where(Renovation.estate_id == estate.id, late(now), _not_escalated())
        .order_by(Renovation.due_at, Renovation.id)
    ).all()
    for record in found:
        claimed = session.execute(
            update(Renovation)
            .where(Renovation.id == record.id, _not_escalated())
            .values(escalated_at=now)
            .execution_options(synchronize_session=False)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            continue
        session.refresh(record, ["escalated_at"])
        out.append(record)
        audit.record(
            session, actor, "service.escalated", "renovation", record.id, estate_id=estate.id, number=record.number,
            state=record.state.value, due_at=record.due_at, alert=True,
        )  # fmt: skip
    return out
