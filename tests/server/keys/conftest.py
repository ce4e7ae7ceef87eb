"""A key cabinet with an accepted intake laid out in the manual's order, for the key tests."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import (
    AuditEntry,
    Estate,
    Key,
    KeyGroup,
    KeyIntake,
    KeyKind,
    KeyLoan,
    KeySet,
    Role,
    SetCopy,
    StaffUser,
)
from server.domain import registry
from server.domain.actors import SYSTEM
from server.domain.keys import intake, layout, register
from server.domain.keys.register import KeySpec
from tests.conftest import Household

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
LATER = NOW + timedelta(hours=2)


def count(db: Session, model: type[object]) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def counts(db: Session) -> dict[str, int]:
    """Rows of every table a key change writes, to show that a refused request changed nothing."""
    return {m.__name__: count(db, m) for m in (Key, KeySet, KeyIntake, KeyLoan, AuditEntry)}


@dataclass
class Cabinet:
    estate: Estate
    admin: StaffUser  # the CS records admin who keeps the keys
    desk: StaffUser
    keys: dict[str, Key] = field(default_factory=dict)

    def key(self, label: str) -> Key:
        return self.keys[label]


def receive(db: Session, estate: Estate, admin: StaffUser, declared: int) -> KeyIntake:
    return intake.open_intake(
        db, SYSTEM, estate, contractor="中建三局", handed_by="张工", declared_keys=declared, by=admin, at=NOW
    )


def accept(db: Session, batch: KeyIntake, admin: StaffUser, seed: int = 7) -> None:
    """The 100% test and a passing spot check (R-KEY-2, 3)."""
    keys = intake.intake_keys(db, batch)
    intake.record_acceptance_test(db, SYSTEM, batch, {k.id: True for k in keys}, by=admin, at=NOW)
    drawn = intake.draw_spot_check(db, SYSTEM, batch, by=admin, at=NOW, rng=random.Random(seed))
    intake.record_spot_check(db, SYSTEM, batch, {k.id: True for k in drawn}, by=admin, at=NOW)


@pytest.fixture
def staff(make_user: Callable[..., StaffUser]) -> Callable[[Role], StaffUser]:
    return lambda role: make_user(role)


@pytest.fixture
def cabinet(db: Session, estate: Estate, household: Household, make_user: Callable[..., StaffUser]) -> Cabinet:
    """Board 1 (12 slots) holding: unit 5-8B (two keys, its owner in `household`), 5-3A, 10-2A and 2-5C, building 5's
    entrance-1 floor-1 public doors (TM), the pump room's in-use (TM) and spare sets — accepted and laid out."""
    admin, desk = make_user(Role.records_admin), make_user(Role.front_desk)
    for code in ("5-3A", "10-2A", "2-5C"):
        registry.ensure_unit(db, SYSTEM, estate, code)
    register.add_board(db, SYSTEM, estate, 1, 12)
    batch = receive(db, estate, admin, 9)
    add = register.register_set
    add(
        db,
        SYSTEM,
        batch,
        KeyGroup.unit,
        [KeySpec("5-8B 入户门", "0A01"), KeySpec("5-8B 信箱", "0A02")],
        unit_code="5-8B",
    )
    add(db, SYSTEM, batch, KeyGroup.unit, [KeySpec("5-3A", "0B01")], unit_code="5-3A")
    add(db, SYSTEM, batch, KeyGroup.unit, [KeySpec("10-2A", "0C01")], unit_code="10-2A")
    add(db, SYSTEM, batch, KeyGroup.unit, [KeySpec("2-5C", "0D01")], unit_code="2-5C")
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
    add(
        db,
        SYSTEM,
        batch,
        KeyGroup.plant_room,
        [KeySpec("水泵房", "0F01", KeyKind.tm)],
        equipment="水泵房",
        copy=SetCopy.in_use,
    )
    add(db, SYSTEM, batch, KeyGroup.plant_room, [KeySpec("水泵房备用", "0F02")], equipment="水泵房", copy=SetCopy.spare)
    add(db, SYSTEM, batch, KeyGroup.rectification, [KeySpec("5-3A 整改", "0B07")], unit_code="5-3A")
    accept(db, batch, admin)
    layout.apply_layout(db, SYSTEM, estate, NOW)
    db.commit()
    keys = {k.label: k for k in db.scalars(select(Key))}
    return Cabinet(estate, admin, desk, keys)
