"""Rectification keys (整改钥匙, R-KEY-9): a unit's door key kept for the rectification work at move-in moves from the
unit's set into the unit's rectification set, labelled as such ("5-8B 整改"), with the receipt the owner was given.
The key keeps its home slot — it hangs where it hung, and the generated layout (server.domain.keys.layout) places a
unit's rectification set right after its own set. From then on it is lent only for the rectification work, against
that receipt (server.domain.keys.loans), and it leaves the register as every unit key does: registered to the owner
against the receipt, handed over when the cabinet sees it taken (server.domain.keys.events)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Holder, Key, KeyGroup, KeySet, Unit
from server.domain import audit
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError
from server.domain.keys.register import open_loan


def rectification_set(session: Session, unit: Unit) -> KeySet | None:
    return session.scalar(
        select(KeySet).where(KeySet.unit_id == unit.id, KeySet.opens == KeyGroup.rectification).order_by(KeySet.id)
    )


def keep(session: Session, actor: Actor, key: Key, *, receipt_no: str, now: datetime) -> KeySet:
    """Move a unit's key into the unit's rectification set (made, in the register's conventions, when the unit has
    none), held for engineering, with the owner's receipt; the key keeps its home slot."""
    receipt = receipt_no.strip()[:40]
    if not receipt:
        raise DomainError(
            "留用整改钥匙须给业主开回执，请填回执号",
            "give the owner a receipt for the key kept",
            code="missing_receipt",
        )
    home = session.get_one(KeySet, key.set_id)
    if home.opens != KeyGroup.unit or home.unit_id is None:
        raise DomainError("留用整改的须是住户钥匙", "the key kept for rectification is a unit's key", code="bad_key")
    if key.handed_over_at is not None or open_loan(session, key) is not None:
        raise Conflict(
            f"钥匙「{key.label}」不在柜中，不能留作整改钥匙",
            f"key {key.label!r} is not in the cabinet to keep for rectification",
            code="key_unavailable",
        )
    unit = session.get_one(Unit, home.unit_id)
    target = rectification_set(session, unit)
    if target is None:
        target = KeySet(
            estate_id=home.estate_id,
            intake_id=home.intake_id,
            opens=KeyGroup.rectification,
            unit_id=unit.id,
            building_id=unit.building_id,
            floor=unit.floor,
            label=f"{unit.code} 整改",
            stored_at=home.stored_at,
        )
        session.add(target)
    target.holder, target.receipt_no = Holder.engineering, receipt
    target.keys.append(key)  # out of the unit's set: its other keys went to the owner
    session.flush()
    audit.record(
        session,
        actor,
        "key.rectification_keep",
        "key",
        key.id,
        estate_id=key.estate_id,
        key=key.label,
        from_set=home.label,
        to_set=target.label,
        receipt_no=receipt,
        slot=(key.board, key.slot),
        at=now,
    )
    return target
