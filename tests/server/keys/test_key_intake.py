"""Taking keys over from a contractor: handover record, 100% test, a spot check drawn by the system (R-KEY-1, 2, 3)."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import (
    AuditEntry,
    Estate,
    IntakeState,
    KeyCheck,
    KeyGroup,
    KeyIntake,
    Role,
    StaffUser,
    StepHistory,
)
from server.domain.actors import SYSTEM
from server.domain.errors import DomainError
from server.domain.keys import intake, register
from server.domain.keys.register import KeySpec
from tests.conftest import Household
from tests.server.keys.conftest import NOW, receive


def _batch(db: Session, estate: Estate, admin: StaffUser, size: int = 12) -> KeyIntake:
    batch = receive(db, estate, admin, size)
    keys = [KeySpec(f"5-8B #{i}", f"{0xA000 + i:04X}") for i in range(size)]
    register.register_set(db, SYSTEM, batch, KeyGroup.unit, keys, unit_code="5-8B")
    db.commit()
    return batch


@pytest.fixture
def admin(make_user: Callable[..., StaffUser]) -> StaffUser:
    return make_user(Role.records_admin)


def test_r_key_1_handover_record_names_contractor_person_count_and_receiver(
    db: Session, estate: Estate, household: Household, admin: StaffUser
) -> None:
    """R-KEY-1: the contractor's responsible person hands the keys to the CS admin with a handover record."""
    batch = _batch(db, estate, admin, 3)
    assert (batch.contractor, batch.handed_by, batch.declared_keys, batch.received_by_id) == (
        "中建三局",
        "张工",
        3,
        admin.id,
    )
    assert batch.state == IntakeState.received
    history = db.scalars(select(StepHistory).where(StepHistory.process == "key_intake")).all()
    assert [(h.transition, h.to_state, h.staff_id) for h in history] == [("receive", "received", admin.id)]
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "key_intake.receive")) is not None
    with pytest.raises(DomainError) as nameless:
        intake.open_intake(db, SYSTEM, estate, contractor=" ", handed_by="张工", declared_keys=1, by=admin, at=NOW)
    assert nameless.value.code == "missing_fields"


def test_r_key_2_every_key_is_tried_and_counted(
    db: Session, estate: Estate, household: Household, admin: StaffUser
) -> None:
    """R-KEY-2: results for every key (100%), the count against the handover record; one failure refuses the batch."""
    batch = _batch(db, estate, admin, 3)
    keys = intake.intake_keys(db, batch)
    with pytest.raises(DomainError) as partial:
        intake.record_acceptance_test(db, SYSTEM, batch, {keys[0].id: True}, by=admin, at=NOW)
    assert partial.value.code == "checks_incomplete"
    db.rollback()
    assert db.scalar(select(KeyCheck)) is None and batch.state == IntakeState.received
    results = {k.id: k is not keys[1] for k in keys}
    intake.record_acceptance_test(db, SYSTEM, batch, results, by=admin, at=NOW)
    assert batch.state == IntakeState.refused
    intake.retest(db, SYSTEM, batch, by=admin, at=NOW, note="施工方已换锁芯")
    intake.record_acceptance_test(db, SYSTEM, batch, {k.id: True for k in keys}, by=admin, at=NOW)
    assert batch.state == IntakeState.tested


def test_r_key_2_the_count_must_match_the_handover_record(
    db: Session, estate: Estate, household: Household, admin: StaffUser
) -> None:
    batch = receive(db, estate, admin, 5)
    register.register_set(db, SYSTEM, batch, KeyGroup.unit, [KeySpec("5-8B", "BEEF")], unit_code="5-8B")
    keys = intake.intake_keys(db, batch)
    with pytest.raises(DomainError) as short:
        intake.record_acceptance_test(db, SYSTEM, batch, {k.id: True for k in keys}, by=admin, at=NOW)
    assert short.value.code == "count_mismatch" and "5" in short.value.en


def test_r_key_3_the_system_draws_at_least_ten_percent_at_random(
    db: Session, estate: Estate, household: Household, admin: StaffUser
) -> None:
    """R-KEY-3: 12 keys → 2 drawn (at least 10%, rounded up), by the injected generator, so the same seed draws the
    same keys; all passing accepts the batch."""
    batch = _batch(db, estate, admin, 12)
    keys = intake.intake_keys(db, batch)
    intake.record_acceptance_test(db, SYSTEM, batch, {k.id: True for k in keys}, by=admin, at=NOW)
    drawn = intake.draw_spot_check(db, SYSTEM, batch, by=admin, at=NOW, rng=random.Random(3))
    expected = sorted(random.Random(3).sample(keys, 2), key=lambda k: k.id)
    assert [k.id for k in drawn] == [k.id for k in expected]
    intake.record_spot_check(db, SYSTEM, batch, {k.id: True for k in drawn}, by=admin, at=NOW)
    assert batch.state == IntakeState.accepted


def test_r_key_3_a_failed_spot_check_refuses_the_batch(
    db: Session, estate: Estate, household: Household, admin: StaffUser
) -> None:
    """R-KEY-3: the pass rate must be 100%; one failure among the drawn keys refuses the batch."""
    batch = _batch(db, estate, admin, 10)
    keys = intake.intake_keys(db, batch)
    intake.record_acceptance_test(db, SYSTEM, batch, {k.id: True for k in keys}, by=admin, at=NOW)
    drawn = intake.draw_spot_check(db, SYSTEM, batch, by=admin, at=NOW, rng=random.Random(1))
    assert len(drawn) == 1
    undrawn = next(k for k in keys if k not in drawn)
    with pytest.raises(DomainError) as wrong_keys:
        intake.record_spot_check(db, SYSTEM, batch, {undrawn.id: True}, by=admin, at=NOW)
    assert wrong_keys.value.code == "checks_incomplete"
    intake.record_spot_check(db, SYSTEM, batch, {drawn[0].id: False}, by=admin, at=NOW)
    assert batch.state == IntakeState.refused
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "key_intake.refuse"))
    assert entry is not None and drawn[0].label in entry.detail


def test_a_spot_check_needs_the_full_test_first_and_a_keeper(
    db: Session, estate: Estate, household: Household, admin: StaffUser, make_user: Callable[..., StaffUser]
) -> None:
    batch = _batch(db, estate, admin, 2)
    with pytest.raises(DomainError) as early:
        intake.draw_spot_check(db, SYSTEM, batch, by=admin, at=NOW)
    assert early.value.code == "wrong_state"
    keys = intake.intake_keys(db, batch)
    with pytest.raises(DomainError) as guard:
        intake.record_acceptance_test(
            db, SYSTEM, batch, {k.id: True for k in keys}, by=make_user(Role.gate_guard), at=NOW
        )
    assert guard.value.status == 403
