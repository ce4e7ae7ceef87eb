"""Renovation rules (R-REN-1…9) on the domain, with the clock given by each test: the approval and refund clocks
on the working-day calendar, worker passes checked as the gate checks them, and bad input changing nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.contract import slip_token, worker_pass
from server.db.models import AuditEntry, Estate, StepHistory
from server.db.models.renovation import PassMovement, Renovation, RenovationState, WorkerPass
from server.domain import registry
from server.domain.actors import SYSTEM
from server.domain.errors import DomainError
from server.domain.renovation import escalation, passes, records
from server.domain.slips import keys
from tests.server.renovation.conftest import Staff, Walk, at, png_data_url

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def counts(db: Session) -> dict[str, int]:
    db.expire_all()
    models = (Renovation, WorkerPass, PassMovement, StepHistory, AuditEntry)
    return {m.__name__: db.scalar(select(func.count()).select_from(m)) or 0 for m in models}


def test_r_ren_1_the_desk_receives_an_application_with_a_number(db: Session, walk: Walk) -> None:
    """R-REN-1: received at the CS centre, numbered, with its history."""
    record = walk("received")
    assert record.state is RenovationState.received
    assert record.number.startswith("GH-ZX-202611-")
    assert db.scalar(select(func.count()).select_from(StepHistory).where(StepHistory.process == "renovation")) == 1


def test_r_ren_1_a_period_that_ends_before_it_starts_is_refused(db: Session, estate: Estate, people: Staff) -> None:
    """R-REN-1 bad input: an end before the start, or an unknown unit: a clear error and nothing written."""
    before = counts(db)
    app = records.Application("5-8B", "王业主", "刷墙", date(2026, 11, 10), date(2026, 11, 1))
    with pytest.raises(DomainError) as bad:
        records.receive(db, people.actor(people.desk), people.desk, estate, app, at("2026-11-02 09:00"))
    assert bad.value.code == "bad_period"
    app = records.Application("9-9Z", "王业主", "刷墙", date(2026, 11, 1), date(2026, 11, 10))
    with pytest.raises(DomainError) as unknown:
        records.receive(db, people.actor(people.desk), people.desk, estate, app, at("2026-11-02 09:00"))
    assert unknown.value.code == "unknown_unit"
    db.rollback()
    assert counts(db) == before


def test_r_ren_2_approval_overdue_after_3_working_days_over_national_day(
    db: Session, estate: Estate, walk: Walk
) -> None:
    """R-REN-2: received on 30 September 2026, the eve of National Day: the 3 working days are 8, 9 and the make-up
    Saturday 10 October, so the application is not late on 5 October (3 weekdays on) nor late on the 10th, and is
    late — and escalated once — on 11 October."""
    record = walk("received", received="2026-09-30 10:00", starts_on=date(2026, 10, 12), ends_on=date(2026, 11, 30))
    assert record.due_at == at("2026-10-10 23:59:59")
    for moment in ("2026-10-05 12:00", "2026-10-10 18:00"):
        assert not records.is_late(record, at(moment))
    assert records.is_late(record, at("2026-10-11 00:30"))
    late = records.listing(db, estate, late_only=True, now=at("2026-10-11 00:30"))
    assert [r.id for r in late] == [record.id]
    assert [r.id for r in escalation.escalate(db, SYSTEM, estate, at("2026-10-11 00:30"))] == [record.id]
    assert escalation.escalate(db, SYSTEM, estate, at("2026-10-11 01:00")) == []


def test_r_ren_2_only_engineering_approves(db: Session, walk: Walk, people: Staff) -> None:
    """R-REN-2: the desk cannot approve; engineering can, and then the application is no longer late."""
    record = walk("received")
    with pytest.raises(DomainError) as refused:
        records.decide(db, people.actor(people.desk), people.desk, record, True, "", at("2026-11-02 10:00"))
    assert refused.value.code == "forbidden"
    records.decide(db, people.actor(people.engineer), people.engineer, record, True, "", at("2026-11-02 10:00"))
    assert not records.is_late(record, at("2026-12-31 00:00"))


def test_r_ren_3_4_5_notified_signed_and_paid_in_order(db: Session, walk: Walk, people: Staff) -> None:
    """R-REN-3, R-REN-4, R-REN-5: no agreement before the owner is notified; the agreement needs the owner's
    signature; finance records fee and deposit with its receipt."""
    record = walk("approved")
    now = at("2026-11-03 09:00")
    with pytest.raises(DomainError):
        records.agree(db, people.actor(people.desk), people.desk, record, png_data_url(), now)
    records.notify(db, people.actor(people.desk), people.desk, record, "电话", now)
    with pytest.raises(DomainError) as unsigned:
        records.agree(db, people.actor(people.desk), people.desk, record, "", now)
    assert unsigned.value.code == "missing_fields"
    records.agree(db, people.actor(people.desk), people.desk, record, png_data_url(), now)
    with pytest.raises(DomainError) as no_deposit:
        records.pay(db, people.actor(people.finance), people.finance, record, 100, 0, "SK-9", now)
    assert no_deposit.value.code == "bad_amount"
    records.pay(db, people.actor(people.finance), people.finance, record, 30000, 200000, "SK-9", now)
    assert (record.state, record.deposit_fen, record.receipt_no) == (RenovationState.paid, 200000, "SK-9")


def _scan(db: Session, estate: Estate, item: WorkerPass, when: str) -> WorkerPass:
    return passes.check(db, estate, item.token, at(when))


def test_r_ren_6_worker_pass_valid_for_the_period_refused_the_day_after_it_ends(
    db: Session, estate: Estate, walk: Walk, people: Staff
) -> None:
    """R-REN-6: a pass is a signed WP1 token valid from its issue to the renovation's last day (30 November): it
    passes on that day at 23:00 and is refused on 1 December, offline (the token) and by the server."""
    record = walk("paid")
    item = passes.issue(
        db, people.actor(people.desk), people.desk, record, passes.Worker("李师傅", "好家装饰"), at("2026-11-04 09:00")
    )
    db.commit()
    assert item.token.startswith("WP1:") and item.number.startswith("GH-WP-20261104-")
    assert (item.valid_from, item.valid_until) == (date(2026, 11, 5), date(2026, 11, 30))
    assert _scan(db, estate, item, "2026-11-30 23:00").id == item.id
    with pytest.raises(DomainError) as after:
        _scan(db, estate, item, "2026-12-01 08:00")
    assert after.value.code == "expired"
    with pytest.raises(DomainError) as before:
        _scan(db, estate, item, "2026-11-04 10:00")
    assert before.value.code == "not_yet_valid"
    ring = keys.ring(db)
    claims = worker_pass.verify(item.token, ring, estate="GH", today=date(2026, 11, 30))
    assert (claims.worker, claims.company, claims.unit) == ("李师傅", "好家装饰", "5-8B")
    with pytest.raises(slip_token.TokenError) as offline:
        worker_pass.verify(item.token, ring, estate="GH", today=date(2026, 12, 1))
    assert offline.value.code == "expired"


def test_r_ren_6_worker_pass_refused_while_the_renovation_is_suspended(
    db: Session, estate: Estate, walk: Walk, people: Staff
) -> None:
    """R-REN-6: suspended works: every pass is refused at the gate (and no movement is logged); resumed, it passes."""
    record = walk("paid")
    desk = people.desk
    item = passes.issue(db, people.actor(desk), desk, record, passes.Worker("李师傅"), at("2026-11-05 09:00"))
    records.suspend(db, people.actor(desk), desk, record, "噪音投诉", at("2026-11-06 09:00"))
    db.commit()
    with pytest.raises(DomainError) as suspended:
        _scan(db, estate, item, "2026-11-06 10:00")
    assert suspended.value.code == "suspended"
    records.resume(db, people.actor(desk), desk, record, at("2026-11-07 09:00"))
    assert _scan(db, estate, item, "2026-11-07 10:00").id == item.id


def test_r_ren_6_no_pass_for_a_unit_without_an_approved_renovation(
    db: Session, estate: Estate, walk: Walk, people: Staff
) -> None:
    """R-REN-6 bad input: a pass asked for a unit whose renovation is only received, or a unit with none: a clear
    error (no_approved_renovation) and nothing changed."""
    walk("received")
    registry.ensure_unit(db, SYSTEM, estate, "6-1A")
    db.commit()
    before = counts(db)
    for unit in ("5-8B", "6-1A"):
        with pytest.raises(DomainError) as refused:
            passes.issue_for_unit(
                db,
                people.actor(people.desk),
                people.desk,
                estate,
                unit,
                passes.Worker("李师傅"),
                at("2026-11-05 09:00"),
            )
        assert refused.value.code == "no_approved_renovation"
        assert "没有已批准" in refused.value.zh and "no approved" in refused.value.en
    db.rollback()
    assert counts(db) == before


def test_r_ren_6_entries_and_exits_are_logged_and_a_forged_pass_refused(
    db: Session, estate: Estate, walk: Walk, people: Staff, make_device: object
) -> None:
    """R-REN-6: each entry and exit on a pass is logged; a pass altered after signing is refused."""
    record = walk("paid")
    desk = people.desk
    item = passes.issue(db, people.actor(desk), desk, record, passes.Worker("李师傅"), at("2026-11-05 09:00"))
    device, _token = make_device("gate", "东门")  # type: ignore[operator]
    passes.log_movement(db, SYSTEM, device, item.token, "in", "门岗甲", at("2026-11-05 09:10"))
    assert passes.inside(db, record) == 1
    passes.log_movement(db, SYSTEM, device, item.token, "out", "门岗甲", at("2026-11-05 18:10"))
    assert passes.inside(db, record) == 0
    assert [m.direction for m, _p in passes.movements(db, record)] == ["out", "in"]
    claims = worker_pass.decode(item.token).claims
    forged = worker_pass.PassClaims(**{**vars(claims), "valid_until": date(2027, 12, 31)})
    other = slip_token.Ed25519PrivateKey.generate()
    with pytest.raises(DomainError) as bad:
        passes.check(db, estate, worker_pass.encode(forged, other), at("2026-11-05 10:00"))
    assert bad.value.code == "bad_signature"


def test_r_ren_6_slip_tokens_are_not_passes(db: Session, estate: Estate, walk: Walk, people: Staff) -> None:
    """R-REN-6: a release slip's RS2 code never reads as a pass, nor a pass as a slip."""
    record = walk("paid")
    item = passes.issue(db, people.actor(people.desk), people.desk, record, passes.Worker("李"), at("2026-11-05 09:00"))
    with pytest.raises(slip_token.TokenError):
        slip_token.decode(item.token)
    assert worker_pass.is_pass(item.token) and not worker_pass.is_pass("RS2:ABC")


