"""What the key cabinet reports: every door and key event goes into the audit trail (R-KEY-12: every movement of a
key is on record), and the ones a person must look at are counted as alerts for the dashboard."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.contract.cabinet import ALERTS, CabinetEventIn
from server.db.base import utcnow
from server.db.models import AuditEntry, Device
from server.domain import audit
from server.domain.actors import Actor

ACTION_PREFIX = "cabinet."


def record_events(session: Session, actor: Actor, device: Device, events: list[CabinetEventIn]) -> int:
    """Record each event with the time the cabinet saw it; returns how many are alerts."""
    alerts = 0
    for event in events:
        alert = event.event in ALERTS
        alerts += alert
        audit.record(
            session,
            actor,
            ACTION_PREFIX + event.event,
            "cabinet_slot",
            f"{device.id}:{event.board}-{event.slot or 0}",
            estate_id=device.estate_id,
            cabinet=device.name,
            board=event.board,
            slot=event.slot,
            seen_at=event.at,
            request_id=event.request_id,
            tag=event.tag,
            reason=event.reason,
            alert=alert,
        )
    return alerts


def alerts_since(session: Session, estate_id: int, hours: int = 24, now: datetime | None = None) -> int:
    """Cabinet alerts recorded for an estate in the last `hours`."""
    since = (now or utcnow()) - timedelta(hours=hours)
    actions = [ACTION_PREFIX + name for name in ALERTS]
    return (
        session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.estate_id == estate_id, AuditEntry.action.in_(actions), AuditEntry.at >= since)
        )
        or 0
    )
