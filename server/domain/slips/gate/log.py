"""The gate release log 《物品放行登记》 (R-REL-6, R-REL-8: security checks and logs releases): one day at one gate
or all of them, every release and refusal with the guard, the release time, the lines as counted, the reason and
the photo, and the goods stopped with no slip."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server.db.models import Device, DeviceKind, Estate, GateStop, ReleaseSlip, SlipAttachment, SlipRelease
from server.domain import clock
from server.domain.errors import NotFound


@dataclass(frozen=True)
class CountedLine:
    name: str
    code: str | None
    quantity: int
    counted: int | None


@dataclass(frozen=True)
class LogLine:
    """One line of the log: a slip's release or refusal (`slip_id` set) or goods stopped with no slip."""

    at: datetime
    gate: str
    guard: str
    outcome: str  # released | refused | stopped
    reason: str
    offline: bool
    number: str = ""
    unit: str = ""
    slip_id: int | None = None
    lines: tuple[CountedLine, ...] = ()
    goods: str = ""
    photo_id: int | None = None  # the slip's gate photo (attachment) or the stop's own
    stop_id: int | None = None


def gates(session: Session, estate: Estate) -> list[str]:
    """The estate's gates by name, as enrolled."""
    names = session.scalars(
        select(Device.name).where(Device.estate_id == estate.id, Device.kind == DeviceKind.gate).order_by(Device.name)
    )
    return list(dict.fromkeys(names))


def day_log(session: Session, estate: Estate, day: date, gate: str = "") -> list[LogLine]:
    """Every decision at the estate's gates (or at `gate`) during `day` in the estate's zone, oldest first."""
    start, end = clock.day_bounds(estate, day)
    query = (
        select(SlipRelease)
        .join(ReleaseSlip, ReleaseSlip.id == SlipRelease.slip_id)
        .where(SlipRelease.estate_id == estate.id, SlipRelease.at >= start, SlipRelease.at < end)
        .options(selectinload(SlipRelease.slip).selectinload(ReleaseSlip.items))
    )
    stops = select(GateStop).where(GateStop.estate_id == estate.id, GateStop.at >= start, GateStop.at < end)
    if gate:
        query = query.where(SlipRelease.gate == gate)
        stops = stops.where(GateStop.gate == gate)
    releases = session.scalars(query).all()
    photos = dict(
        session.execute(
            select(SlipAttachment.slip_id, SlipAttachment.id).where(
                SlipAttachment.slip_id.in_([r.slip_id for r in releases]), SlipAttachment.kind == "gate_photo"
            )
        ).all()
    )
    out = [
        LogLine(
            at=r.at,
            gate=r.gate,
            guard=r.guard,
            outcome=r.outcome,
            reason=r.reason,
            offline=r.offline,
            number=r.slip.number,
            unit=r.slip.unit_code,
            slip_id=r.slip_id,
            lines=tuple(CountedLine(i.name, i.code, i.quantity, i.counted) for i in r.slip.items),
            photo_id=photos.get(r.slip_id),
        )
        for r in releases
    ]
    out += [
        LogLine(
            at=s.at,
            gate=s.gate,
            guard=s.guard,
            outcome="stopped",
            reason=s.reason,
            offline=s.offline,
            goods=s.goods,
            photo_id=s.id if s.photo else None,
            stop_id=s.id,
        )
        for s in session.scalars(stops)
    ]
    return sorted(out, key=lambda line: line.at)


def stop_photo(session: Session, estate: Estate, stop_id: int) -> bytes:
    stop = session.get(GateStop, stop_id)
    if stop is None or stop.estate_id != estate.id or not stop.photo:
        raise NotFound("没有这张照片", "no such photo", code="unknown_attachment")
    return stop.photo
