"""Renovation (二次装修, DOMAIN.md R-REN): the owner's application with its approval, agreement, fees and deposit,
extensions, completion acceptance and deposit refund; the temporary passes of its workers (装修工人临时出入证) and
every entry and exit of a worker at the gate. Each application's steps go through `workflow.step`, so its history
is in `step_history`; the step that starts a clock stores its due time in `due_at`."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import Base, UTCDateTime, utcnow
from server.db.models.registry import Unit


class RenovationState(enum.StrEnum):
    """received → approved | rejected → notified → agreed → paid (works; passes issued) ⇄ suspended →
    acceptance_requested → inspection_booked → accepted → refunded."""

    received = "received"  # the CS centre received the application (R-REN-1); engineering's clock runs (R-REN-2)
    approved = "approved"
    rejected = "rejected"
    notified = "notified"  # the owner was told the outcome (R-REN-3)
    agreed = "agreed"  # the renovation agreement is signed (R-REN-4)
    paid = "paid"  # fees and deposit paid to finance (R-REN-5): works may start, passes may be issued
    suspended = "suspended"  # works stopped by the estate: every worker pass is refused at the gate (R-REN-6)
    acceptance_requested = "acceptance_requested"  # the owner applied for completion acceptance (R-REN-8)
    inspection_booked = "inspection_booked"
    accepted = "accepted"  # engineering accepted the works; the refund clock runs (R-REN-9)
    refunded = "refunded"  # finance paid the deposit back


class Renovation(Base):
    """A renovation application and its record 《装修申请表》 (R-REN)."""

    __tablename__ = "renovations"
    __table_args__ = (
        UniqueConstraint("estate_id", "number"),
        Index("ix_renovations_board", "estate_id", "state", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(32))  # GH-ZX-202611-0001
    state: Mapped[RenovationState] = mapped_column(Enum(RenovationState, native_enum=False, length=24))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    owner_name: Mapped[str] = mapped_column(String(40))
    owner_phone: Mapped[str] = mapped_column(String(20), default="")
    contractor: Mapped[str] = mapped_column(String(60), default="")  # the decoration company
    scope: Mapped[str] = mapped_column(String(400), default="")  # what is to be done
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)  # moved by extensions (R-REN-7)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # the running step's deadline
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    decision_note: Mapped[str] = mapped_column(String(400), default="")  # engineering's conditions or reasons
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    owner_signature: Mapped[str] = mapped_column(Text, default="")  # the agreement, signed on the pad (PNG data URL)
    agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    fee_fen: Mapped[int] = mapped_column(Integer, default=0)  # management fee for the works
    deposit_fen: Mapped[int] = mapped_column(Integer, default=0)
    receipt_no: Mapped[str] = mapped_column(String(40), default="")  # finance's receipt
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    suspend_reason: Mapped[str] = mapped_column(String(200), default="")
    inspection_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acceptance_note: Mapped[str] = mapped_column(String(400), default="")
    refund_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    refund_fen: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the deposit less any deduction
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    refund_reference: Mapped[str] = mapped_column(String(40), default="")
    created_by: Mapped[str] = mapped_column(String(80), default="")

    unit: Mapped[Unit] = relationship()
    passes: Mapped[list[WorkerPass]] = relationship(back_populates="renovation", order_by="WorkerPass.id")


class WorkerPass(Base):
    """A worker's temporary pass 《装修工人临时出入证》 (R-REN-6): printed with a signed QR code (``WP1:``), valid
    from the day it is issued to the renovation's end; withdrawn passes stay for the record."""

    __tablename__ = "worker_passes"
    __table_args__ = (UniqueConstraint("estate_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    renovation_id: Mapped[int] = mapped_column(ForeignKey("renovations.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(32))  # GH-P-20261125-0001
    worker_name: Mapped[str] = mapped_column(String(40))
    company: Mapped[str] = mapped_column(String(60), default="")
    id_tail: Mapped[str] = mapped_column(String(8), default="")  # the last digits of the worker's ID card
    photo: Mapped[str] = mapped_column(Text, default="")  # a data URL (JPEG or PNG)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date)  # the renovation's end when issued (extensions re-issue)
    token: Mapped[str] = mapped_column(String(400))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(80), default="")
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    renovation: Mapped[Renovation] = relationship(back_populates="passes")


class PassMovement(Base):
    """A worker coming in or going out at a gate on a pass (R-REN-6), or a pass turned away there."""

    __tablename__ = "pass_movements"
    __table_args__ = (Index("ix_pass_movements_pass", "pass_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    pass_id: Mapped[int] = mapped_column(ForeignKey("worker_passes.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(8))  # in | out
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"), nullable=True)
    guard: Mapped[str] = mapped_column(String(40), default="")
    # recorded while the gate was offline and uploaded later, judged at `at` (R-REN-6); a movement at a time the
    # pass was not valid there is also a conflict for the security captain
    offline: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
