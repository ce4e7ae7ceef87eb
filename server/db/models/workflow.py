"""The machinery every process record shares (WORKFLOWS.md): the history of its steps, the counter its number comes
from, and the estate's own working-day exceptions its clocks are reckoned with."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, UTCDateTime, utcnow


class StepHistory(Base):
    """A step of a process record (a key loan, an intake …): which transition, from which state to which, by whom,
    from which device, with what note, when."""

    __tablename__ = "step_history"
    __table_args__ = (Index("ix_step_history_record", "process", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    process: Mapped[str] = mapped_column(String(30))
    record_id: Mapped[int] = mapped_column(Integer)
    transition: Mapped[str] = mapped_column(String(30))
    from_state: Mapped[str] = mapped_column(String(20), default="")
    to_state: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(80))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True)
    device_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RecordCounter(Base):
    """The last number used per estate, kind of record (WX for repair orders …) and period (a month, YYYYMM)."""

    __tablename__ = "record_counters"

    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class CalendarDay(Base):
    """An estate's own answer for one day, over the national schedule: closed for a typhoon, a local holiday, or a
    year's statutory holidays entered before the calendar library carries them."""

    __tablename__ = "calendar_days"

    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    name: Mapped[str] = mapped_column(String(40), default="")
    set_by: Mapped[str] = mapped_column(String(80), default="")
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SweepLease(Base):
    """Who runs a periodic sweep now: one server worker at a time holds a sweep's lease until `until`."""

    __tablename__ = "sweep_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(String(80))
    until: Mapped[datetime] = mapped_column(UTCDateTime)
