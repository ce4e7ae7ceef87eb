"""The move-in's copies as stored scans and the estate's fee list (R-MOVE), with the clock fixed: the papers step
needs two ID copies and a bank-book copy scanned, the signing a photo of each family member; a scan is a JPEG or
PNG that opens, of at most 5 MB, or nothing is stored; a scan a passed step needed is replaced, never just deleted.
The fee list is the estate's own: its edits change the next move-in's total, never one already paid."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import AuditEntry, OccupancyKind
from server.db.models.lifecycle import MoveInFeeItem, MoveInScan, MoveInState, ScanKind
from server.domain import registry
from server.domain.actors import SYSTEM
from server.domain.errors import DomainError
from server.domain.lifecycle import move_in as desk
from server.domain.lifecycle import move_in_fees as fee_list
from server.domain.lifecycle import move_in_scans as scans
from tests.server.lifecycle.conftest import NOW, SIGNATURE, Desk, counts, image, scan, walk

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def _refused(take: object, code: str) -> DomainError:
    with pytest.raises(DomainError) as refused:
        take()  # type: ignore[operator]
    assert refused.value.code == code, refused.value.code
    assert refused.value.zh and refused.value.en and refused.value.zh != refused.value.en
    return refused.value


def test_r_move_a_non_image_or_oversize_scan_is_refused_and_nothing_is_stored(db: Session, world: Desk) -> None:
    """R-MOVE: text, a truncated JPEG, a GIF, a file over 5 MB, one bad file among good ones, too many at once —
    each refused with a clear 422 error and no scan kept; a PNG is kept as a PNG whatever it was sent as, with its
    SHA-256, who took it and when, and an audit entry."""
    record = walk(db, world, "queue")
    fd = world["front_desk"]
    before = counts(db)
    gif = io.BytesIO()
    Image.new("RGB", (8, 8)).save(gif, "GIF")
    jpeg = image()
    for images, code in (
        ([b"%PDF-1.4 not an image"], "bad_scan"),
        ([jpeg[: len(jpeg) // 2]], "bad_scan"),
        ([gif.getvalue()], "bad_scan"),
        ([b"\xff\xd8\xff" + bytes(scans.MAX_SCAN_BYTES)], "scan_too_large"),
        ([jpeg, b"not an image"], "bad_scan"),
        ([jpeg] * (scans.MAX_SCANS_PER_POST + 1), "too_many_scans"),
        ([], "missing_fields"),
    ):
        error = _refused(
            lambda images=images: scans.add(db, SYSTEM, record, ScanKind.id_copy, images, by=fd, now=NOW), code
        )
        assert error.status in (400, 422) and (code == "missing_fields" or error.status == 422)
        db.rollback()
        assert counts(db) == before
    _refused(lambda: scans.add(db, SYSTEM, record, ScanKind.id_copy, [jpeg], by=world["finance"], now=NOW), "forbidden")
    db.rollback()
    _refused(lambda: scans.kind_of("passport"), "bad_scan_kind")

    png = image("PNG")
    [kept] = scans.add(db, SYSTEM, record, ScanKind.bank_book, [png], by=fd, now=NOW)
    db.commit()
    assert (kept.media_type, kept.size, kept.sha256) == ("image/png", len(png), hashlib.sha256(png).hexdigest())
    assert (kept.uploaded_by_id, kept.uploaded_at, kept.width, kept.height) == (fd.id, NOW, 64, 40)
    assert scans.get(db, world.estate, record.id, kept.id).data == png
    entry = db.scalars(select(AuditEntry).where(AuditEntry.action == "move_in.scan_added")).one()
    assert entry.entity_id == str(record.id)


def test_r_move_the_copies_step_needs_the_scans_and_a_needed_scan_is_replaced_not_deleted(
    db: Session, world: Desk
) -> None:
    """R-MOVE: with one ID copy and the bank book scanned the papers step is refused and nothing changes; with the
    second ID copy it passes. Then an ID copy cannot just be deleted (the step needed two): the right one is added
    first, then the wrong one deleted. The signing needs a photo scanned for each family member; a cancelled
    move-in's scans are final."""
    record = walk(db, world, "queue")
    fd = world["front_desk"]
    scan(db, world, record, ScanKind.id_copy)
    scan(db, world, record, ScanKind.bank_book)
    db.commit()
    before = counts(db)
    check = lambda: desk.check_papers(db, SYSTEM, record, notice_no="N1", id_checked=True, by=fd, now=NOW)  # noqa: E731
    error = _refused(check, "copies_missing")
    assert "1" in error.zh and "there are 1 and 1" in error.en
    db.rollback()
    assert counts(db) == before and record.state == MoveInState.queued
    scan(db, world, record, ScanKind.id_copy)
    check()
    db.commit()
    assert (record.state, record.id_copies, record.bank_copies) == (MoveInState.checked, 2, 1)

    wrong = scans.scans_of(db, record)[0]
    assert wrong.kind == ScanKind.id_copy
    _refused(lambda: scans.delete(db, SYSTEM, world.estate, record, wrong.id, by=fd, now=NOW), "scan_needed")
    db.rollback()
    scan(db, world, record, ScanKind.id_copy)
    scans.delete(db, SYSTEM, world.estate, record, wrong.id, by=fd, now=NOW)
    db.commit()
    assert scans.counts(db, record)[ScanKind.id_copy] == 2 and db.get(MoveInScan, wrong.id) is None
    assert db.scalar(select(AuditEntry.seq).where(AuditEntry.action == "move_in.scan_deleted")) is not None

    scan(db, world, record, ScanKind.family_photo)  # one photo for a family of two
    db.commit()
    sign = lambda: desk.sign_documents(  # noqa: E731
        db, SYSTEM, record, documents=list(desk.DOCUMENTS), family_members=2, photos=6, signature=SIGNATURE, by=fd,
        now=NOW,
    )  # fmt: skip
    _refused(sign, "photos_missing")
    db.rollback()
    assert record.state == MoveInState.checked
    scan(db, world, record, ScanKind.family_photo)
    sign()
    desk.cancel(db, SYSTEM, record, by=fd, now=NOW, note="owner left")
    db.commit()
    _refused(lambda: scan(db, world, record, ScanKind.id_copy), "scans_closed")
    db.rollback()


