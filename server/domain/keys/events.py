"""What the cabinet's key events do to the register: a slot's physical presence changes, and a loan goes out or comes
back. A loan starts when its key leaves its home slot and ends only when that key is back in that slot; a key in
any other slot raises a wrong-slot alarm naming the right one (R-KEY-12: every movement of a key is on record)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.db.models import AlarmKind, Estate, Key, KeyAlarm, KeyLoan, KeySlot, LoanPurpose, LoanState
from server.domain import audit, workflow
from server.domain.actors import Actor
from server.domain.keys.loans import KEY_LOAN
from server.domain.keys.register import check_slot, key_at, key_by_tag, normal_tag, open_loan

CABINET = Actor(kind="device", name="key cabinet")  # when the caller has no enrolled device to name


@dataclass(frozen=True)
class SlotOutcome:
    """What one event meant: the key it concerned, the loan it moved, the alarm it raised (each may be None)."""

    key: Key | None = None
    loan: KeyLoan | None = None
    alarm: KeyAlarm | None = None


def key_removed(
    session: Session, estate: Estate, board: int, slot: int, at: datetime, *, actor: Actor = CABINET
) -> SlotOutcome:
    """A key left slot `board`-`slot`: its registered loan goes out (a move-in key is handed over for good); a key
    taken from its home slot with no loan registered raises an alarm."""
    check_slot(session, estate, board, slot)
    place = _slot(session, estate, board, slot)
    key = key_by_tag(session, estate, place.tag) if place.tag else key_at(session, estate, board, slot)
    place.occupied, place.tag, place.changed_at = False, "", at
    session.flush()
    audit.record(
        session,
        actor,
        "key.removed",
        "key_slot",
        f"{board}-{slot}",
        estate_id=estate.id,
        key=key.label if key else None,
        at=at,
    )
    if key is None:
        return SlotOutcome()
    if (key.board, key.slot) != (board, slot):  # a misplaced key taken out again: its alarm is settled
        _clear(session, key, AlarmKind.wrong_slot, at)
        return SlotOutcome(key)
    loan = open_loan(session, key)
    if loan is None:
        return SlotOutcome(
            key, alarm=_alarm(session, actor, estate, AlarmKind.removed_without_loan, board, slot, at, key=key)
        )
    if loan.state == LoanState.requested:
        handed = loan.purpose == LoanPurpose.move_in
        workflow.step(
            session,
            actor,
            KEY_LOAN,
            loan,
            "hand_over" if handed else "remove",
            at,
            fields={"out_at": at},
            key=key.label,
        )
        if handed:
            key.handed_over_at = at
    return SlotOutcome(key, loan)


def key_returned(
    session: Session, estate: Estate, board: int, slot: int, tag: str, at: datetime, *, actor: Actor = CABINET
) -> SlotOutcome:
    """A key with `tag` was put into slot `board`-`slot`: back in its home slot it ends its loan; in any other slot
    it raises a wrong-slot alarm naming the right one and the loan stays out."""
    check_slot(session, estate, board, slot)
    tag = normal_tag(tag)
    place = _slot(session, estate, board, slot)
    place.occupied, place.tag, place.changed_at = True, tag, at
    key = key_by_tag(session, estate, tag)
    audit.record(
        session,
        actor,
        "key.put_back",
        "key_slot",
        f"{board}-{slot}",
        estate_id=estate.id,
        tag=tag,
        key=key.label if key else None,
        at=at,
    )
    if key is None:
        return SlotOutcome(alarm=_alarm(session, actor, estate, AlarmKind.unknown_tag, board, slot, at, tag=tag))
    if (key.board, key.slot) != (board, slot):
        return SlotOutcome(key, alarm=_alarm(session, actor, estate, AlarmKind.wrong_slot, board, slot, at, key=key))
    _clear(session, key, AlarmKind.removed_without_loan, at)
    loan = open_loan(session, key)
    if loan is not None and loan.state == LoanState.out:
        workflow.step(session, actor, KEY_LOAN, loan, "return", at, fields={"returned_at": at}, key=key.label)
        return SlotOutcome(key, loan)
    return SlotOutcome(key)


def _slot(session: Session, estate: Estate, board: int, slot: int) -> KeySlot:
    found = session.scalar(
        select(KeySlot).where(KeySlot.estate_id == estate.id, KeySlot.board == board, KeySlot.slot == slot)
    )
    if found is None:
        found = KeySlot(estate_id=estate.id, board=board, slot=slot, occupied=False, tag="")
        session.add(found)
    return found


def _alarm(
    session: Session,
    actor: Actor,
    estate: Estate,
    kind: AlarmKind,
    board: int,
    slot: int,
    at: datetime,
    *,
    key: Key | None = None,
    tag: str = "",
) -> KeyAlarm:
    alarm = KeyAlarm(
        estate_id=estate.id,
        kind=kind,
        key_id=key.id if key else None,
        board=board,
        slot=slot,
        tag=key.tag if key else tag,
        at=at,
    )
    if kind == AlarmKind.wrong_slot and key is not None:
        alarm.expected_board, alarm.expected_slot = key.board, key.slot
    session.add(alarm)
    session.flush()
    audit.record(
        session,
        actor,
        f"key_alarm.{kind.value}",
        "key_alarm",
        alarm.id,
        estate_id=estate.id,
        message=alarm_text(alarm, key),
        message_en=alarm_text(alarm, key, "en"),
        alert=True,
    )
    return alarm


def alarm_text(alarm: KeyAlarm, key: Key | None, language: str = "zh") -> str:
    """What a person reads, in Chinese or English: for a key in the wrong slot, where it belongs."""
    here = f"{alarm.board}-{alarm.slot}"
    if language == "en":
        what = f"key {key.label!r}" if key else f"tag {alarm.tag}"
        if alarm.kind == AlarmKind.wrong_slot:
            return f"{what} is in the wrong slot {here}: it belongs in {alarm.expected_board}-{alarm.expected_slot}"
        if alarm.kind == AlarmKind.removed_without_loan:
            return f"{what} was taken from {here} with no loan registered"
        return f"unregistered {what} put into {here}"
    label = f"钥匙「{key.label}」" if key else f"标签 {alarm.tag}"
    if alarm.kind == AlarmKind.wrong_slot:
        return f"{label}放错了格：在 {here}，应放回 {alarm.expected_board}-{alarm.expected_slot}"
    if alarm.kind == AlarmKind.removed_without_loan:
        return f"{label}从 {here} 取出，但没有借用登记"
    return f"未登记的{label}放入了 {here}"


def _clear(session: Session, key: Key, kind: AlarmKind, at: datetime) -> None:
    session.execute(
        update(KeyAlarm)
        .where(KeyAlarm.key_id == key.id, KeyAlarm.kind == kind, KeyAlarm.cleared_at.is_(None))
        .values(cleared_at=at)
    )


def open_alarms(session: Session, estate: Estate) -> list[KeyAlarm]:
    return list(
        session.scalars(
            select(KeyAlarm).where(KeyAlarm.estate_id == estate.id, KeyAlarm.cleared_at.is_(None)).order_by(KeyAlarm.id)
        )
    )
