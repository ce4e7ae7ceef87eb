"""The information log, handovers, log checks and the daily check sheet (R-DUTY-2…6, 8, R-PHONE), clock
controlled."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import AuditEntry, CallTopic, Estate, Role, StaffUser
from server.db.models.dutylog import DaySheet, Handover, HandoverItem, LogEntry, LogState, RepeatReport
from server.domain.actors import SYSTEM
from server.domain.duty import checks, daysheet, handover, log
from server.domain.duty.log import EntryIn
from server.domain.errors import Conflict, DomainError
from server.domain.service import phone
from tests.conftest import Household

NOW = datetime(2026, 7, 15, 2, 0, tzinfo=UTC)  # 10:00 in the estate, in the air-conditioning season


def _count(db: Session, model: type) -> int:
    return int(db.scalar(select(func.count()).select_from(model)) or 0)


def _entry(db: Session, estate: Estate, desk: StaffUser, at: datetime = NOW, **kw: str) -> LogEntry:
    data = {"urgency": "normal", "category": "noise", "summary": "楼上噪音", "reporter": "王先生"} | kw
    return log.write(db, SYSTEM, estate, EntryIn(**data), at, by=desk)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_R_DUTY_2_3_an_entry_is_routed_escalated_and_closed(
    db: Session, estate: Estate, household: Household, make_user: Callable[..., StaffUser]
) -> None:
    desk = make_user(Role.front_desk)
    engineer = make_user(Role.engineering)
    supervisor = make_user(Role.cs_manager)
    director = make_user(Role.general_manager)
    entry = _entry(db, estate, desk, urgency="urgent", unit="5-8B")
    assert entry.state == LogState.open and entry.unit_id == household.unit.id
    log.route(db, SYSTEM, estate, entry, NOW, by=desk, role="engineering", note="漏水")
    assert entry.state == LogState.routed and entry.routed_role == "engineering"
    assert [e.id for e in log.entries(db, estate, log.LogFilter(mine=engineer))] == [entry.id]
    log.route(db, SYSTEM, estate, entry, NOW, by=desk, staff_id=engineer.id)
    assert entry.routed_to_id == engineer.id and entry.routed_role == ""
    log.escalate(db, SYSTEM, estate, entry, "hard", NOW, by=desk)
    assert [e.id for e in log.entries(db, estate, log.LogFilter(mine=supervisor))] == [entry.id]
    other = _entry(db, estate, desk, category="flood")
    log.escalate(db, SYSTEM, estate, other, "major", NOW, by=desk)
    assert [e.id for e in log.entries(db, estate, log.LogFilter(mine=director))] == [other.id]
    assert db.scalar(select(func.count()).where(AuditEntry.action == "log_entry.escalate")) == 2
    log.close(db, SYSTEM, estate, entry, "已修好", NOW, by=desk)
    assert entry.state == LogState.closed
    with pytest.raises(Conflict):
        log.close(db, SYSTEM, estate, entry, "again", NOW, by=desk)
    low = _entry(db, estate, desk, urgency="low", category="parcel")
    listed = log.entries(db, estate, log.LogFilter())
    assert listed[0].urgency.value == "urgent" and listed[-1].id == low.id


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_R_DUTY_3_an_entry_routed_to_a_role_that_does_not_exist_is_refused(
    db: Session, estate: Estate, make_user: Callable[..., StaffUser]
) -> None:
    desk = make_user(Role.front_desk)
    entry = _entry(db, estate, desk)
    db.commit()
    before = _count(db, AuditEntry)
    for role in ("plumber", "finance"):  # not a role at all; a role nobody in the estate holds
        with pytest.raises(DomainError) as refused:
            log.route(db, SYSTEM, estate, entry, NOW, by=desk, role=role)
        assert refused.value.code == "unknown_role"
    db.rollback()
    assert entry.state == LogState.open and entry.routed_role == "" and _count(db, AuditEntry) == before
    with pytest.raises(DomainError) as refused:
        log.write(db, SYSTEM, estate, EntryIn("urgent", "x", "y", unit="99-99Z"), NOW, by=desk)
    assert refused.value.code == "unit_not_found"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_R_DUTY_4_the_incoming_person_acknowledges_before_working_and_items_carry_over(
    db: Session, estate: Estate, make_user: Callable[..., StaffUser]
) -> None:
    out, inc, third = make_user(Role.front_desk), make_user(Role.front_desk), make_user(Role.front_desk)
    engineer = make_user(Role.engineering)
    first = handover.hand_over(
        db, SYSTEM, estate, NOW, by=out, incoming_id=inc.id, results="三件已办结",
        items=[handover.OpenItem("3-2A 漏水待工程回复", engineer.id)],
    )  # fmt: skip
    db.commit()
    entries_before = _count(db, LogEntry)
    with pytest.raises(Conflict) as refused:
        _entry(db, estate, inc)
    assert refused.value.code == "handover_not_acknowledged" and "先确认交接" in refused.value.zh
    db.rollback()
    assert _count(db, LogEntry) == entries_before
    with pytest.raises(DomainError):
        handover.acknowledge(db, SYSTEM, estate, first.id, NOW, by=third)  # only the incoming person
    handover.acknowledge(db, SYSTEM, estate, first.id, NOW + timedelta(minutes=5), by=inc)
    _entry(db, estate, inc)  # now they work
    second = handover.hand_over(db, SYSTEM, estate, NOW + timedelta(hours=8), by=inc, incoming_id=third.id,
                                results="交班")  # fmt: skip
    carried = handover.items_of(db, second)
    assert [(i.text, i.owner_id) for i in carried] == [("3-2A 漏水待工程回复", engineer.id)]
    assert carried[0].carried_from_id is not None
    handover.acknowledge(db, SYSTEM, estate, second.id, NOW + timedelta(hours=8), by=third)
    third_one = handover.hand_over(db, SYSTEM, estate, NOW + timedelta(hours=16), by=third, incoming_id=out.id,
                                   results="x", done_ids=[carried[0].id])  # fmt: skip
    assert handover.items_of(db, third_one) == []
    assert _count(db, Handover) == 3 and _count(db, HandoverItem) == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_R_DUTY_5_the_third_issue_of_a_kind_from_one_unit_in_30_days_asks_for_the_report(
    db: Session, estate: Estate, household: Household, make_user: Callable[..., StaffUser]
) -> None:
    desk = make_user(Role.front_desk)
    old = _entry(db, estate, desk, at=NOW - timedelta(days=40), unit="5-8B")  # outside the 30 days
    a = _entry(db, estate, desk, at=NOW - timedelta(days=20), unit="5-8B")
    b = _entry(db, estate, desk, at=NOW - timedelta(days=2), unit="5-8B")
    other = _entry(db, estate, desk, unit="5-8B", category="parking")
    assert not any(e.repeated for e in (old, a, b, other)) and log.open_reports(db, estate) == []
    third = _entry(db, estate, desk, unit="5-8B")
    assert third.repeated
    (report,) = log.open_reports(db, estate)
    assert (report.category, report.place, report.count, report.entry_id) == ("noise", "5-8B", 3, third.id)
    assert report.due_at == NOW + log.REPORT_DUE
    fourth = _entry(db, estate, desk, at=NOW + timedelta(hours=1), unit="5-8B")
    assert fourth.repeated and _count(db, RepeatReport) == 1  # one report asked for the issue
    _entry(db, estate, desk, place="地下车库")
    _entry(db, estate, desk, place="地下车库")
    assert _entry(db, estate, desk, place="地下车库").repeated  # a place counts as a unit does
    log.write_report(db, SYSTEM, estate, report.id, "5-8B 多次反映噪音，已约谈楼上住户", NOW, by=desk)
    assert [r.place for r in log.open_reports(db, estate)] == ["地下车库"]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_R_DUTY_6_missing_checks_are_flagged(db: Session, estate: Estate, make_user: Callable[..., StaffUser]) -> None:
    supervisor = make_user(Role.cs_manager)
    missing = checks.missing(db, estate, NOW)
    assert missing.daily == date(2026, 7, 14) and missing.weekly
    checks.record(db, SYSTEM, estate, "daily", date(2026, 7, 14), "记录完整", NOW, by=supervisor)
    checks.record(db, SYSTEM, estate, "weekly", date(2026, 7, 8), "抽查三条，无误", NOW - timedelta(days=6),
                  by=supervisor)  # fmt: skip
    assert checks.missing(db, estate, NOW) == checks.Missing(daily=None, weekly=False)
    later = checks.missing(db, estate, NOW + timedelta(days=2))
    assert later.daily == date(2026, 7, 16) and later.weekly
    with pytest.raises(DomainError) as refused:
        checks.record(db, SYSTEM, estate, "daily", date(2026, 7, 14), "  ", NOW, by=supervisor)
    assert refused.value.code == "missing_fields"


@pytest.mark.parametrize("database_url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
                         indirect=True)  # fmt: skip
def test_R_DUTY_8_a_temperature_of_27_raises_the_alarm_and_300_is_refused(
    db: Session, estate: Estate, make_user: Callable[..., StaffUser]
) -> None:
    desk, manager = make_user(Role.front_desk), make_user(Role.cs_manager)
    day = date(2026, 7, 15)
    sheet = daysheet.record(db, SYSTEM, estate, day, daysheet.Entry(temp_am=27.0), NOW, by=desk)
    assert sheet.alarm
    assert {"alarm", "doors_am", "temp_pm_missing"} <= set(daysheet.problems(sheet))
    db.commit()
    audits = _count(db, AuditEntry)
    for bad in (300.0, -31.0, float("nan")):
        with pytest.raises(DomainError) as refused:
            daysheet.record(db, SYSTEM, estate, day, daysheet.Entry(temp_pm=bad, ticks=["no_smoking"]), NOW, by=desk)
        assert refused.value.code == "temperature_out_of_range"
        db.rollback()
    db.expire_all()
    sheet = daysheet.sheet_for(db, estate, day)
    assert sheet is not None and sheet.temp_pm is None and not sheet.no_smoking and _count(db, AuditEntry) == audits
    sheet = daysheet.record(
        db, SYSTEM, estate, day,
        daysheet.Entry(temp_pm=24.5, archive_temp=22.0, doors_closed_am=True, ticks=daysheet.TICKS), NOW, by=desk,
    )  # fmt: skip
    assert sheet.alarm and daysheet.problems(sheet) == ["alarm"]
    daysheet.add_defect(db, SYSTEM, estate, day, "灯管闪烁", "已更换", NOW, by=desk)
    daysheet.sign(db, SYSTEM, estate, day, NOW, by=manager)
    with pytest.raises(Conflict):
        daysheet.record(db, SYSTEM, estate, day, daysheet.Entry(temp_pm=20.0), NOW, by=desk)
    winter = daysheet.record(db, SYSTEM, estate, date(2026, 1, 5), daysheet.Entry(ticks=daysheet.TICKS), NOW,
                             by=desk)  # fmt: skip
    assert daysheet.problems(winter) == []  # out of season: no readings required
    in_season = daysheet.problems(winter, daysheet.season_months("11-2"))
    assert in_season == ["temp_am_missing", "temp_pm_missing", "archive_temp_missing"]
    assert daysheet.season_months("5-10") == frozenset(range(5, 11))
    assert daysheet.season_months("6,8") == {6, 8}
    assert _count(db, DaySheet) == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_R_PHONE_a_call_becomes_a_log_entry_and_calls_are_counted_per_day(
    db: Session, estate: Estate, household: Household, make_user: Callable[..., StaffUser]
) -> None:
    desk = make_user(Role.front_desk)
    script = phone.Call(
        room="5-8B", surname="王", phone="13800000001", topic=CallTopic.enquiry, summary="询问停水时间",
        read_back=True, handling="查询后回电", anything_else_asked=True, outcome="callback_promised",
    )  # fmt: skip
    call = phone.log_call(db, SYSTEM, estate, script, NOW, by=desk)
    phone.log_call(db, SYSTEM, estate, script, NOW + timedelta(days=1), by=desk)
    entry = log.from_call(db, SYSTEM, estate, call, EntryIn("normal", "", ""), NOW, by=desk)
    assert (entry.phone_call_id, entry.summary, entry.unit_id) == (call.id, "询问停水时间", household.unit.id)
    with pytest.raises(DomainError) as refused:
        log.from_call(db, SYSTEM, estate, call, EntryIn("normal", "", ""), NOW, by=desk)
    assert refused.value.code == "already_logged"
    assert log.calls_per_day(db, estate, date(2026, 7, 14), date(2026, 7, 16)) == [
        (date(2026, 7, 14), 0), (date(2026, 7, 15), 1), (date(2026, 7, 16), 1),
    ]  # fmt: skip


def test_R_ARC_the_archive_rooms_temperature_is_on_the_daily_sheet_and_above_26_raises_the_alarm(
    db: Session, estate: Estate, make_user: Callable[..., StaffUser]
) -> None:
    """R-ARC: the archive room is air-conditioned above 26 °C; its reading is kept on the daily check sheet, asked
    for in the season, and one out of the physical range is refused."""
    desk = make_user(Role.front_desk)
    day = date(2026, 7, 14)
    sheet = daysheet.record(db, SYSTEM, estate, day, daysheet.Entry(temp_am=24.0, doors_closed_am=True), NOW, by=desk)
    assert "archive_temp_missing" in daysheet.problems(sheet) and not sheet.alarm
    sheet = daysheet.record(db, SYSTEM, estate, day, daysheet.Entry(archive_temp=27.5), NOW, by=desk)
    assert sheet.alarm and {"archive_hot", "alarm"} <= set(daysheet.problems(sheet))
    db.commit()
    with pytest.raises(DomainError) as refused:
        daysheet.record(db, SYSTEM, estate, day, daysheet.Entry(archive_temp=300.0), NOW, by=desk)
    assert refused.value.code == "temperature_out_of_range"
    db.rollback()
    db.expire_all()
    kept = daysheet.sheet_for(db, estate, day)
    assert kept is not None and kept.archive_temp == 27.5
