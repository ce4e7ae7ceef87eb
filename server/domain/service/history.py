"""A record's full history (WORKFLOWS.md: who, what, when, from which device), as `workflow.step` wrote it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import StepHistory
from server.domain.workflow import Process, Record


def steps(session: Session, flow: Process, record: Record) -> list[StepHistory]:
    """Every step `record` took under `flow`, oldest first."""
    query = select(StepHistory).where(
        StepHistory.process == flow.name,
        StepHistory.record_id == record.id,
        StepHistory.estate_id == record.estate_id,
    )
    return list(session.scalars(query.order_by(StepHistory.at, StepHistory.id)))
