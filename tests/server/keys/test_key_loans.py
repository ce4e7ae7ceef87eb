"""The key loan register 《钥匙领用登记表》 and its rules (R-KEY-5, 8, 9, 12, 13, 14), overdue loans."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import AuditEntry, BorrowerKind, KeyLoan, LoanState, Role, StaffUser, StepHistory
from server.domain.actors import SYSTEM
from server.domain.errors import DomainError
from server.domain.keys import events, loans
from server.domain.keys.loans import Borrower
from tests.conftest import Household
from tests.server.keys.conftest import LATER, NOW, Cabinet, counts


def _lend(db: Session, cabinet: Cabinet, label: str, purpose: str, borrower: Borrower, **extra: Any) -> KeyLoan:
    extra.setdefault("due_at", LATER)
    return loans.lend(
        db,
        SYSTEM,
        cabinet.estate,
        key_id=cabinet.key(label).id,
        purpose=purpose,
        borrower=borrower,
        by=cabinet.desk,
        now=NOW,
        **extra,
    )


def _worker(**changes: str) -> Borrower:
    fields = {"name": "刘师傅", "company": "奥的斯电梯", "phone": "13900000000", "id_tail": "123X"} | changes
    return Borrower(BorrowerKind.outside_worker, **fields)


def _refused(db: Session, call: Callable[[], object]) -> DomainError:
    """The error `call` raises, after checking it wrote nothing."""
    before = counts(db)
    with pytest.raises(DomainError) as refused:
        call()
    db.rollback()
    assert counts(db) == before
    return refused.value


def test_r_key_12_a_loan_is_a_line_of_the_register_with_history_and_audit(db: Session, cabinet: Cabinet) -> None:
    """R-KEY-12: every work loan is written in the register: key, borrower, purpose, due time, who registered it."""
    engineer = Borrower(BorrowerKind.staff, staff=cabinet.desk)
    loan = _lend(db, cabinet, "水泵房", "engineering", engineer, note="换水泵轴承")
    db.commit()
    assert (loan.state, loan.purpose, loan.borrower_name, loan.due_at) == (
        LoanState.requested,
        "engineering",
        cabinet.desk.display_name,
        LATER,
    )
    step = db.scalar(select(StepHistory).where(StepHistory.process == "key_loan"))
    assert step is not None and (step.transition, step.note, step.staff_id) == (
        "register",
        "换水泵轴承",
        cabinet.desk.id,
    )
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "key_loan.register")) is not None


@pytest.mark.parametrize("purpose", ["private", "", "看房 "])
def test_r_key_5_no_loan_without_a_listed_purpose(db: Session, cabinet: Cabinet, purpose: str) -> None:
    """R-KEY-5: nobody borrows a key for private purposes: a purpose outside the list is refused, nothing written."""
    refused = _refused(
        db, lambda: _lend(db, cabinet, "水泵房", purpose, Borrower(BorrowerKind.staff, staff=cabinet.desk))
    )
    assert refused.code == "bad_purpose" and "engineering" in refused.en


def test_a_loan_of_a_key_already_out_is_refused_and_changes_nothing(db: Session, cabinet: Cabinet) -> None:
    staff = Borrower(BorrowerKind.staff, staff=cabinet.desk)
    _lend(db, cabinet, "水泵房", "engineering", staff)
    db.commit()
    assert _refused(db, lambda: _lend(db, cabinet, "水泵房", "engineering", staff)).code == "key_out"
    key = cabinet.key("水泵房备用")
    events.key_removed(db, cabinet.estate, key.board or 0, key.slot or 0, NOW)  # taken with no loan: physically out
    db.commit()
    assert _refused(db, lambda: _lend(db, cabinet, "水泵房备用", "engineering", staff)).code == "key_out"


def test_r_key_14_outside_workers_take_only_tm_keys_with_a_deadline(db: Session, cabinet: Cabinet) -> None:
    """R-KEY-14: an outside worker may borrow only TM electronic keys, always with a return deadline, and gives
    company, phone and ID tail."""
    assert _refused(db, lambda: _lend(db, cabinet, "水泵房备用", "engineering", _worker())).code == (
        "outside_worker_tm_only"
    )
    assert _refused(db, lambda: _lend(db, cabinet, "水泵房", "engineering", _worker(), due_at=None)).code == (
        "missing_due"
    )
    assert _refused(db, lambda: _lend(db, cabinet, "水泵房", "engineering", _worker(company=""))).code == (
        "missing_fields"
    )
    loan = _lend(db, cabinet, "水泵房", "engineering", _worker())
    assert (loan.company, loan.phone, loan.id_tail, loan.due_at) == ("奥的斯电梯", "13900000000", "123X", LATER)


def test_r_key_13_a_viewing_is_by_the_checked_owner_accompanied_by_staff(
    db: Session, cabinet: Cabinet, household: Household
) -> None:
    """R-KEY-13: the owner's identity is verified, a staff member accompanies, the owner is on the register."""
    owner = Borrower(BorrowerKind.owner, person=household.owner, identity_checked=True)
    unchecked = Borrower(BorrowerKind.owner, person=household.owner)
    tenant = Borrower(BorrowerKind.owner, person=household.tenant, identity_checked=True)
    door = "5-8B 入户门"
    with_staff = {"accompanied_by": cabinet.desk}
    assert _refused(db, lambda: _lend(db, cabinet, door, "viewing", owner)).code == "unaccompanied"
    assert (
        _refused(db, lambda: _lend(db, cabinet, door, "viewing", unchecked, **with_staff)).code == "identity_unchecked"
    )
    assert _refused(db, lambda: _lend(db, cabinet, door, "viewing", tenant, **with_staff)).code == "not_owner"
    assert _refused(db, lambda: _lend(db, cabinet, "5-3A", "viewing", owner, **with_staff)).code == "not_owner"
    loan = _lend(db, cabinet, door, "viewing", owner, **with_staff)
    assert (loan.borrower_name, loan.accompanied_by_id) == ("王建国", cabinet.desk.id)
    db.commit()
    staff = Borrower(BorrowerKind.staff, staff=cabinet.admin)
    assert _refused(db, lambda: _lend(db, cabinet, "5-3A", "sales_viewing", staff)).code == "unaccompanied"


