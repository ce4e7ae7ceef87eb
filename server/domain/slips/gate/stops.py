"""Goods a guard stopped at the gate with no slip at all (R-REL-6: large items leave only with a slip), written in
the gate release log 《物品放行登记》 beside the releases and refusals, online or uploaded later by an offline gate."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.db.base import utcnow
from server.db.models import Device, GateStop
from server.domain import audit
from server.domain.actors import Actor
from server.domain.errors import DomainError
from server.domain.slips.gate.releases import MAX_PHOTO


def record_stop(
    session: Session,
    actor: Actor,
    device: Device,
    *,
    goods: str,
    reason: str,
    guard: str,
    at: datetime | None = None,
    photo: bytes | None = None,
    offline: bool = False,
) -> GateStop:
    """One stop: what was carried out, why it was held, by which guard and when (the gate's own time offline)."""
    goods, reason = " ".join(goods.split()), " ".join(reason.split())
    if not goods or not reason or not guard.strip():
        raise DomainError(
            "请写明物品、拦下原因和门岗安管员",
            "say what the goods were, why they were stopped and which guard stopped them",
            code="missing_fields",
        )
    if photo is not None and len(photo) > MAX_PHOTO:
        raise DomainError("照片不能超过 2 MB", "a photo is at most 2 MB", code="photo_too_large")
    stop = GateStop(
        estate_id=device.estate_id,
        device_id=device.id,
        gate=device.name,
        guard=guard.strip()[:40],
        goods=goods[:200],
        reason=reason[:200],
        at=at or utcnow(),
        offline=offline,
        photo=photo or None,
    )
    session.add(stop)
    session.flush()
    audit.record(
        session,
        actor,
        "gate.stop",
        "gate_stop",
        stop.id,
        estate_id=device.estate_id,
        goods=stop.goods,
        reason=stop.reason,
        guard=stop.guard,
        **({"offline": True, "at": stop.at} if offline else {}),
    )
    return stop
