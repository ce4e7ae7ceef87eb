"""The estate's lifecycle of a unit: taken over from the developer with the takeover inspection 《物业接管验收表》,
kept while vacant (patrols, cleaning, sales viewings, R-VAC), then handed to its owner at the move-in desk
(入伙, R-MOVE) with the unit facilities acceptance form 《单元设施验收确认表》 and the meter readings."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Boolean, Date, Enum, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import Base, UTCDateTime, utcnow


def _enum(kind: type[enum.StrEnum], length: int = 20) -> Enum:
    return Enum(kind, native_enum=False, length=length)


class Meter(enum.StrEnum):
    water = "water"
    electricity = "electricity"


class MeterReading(Base):
    """A reading of a unit's meter (水电表底度) in thousandths (m³, kWh); a later reading never goes back."""

    __tablename__ = "meter_readings"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    meter: Mapped[Meter] = mapped_column(_enum(Meter, 12))
    reading_milli: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20))  # takeover, move_in
    read_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(80))


class MoveInState(enum.StrEnum):
    queued = "queued"  # signed in at the desk with a ticket, waiting (first come, first served)
    checked = "checked"  # move-in notice and ID checked, copies kept
    signed = "signed"  # documents signed, family photos kept
    paid = "paid"  # fees by the fee list received, receipt given
    pack_handed = "pack_handed"  # the move-in pack handed over
    inspected = "inspected"  # the unit inspected with the facilities form, meters read, the owner signed
    keys_issued = "keys_issued"  # keys signed for; a door key kept for rectification with a receipt
    filed = "filed"  # registration entered, copies to finance and engineering, the pack filed by unit
    cancelled = "cancelled"


