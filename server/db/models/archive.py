"""Front-desk operations: the archive room 《资料室》: files, loans, destruction requests, quarterly
completeness checks and access records (R-ARC)."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Enum, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import Base, UTCDateTime, utcnow
from server.db.models.staff import StaffUser


def _enum(kind: type[enum.StrEnum], length: int = 20) -> Enum:
    return Enum(kind, native_enum=False, length=length)


class FileClass(enum.StrEnum):
    owner = "owner"  # owner files, by unit
    contract = "contract"
    drawing = "drawing"  # engineering drawings
    finance = "finance"  # finance copies
    service = "service"  # service-desk forms
    other = "other"


class Confidentiality(enum.StrEnum):
    """Ordered from the least to the most restricted."""

    public = "public"
    internal = "internal"
    confidential = "confidential"
    secret = "secret"


class FileState(enum.StrEnum):
    held = "held"  # on its shelf
    retired = "retired"  # taken out of use, kept
    destroyed = "destroyed"  # destroyed after approval


class ArchiveFile(Base):
    """A file (or box) of the archive room: its class, number, title, shelf, retention and confidentiality."""

    __tablename__ = "archive_files"
    __table_args__ = (UniqueConstraint("estate_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    file_class: Mapped[FileClass] = mapped_column(_enum(FileClass))
    title: Mapped[str] = mapped_column(String(120))
    location: Mapped[str] = mapped_column(String(40), default="")  # the shelf
    filed_on: Mapped[date] = mapped_column(Date)
    retention_years: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None: permanent
    confidentiality: Mapped[Confidentiality] = mapped_column(_enum(Confidentiality))
    state: Mapped[FileState] = mapped_column(_enum(FileState), default=FileState.held)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ArchiveLoanState(enum.StrEnum):
    """requested (needs the CS centre's approval) → approved → out → returned; or out at once (a day or less, a
    staff member); refused / cancelled end a request."""

    requested = "requested"
    approved = "approved"
    refused = "refused"
    out = "out"
    returned = "returned"
    cancelled = "cancelled"


class ArchiveLoan(Base):
    """A loan of a file to a staff member or a named outside borrower, who acknowledged "no copying" and signed."""

    __tablename__ = "archive_loans"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("archive_files.id", ondelete="CASCADE"), index=True)
    state: Mapped[ArchiveLoanState] = mapped_column(_enum(ArchiveLoanState))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    borrower_name: Mapped[str] = mapped_column(String(60))
    outside: Mapped[bool] = mapped_column(Boolean, default=False)
    company: Mapped[str] = mapped_column(String(100), default="")
    purpose: Mapped[str] = mapped_column(String(200), default="")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    no_copying: Mapped[bool] = mapped_column(Boolean, default=False)
    borrower_signature: Mapped[str] = mapped_column(Text, default="")  # a PNG data URL from the pad
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    lent_by: Mapped[str] = mapped_column(String(80), default="")
    lent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    returned_late: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    file: Mapped[ArchiveFile] = relationship()


class DestructionState(enum.StrEnum):
    requested = "requested"
    approved = "approved"
    refused = "refused"
    destroyed = "destroyed"


class ArchiveDestruction(Base):
    """The destruction of an expired file: requested, approved by the department manager, destroyed."""

    __tablename__ = "archive_destructions"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("archive_files.id", ondelete="CASCADE"), index=True)
    state: Mapped[DestructionState] = mapped_column(_enum(DestructionState))
    reason: Mapped[str] = mapped_column(String(200), default="")
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    method: Mapped[str] = mapped_column(String(60), default="")
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    file: Mapped[ArchiveFile] = relationship()


class Finding(enum.StrEnum):
    present = "present"
    missing = "missing"
    damaged = "damaged"


class ArchiveCheck(Base):
    """The quarterly completeness check of a quarter (e.g. 2026-Q4), signed off by whoever did it."""

    __tablename__ = "archive_checks"
    __table_args__ = (UniqueConstraint("estate_id", "quarter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    quarter: Mapped[str] = mapped_column(String(7))
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signed_by: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(String(400), default="")

    findings: Mapped[list[ArchiveCheckFinding]] = relationship(back_populates="check", cascade="all, delete-orphan")


class ArchiveCheckFinding(Base):
    __tablename__ = "archive_check_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    check_id: Mapped[int] = mapped_column(ForeignKey("archive_checks.id", ondelete="CASCADE"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("archive_files.id", ondelete="CASCADE"))
    finding: Mapped[Finding] = mapped_column(_enum(Finding))
    note: Mapped[str] = mapped_column(String(200), default="")

    check: Mapped[ArchiveCheck] = relationship(back_populates="findings")
    file: Mapped[ArchiveFile] = relationship()


class ArchiveAccess(Base):
    """The access register: who entered the room, when and why, and the keyholder who accompanied a visitor."""

    __tablename__ = "archive_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    name: Mapped[str] = mapped_column(String(60))
    reason: Mapped[str] = mapped_column(String(200))
    accompanied_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(80))

    accompanied_by: Mapped[StaffUser | None] = relationship(foreign_keys=[accompanied_by_id])
