"""Front-desk operations: the duty roster 《排班表》, shifts, leave and swap requests, sign-ins (R-DUTY-1, 7).

The shift pattern is data (`ShiftPattern`: early 08:00–15:30, late 15:30–23:00 by default); a `Shift` is one
person's assignment to one pattern on one day, with its start and end as instants and the person's sign-in and
sign-out. A `DutyRequest` (leave or swap) moves through the process `server.domain.duty.requests.DUTY_REQUEST`."""

from __future__ import annotations

import enum
from datetime import date, datetime, time

from sqlalchemy import Boolean, Date, Enum, ForeignKey, Integer, String, Text, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.db.base import Base, UTCDateTime, utcnow


def _enum(kind: type[enum.StrEnum], length: int = 20) -> Enum:
    return Enum(kind, native_enum=False, length=length)


class ShiftPattern(Base):
    """A shift of the front desk's duty day (R-DUTY-1: 8:00–23:00), on the estate's wall clock."""

    __tablename__ = "shift_patterns"
    __table_args__ = (UniqueConstraint("estate_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name_zh: Mapped[str] = mapped_column(String(20))
    name_en: Mapped[str] = mapped_column(String(30), default="")
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)
    sort: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Shift(Base):
    """One assignment of the roster: `staff_id` on `pattern_id` on `day` (no one: the shift is uncovered, after an
    approved leave, until the supervisor assigns a cover). Lateness is recorded at sign-in, absence once the shift
    ended without one; `relief_alerted_at` once the supervisor was alerted that its relief did not arrive."""

    __tablename__ = "shifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    pattern_id: Mapped[int] = mapped_column(ForeignKey("shift_patterns.id", ondelete="RESTRICT"))
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True, index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signed_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    signed_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    late_minutes: Mapped[int] = mapped_column(Integer, default=0)
    absent: Mapped[bool] = mapped_column(Boolean, default=False)
    relief_alerted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    updated_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RequestKind(enum.StrEnum):
    leave = "leave"  # 请假
    swap = "swap"  # 调班: a named colleague takes the shift (and gives theirs, when named)


class RequestState(enum.StrEnum):
    asked = "asked"
    approved = "approved"
    refused = "refused"
    withdrawn = "withdrawn"


class DutyRequest(Base):
    """A leave or swap request, asked at least a day ahead and decided by the supervisor (R-DUTY-7)."""

    __tablename__ = "duty_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    kind: Mapped[RequestKind] = mapped_column(_enum(RequestKind))
    state: Mapped[RequestState | None] = mapped_column(_enum(RequestState), nullable=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id", ondelete="CASCADE"), index=True)
    requester_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    colleague_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True)
    colleague_shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id", ondelete="SET NULL"), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id", ondelete="SET NULL"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
