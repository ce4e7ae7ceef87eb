"""Vacant units' rules (R-VAC-1…6) with the clock fixed: the takeover inspection signed only with every failure
agreed with the developer, patrols routing findings, cleaning rounds, sales viewings through the key register, the
vacancy filter on units and the monthly statistics with the city's fee share."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import KeyLoan, LoanPurpose, OrderState, ServiceOrder, StepHistory
from server.db.models.lifecycle import DeveloperRepairState, Meter, TakeoverCategory, TakeoverState, Vacancy
from server.domain import registry
from server.domain.actors import SYSTEM
from server.domain.errors import DomainError
from server.domain.lifecycle import developer_repairs, meters, statistics, vacancy
from server.domain.lifecycle import move_in as desk
from server.domain.lifecycle.vacancy import Finding, ItemResult, TakeoverSigning
from tests.server.lifecycle.conftest import NOW, SIGNATURE, Desk, counts, take_over, walk

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
ALL_PASS = {c: ItemResult(True) for c in TakeoverCategory}


def test_r_vac_1_takeover_signed_only_with_failures_agreed(db: Session, world: Desk) -> None:
    """R-VAC-1: every item inspected; a failed item agreed with the developer before 《物业接管验收表》 is signed —
    signed with a failure not agreed is refused with a clear error and nothing changes; then the unit is vacant."""
    eng = world["engineering"]
    unit = world.household.unit
    form = vacancy.open_takeover(
        db, SYSTEM, world.estate, unit_id=unit.id, developer="海湾置业", developer_rep="陈经理", by=eng, now=NOW
    )
    db.commit()
    assert [i.category for i in form.items] == list(TakeoverCategory)
    signing = TakeoverSigning(SIGNATURE, SIGNATURE, water="8.5")
    with pytest.raises(DomainError) as early:
        vacancy.sign_takeover(db, SYSTEM, world.estate, form, signing, by=eng, now=NOW)
    assert early.value.code == "items_not_inspected"
    db.rollback()
    results = {**ALL_PASS, TakeoverCategory.bathroom: ItemResult(False, "卫生间地漏反水")}
    vacancy.record_items(db, SYSTEM, form, results, by=eng, now=NOW)
    db.commit()
    before = counts(db)
    with pytest.raises(DomainError) as unagreed:
        vacancy.sign_takeover(db, SYSTEM, world.estate, form, signing, by=eng, now=NOW)
    assert unagreed.value.code == "failures_not_agreed" and unagreed.value.detail["fields"] == ["bathroom"]
    assert "卫生间" in unagreed.value.zh and "developer" in unagreed.value.en
    db.rollback()
    assert counts(db) == before and form.state == TakeoverState.open
    with pytest.raises(DomainError) as by_desk:  # engineering's step
        vacancy.record_items(db, SYSTEM, form, results, by=world["front_desk"], now=NOW)
    assert by_desk.value.code == "forbidden"
    db.rollback()
    agreed = {**results, TakeoverCategory.bathroom: ItemResult(False, "卫生间地漏反水", "发展商 12 月 10 日前返修")}
    vacancy.record_items(db, SYSTEM, form, agreed, by=eng, now=NOW)
    vacancy.sign_takeover(db, SYSTEM, world.estate, form, signing, by=eng, now=NOW)
    db.commit()
    assert form.state == TakeoverState.signed and form.signed_at == NOW
    assert vacancy.vacancy_of(db, unit) is not None
    reading = meters.previous(db, unit, Meter.water)
    assert reading is not None and reading.reading_milli == 8500 and reading.source == "takeover"
    steps = db.scalars(select(StepHistory.transition).where(StepHistory.process == "takeover")).all()
    assert steps == ["open", "record", "record", "sign"]


def test_r_vac_2_patrol_warranty_to_developer_others_to_a_repair_order(db: Session, world: Desk) -> None:
    """R-VAC-2: a patrol's warranty defect is reported to the developer; another problem becomes a repair order to
    engineering; a unit that is not vacant is not patrolled as one."""
    unit = world.household.unit
    with pytest.raises(DomainError) as not_vacant:
        vacancy.patrol(db, SYSTEM, world.estate, unit, [], by=world["engineering"], now=NOW)
    assert not_vacant.value.code == "not_vacant"
    db.rollback()
    take_over(db, world, unit.id)
    findings = [
        Finding(TakeoverCategory.water, "厨房水管渗漏", warranty=True),
        Finding(TakeoverCategory.electrical, "阳台灯泡损坏", warranty=False),
    ]
    visit = vacancy.patrol(db, SYSTEM, world.estate, unit, findings, by=world["engineering"], now=NOW)
    db.commit()
    warranty, other = visit.findings
    assert warranty.developer_notified_at == NOW and warranty.repair_order_id is None
    order = db.get(ServiceOrder, other.repair_order_id)
    assert order is not None and order.state == OrderState.new and order.unit_id == unit.id
    assert order.category == "电气" and order.description == "阳台灯泡损坏" and order.number.startswith("GH-WX-")


def test_r_vac_3_cleaning_round_covers_the_checklist(db: Session, world: Desk) -> None:
    """R-VAC-3: a cleaning round covers ceilings, floors, walls and fittings, bathroom, windows and airing."""
    unit = world.household.unit
    take_over(db, world, unit.id)
    cleaner = world["environment"]
    with pytest.raises(DomainError) as partial:
        vacancy.clean(db, SYSTEM, world.estate, unit, ["floors", "windows"], by=cleaner, now=NOW)
    assert partial.value.code == "cleaning_incomplete" and "airing" in partial.value.detail["fields"]
    db.rollback()
    done = vacancy.clean(db, SYSTEM, world.estate, unit, list(vacancy.CLEANING), by=cleaner, now=NOW)
    assert done.parts.split(",") == list(vacancy.CLEANING)


def test_r_vac_4_sales_viewing_is_a_key_register_loan(db: Session, world: Desk) -> None:
    """R-VAC-4: a sales viewing of a vacant unit is a line of the key loan register: purpose sales viewing, the unit
    keeper accompanying, back within hours; a unit that is not vacant is refused."""
    unit = world.household.unit
    keeper, key = world["records_admin"], world.cabinet.key("5-8B 入户门")
    with pytest.raises(DomainError) as not_vacant:
        vacancy.lend_for_viewing(
            db, SYSTEM, world.estate, unit, key_id=key, keeper=keeper, visitor="售楼处 刘", by=keeper, now=NOW
        )
    assert not_vacant.value.code == "not_vacant"
    db.rollback()
    take_over(db, world, unit.id)
    loan = vacancy.lend_for_viewing(
        db, SYSTEM, world.estate, unit, key_id=key, keeper=keeper, visitor="售楼处 刘", by=keeper, now=NOW
    )
    db.commit()
    assert loan.purpose == LoanPurpose.sales_viewing and loan.accompanied_by_id == keeper.id
    assert loan.due_at == NOW + timedelta(hours=vacancy.VIEWING_HOURS)
    assert vacancy.viewings_of(db, unit) == [loan]
    assert db.scalar(select(KeyLoan.id).where(KeyLoan.key_id == key)) == loan.id


def test_r_vac_5_6_monthly_statistics_and_the_vacancy_filter(db: Session, world: Desk) -> None:
    """R-VAC-6: 《空置房统计表》 for a month — vacant on the 1st, taken over, moved in, vacant at the end, each unit's
    vacant days, patrols, cleaning rounds and viewings; R-VAC-5: the vacant days at the city's share of the fee.
    The units page filters vacant units."""
    estate = world.estate
    early_unit = registry.ensure_unit(db, SYSTEM, estate, "5-3A")
    take_over(db, world, early_unit.id, at=NOW - timedelta(days=40))  # 2026-10-21: vacant all November
    take_over(db, world, world.household.unit.id, at=NOW - timedelta(days=19))  # 2026-11-11
    vacancy.clean(db, SYSTEM, estate, early_unit, list(vacancy.CLEANING), by=world["environment"], now=NOW)
    vacancy.patrol(db, SYSTEM, estate, early_unit, [], by=world["engineering"], now=NOW - timedelta(days=35))
    record = walk(db, world, "inspect")  # 5-8B moves in on 30 November
    desk.issue_keys(
        db,
        SYSTEM,
        estate,
        record,
        desk.KeyIssue("YS-9", SIGNATURE, world.cabinet.key("5-8B 入户门"), "ZG-9"),
        by=world["front_desk"],
        now=NOW,
    )
    desk.file(db, SYSTEM, estate, record, done=list(desk.FILING), by=world["front_desk"], now=NOW)
    db.commit()
    november = statistics.month_statistics(db, estate, date(2026, 11, 1), fee_percent=70)
    lines = {line.unit: line for line in november.lines}
    assert (november.at_start, november.taken_over, november.moved_in, november.at_end) == (1, 1, 1, 1)
    assert lines["5-3A"].days == 30 and lines["5-3A"].fee_days == 21.0 and lines["5-3A"].cleanings == 1
    assert lines["5-3A"].patrols == 0  # its patrol was in October
    assert lines["5-8B"].days == 19 and lines["5-8B"].ends_on == date(2026, 11, 30)
    october = statistics.month_statistics(db, estate, date(2026, 10, 1), fee_percent=70)
    assert [(x.unit, x.days, x.patrols) for x in october.lines] == [("5-3A", 11, 1)]
    found = registry.search_units(db, estate, vacant=True)
    assert [u.code for u in found.items] == ["5-3A"]
    assert db.scalar(select(Vacancy.ends_on).where(Vacancy.unit_id == world.household.unit.id)) == NOW.date()
    with pytest.raises(DomainError) as bad:
        statistics.parse_month("2026-13", NOW.date())
    assert bad.value.code == "bad_month"


REPORTED = datetime(2026, 9, 28, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai, before the National Day holiday
DUE = datetime(2026, 10, 23, 15, 59, 59, tzinfo=UTC)  # 15 working days: Oct 1–7 off, Saturday Oct 10 worked


def test_r_vac_2_developer_repair_tracked_to_completion_on_working_days(db: Session, world: Desk) -> None:
    """R-VAC-2: a warranty defect found on a patrol is a developer repair, due 15 working days later on the
    working-day calendar (over the National Day holiday and its make-up Saturday); overdue only while it is the
    developer's turn; reported → acknowledged → repaired → reopened → repaired → verified, each step in its history.
    Verifying before the developer reports it repaired is a clear error and changes nothing."""
    estate, eng = world.estate, world["engineering"]
    unit = world.household.unit
    take_over(db, world, unit.id, at=REPORTED)
    finding = Finding(TakeoverCategory.water, "厨房水管渗漏", warranty=True)
    visit = vacancy.patrol(db, SYSTEM, estate, unit, [finding], by=eng, now=REPORTED)
    db.commit()
    [repair] = developer_repairs.of_unit(db, unit)
    assert (repair.state, repair.due_at, repair.developer) == (DeveloperRepairState.reported, DUE, "海湾置业")
    assert repair.patrol_finding_id == visit.findings[0].id and repair.number.startswith("GH-FX-")
    assert developer_repairs.register(db, estate, DUE - timedelta(minutes=1), show="overdue") == []
    [line] = developer_repairs.register(db, estate, DUE + timedelta(seconds=1), show="overdue")
    assert line.repair is repair and line.overdue and line.unit == "5-8B"

    late = DUE + timedelta(days=1)
    before = counts(db)
    with pytest.raises(DomainError) as early:
        developer_repairs.verify(db, SYSTEM, repair, by=eng, now=late)
    assert early.value.code == "not_repaired" and "验收" in early.value.zh and "verified" in early.value.en
    db.rollback()
    assert counts(db) == before and repair.state == DeveloperRepairState.reported and repair.verified_at is None
    with pytest.raises(DomainError) as skipped:  # the developer acknowledges first
        developer_repairs.mark_repaired(db, SYSTEM, repair, note="更换水管", by=eng, now=late)
    assert skipped.value.code == "wrong_state"
    db.rollback()
    with pytest.raises(DomainError) as desk_staff:
        developer_repairs.acknowledge(db, SYSTEM, repair, contact="陈经理", by=world["front_desk"], now=late)
    assert desk_staff.value.code == "forbidden"
    db.rollback()
    assert counts(db) == before

    developer_repairs.acknowledge(db, SYSTEM, repair, contact="陈经理", by=eng, now=late)
    assert developer_repairs.overdue(repair, late)  # still the developer's turn
    developer_repairs.mark_repaired(db, SYSTEM, repair, note="更换水管", by=eng, now=late)
    assert not developer_repairs.overdue(repair, late)
    assert developer_repairs.register(db, estate, late, show="overdue") == []
    developer_repairs.reopen(db, SYSTEM, repair, reason="仍有渗水", by=eng, now=late)
    assert repair.state == DeveloperRepairState.reopened and repair.reopened == 1 and repair.due_at > late
    developer_repairs.mark_repaired(db, SYSTEM, repair, note="重新更换接头", by=eng, now=late)
    developer_repairs.verify(db, SYSTEM, repair, by=eng, now=late)
    db.commit()
    assert repair.state == DeveloperRepairState.verified and repair.verified_at == late
    assert developer_repairs.register(db, estate, late) == []
    assert [x.repair for x in developer_repairs.register(db, estate, late, show="closed")] == [repair]
    steps = [h.transition for h in developer_repairs.history(db, repair)]
    assert steps == ["report", "acknowledge", "repair", "reopen", "repair", "verify"]


def test_r_vac_1_failures_agreed_at_takeover_go_to_the_developer(db: Session, world: Desk) -> None:
    """R-VAC-1: each failure agreed with the developer on the signed 《物业接管验收表》 is a developer repair of the
    unit, linked to its item, with the configured number of working days."""
    eng = world["engineering"]
    unit = world.household.unit
    form = vacancy.open_takeover(
        db, SYSTEM, world.estate, unit_id=unit.id, developer="海湾置业", developer_rep="陈经理", by=eng, now=REPORTED
    )
    failed = ItemResult(False, "卫生间地漏反水", "发展商返修")
    vacancy.record_items(db, SYSTEM, form, {**ALL_PASS, TakeoverCategory.bathroom: failed}, by=eng, now=REPORTED)
    signing = TakeoverSigning(SIGNATURE, SIGNATURE)
    vacancy.sign_takeover(db, SYSTEM, world.estate, form, signing, by=eng, now=REPORTED, repair_days=3)
    db.commit()
    [repair] = developer_repairs.of_unit(db, unit)
    item = next(i for i in form.items if i.category == TakeoverCategory.bathroom)
    assert repair.takeover_item_id == item.id and repair.category == TakeoverCategory.bathroom
    assert repair.description.startswith("卫生间地漏反水")
    assert repair.due_at == datetime(2026, 10, 8, 15, 59, 59, tzinfo=UTC)  # 29, 30 September, then 8 October
    with pytest.raises(DomainError) as bad_filter:
        developer_repairs.parse_show("late")
    assert bad_filter.value.code == "bad_filter"