def _second_move_in(db: Session, world: Desk) -> desk.MoveIn:
    unit = registry.ensure_unit(db, SYSTEM, world.estate, "2-5C")
    owner = registry.add_person(db, SYSTEM, world.estate, "赵业主", "13900000009")
    registry.add_occupancy(db, SYSTEM, unit, owner, OccupancyKind.owner, NOW.date())
    return walk(db, world, "sign", unit_id=unit.id, owner_id=owner.id)


def test_r_move_an_edited_fee_list_changes_the_next_total_but_not_a_paid_one(db: Session, world: Desk) -> None:
    """R-MOVE: the estate starts with the default list (no standard amounts); the finance sets amounts and the fee
    step charges them; then the list is changed (an amount raised, a line retired, one added, another renamed and
    moved): the next move-in's total follows it, the paid move-in keeps its lines, names and total."""
    finance = world["finance"]
    listed = fee_list.items(db, world.estate)
    assert [(i.code, i.amount_fen, i.active) for i in listed] == [(c, 0, True) for c in desk.FEES]
    by_code = {i.code: i for i in listed}
    fee_list.edit_item(
        db, SYSTEM, world.estate, by_code["management"].id, fee_list.FeeLine("物业管理费（预收）", 150000), NOW
    )
    fee_list.edit_item(
        db, SYSTEM, world.estate, by_code["water_deposit"].id, fee_list.FeeLine("水费周转金", 20000), NOW
    )
    first = walk(db, world, "sign")
    desk.pay(db, SYSTEM, first, desk.Payment(None, 200000, True, "SK-1"), by=finance, now=NOW)
    db.commit()
    assert (first.fee_total_fen, first.change_fen) == (170000, 30000)

    fee_list.edit_item(db, SYSTEM, world.estate, by_code["management"].id, fee_list.FeeLine("管理费", 180000), NOW)
    fee_list.set_active(db, SYSTEM, world.estate, by_code["water_deposit"].id, False, NOW)
    fee_list.add_item(
        db, SYSTEM, world.estate, "parking_card", fee_list.FeeLine("停车卡工本费", 5000, "Parking card"), NOW
    )
    fee_list.move(db, SYSTEM, world.estate, by_code["access_cards"].id, True, NOW)
    db.commit()
    order = [i.code for i in fee_list.items(db, world.estate, active_only=True)]
    assert order == ["management", "power_deposit", "access_cards", "renovation_waste", "parking_card"]
    second = _second_move_in(db, world)
    desk.pay(db, SYSTEM, second, desk.Payment(None, 200000, True, "SK-2"), by=finance, now=NOW)
    db.commit()
    assert second.fee_total_fen == 185000
    assert [(f.code, f.amount_fen, f.name_zh) for f in second.fees] == [
        ("management", 180000, "管理费"), ("parking_card", 5000, "停车卡工本费")
    ]  # fmt: skip
    db.refresh(first)
    assert first.fee_total_fen == 170000
    assert [(f.code, f.amount_fen, f.name_zh) for f in first.fees] == [
        ("management", 150000, "物业管理费（预收）"), ("water_deposit", 20000, "水费周转金")
    ]  # fmt: skip
    actions = db.scalars(select(AuditEntry.action).where(AuditEntry.action.like("move_in_fee.%"))).all()
    assert sorted(set(actions)) == [
        "move_in_fee.added",
        "move_in_fee.edited",
        "move_in_fee.moved",
        "move_in_fee.retired",
    ]