def test_r_key_9_rectification_keys_go_with_the_owners_receipt(db: Session, cabinet: Cabinet) -> None:
    """R-KEY-9: keys lent for rectification are given against a receipt number the owner brings back."""
    worker = Borrower(BorrowerKind.staff, staff=cabinet.admin)
    assert _refused(db, lambda: _lend(db, cabinet, "5-3A 整改", "rectification", worker)).code == "missing_receipt"
    loan = _lend(db, cabinet, "5-3A 整改", "rectification", worker, receipt_no="ZG-0012")
    assert loan.receipt_no == "ZG-0012"


def test_r_key_8_move_in_keys_are_issued_against_payment_proof_and_the_owners_signed_receipt(
    db: Session, cabinet: Cabinet, household: Household
) -> None:
    """R-KEY-8: staff check the move-in payment proof, the owner signs for the keys; the key leaves for good."""
    owner = Borrower(BorrowerKind.owner, person=household.owner, identity_checked=True)
    door = "5-8B 入户门"
    no_proof = _refused(db, lambda: _lend(db, cabinet, door, "move_in", owner, due_at=None, receipt_no="RH-1"))
    assert no_proof.code == "missing_receipt"
    staff = Borrower(BorrowerKind.staff, staff=cabinet.desk)
    to_staff = _refused(
        db, lambda: _lend(db, cabinet, door, "move_in", staff, due_at=None, receipt_no="RH-1", payment_proof="JF-9")
    )
    assert to_staff.code == "not_owner"
    loan = _lend(db, cabinet, door, "move_in", owner, due_at=None, receipt_no="RH-1", payment_proof="JF-9")
    key = cabinet.key(door)
    events.key_removed(db, cabinet.estate, key.board or 0, key.slot or 0, NOW)
    assert loan.state == LoanState.handed_over and key.handed_over_at == NOW


def test_overdue_loans_are_listed_flagged_once_and_acknowledged_with_a_note(
    db: Session, cabinet: Cabinet, make_user: Callable[..., StaffUser]
) -> None:
    loan = _lend(db, cabinet, "水泵房", "engineering", _worker())
    key = cabinet.key("水泵房")
    events.key_removed(db, cabinet.estate, key.board or 0, key.slot or 0, NOW)
    db.commit()
    late = LATER + timedelta(minutes=1)
    assert loans.overdue(db, cabinet.estate, LATER - timedelta(minutes=1)) == []
    assert loans.overdue(db, cabinet.estate, late) == [loan]
    assert loans.flag_overdue(db, SYSTEM, cabinet.estate, late) == [loan]
    assert loans.flag_overdue(db, SYSTEM, cabinet.estate, late) == []  # the sweep is safe to run again
    flagged = db.scalars(select(AuditEntry).where(AuditEntry.action == "key_loan.overdue")).all()
    assert len(flagged) == 1 and "刘师傅" in flagged[0].detail
    guard = make_user(Role.gate_guard)
    with pytest.raises(DomainError) as forbidden:
        loans.acknowledge_overdue(db, SYSTEM, loan, by=guard, note="已电话催还", now=late)
    assert forbidden.value.status == 403
    with pytest.raises(DomainError) as noteless:
        loans.acknowledge_overdue(db, SYSTEM, loan, by=cabinet.admin, note=" ", now=late)
    assert noteless.value.code == "missing_fields"
    loans.acknowledge_overdue(db, SYSTEM, loan, by=cabinet.admin, note="已电话催还", now=late)
    assert (loan.overdue_ack_note, loan.overdue_ack_by_id, loan.state) == (
        "已电话催还",
        cabinet.admin.id,
        LoanState.out,
    )
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "key_loan.acknowledge_overdue")) is not None


def test_a_registered_loan_can_be_cancelled_before_the_key_leaves(db: Session, cabinet: Cabinet) -> None:
    loan = _lend(db, cabinet, "水泵房", "engineering", Borrower(BorrowerKind.staff, staff=cabinet.desk))
    loans.cancel(db, SYSTEM, loan, by=cabinet.desk, now=NOW, note="改天再去")
    assert loan.state == LoanState.cancelled
    assert _lend(db, cabinet, "水泵房", "engineering", Borrower(BorrowerKind.staff, staff=cabinet.desk)).id != loan.id
