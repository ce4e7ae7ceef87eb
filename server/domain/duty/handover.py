"""Shift handover (R-DUTY-4): the outgoing person writes the results and the open items, each with its owner; the
incoming person acknowledges before working — until then their log writes are refused ("先确认交接"); open items not
done carry over, with their owner, to the next handover."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Estate, StaffUser
from server.db.models.dutylog import Handover, HandoverItem
from server.domain import audit
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, NotFound


@dataclass(frozen=True)
class OpenItem:
    text: str
    owner_id: int


def _serves(user: StaffUser, estate: Estate) -> bool:
    return user.all_estates or any(e.id == estate.id for e in user.estates)


def pending_for(session: Session, estate: Estate, user: StaffUser) -> Handover | None:
    """The handover `user` has still to acknowledge in this estate, if any."""
    return session.scalar(
        select(Handover)
        .where(Handover.estate_id == estate.id, Handover.incoming_id == user.id, Handover.acknowledged_at.is_(None))
        .order_by(Handover.at.desc(), Handover.id.desc())
        .limit(1)
    )


def require_acknowledged(session: Session, estate: Estate, user: StaffUser) -> None:
    if pending_for(session, estate, user) is not None:
        raise Conflict(
            "先确认交接：请先确认上一班的交接再工作",
            "acknowledge the handover first, before working",
            code="handover_not_acknowledged",
        )


def latest(session: Session, estate: Estate) -> Handover | None:
    return session.scalar(
        select(Handover)
        .where(Handover.estate_id == estate.id)
        .order_by(Handover.at.desc(), Handover.id.desc())
        .limit(1)
    )


def carried_items(session: Session, estate: Estate) -> list[HandoverItem]:
    """The open items of the last handover not done: they carry over to the next."""
    last = latest(session, estate)
    if last is None:
        return []
    return items_of(session, last, open_only=True)


def items_of(session: Session, handover: Handover, *, open_only: bool = False) -> list[HandoverItem]:
    q = select(HandoverItem).where(HandoverItem.handover_id == handover.id)
    if open_only:
        q = q.where(HandoverItem.done.is_(False))
    return list(session.scalars(q.order_by(HandoverItem.id)))


def hand_over(
    session: Session,
    actor: Actor,
    estate: Estate,
    at: datetime,
    *,
    by: StaffUser,
    incoming_id: int,
    results: str,
    items: Sequence[OpenItem] = (),
    done_ids: Sequence[int] = (),
) -> Handover:
    """The outgoing person (`by`) hands over to `incoming_id`. The open items of the last handover carry over with
    their owners unless marked done (`done_ids`); new items need an owner of the estate."""
    require_acknowledged(session, estate, by)
    incoming = session.get(StaffUser, incoming_id)
    if incoming is None or not incoming.is_active or not _serves(incoming, estate):
        raise NotFound("本小区没有这位接班人", "no such incoming person in this estate", code="staff_not_found",
                       fields=["incoming_id"])  # fmt: skip
    if incoming.id == by.id:
        raise DomainError("不能交接给自己", "one cannot hand over to oneself", code="self_handover",
                          fields=["incoming_id"])  # fmt: skip
    text = results.strip()
    if not text:
        raise DomainError("请填写本班处理结果", "enter the shift's results", code="missing_fields", fields=["results"])
    if len(text) > 4000:
        raise DomainError("处理结果过长", "the results are too long", code="too_long", fields=["results"])
    new_items: list[OpenItem] = []
    for item in items:
        body = item.text.strip()
        if not body:
            continue
        owner = session.get(StaffUser, item.owner_id)
        if owner is None or not _serves(owner, estate):
            raise DomainError("未结事项需要本小区的负责人", "an open item needs an owner of this estate",
                              code="missing_owner", fields=["owner_id"])  # fmt: skip
        new_items.append(OpenItem(body[:400], owner.id))
    carried = carried_items(session, estate)
    row = Handover(estate_id=estate.id, at=at, outgoing_id=by.id, incoming_id=incoming.id, results=text)
    session.add(row)
    session.flush()
    for old in carried:
        if old.id in done_ids:
            old.done = True
            continue
        session.add(HandoverItem(handover_id=row.id, text=old.text, owner_id=old.owner_id, carried_from_id=old.id))
    for item in new_items:
        session.add(HandoverItem(handover_id=row.id, text=item.text, owner_id=item.owner_id))
    session.flush()
    audit.record(
        session, actor, "handover.written", "handover", row.id, estate_id=estate.id, incoming=incoming.id,
        items=len(new_items), carried=len([c for c in carried if c.id not in done_ids]),
    )  # fmt: skip
    return row


def acknowledge(
    session: Session, actor: Actor, estate: Estate, handover_id: int, at: datetime, *, by: StaffUser
) -> Handover:
    row = session.get(Handover, handover_id)
    if row is None or row.estate_id != estate.id:
        raise NotFound("没有这次交接", "no such handover", code="handover_not_found")
    if row.incoming_id != by.id:
        raise Conflict(
            "只有接班人可以确认交接", "only the incoming person acknowledges the handover", code="not_incoming"
        )
    if row.acknowledged_at is not None:
        raise Conflict("交接已确认", "the handover is already acknowledged", code="wrong_state")
    row.acknowledged_at = at
    audit.record(session, actor, "handover.acknowledged", "handover", row.id, estate_id=estate.id)
    return row


def recent(session: Session, estate: Estate, limit: int = 30) -> list[Handover]:
    return list(
        session.scalars(
            select(Handover)
            .where(Handover.estate_id == estate.id)
            .order_by(Handover.at.desc(), Handover.id.desc())
            .limit(limit)
        )
    )


def between(session: Session, estate: Estate, start: datetime, end: datetime) -> list[Handover]:
    """The handovers written in [start, end), oldest first: a day's for the handover record's page."""
    return list(
        session.scalars(
            select(Handover)
            .where(Handover.estate_id == estate.id, Handover.at >= start, Handover.at < end)
            .order_by(Handover.at, Handover.id)
        )
    )


def get(session: Session, estate: Estate, handover_id: int) -> Handover:
    row = session.get(Handover, handover_id)
    if row is None or row.estate_id != estate.id:
        raise NotFound("没有这次交接", "no such handover", code="handover_not_found")
    return row
