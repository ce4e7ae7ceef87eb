"""A key cabinet for the console's key pages: one board of 12 slots holding an accepted intake laid out in the manual's
order and stored, set by set (R-KEY-1…4, 7). Times are the real clock's, as the app the pages run in uses it."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.base import utcnow
from server.db.models import (
    AuditEntry,
    BorrowerKind,
    Estate,
    Key,
    KeyCheck,
    KeyDuplication,
    KeyGroup,
    KeyIntake,
    KeyKind,
    KeyLoan,
    KeySet,
    SetCopy,
    StaffUser,
)
from server.domain import registry
from server.domain.actors import SYSTEM
from server.domain.keys import duplication, intake, layout, loans, register
from server.domain.keys.loans import Borrower
from server.domain.keys.register import KeySpec

# Where each key hangs once laid out (R-KEY-7): building 2 first, then building 5 by floor and unit, its public doors,
# then the plant rooms, the in-use set before the spare.
SLOTS = {
    "2-5C": (1, 1),
    "5-3A": (1, 2),
    "5-8B 入户门": (1, 3),
    "5-8B 信箱": (1, 4),
    "5栋1单元1层": (1, 5),
    "水泵房": (1, 6),
    "水泵房备用": (1, 7),
}
TABLES = (Key, KeySet, KeyIntake, KeyCheck, KeyLoan, KeyDuplication, AuditEntry)


def counts(db: Session) -> dict[str, int]:
    """Rows of every table a key page writes, to show that a refused form changed nothing."""
    found = {m.__name__: db.scalar(select(func.count()).select_from(m)) or 0 for m in TABLES}
    db.commit()  # end the read: on SQLite the app's writes wait for it
    return found


@dataclass
class KeyCabinet:
    estate: Estate
    keeper: StaffUser  # the CS records admin who keeps the keys
    ids: dict[str, int] = field(default_factory=dict)  # key label → key id

    def key(self, label: str) -> int:
        return self.ids[label]


def build_cabinet(db: Session, estate: Estate, keeper: StaffUser) -> KeyCabinet:
    """Board 1 (12 slots): units 2-5C, 5-3A and 5-8B (two keys; its owner 王建国 from `household`), building 5's
    entrance-1 floor-1 public doors (TM), the pump room's in-use (TM) and spare sets — accepted, laid out, stored."""
    for code in ("2-5C", "5-3A"):
        registry.ensure_unit(db, SYSTEM, estate, code)
    register.add_board(db, SYSTEM, estate, 1, 12, "东墙")
    now = utcnow()
    batch = intake.open_intake(
        db, SYSTEM, estate, contractor="中建三局", handed_by="张工", declared_keys=7, by=keeper, at=now
    )
    add = register.register_set
    add(db, SYSTEM, batch, KeyGroup.unit, [KeySpec("2-5C", "0D01")], unit_code="2-5C")
    add(db, SYSTEM, batch, KeyGroup.unit, [KeySpec("5-3A", "0B01")], unit_code="5-3A")
    add(
        db,
        SYSTEM,
        batch,
        KeyGroup.unit,
        [KeySpec("5-8B 入户门", "0A01"), KeySpec("5-8B 信箱", "0A02")],
        unit_code="5-8B",
    )
    add(
        db,
        SYSTEM,
        batch,
        KeyGroup.public_door,
        [KeySpec("5栋1单元1层", "0E01", KeyKind.tm)],
        building="5",
        entrance="1",
        floor=1,
    )
    pump = [KeySpec("水泵房", "0F01", KeyKind.tm)]
    add(db, SYSTEM, batch, KeyGroup.plant_room, pump, equipment="水泵房", copy=SetCopy.in_use)
    add(db, SYSTEM, batch, KeyGroup.plant_room, [KeySpec("水泵房备用", "0F02")], equipment="水泵房", copy=SetCopy.spare)
    keys = intake.intake_keys(db, batch)
    intake.record_acceptance_test(db, SYSTEM, batch, {k.id: True for k in keys}, by=keeper, at=now)
    drawn = intake.draw_spot_check(db, SYSTEM, batch, by=keeper, at=now, rng=random.Random(3))
    intake.record_spot_check(db, SYSTEM, batch, {k.id: True for k in drawn}, by=keeper, at=now)
    layout.apply_layout(db, SYSTEM, estate, now)
    for key_set in db.scalars(select(KeySet).where(KeySet.intake_id == batch.id).order_by(KeySet.id)):
        register.store_set(db, SYSTEM, key_set, now)
    db.commit()
    ids = {k.label: k.id for k in db.scalars(select(Key).where(Key.estate_id == estate.id))}
    placed = {k.label: (k.board, k.slot) for k in db.scalars(select(Key).where(Key.estate_id == estate.id))}
    assert placed == SLOTS, placed
    db.commit()
    return KeyCabinet(estate, keeper, ids)


def staff_loan(db: Session, cabinet: KeyCabinet, label: str, by: StaffUser, *, at: datetime, due: timedelta) -> KeyLoan:
    """An engineering loan to `by` registered at `at`, due `due` later, committed."""
    loan = loans.lend(
        db,
        SYSTEM,
        cabinet.estate,
        key_id=cabinet.key(label),
        purpose="engineering",
        borrower=Borrower(BorrowerKind.staff, staff=by),
        by=by,
        now=at,
        due_at=at + due,
    )
    db.commit()
    return loan


@dataclass(frozen=True)
class KeyRecords:
    """The key records of an estate that routes name by id."""

    intake_id: int
    set_id: int
    loan_id: int
    request_id: int


def key_records(db: Session, estate: Estate, keeper: StaffUser) -> KeyRecords:
    """A small cabinet for routes to act on: a board of 4 slots with a pump room's in-use and spare sets, accepted,
    laid out and stored; a loan of the in-use key registered and a duplication request for it, awaiting the general
    manager (R-KEY-11)."""
    now = utcnow()
    register.add_board(db, SYSTEM, estate, 1, 4)
    batch = intake.open_intake(
        db, SYSTEM, estate, contractor="机电安装", handed_by="王工", declared_keys=2, by=keeper, at=now
    )
    for copy, tag in ((SetCopy.in_use, f"{estate.id:02X}F1"), (SetCopy.spare, f"{estate.id:02X}F2")):
        spec = KeySpec(f"水泵房{copy.value}", tag, KeyKind.tm)
        register.register_set(db, SYSTEM, batch, KeyGroup.plant_room, [spec], equipment="水泵房", copy=copy)
    keys = intake.intake_keys(db, batch)
    intake.record_acceptance_test(db, SYSTEM, batch, {k.id: True for k in keys}, by=keeper, at=now)
    drawn = intake.draw_spot_check(db, SYSTEM, batch, by=keeper, at=now, rng=random.Random(1))
    intake.record_spot_check(db, SYSTEM, batch, {k.id: True for k in drawn}, by=keeper, at=now)
    layout.apply_layout(db, SYSTEM, estate, now)
    sets = list(db.scalars(select(KeySet).where(KeySet.intake_id == batch.id).order_by(KeySet.id)))
    for key_set in sets:
        register.store_set(db, SYSTEM, key_set, now)
    loan = loans.lend(
        db,
        SYSTEM,
        estate,
        key_id=keys[0].id,
        purpose="engineering",
        borrower=Borrower(BorrowerKind.staff, staff=keeper),
        by=keeper,
        now=now,
        due_at=now + timedelta(days=365),
    )
    request = duplication.request_duplication(db, SYSTEM, estate, keys[0].id, "遗失一把", by=keeper, now=now)
    db.flush()
    return KeyRecords(batch.id, sets[0].id, loan.id, request.id)
