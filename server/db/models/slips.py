"""Item release slips (物品放行条): signing keys, the catalogue, slips and their lines, gate releases and events,
conflicts, idempotent device answers and the daily reconciliation (R-REL-1…8)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    Boolean,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from server.db.models.renovation import WorkerPass


class SigningKey(Base):
    """An Ed25519 key that signs slip tokens. Kept here so every server worker signs with the same key."""

    __tablename__ = "slip_signing_keys"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # the key id carried in tokens
    private_key: Mapped[str] = mapped_column(String(64))  # raw 32 bytes, hex
    public_key: Mapped[str] = mapped_column(String(64))  # raw 32 bytes, hex
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CatalogueItem(Base):
    """A common item of an estate's editable catalogue (sofa, bed, wardrobe …) with its short code."""

    __tablename__ = "slip_catalogue"
    __table_args__ = (UniqueConstraint("estate_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(16))
    name_en: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class SlipCounter(Base):
    """The last slip sequence used per estate and (estate-local) day."""

    __tablename__ = "slip_counters"

    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class ApplicantKind(enum.StrEnum):
    owner = "owner"
    tenant = "tenant"
    proxy = "proxy"


class SlipState(enum.StrEnum):
    issued = "issued"
    released = "released"
    refused = "refused"  # refused at the gate: items did not match
    cancelled = "cancelled"
    expired = "expired"


class ReleaseSlip(Base):
    """One release slip as recorded in the slip register 《物品放行条记录单》 (R-REL-4)."""

    __tablename__ = "release_slips"
    __table_args__ = (
        UniqueConstraint("estate_id", "day", "seq"),
        Index("ix_release_slips_estate_id_desc", "estate_id", "id"),
        Index("ix_release_slips_estate_day", "estate_id", "day", "id"),
        Index("ix_release_slips_estate_unit", "estate_id", "unit_code", "id"),
        Index("ix_release_slips_estate_state", "estate_id", "state", "id"),
        Index("ix_release_slips_estate_kind", "estate_id", "applicant_kind", "id"),
        Index("ix_release_slips_key_until", "key_id", "valid_until"),
        Index("ix_release_slips_pending", "estate_id", "countersign_pending"),
        Index("ix_release_slips_token", "token"),  # a gate finds the slip by the exact token it scanned
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"))
    number: Mapped[str] = mapped_column(String(24), unique=True)
    day: Mapped[date] = mapped_column(Date)  # issue day in the estate's zone
    seq: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    unit_code: Mapped[str] = mapped_column(String(16))
    applicant_kind: Mapped[ApplicantKind] = mapped_column(Enum(ApplicantKind, native_enum=False, length=10))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"), nullable=True)
    applicant_name: Mapped[str] = mapped_column(String(60))
    # R-REL-3: a proxy's details, the owner's phone confirmation and the countersign still owed.
    proxy_name: Mapped[str] = mapped_column(String(60), default="")
    proxy_phone: Mapped[str] = mapped_column(String(20), default="")
    confirmed_by: Mapped[str] = mapped_column(String(60), default="")
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    confirmation: Mapped[str] = mapped_column(String(200), default="")
    countersign_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    countersigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    countersigned_by: Mapped[str] = mapped_column(String(60), default="")
    planned_date: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    vehicle_plate: Mapped[str] = mapped_column(String(12), default="")
    note: Mapped[str] = mapped_column(String(200), default="")
    state: Mapped[SlipState] = mapped_column(Enum(SlipState, native_enum=False, length=10))
    channel: Mapped[str] = mapped_column(String(10))  # kiosk | console
    key_id: Mapped[int] = mapped_column(ForeignKey("slip_signing_keys.id"))
    token: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by: Mapped[str] = mapped_column(String(80))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"), nullable=True)
    reissue_of_id: Mapped[int | None] = mapped_column(ForeignKey("release_slips.id"), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reprints: Mapped[int] = mapped_column(Integer, default=0)
    # When the slip first came out of a printer (the kiosk's, or a front-desk printer); a later print is a reprint.
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    items: Mapped[list[SlipItem]] = relationship(order_by="SlipItem.line", cascade="all, delete-orphan")
    release: Mapped[SlipRelease | None] = relationship(back_populates="slip", uselist=False)


class SlipItem(Base):
    __tablename__ = "release_slip_items"
    __table_args__ = (UniqueConstraint("slip_id", "line"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slip_id: Mapped[int] = mapped_column(ForeignKey("release_slips.id", ondelete="CASCADE"))
    line: Mapped[int] = mapped_column(Integer)
    code: Mapped[str | None] = mapped_column(String(8), nullable=True)
    name: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[int] = mapped_column(Integer)
    counted: Mapped[int | None] = mapped_column(Integer, nullable=True)


class SlipAttachment(Base):
    """An image kept with a slip: the proxy's ID copy (R-REL-3) or a gate photo."""

    __tablename__ = "release_slip_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    slip_id: Mapped[int] = mapped_column(ForeignKey("release_slips.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(12))  # proxy_id | gate_photo
    media_type: Mapped[str] = mapped_column(String(40))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SlipRelease(Base):
    """The gate's one use of a slip, as in the gate release log 《物品放行登记》 (R-REL-6).

    `slip_id` is unique: the database itself refuses a second use, whichever gate or worker tries it.
    """

    __tablename__ = "slip_releases"
    __table_args__ = (
        Index("ix_slip_releases_estate_at", "estate_id", "at"),
        Index("ix_slip_releases_estate_outcome_at", "estate_id", "outcome", "at", "gate"),  # the charts (issue 21)
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slip_id: Mapped[int] = mapped_column(ForeignKey("release_slips.id", ondelete="CASCADE"), unique=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"), nullable=True)
    gate: Mapped[str] = mapped_column(String(60))
    guard: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[str] = mapped_column(String(10))  # released | refused
    reason: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # the release time the guard writes (offline: original)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    offline: Mapped[bool] = mapped_column(Boolean, default=False)

    slip: Mapped[ReleaseSlip] = relationship(back_populates="release")


class GateSyncEvent(Base):
    """An event a gate uploaded from its offline queue; one row per (device, nonce) so a retry records nothing."""

    __tablename__ = "gate_sync_events"
    __table_args__ = (UniqueConstraint("device_id", "nonce"), Index("ix_gate_sync_events_estate_at", "estate_id", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"))
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(10))
    number: Mapped[str] = mapped_column(String(24), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    result: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(30), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SlipConflict(Base):
    """A slip used twice, found when an offline gate synced: for the security captain to resolve (R-REL-6). A
    worker's pass used offline when it was no longer valid, or at an impossible time, is one too (`pass_id` set,
    `slip_id` empty; R-REN-6)."""

    __tablename__ = "slip_conflicts"
    __table_args__ = (Index("ix_slip_conflicts_estate_open", "estate_id", "resolved_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"))
    slip_id: Mapped[int | None] = mapped_column(
        ForeignKey("release_slips.id", ondelete="CASCADE"), index=True, nullable=True
    )
    pass_id: Mapped[int | None] = mapped_column(
        ForeignKey("worker_passes.id", ondelete="CASCADE"), index=True, nullable=True
    )
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"), nullable=True)
    # double_use | used_when_revoked | clock_suspect; for a pass: used_when_revoked | used_when_suspended |
    # used_when_ended | clock_suspect
    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # when the second use happened at the gate
    guard: Mapped[str] = mapped_column(String(40), default="")
    detail: Mapped[str] = mapped_column(String(200), default="")
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    resolved_by: Mapped[str] = mapped_column(String(60), default="")
    resolution: Mapped[str] = mapped_column(String(200), default="")

    slip: Mapped[ReleaseSlip | None] = relationship()
    worker_pass: Mapped[WorkerPass | None] = relationship()


class IdempotentAnswer(Base):
    """The answer given to a device write carrying an Idempotency-Key, returned again on a retry."""

    __tablename__ = "idempotent_answers"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    route: Mapped[str] = mapped_column(String(60))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    # sha256 of the request the answer was given to: the key is bound to it (server.domain.idempotency)
    request_hash: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Reconciliation(Base):
    """The daily slip reconciliation of the security captain and the CS admin, due by 17:30 (R-REL-7)."""

    __tablename__ = "slip_reconciliations"
    __table_args__ = (UniqueConstraint("estate_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    security_by: Mapped[str] = mapped_column(String(60), default="")
    security_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    records_by: Mapped[str] = mapped_column(String(60), default="")
    records_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    figures: Mapped[str] = mapped_column(Text, default="{}")  # the figures as each side signed them
    note: Mapped[str] = mapped_column(String(200), default="")


class GateStop(Base):
    """Goods a guard stopped at the gate with no slip at all, as entered in the gate release log 《物品放行登记》
    (R-REL-6): what was carried out, by whom as far as known, and why it was held."""

    __tablename__ = "gate_stops"
    __table_args__ = (Index("ix_gate_stops_estate_at", "estate_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"))
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="SET NULL"), nullable=True)
    gate: Mapped[str] = mapped_column(String(60))
    guard: Mapped[str] = mapped_column(String(40))
    goods: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    offline: Mapped[bool] = mapped_column(Boolean, default=False)
    photo: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