class MoveIn(Base):
    """One owner's move-in at the desk (入伙办理), from the queue ticket to the filed pack."""

    __tablename__ = "move_ins"
    __table_args__ = (UniqueConstraint("estate_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    ticket: Mapped[int] = mapped_column(Integer)  # the day's queue number
    queued_on: Mapped[date] = mapped_column(Date, index=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[MoveInState] = mapped_column(_enum(MoveInState), default=MoveInState.queued, index=True)
    notice_no: Mapped[str] = mapped_column(String(40), default="")  # 《入伙通知书》
    id_copies: Mapped[int] = mapped_column(Integer, default=0)
    bank_copies: Mapped[int] = mapped_column(Integer, default=0)
    documents: Mapped[str] = mapped_column(String(400), default="")  # the signed documents' codes, comma-joined
    family_members: Mapped[int] = mapped_column(Integer, default=0)
    photos: Mapped[int] = mapped_column(Integer, default=0)
    owner_signature: Mapped[str] = mapped_column(Text, default="")  # on the signed documents
    fee_total_fen: Mapped[int] = mapped_column(Integer, default=0)
    tendered_fen: Mapped[int] = mapped_column(Integer, default=0)
    change_fen: Mapped[int] = mapped_column(Integer, default=0)
    fee_receipt_no: Mapped[str] = mapped_column(String(40), default="")
    pack_items: Mapped[str] = mapped_column(String(400), default="")
    water_milli: Mapped[int | None] = mapped_column(Integer, nullable=True)
    electricity_milli: Mapped[int | None] = mapped_column(Integer, nullable=True)
    acceptance_signature: Mapped[str] = mapped_column(Text, default="")  # the owner on the facilities form
    key_receipt_no: Mapped[str] = mapped_column(String(40), default="")
    key_signature: Mapped[str] = mapped_column(Text, default="")  # the owner on the key receipt 《钥匙签领表》
    kept_key_id: Mapped[int | None] = mapped_column(ForeignKey("keys.id", ondelete="SET NULL"), nullable=True)
    rectification_receipt_no: Mapped[str] = mapped_column(String(40), default="")
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))

    facilities: Mapped[list[FacilityCheck]] = relationship(order_by="FacilityCheck.id", cascade="all, delete-orphan")
    fees: Mapped[list[MoveInFee]] = relationship(order_by="MoveInFee.id", cascade="all, delete-orphan")


class FacilityCheck(Base):
    """A line of the unit facilities acceptance form 《单元设施验收确认表》; a failed line is a rectification item
    of 《项目整改表》."""

    __tablename__ = "move_in_facilities"

    id: Mapped[int] = mapped_column(primary_key=True)
    move_in_id: Mapped[int] = mapped_column(ForeignKey("move_ins.id", ondelete="CASCADE"), index=True)
    item: Mapped[str] = mapped_column(String(20))
    passed: Mapped[bool] = mapped_column(Boolean)
    rectification: Mapped[str] = mapped_column(String(200), default="")


class MoveInFee(Base):
    """A line of the move-in fee list 《入伙费用一览表》 as charged to this owner."""

    __tablename__ = "move_in_fees"

    id: Mapped[int] = mapped_column(primary_key=True)
    move_in_id: Mapped[int] = mapped_column(ForeignKey("move_ins.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(Integer)
    # the line's names as charged: the estate's list may rename or retire it later
    name_zh: Mapped[str] = mapped_column(String(60), default="", server_default="")
    name_en: Mapped[str] = mapped_column(String(80), default="", server_default="")


class MoveInFeeItem(Base):
    """A line of an estate's move-in fee list 《入伙费用一览表》: its standard amount in fen (0: typed at the desk),
    its place on the list; a retired line stays so the move-ins that charged it keep its code."""

    __tablename__ = "move_in_fee_items"
    __table_args__ = (UniqueConstraint("estate_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80), default="")
    amount_fen: Mapped[int] = mapped_column(Integer, default=0)
    position: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ScanKind(enum.StrEnum):
    """What a move-in scan is of (R-MOVE): an ID copy (×2), the bank-book copy (×1), a family member's photo."""

    id_copy = "id_copy"
    bank_book = "bank_book"
    family_photo = "family_photo"


class MoveInScan(Base):
    """A scanned copy kept with a move-in: the image as uploaded (a JPEG or PNG that decodes), its digest, who took
    it and when."""

    __tablename__ = "move_in_scans"

    id: Mapped[int] = mapped_column(primary_key=True)
    move_in_id: Mapped[int] = mapped_column(ForeignKey("move_ins.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ScanKind] = mapped_column(_enum(ScanKind))
    media_type: Mapped[str] = mapped_column(String(20))
    data: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # read only when the image itself is served
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class TakeoverCategory(enum.StrEnum):
    """The items engineering inspects and patrols in a vacant unit (R-VAC-1, 2)."""

    structure = "structure"  # 主体结构
    roof_floor = "roof_floor"  # 屋面与地面
    decoration = "decoration"  # 装修
    electrical = "electrical"  # 电气
    water = "water"  # 水系统
    fire = "fire"  # 消防
    bathroom = "bathroom"  # 卫生间
    ancillary = "ancillary"  # 附属工程


class TakeoverState(enum.StrEnum):
    open = "open"
    signed = "signed"


class TakeoverInspection(Base):
    """The takeover inspection of a unit handed over by the developer 《物业接管验收表》 (R-VAC-1)."""

    __tablename__ = "takeover_inspections"
    __table_args__ = (UniqueConstraint("estate_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    developer: Mapped[str] = mapped_column(String(100))
    developer_rep: Mapped[str] = mapped_column(String(60), default="")
    state: Mapped[TakeoverState] = mapped_column(_enum(TakeoverState), default=TakeoverState.open)
    inspector_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    engineering_signature: Mapped[str] = mapped_column(Text, default="")
    developer_signature: Mapped[str] = mapped_column(Text, default="")

    items: Mapped[list[TakeoverItem]] = relationship(order_by="TakeoverItem.id", cascade="all, delete-orphan")


class TakeoverItem(Base):
    """One item of the takeover inspection; a failure names its defect and what was agreed with the developer."""

    __tablename__ = "takeover_items"
    __table_args__ = (UniqueConstraint("inspection_id", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inspection_id: Mapped[int] = mapped_column(ForeignKey("takeover_inspections.id", ondelete="CASCADE"), index=True)
    category: Mapped[TakeoverCategory] = mapped_column(_enum(TakeoverCategory))
    passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # None: not inspected yet
    defect: Mapped[str] = mapped_column(String(200), default="")
    agreement: Mapped[str] = mapped_column(String(200), default="")  # the repair agreed with the developer


class Vacancy(Base):
    """A unit's spell as a vacant unit (空置房): from its signed takeover to its owner's move-in."""

    __tablename__ = "vacancies"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    takeover_id: Mapped[int] = mapped_column(ForeignKey("takeover_inspections.id", ondelete="CASCADE"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    move_in_id: Mapped[int | None] = mapped_column(ForeignKey("move_ins.id", ondelete="SET NULL"), nullable=True)


class VacantPatrol(Base):
    """A patrol of a vacant unit over the takeover items (R-VAC-2)."""

    __tablename__ = "vacant_patrols"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    patrolled_at: Mapped[datetime] = mapped_column(UTCDateTime)
    by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    note: Mapped[str] = mapped_column(String(200), default="")

    findings: Mapped[list[PatrolFinding]] = relationship(order_by="PatrolFinding.id", cascade="all, delete-orphan")


class PatrolFinding(Base):
    """A problem a patrol found: under warranty it goes to the developer; otherwise to a repair order."""

    __tablename__ = "patrol_findings"

    id: Mapped[int] = mapped_column(primary_key=True)
    patrol_id: Mapped[int] = mapped_column(ForeignKey("vacant_patrols.id", ondelete="CASCADE"), index=True)
    category: Mapped[TakeoverCategory] = mapped_column(_enum(TakeoverCategory))
    description: Mapped[str] = mapped_column(String(200))
    warranty: Mapped[bool] = mapped_column(Boolean)
    developer_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    repair_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("service_orders.id", ondelete="SET NULL"), nullable=True
    )


class VacantCleaning(Base):
    """A cleaning round of a vacant unit (R-VAC-3): the parts cleaned, and the unit aired."""

    __tablename__ = "vacant_cleanings"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    cleaned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    parts: Mapped[str] = mapped_column(String(200))  # the checklist's codes, comma-joined
    note: Mapped[str] = mapped_column(String(200), default="")


class DeveloperRepairState(enum.StrEnum):
    reported = "reported"  # sent to the developer, its working days running
    acknowledged = "acknowledged"  # the developer has taken it on
    repaired = "repaired"  # the developer says it is done, waiting for our check
    verified = "verified"  # engineering checked the repair: closed
    reopened = "reopened"  # the check failed: back to the developer, its working days running again


class DeveloperRepair(Base):
    """A defect the developer repairs (R-VAC-1, 2): a failure agreed at the takeover or a warranty defect found on a
    patrol, tracked from the report to our check of the repair, against its working-day deadline."""

    __tablename__ = "developer_repairs"
    __table_args__ = (UniqueConstraint("estate_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    takeover_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("takeover_items.id", ondelete="SET NULL"), nullable=True
    )
    patrol_finding_id: Mapped[int | None] = mapped_column(
        ForeignKey("patrol_findings.id", ondelete="SET NULL"), nullable=True
    )
    category: Mapped[TakeoverCategory] = mapped_column(_enum(TakeoverCategory))
    description: Mapped[str] = mapped_column(String(200))
    developer: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[DeveloperRepairState] = mapped_column(
        _enum(DeveloperRepairState), default=DeveloperRepairState.reported, index=True
    )
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    developer_contact: Mapped[str] = mapped_column(String(60), default="")  # who acknowledged it for the developer
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    repair_note: Mapped[str] = mapped_column(String(200), default="")
    repaired_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reopen_reason: Mapped[str] = mapped_column(String(200), default="")
    reopened: Mapped[int] = mapped_column(Integer, default=0)  # how often our check sent it back