def test_r_move_bad_fee_list_input_and_unknown_fees_are_refused_with_nothing_changed(db: Session, world: Desk) -> None:
    """R-MOVE: a negative amount, no name, a bad or taken code, a line of no (or another) estate's list, and at the
    fee step a line not on the estate's active list (unknown or retired) or negative — each a clear error, and
    neither the list nor the move-in changes."""
    record = walk(db, world, "sign")
    listed = fee_list.items(db, world.estate)
    db.commit()

    def snapshot() -> list[tuple[object, ...]]:
        rows = db.scalars(select(MoveInFeeItem).order_by(MoveInFeeItem.id))
        return [(i.code, i.name_zh, i.amount_fen, i.position, i.active) for i in rows]

    other = registry.create_estate(db, SYSTEM, "HW", "海湾", "Haiwan")
    foreign = fee_list.items(db, other)[0]
    db.commit()
    before, rows = snapshot(), counts(db)
    management = listed[0].id
    for take, code in (
        (
            lambda: fee_list.edit_item(db, SYSTEM, world.estate, management, fee_list.FeeLine("管理费", -1), NOW),
            "bad_amount",
        ),
        (
            lambda: fee_list.edit_item(db, SYSTEM, world.estate, management, fee_list.FeeLine(" ", 100), NOW),
            "missing_fields",
        ),
        (lambda: fee_list.add_item(db, SYSTEM, world.estate, "Bad Code!", fee_list.FeeLine("x", 1), NOW), "bad_code"),
        (
            lambda: fee_list.add_item(db, SYSTEM, world.estate, "management", fee_list.FeeLine("x", 1), NOW),
            "code_taken",
        ),
        (lambda: fee_list.add_item(db, SYSTEM, world.estate, "parking", fee_list.FeeLine("x", -5), NOW), "bad_amount"),
        (
            lambda: fee_list.edit_item(db, SYSTEM, world.estate, 999999, fee_list.FeeLine("x", 1), NOW),
            "fee_item_not_found",
        ),
        (lambda: fee_list.set_active(db, SYSTEM, world.estate, foreign.id, False, NOW), "fee_item_not_found"),
        (lambda: fee_list.move(db, SYSTEM, world.estate, foreign.id, True, NOW), "fee_item_not_found"),
    ):
        _refused(take, code)
        db.rollback()
        assert snapshot() == before and counts(db) == rows
    fee_list.set_active(db, SYSTEM, world.estate, listed[1].id, False, NOW)  # water_deposit retired
    db.commit()
    rows = counts(db)
    for lines in ({"parking": 100}, {"water_deposit": 100}, {"management": -100, "access_cards": 5000}):
        payment = desk.Payment(lines, 200000, True, "SK-9")
        _refused(lambda payment=payment: desk.pay(db, SYSTEM, record, payment, by=world["finance"], now=NOW), "bad_fee")
        db.rollback()
        assert counts(db) == rows and record.state == MoveInState.signed and record.fees == []
