"""Front-desk operations: the information log 《信息记录表》, shift handovers, log checks and the daily check
sheet 《客户服务中心工作日检表》 (R-DUTY-2…6, 8)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Enum, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, UTCDateTime, utcnow


def _enum(kind: type[enum.StrEnum], length: int = 20) -> Enum:
    return Enum(kind, native_enum=False, length=length)


class Urgency(enum.StrEnum):
    urgent = "urgent"
    normal = "normal"
    low = "low"


class LogState(enum.StrEnum):
    """open → routed → closed (R-DUTY-3)."""

    open = "open"
    routed = "routed"
    closed = "closed"


class LogEntry(Base):
    """A line of the information log 《信息记录表》 (R-DUTY-2, 3): what was reported, by whom, about which unit or
    place, how urgent, to whom it was passed, and whether it was escalated (hard → the CS supervisor, major → the
    office director); followed until closed. A repeated issue is flagged (R-DUTY-5)."""

    __tablename__ = "duty_log_entries"
    __table_args__ = (Index("ix_duty_log_entries_repeat", "estate_id", "category", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    urgency: Mapped[Urgency] = mapped_column(_enum(Urgency))
    category: Mapped[str] = mapped_column(String(40))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), nullable=True)
    place: Mapped[str] = mapped_column(String(60), default="")  # a place of the estate when there is no unit
    reporter: Mapped[str] = mapped_column(String(60), default="")
    summary: Mapped[str] = mapped_column(String(1000), default="")
    state: Mapped[LogState | None] = mapped_column(_enum(LogState), nullable=True)
    routed_role: Mapped[str] = mapped_column(String(20), default="")
    routed_to_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    escalation: Mapped[str] = mapped_column(String(10), default="")  # "", hard, major
    repeated: Mapped[bool] = mapped_column(Boolean, default=False)
    close_note: Mapped[str] = mapped_column(String(400), default="")
    phone_call_id: Mapped[int | None] = mapped_column(ForeignKey("phone_calls.id", ondelete="SET NULL"), nullable=True)
    written_by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))


class RepeatReport(Base):
    """The written report to the supervisor of an issue repeated from one unit or place (R-DUTY-5)."""

    __tablename__ = "duty_repeat_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("duty_log_entries.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(40))
    place: Mapped[str] = mapped_column(String(60), default="")
    count: Mapped[int] = mapped_column(Integer, default=0)
    asked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    text: Mapped[str] = mapped_column(Text, default="")
    written_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    written_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)


class Handover(Base):
    """A shift handover (R-DUTY-4): the outgoing person's results and open items; the incoming person acknowledges
    before working."""

    __tablename__ = "duty_handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    outgoing_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    incoming_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    results: Mapped[str] = mapped_column(Text, default="")
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class HandoverItem(Base):
    """An open item of a handover, with its owner; carried over to the next handover until done."""

    __tablename__ = "duty_handover_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(ForeignKey("duty_handovers.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(400))
    owner_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    carried_from_id: Mapped[int | None] = mapped_column(ForeignKey("duty_handover_items.id"), nullable=True)
    done: Mapped[bool] = mapped_column(Boolean, default=False)


class CheckKind(enum.StrEnum):
    daily = "daily"  # the supervisor's daily check of the log
    weekly = "weekly"  # the manager's spot check, at least weekly


class LogCheck(Base):
    """A check of the information log with its findings (R-DUTY-6)."""

    __tablename__ = "duty_log_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    kind: Mapped[CheckKind] = mapped_column(_enum(CheckKind))
    day: Mapped[date] = mapped_column(Date)  # the day of the log that was checked
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    findings: Mapped[str] = mapped_column(String(1000), default="")
    by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))


class DaySheet(Base):
    """A day of the daily check sheet 《客户服务中心工作日检表》 (R-DUTY-8)."""

    __tablename__ = "duty_day_sheets"
    __table_args__ = (UniqueConstraint("estate_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    temp_am: Mapped[float | None] = mapped_column(Float, nullable=True)
    temp_pm: Mapped[float | None] = mapped_column(Float, nullable=True)
    archive_temp: Mapped[float | None] = mapped_column(Float, nullable=True)  # the archive room's reading (R-ARC)
    doors_closed_am: Mapped[bool] = mapped_column(Boolean, default=False)
    doors_closed_pm: Mapped[bool] = mapped_column(Boolean, default=False)
    alarm: Mapped[bool] = mapped_column(Boolean, default=False)  # a reading above 26 °C
    lights_ok: Mapped[bool] = mapped_column(Boolean, default=False)  # lights on 8:30–18:00
    desks_tidy: Mapped[bool] = mapped_column(Boolean, default=False)
    racks_tidy: Mapped[bool] = mapped_column(Boolean, default=False)
    floors_tidy: Mapped[bool] = mapped_column(Boolean, default=False)
    no_smoking: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class DaySheetDefect(Base):
    """A defect found on the daily check, with its fix."""

    __tablename__ = "duty_day_sheet_defects"

    id: Mapped[int] = mapped_column(primary_key=True)
    sheet_id: Mapped[int] = mapped_column(ForeignKey("duty_day_sheets.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(String(400))
    fix: Mapped[str] = mapped_column(String(400), default="")
