"""The cabinet's key events: a loan goes out and comes back only on them; a wrong slot raises an alarm naming the
right one; a slot's presence is kept apart from the loan (R-KEY-12)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import AlarmKind, BorrowerKind, KeyLoan, KeySlot, LoanState
from server.domain.actors import SYSTEM
from server.domain.errors import DomainError
from server.domain.keys import events, loans
from server.domain.keys.loans import Borrower
from tests.server.keys.conftest import LATER, NOW, Cabinet, counts


def _plant_room_loan(db: Session, cabinet: Cabinet) -> KeyLoan:
    key = cabinet.key("水泵房")
    return loans.lend(
        db,
        SYSTEM,
        cabinet.estate,
        key_id=key.id,
        purpose="engineering",
        borrower=Borrower(BorrowerKind.staff, staff=cabinet.desk),
        by=cabinet.desk,
        now=NOW,
        due_at=LATER,
    )


def test_r_key_12_a_loan_goes_out_on_removal_and_ends_only_back_in_its_home_slot(db: Session, cabinet: Cabinet) -> None:
    """R-KEY-12: removal starts the loan; the key in the wrong slot raises an alarm naming the right slot and the
    loan stays out; taken out again and put in its home slot, the loan ends and the alarm is settled."""
    loan = _plant_room_loan(db, cabinet)
    key = cabinet.key("水泵房")
    home = (key.board or 0, key.slot or 0)
    assert home == (1, 8)
    moved = events.key_removed(db, cabinet.estate, *home, NOW + timedelta(minutes=1))
    assert moved.loan is loan and loan.state == LoanState.out and loan.out_at == NOW + timedelta(minutes=1)
    spare = cabinet.key("水泵房备用")
    events.key_removed(db, cabinet.estate, spare.board or 0, spare.slot or 0, NOW)  # an empty slot beside it
    wrong = events.key_returned(db, cabinet.estate, 1, 9, "0f01", NOW + timedelta(hours=1))
    assert wrong.alarm is not None and wrong.alarm.kind == AlarmKind.wrong_slot
    assert (wrong.alarm.expected_board, wrong.alarm.expected_slot) == home
    assert "1-8" in events.alarm_text(wrong.alarm, key, "en") and "应放回 1-8" in events.alarm_text(wrong.alarm, key)
    assert loan.state == LoanState.out
    events.key_removed(db, cabinet.estate, 1, 9, NOW + timedelta(hours=1, minutes=1))
    back = events.key_returned(db, cabinet.estate, *home, "0F01", NOW + timedelta(hours=1, minutes=2))
    assert back.loan is loan and loan.state == LoanState.returned
    assert all(a.key_id != key.id or a.kind != AlarmKind.wrong_slot for a in events.open_alarms(db, cabinet.estate))
    db.commit()


def test_presence_is_kept_apart_from_the_loan(db: Session, cabinet: Cabinet) -> None:
    """Registering a loan moves no key; the slot says what the cabinet saw, the loan says to whom and until when."""
    loan = _plant_room_loan(db, cabinet)
    assert db.scalar(select(KeySlot)) is None and loan.state == LoanState.requested
    events.key_removed(db, cabinet.estate, 1, 8, NOW)
    slot = db.scalar(select(KeySlot).where(KeySlot.board == 1, KeySlot.slot == 8))
    assert slot is not None and not slot.occupied
    events.key_returned(db, cabinet.estate, 1, 8, "0F01", NOW)
    assert slot.occupied and slot.tag == "0F01" and loan.state == LoanState.returned


def test_a_key_taken_without_a_loan_and_an_unknown_tag_raise_alarms(db: Session, cabinet: Cabinet) -> None:
    taken = events.key_removed(db, cabinet.estate, 1, 1, NOW)
    assert taken.alarm is not None and taken.alarm.kind == AlarmKind.removed_without_loan
    unknown = events.key_returned(db, cabinet.estate, 1, 1, "DEAD", NOW)
    assert unknown.alarm is not None and unknown.alarm.kind == AlarmKind.unknown_tag
    events.key_removed(db, cabinet.estate, 1, 1, NOW)
    events.key_returned(db, cabinet.estate, 1, 1, "0D01", NOW)
    assert [a.kind for a in events.open_alarms(db, cabinet.estate)] == [AlarmKind.unknown_tag]


def test_an_event_for_a_slot_outside_the_board_is_a_clear_error(db: Session, cabinet: Cabinet) -> None:
    before = counts(db)
    with pytest.raises(DomainError) as outside:
        events.key_removed(db, cabinet.estate, 1, 40, NOW)
    assert outside.value.code == "slot_outside_board"
    with pytest.raises(DomainError) as no_board:
        events.key_returned(db, cabinet.estate, 2, 1, "0F01", NOW)
    assert no_board.value.code == "unknown_board"
    db.rollback()
    assert counts(db) == before and db.scalar(select(KeySlot)) is None
