"""The daily check sheet 《客户服务中心工作日检表》 (R-DUTY-8): one sheet a day. In the air-conditioning season the
room's temperature is entered twice a day (morning and afternoon); a reading above 26 °C raises the alarm — the
air-conditioning runs, and "doors closed while it runs" must be ticked. Lights on 8:30–18:00, desks, racks and floors
tidy, no smoking are ticked; defects are recorded with their fix; the manager signs the day off (`daysheet.sign`).
A reading outside what a room can physically be is refused and nothing changes."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Estate, StaffUser
from server.db.models.dutylog import DaySheet, DaySheetDefect
from server.domain import audit, clock
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, NotFound

ALARM_ABOVE = 26.0  # °C: the air-conditioning runs above this (R-DUTY-8)
PHYSICAL = (-30.0, 60.0)  # a reading outside this range is a typing mistake


def season_months(text: str) -> frozenset[int]:
    """The months named by a setting such as "5-10" (May to October), "6,7,8" or "11-2" (across the new year)."""
    months: set[int] = set()
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        start = int(first)
        end = int(last) if last else start
        months.update(((start - 1 + i) % 12) + 1 for i in range((end - start) % 12 + 1))
    return frozenset(months)


AC_SEASON = season_months("5-10")  # the default season (Settings.ac_season_months)
TICKS = ("lights_ok", "desks_tidy", "racks_tidy", "floors_tidy", "no_smoking")
SLOTS = ("am", "pm")


@dataclass(frozen=True)
class Entry:
    """What the desk enters: a temperature per slot (None: not read yet), the doors tick per slot, the ticks."""

    temp_am: float | None = None
    temp_pm: float | None = None
    archive_temp: float | None = None  # the archive room, read once a day (R-ARC: air-conditioned above 26 °C)
    doors_closed_am: bool = False
    doors_closed_pm: bool = False
    ticks: Collection[str] = ()


def parse_temperature(text: str, field: str) -> float | None:
    value = text.strip().replace("℃", "").replace("°C", "").strip()
    if not value:
        return None
    try:
        reading = float(value)
    except ValueError:
        raise DomainError("温度须为数字", "the temperature must be a number", code="bad_temperature",
                          fields=[field]) from None  # fmt: skip
    return reading


def _check_reading(reading: float | None, field: str) -> None:
    if reading is None:
        return
    low, high = PHYSICAL
    if not low <= reading <= high or reading != reading:  # NaN is refused as well
        raise DomainError(
            f"温度 {reading} ℃ 不在 {low:g}–{high:g} ℃ 之间，请核对",
            f"{reading} °C is outside {low:g}–{high:g} °C: check it",
            code="temperature_out_of_range", fields=[field],
        )  # fmt: skip


def sheet_for(session: Session, estate: Estate, day: date) -> DaySheet | None:
    return session.scalar(select(DaySheet).where(DaySheet.estate_id == estate.id, DaySheet.day == day))


def get(session: Session, estate: Estate, sheet_id: int) -> DaySheet:
    sheet = session.get(DaySheet, sheet_id)
    if sheet is None or sheet.estate_id != estate.id:
        raise NotFound("没有这张日检表", "no such daily check sheet", code="daysheet_not_found")
    return sheet


def _open_sheet(session: Session, estate: Estate, day: date, at: datetime) -> DaySheet:
    sheet = sheet_for(session, estate, day)
    if sheet is None:
        sheet = DaySheet(estate_id=estate.id, day=day, updated_at=at)
        session.add(sheet)
        session.flush()
    if sheet.signed_at is not None:
        raise Conflict("日检表已签核，不能再改", "the sheet is signed off: it cannot change", code="signed")
    return sheet


def record(
    session: Session, actor: Actor, estate: Estate, day: date, entry: Entry, at: datetime, *, by: StaffUser
) -> DaySheet:
    """Enter the day's readings and ticks. A reading outside the physical range is refused before anything
    changes."""
    _check_reading(entry.temp_am, "temp_am")
    _check_reading(entry.temp_pm, "temp_pm")
    _check_reading(entry.archive_temp, "archive_temp")
    unknown = set(entry.ticks) - set(TICKS)
    if unknown:
        raise DomainError("未知的检查项", "unknown check item", code="bad_tick", fields=sorted(unknown))
    if day > clock.local_day(estate, at):
        raise DomainError("不能填写未来的日检表", "a future day cannot be recorded", code="future_day", fields=["day"])
    sheet = _open_sheet(session, estate, day, at)
    if entry.temp_am is not None:
        sheet.temp_am = entry.temp_am
    if entry.temp_pm is not None:
        sheet.temp_pm = entry.temp_pm
    if entry.archive_temp is not None:
        sheet.archive_temp = entry.archive_temp
    sheet.doors_closed_am, sheet.doors_closed_pm = entry.doors_closed_am, entry.doors_closed_pm
    for tick in TICKS:
        setattr(sheet, tick, tick in entry.ticks)
    readings = (sheet.temp_am, sheet.temp_pm, sheet.archive_temp)
    sheet.alarm = any(t is not None and t > ALARM_ABOVE for t in readings)
    sheet.recorded_by_id, sheet.updated_at = by.id, at
    audit.record(
        session, actor, "daysheet.recorded", "daysheet", sheet.id, estate_id=estate.id, day=day.isoformat(),
        temp_am=sheet.temp_am, temp_pm=sheet.temp_pm, archive_temp=sheet.archive_temp, alarm=sheet.alarm,
    )  # fmt: skip
    return sheet


def add_defect(
    session: Session, actor: Actor, estate: Estate, day: date, text: str, fix: str, at: datetime, *, by: StaffUser
) -> DaySheetDefect:
    body = text.strip()
    if not body:
        raise DomainError("请填写问题", "describe the defect", code="missing_fields", fields=["text"])
    if len(body) > 400 or len(fix) > 400:
        raise DomainError("内容过长", "too long", code="too_long", fields=["text"])
    sheet = _open_sheet(session, estate, day, at)
    row = DaySheetDefect(sheet_id=sheet.id, text=body, fix=fix.strip())
    session.add(row)
    session.flush()
    audit.record(session, actor, "daysheet.defect", "daysheet", sheet.id, estate_id=estate.id, defect=row.id)
    return row


def defects(session: Session, sheet: DaySheet) -> list[DaySheetDefect]:
    return list(
        session.scalars(select(DaySheetDefect).where(DaySheetDefect.sheet_id == sheet.id).order_by(DaySheetDefect.id))
    )


def problems(sheet: DaySheet, season: Collection[int] = AC_SEASON) -> list[str]:
    """What the sheet still lacks or flags: keys of the locale (dutylog.problem.*)."""
    found: list[str] = []
    if sheet.day.month in season:
        for slot in SLOTS:
            if getattr(sheet, f"temp_{slot}") is None:
                found.append(f"temp_{slot}_missing")
    for slot in SLOTS:
        reading = getattr(sheet, f"temp_{slot}")
        if reading is not None and reading > ALARM_ABOVE and not getattr(sheet, f"doors_closed_{slot}"):
            found.append(f"doors_{slot}")
    if sheet.day.month in season and sheet.archive_temp is None:
        found.append("archive_temp_missing")
    if sheet.archive_temp is not None and sheet.archive_temp > ALARM_ABOVE:
        found.append("archive_hot")
    if sheet.alarm:
        found.append("alarm")
    found.extend(f"tick_{t}" for t in TICKS if not getattr(sheet, t))
    return found


def sign(session: Session, actor: Actor, estate: Estate, day: date, at: datetime, *, by: StaffUser) -> DaySheet:
    """R-DUTY-8: the manager's daily sign-off."""
    sheet = sheet_for(session, estate, day)
    if sheet is None:
        raise NotFound("当天还没有日检表", "no sheet for that day yet", code="daysheet_not_found")
    if sheet.signed_at is not None:
        raise Conflict("日检表已签核", "the sheet is already signed off", code="signed")
    sheet.signed_by_id, sheet.signed_at = by.id, at
    audit.record(session, actor, "daysheet.signed", "daysheet", sheet.id, estate_id=estate.id, day=day.isoformat())
    return sheet


def month(session: Session, estate: Estate, first: date, last: date) -> list[DaySheet]:
    return list(
        session.scalars(
            select(DaySheet)
            .where(DaySheet.estate_id == estate.id, DaySheet.day >= first, DaySheet.day <= last)
            .order_by(DaySheet.day)
        )
    )
