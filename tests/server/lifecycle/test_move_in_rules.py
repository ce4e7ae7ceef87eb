"""The move-in desk's rules (R-MOVE) with the clock fixed: the queue served in order, papers, documents and photos,
fees read back with the change worked out, the pack, the facilities form with the meter readings, keys only against
the recorded fee (through the key register, a door key kept for rectification), the file steps."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.console import lifecycle_forms as paper
from server.console.registers import form_pdf, form_xlsx
from server.db.models import Key, KeyLoan, LoanPurpose, LoanState, OccupancyKind, StepHistory
from server.db.models.lifecycle import Meter, MeterReading, MoveInState, ScanKind, Vacancy
from server.domain import registry
from server.domain.actors import SYSTEM
from server.domain.errors import DomainError
from server.domain.lifecycle import meters
from server.domain.lifecycle import move_in as desk
from tests.server.lifecycle.conftest import NOW, RESULTS_ALL_PASS, SIGNATURE, Desk, counts, scan, take_over, walk
from tests.server.slips.pdf_text import pdf_text

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_r_move_whole_desk_in_the_manuals_order(db: Session, world: Desk) -> None:
    """R-MOVE: queue → papers → documents → fees → pack → facilities form and meters → keys (one door key kept for
    the rectification with a receipt) → filed; each key a move-in line of the key register; the unit no longer
    vacant. The key receipt 《钥匙签领表》 and the rectification list 《项目整改表》 print what was recorded."""
    take_over(db, world, world.household.unit.id, water="10.25")
    record = walk(db, world, "inspect")
    assert record.state == MoveInState.inspected and record.ticket == 1
    assert record.fee_total_fen == 170000 and record.change_fen == 30000
    assert [(f.item, f.rectification) for f in desk.rectification_items(record)] == [("walls", "客厅墙面裂缝")]
    assert (record.water_milli, record.electricity_milli) == (12500, 305200)
    with pytest.raises(DomainError) as no_key_kept:  # rectification items: a door key stays
        desk.issue_keys(
            db, SYSTEM, world.estate, record, desk.KeyIssue("YS-01", SIGNATURE), by=world["front_desk"], now=NOW
        )
    assert no_key_kept.value.code == "rectification_key_needed"
    db.rollback()
    door = world.cabinet.key("5-8B 入户门")
    issue = desk.KeyIssue("YS-01", SIGNATURE, kept_key_id=door, rectification_receipt_no="ZG-01")
    desk.issue_keys(db, SYSTEM, world.estate, record, issue, by=world["front_desk"], now=NOW)
    db.commit()
    lent = db.scalars(select(KeyLoan).where(KeyLoan.purpose == LoanPurpose.move_in)).all()
    assert [(loan.key_id, loan.payment_proof, loan.receipt_no, loan.borrower_name) for loan in lent] == [
        (world.cabinet.key("5-8B 信箱"), "SK-0001", "YS-01", "王建国")
    ]
    assert lent[0].state == LoanState.requested  # out for good when the cabinet sees it leave (R-KEY-8)
    assert record.kept_key_id == door and record.rectification_receipt_no == "ZG-01"
    kept = db.get(Key, door)
    assert [key.label for key, _loan in desk.issued_keys(db, record)] == ["5-8B 信箱"]  # the door key stays
    values = paper.key_receipt_values(db, world.estate, record, kept, "zh")  # 《钥匙签领表》 (R-KEY-8, 9)
    receipt = pdf_text(form_pdf(paper.KEY_RECEIPT, values, heading="观海台", signatures={"业主": record.key_signature}))
    assert all(w in receipt for w in ("《钥匙签领表》", "YS-01", "SK-0001", "5-8B 信箱", "ZG-01", "业主", "经办人"))
    sheet = load_workbook(
        io.BytesIO(form_xlsx(paper.KEY_RECEIPT, values, signatures={"业主": record.key_signature}))
    ).active
    assert sheet is not None and sheet.title == "key-receipt" and sheet["A1"].value == "《钥匙签领表》"
    lines = [row[:2] for row in sheet.iter_rows(values_only=True)]
    assert ("签领单号", "YS-01") in lines and ("入伙缴费证明", "SK-0001") in lines and ("业主", "已签") in lines
    papers = pdf_text(form_pdf(paper.PAPERS, paper.papers_values(db, record, "zh"), heading="观海台"))
    assert all(
        w in papers for w in ("《入伙资料确认表》", "GH-2026-118", "2 / 1", "已收费", "SK-0001", "《收楼声明书》")
    )
    values = paper.rectification_values(db, world.estate, record, kept, NOW, "zh")
    listed = pdf_text(form_pdf(paper.RECTIFICATION, values, heading="观海台"))
    assert all(w in listed for w in ("《项目整改表》", "客厅墙面裂缝", "5-8B 入户门 / ZG-01", "工程部", "1 / "))
    with pytest.raises(DomainError) as unfiled:
        desk.file(
            db, SYSTEM, world.estate, record, done=["registration", "finance", "pack"], by=world["front_desk"], now=NOW
        )
    assert unfiled.value.code == "filing_incomplete" and unfiled.value.detail["fields"] == ["engineering"]
    db.rollback()
    desk.file(db, SYSTEM, world.estate, record, done=list(desk.FILING), by=world["front_desk"], now=NOW)
    assert record.state == MoveInState.filed
    vacancy = db.scalar(select(Vacancy).where(Vacancy.unit_id == record.unit_id))
    assert vacancy is not None and vacancy.ends_on == NOW.date() and vacancy.move_in_id == record.id
    steps = db.scalars(select(StepHistory.transition).where(StepHistory.process == "move_in")).all()
    assert steps == ["queue", "check", "sign", "pay", "hand_pack", "inspect", "issue_keys", "file"]


def test_r_move_keys_never_handed_over_without_the_fee_recorded(db: Session, world: Desk) -> None:
    """R-MOVE (R-KEY-8): a move-in whose fees are not recorded cannot hand over keys; nothing changes."""
    record = walk(db, world, "sign")
    before = counts(db)
    issue = desk.KeyIssue("YS-02", SIGNATURE)
    with pytest.raises(DomainError) as refused:
        desk.issue_keys(db, SYSTEM, world.estate, record, issue, by=world["front_desk"], now=NOW)
    assert refused.value.code == "fee_not_recorded" and refused.value.status == 409
    db.rollback()
    assert counts(db) == before and record.state == MoveInState.signed


def test_r_move_first_come_first_served_with_tickets(db: Session, world: Desk) -> None:
    """R-MOVE: owners are served by ticket; a later ticket is not taken before an earlier one still waiting."""
    unit = registry.ensure_unit(db, SYSTEM, world.estate, "2-5C")
    second_owner = registry.add_person(db, SYSTEM, world.estate, "赵业主", "13900000009")
    registry.add_occupancy(db, SYSTEM, unit, second_owner, OccupancyKind.owner, NOW.date())
    first = walk(db, world, "queue")
    second = walk(db, world, "queue", unit_id=unit.id, owner_id=second_owner.id)
    assert (first.ticket, second.ticket) == (1, 2)
    with pytest.raises(DomainError) as early:
        desk.check_papers(
            db,
            SYSTEM,
            second,
            notice_no="N2",
            id_checked=True,
            by=world["front_desk"],
            now=NOW,
        )
    assert early.value.code == "not_your_turn"
    db.rollback()
    with pytest.raises(DomainError) as twice:  # one move-in per unit
        desk.queue(
            db, SYSTEM, world.estate, unit_id=first.unit_id, owner_id=first.owner_id, by=world["front_desk"], now=NOW
        )
    assert twice.value.code == "move_in_exists"
    db.rollback()
    tomorrow = desk.queue_of(db, world.estate, NOW + timedelta(days=1))
    assert tomorrow == []  # tickets start again each day


def test_r_move_papers_documents_photos_and_pack_are_complete(db: Session, world: Desk) -> None:
    """R-MOVE: the original ID checked with two ID copies and a bank-book copy; every document signed on the pad;
    three photos per family member; the pack complete — each refused with a clear error otherwise."""
    record = walk(db, world, "queue")
    fd = world["front_desk"]
    cases = [
        (
            lambda: desk.check_papers(db, SYSTEM, record, notice_no="N1", id_checked=False, by=fd, now=NOW),
            "id_unchecked",
        ),
        (
            lambda: desk.check_papers(db, SYSTEM, record, notice_no="N1", id_checked=True, by=fd, now=NOW),
            "copies_missing",
        ),
        (
            lambda: desk.check_papers(db, SYSTEM, record, notice_no="", id_checked=True, by=fd, now=NOW),
            "missing_fields",
        ),
    ]
    for take, code in cases:
        with pytest.raises(DomainError) as refused:
            take()
        assert refused.value.code == code
        db.rollback()
    scan(db, world, record, ScanKind.id_copy, 2)
    scan(db, world, record, ScanKind.bank_book)
    desk.check_papers(db, SYSTEM, record, notice_no="N1", id_checked=True, by=fd, now=NOW)
    scan(db, world, record, ScanKind.family_photo, 2)
    for documents, photos, signature, code in (
        (["covenant"], 6, SIGNATURE, "documents_unsigned"),
        (list(desk.DOCUMENTS), 5, SIGNATURE, "photos_missing"),
        (list(desk.DOCUMENTS), 6, "data:image/png;base64,AAAA", "bad_signature"),
    ):
        with pytest.raises(DomainError) as refused:
            desk.sign_documents(
                db,
                SYSTEM,
                record,
                documents=documents,
                family_members=2,
                photos=photos,
                signature=signature,
                by=fd,
                now=NOW,
            )
        assert refused.value.code == code
    assert record.state == MoveInState.checked


def test_r_move_fees_counted_aloud_with_the_change_and_finance_only(db: Session, world: Desk) -> None:
    """R-MOVE: fees from the fee list, the total read back to the owner, the change worked out; too little handed
    over is refused; only finance takes the fees; then the pack must be complete."""
    record = walk(db, world, "sign")
    lines = {"management": 150000, "access_cards": 5000}
    for payment, by, code in (
        (desk.Payment(lines, 200000, False, "SK-9"), world["finance"], "not_read_back"),
        (desk.Payment(lines, 150000, True, "SK-9"), world["finance"], "short_payment"),
        (desk.Payment({"parking": 100}, 200000, True, "SK-9"), world["finance"], "bad_fee"),
        (desk.Payment(lines, 200000, True, "SK-9"), world["front_desk"], "forbidden"),
    ):
        with pytest.raises(DomainError) as refused:
            desk.pay(db, SYSTEM, record, payment, by=by, now=NOW)
        assert refused.value.code == code, code
        db.rollback()
    desk.pay(db, SYSTEM, record, desk.Payment(lines, 200000, True, "SK-9"), by=world["finance"], now=NOW)
    db.commit()
    assert (record.fee_total_fen, record.tendered_fen, record.change_fen) == (155000, 200000, 45000)
    with pytest.raises(DomainError) as short:
        desk.hand_pack(db, SYSTEM, record, items=["covenant", "manual"], by=world["front_desk"], now=NOW)
    assert short.value.code == "pack_incomplete"


def test_r_move_meter_reading_lower_than_the_previous_is_refused(db: Session, world: Desk) -> None:
    """R-MOVE: a meter reading lower than the unit's previous one (here the takeover's) is refused with a clear
    error, and nothing changes: no facilities lines, no readings, the move-in still waiting for its inspection."""
    take_over(db, world, world.household.unit.id, water="20.5")
    record = walk(db, world, "hand_pack")
    before = counts(db)
    inspection = desk.Inspection(RESULTS_ALL_PASS, "19.9", "100", SIGNATURE)
    with pytest.raises(DomainError) as went_back:
        desk.inspect(db, SYSTEM, record, inspection, by=world["engineering"], now=NOW)
    assert went_back.value.code == "reading_went_back"
    assert "19.9" in went_back.value.zh and "20.5" in went_back.value.en
    db.rollback()
    assert counts(db) == before and record.state == MoveInState.pack_handed
    for water, code in (("abc", "bad_reading"), ("-1", "bad_reading"), ("1.2345", "bad_reading")):
        with pytest.raises(DomainError) as bad:
            desk.inspect(
                db,
                SYSTEM,
                record,
                desk.Inspection(RESULTS_ALL_PASS, water, "1", SIGNATURE),
                by=world["engineering"],
                now=NOW,
            )
        assert bad.value.code == code
        db.rollback()
    partial = {k: v for k, v in RESULTS_ALL_PASS.items() if k != "doors"}
    with pytest.raises(DomainError) as unchecked:
        desk.inspect(
            db, SYSTEM, record, desk.Inspection(partial, "21", "1", SIGNATURE), by=world["engineering"], now=NOW
        )
    assert unchecked.value.code == "items_not_inspected"
    db.rollback()
    desk.inspect(
        db, SYSTEM, record, desk.Inspection(RESULTS_ALL_PASS, "20.5", "1", SIGNATURE), by=world["engineering"], now=NOW
    )
    water = meters.previous(db, world.household.unit, Meter.water)
    assert water is not None and water.reading_milli == 20500 and water.source == "move_in"
    assert len(db.scalars(select(MeterReading)).all()) == 3