def test_r_ren_7_extension_moves_the_end_and_reissues_passes(
    db: Session, estate: Estate, walk: Walk, people: Staff
) -> None:
    """R-REN-7: extended to 15 December, the old pass is withdrawn and a new one valid to the new end replaces it;
    an extension that does not move the end later is refused."""
    record = walk("paid")
    desk = people.desk
    old = passes.issue(db, people.actor(desk), desk, record, passes.Worker("李师傅"), at("2026-11-05 09:00"))
    with pytest.raises(DomainError):
        records.extend(db, people.actor(desk), desk, record, date(2026, 11, 20), "", at("2026-11-20 09:00"))
    records.extend(db, people.actor(desk), desk, record, date(2026, 12, 15), "工期延长", at("2026-11-20 09:00"))
    db.commit()
    new = passes.active(db, record)
    assert len(new) == 1 and new[0].valid_until == date(2026, 12, 15) and new[0].worker_name == "李师傅"
    with pytest.raises(DomainError) as withdrawn:
        _scan(db, estate, old, "2026-11-21 09:00")
    assert withdrawn.value.code == "revoked"
    assert _scan(db, estate, new[0], "2026-12-10 09:00").id == new[0].id


def test_r_ren_8_9_acceptance_then_refund_due_10_working_days_later(
    db: Session, estate: Estate, walk: Walk, people: Staff
) -> None:
    """R-REN-8: acceptance applied for, inspection booked, accepted (the passes end). R-REN-9: accepted on Monday
    12 October 2026, the refund is due by the end of Monday 26 October (10 working days); late after that until
    finance records the payment."""
    record = walk("paid", received="2026-09-21 09:00", starts_on=date(2026, 9, 22), ends_on=date(2026, 10, 11))
    desk, eng, fin = people.desk, people.engineer, people.finance
    item = passes.issue(db, people.actor(desk), desk, record, passes.Worker("李师傅"), at("2026-09-22 09:00"))
    records.request_acceptance(db, people.actor(desk), desk, record, at("2026-10-09 09:00"))
    records.book_inspection(db, people.actor(eng), eng, record, at("2026-10-12 10:00"), at("2026-10-09 10:00"))
    records.accept(db, people.actor(eng), eng, record, "验收合格", at("2026-10-12 11:00"))
    assert record.refund_due_at == at("2026-10-26 23:59:59")
    assert item.withdrawn_at is not None
    assert not records.is_late(record, at("2026-10-26 20:00"))
    assert records.is_late(record, at("2026-10-27 09:00"))
    with pytest.raises(DomainError) as too_much:
        records.refund(db, people.actor(fin), fin, record, 300000, "TK-1", at("2026-10-27 09:00"))
    assert too_much.value.code == "bad_amount"
    records.refund(db, people.actor(fin), fin, record, 200000, "TK-1", at("2026-10-27 09:00"))
    assert record.state is RenovationState.refunded and not records.is_late(record, at("2026-12-01 00:00"))
