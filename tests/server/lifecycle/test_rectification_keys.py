"""The door key kept at move-in for the rectification work (R-MOVE key issue, R-KEY-9), with the clock fixed: it moves
into the unit's rectification set in the key register, is lent only for the rectification against the owner's
receipt, and leaves the register when the owner collects it with that receipt."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import AuditEntry, BorrowerKind, Holder, Key, KeyGroup, KeyLoan, KeySet, LoanPurpose, LoanState
from server.domain.actors import SYSTEM
from server.domain.errors import DomainError
from server.domain.keys import events, layout, loans
from server.domain.keys.loans import Borrower
from server.domain.lifecycle import move_in as desk
from tests.conftest import csrf_of, sign_in
from tests.server.lifecycle.conftest import NOW, SIGNATURE, Desk, counts, walk

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_r_move_r_key_9_kept_key_is_a_rectification_key_lent_only_with_the_receipt(db: Session, world: Desk) -> None:
    """R-MOVE, R-KEY-9: the door key kept at key issue moves into the unit's new rectification set 「5-8B 整改」,
    held for engineering with the owner's receipt, in its own home slot; it is lent only for the rectification and
    only against that receipt (anything else a clear error and nothing changed); the owner collects it with the
    receipt and it leaves the register when the cabinet sees it taken."""
    estate, eng = world.estate, world["engineering"]
    record = walk(db, world, "inspect")
    door = world.cabinet.key("5-8B 入户门")
    issue = desk.KeyIssue("YS-01", SIGNATURE, kept_key_id=door, rectification_receipt_no="ZG-0001")
    desk.issue_keys(db, SYSTEM, estate, record, issue, by=world["front_desk"], now=NOW)
    db.commit()
    key = db.get_one(Key, door)
    kept = db.get_one(KeySet, key.set_id)
    assert (kept.opens, kept.label, kept.receipt_no, kept.holder) == (
        KeyGroup.rectification,
        "5-8B 整改",
        "ZG-0001",
        Holder.engineering,
    )
    assert kept.unit_id == record.unit_id and kept.stored_at is not None and (key.board, key.slot) == (1, 3)
    assert door not in [k.id for k in desk.unit_keys(db, record)]
    moved = db.scalar(select(AuditEntry).where(AuditEntry.action == "key.rectification_keep"))
    assert moved is not None and moved.entity_id == str(door)
    placed = {p.key_id: (p.board, p.slot) for p in layout.plan(db, estate)}
    assert placed[door] == (1, 4)  # a re-layout hangs it right after the unit's own (handed-over keys drop out)

    worker = Borrower(BorrowerKind.staff, staff=eng)
    later = NOW + timedelta(hours=1)

    def lend(purpose: str, receipt: str = "") -> KeyLoan:
        return loans.lend(
            db, SYSTEM, estate, key_id=door, purpose=purpose, borrower=worker, by=eng, now=later,
            due_at=later + timedelta(hours=4), receipt_no=receipt,
        )  # fmt: skip

    before = counts(db)
    for purpose, receipt, code in (
        ("engineering", "ZG-0001", "rectification_key_only"),
        ("rectification", "", "missing_receipt"),
        ("rectification", "ZG-0002", "receipt_mismatch"),
    ):
        with pytest.raises(DomainError) as refused:
            lend(purpose, receipt)
        assert refused.value.code == code and refused.value.zh and refused.value.en
        db.rollback()
        assert counts(db) == before
    loan = lend("rectification", "ZG-0001")
    db.commit()
    assert (loan.purpose, loan.receipt_no, loan.borrower_name) == (
        LoanPurpose.rectification,
        "ZG-0001",
        eng.display_name,
    )
    events.key_removed(db, estate, 1, 3, later)
    events.key_returned(db, estate, 1, 3, key.tag, later + timedelta(hours=2))
    db.commit()
    assert loan.state == LoanState.returned

    with pytest.raises(DomainError) as wrong_receipt:
        desk.return_rectification_key(
            db, SYSTEM, estate, record, receipt_no="ZG-9999", by=world["front_desk"], now=later
        )
    assert wrong_receipt.value.code == "receipt_mismatch"
    db.rollback()
    back = desk.return_rectification_key(
        db, SYSTEM, estate, record, receipt_no="ZG-0001", by=world["front_desk"], now=later + timedelta(days=3)
    )
    db.commit()
    assert (back.purpose, back.borrower_name, back.state) == (LoanPurpose.move_in, "王建国", LoanState.requested)
    events.key_removed(db, estate, 1, 3, later + timedelta(days=3))
    db.commit()
    assert back.state == LoanState.handed_over and key.handed_over_at == later + timedelta(days=3)
    assert door not in {p.key_id for p in layout.plan(db, estate)}
    with pytest.raises(DomainError) as gone:
        desk.return_rectification_key(
            db, SYSTEM, estate, record, receipt_no="ZG-0001", by=world["front_desk"], now=later
        )
    assert gone.value.code == "no_rectification_key"


def test_r_key_9_owner_collects_the_rectification_key_on_the_move_in_page(
    app: FastAPI, db: Session, world: Desk
) -> None:
    """R-KEY-9 in the console: the move-in page offers the kept key back to the owner against the receipt; a wrong
    receipt is a clear error that registers nothing, the right one registers the handover to the owner."""
    app.state.clock = lambda: NOW
    record = walk(db, world, "inspect")
    door = world.cabinet.key("5-8B 入户门")
    issue = desk.KeyIssue("YS-01", SIGNATURE, kept_key_id=door, rectification_receipt_no="ZG-0001")
    desk.issue_keys(db, SYSTEM, world.estate, record, issue, by=world["front_desk"], now=NOW)
    db.commit()
    url = f"/console/move-in/{record.id}"
    with TestClient(app) as client:
        sign_in(client, world["front_desk"].username, "correct-horse-1")
        page = client.get(url)
        assert 'id="rectification-key-form"' in page.text
        token = csrf_of(page.text)
        wrong = client.post(url + "/rectification-key", data={"receipt_no": "ZG-9", "csrf_token": token})
        assert wrong.status_code == 400 and "回执号与留钥匙时给业主的回执 ZG-0001 不符" in wrong.text
        db.commit()
        assert db.scalar(select(KeyLoan.id).where(KeyLoan.key_id == door)) is None
        back = client.post(
            url + "/rectification-key", data={"receipt_no": "ZG-0001", "csrf_token": token}, follow_redirects=False
        )
        assert back.status_code == 303
    db.commit()
    loan = db.scalars(select(KeyLoan).where(KeyLoan.key_id == door)).one()
    assert (loan.purpose, loan.receipt_no, loan.state) == (LoanPurpose.move_in, "ZG-0001", LoanState.requested)
