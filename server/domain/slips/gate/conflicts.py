"""Conflicts an offline gate's upload reveals (a double use, a use after revocation, an impossible time): recorded
for the security captain, who resolves each with a note."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.db.base import utcnow
from server.db.models import Device, Estate, ReleaseSlip, SlipConflict
from server.domain import audit
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, NotFound


def record_conflict(
    session: Session,
    actor: Actor,
    device: Device,
    slip: ReleaseSlip,
    *,
    at: datetime,
    guard: str,
    kind: str,
    detail: str,
) -> SlipConflict:
    """An offline double use (or a use after revocation, or at an impossible time) goes to the security captain."""
    conflict = SlipConflict(
        estate_id=slip.estate_id,
        slip_id=slip.id,
        device_id=device.id,
        kind=kind,
        at=at,
        guard=guard.strip()[:40],
        detail=detail[:200],
    )
    session.add(conflict)
    session.flush()
    audit.record(
        session,
        actor,
        "slip.conflict",
        "slip",
        slip.id,
        estate_id=slip.estate_id,
        number=slip.number,
        kind=kind,
        at=at,
        conflict=conflict.id,
    )
    return conflict


def resolve_conflict(session: Session, actor: Actor, estate: Estate, conflict_id: int, by: str, note: str) -> None:
    conflict = session.get(SlipConflict, conflict_id)
    if conflict is None or conflict.estate_id != estate.id:
        raise NotFound("没有这条冲突记录", "no such conflict", code="unknown_conflict")
    if conflict.resolved_at is not None:
        raise Conflict("该冲突已处理", "already resolved", code="already_resolved")
    if not note.strip():
        raise DomainError("请填写处理结果", "describe how it was resolved", code="reason_missing")
    conflict.resolved_at, conflict.resolved_by, conflict.resolution = utcnow(), by[:60], note.strip()[:200]
    if conflict.pass_id is not None:  # a worker's pass used offline when it was not valid (R-REN-6)
        audit.record(
            session, actor, "worker_pass.conflict_resolve", "worker_pass", conflict.pass_id, estate_id=estate.id,
            note=note,
        )  # fmt: skip
        return
    audit.record(session, actor, "slip.conflict_resolve", "slip", conflict.slip_id, estate_id=estate.id, note=note)
