"""The key register (钥匙管理, R-KEY-1…14): cabinet boards and slots, intakes from contractors with their tests, key
sets and keys, loans in the key loan register 《钥匙领用登记表》, duplication requests and the cabinet's key alarms.

A key's business state (its open loan: to whom, until when) lives on `KeyLoan`; whether a slot physically holds a
key lives on `KeySlot`, changed only by the cabinet's events."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import Base, UTCDateTime, utcnow


def _enum(kind: type[enum.StrEnum], length: int = 20) -> Enum:
    return Enum(kind, native_enum=False, length=length)


class KeyGroup(enum.StrEnum):
    """What a key set opens (R-KEY-6)."""

    unit = "unit"  # one dwelling's keys, ringed together
    public_door = "public_door"  # public doors and windows, by building entrance and floor
    plant_room = "plant_room"  # plant rooms, by equipment
    rectification = "rectification"  # a unit's keys kept for rectification work (整改, R-KEY-9)


class KeyKind(enum.StrEnum):
    mechanical = "mechanical"
    tm = "tm"  # touch-memory (iButton) electronic key, the only kind outside workers may take (R-KEY-14)


class SetCopy(enum.StrEnum):
    """Plant-room keys come in two sets held by engineering (R-KEY-10); every other set is the only one."""

    only = "only"
    in_use = "in_use"
    spare = "spare"


class Holder(enum.StrEnum):
    customer_service = "customer_service"
    engineering = "engineering"


class KeyBoard(Base):
    """A lock board of the estate's key cabinet, by its DIP-switch address, with its number of channels."""

    __tablename__ = "key_boards"
    __table_args__ = (UniqueConstraint("estate_id", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    address: Mapped[int] = mapped_column(Integer)
    channels: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(40), default="")


class KeySlot(Base):
    """What a slot physically holds, as the cabinet last reported it (never changed by a person's button)."""

    __tablename__ = "key_slots"
    __table_args__ = (UniqueConstraint("estate_id", "board", "slot"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    board: Mapped[int] = mapped_column(Integer)
    slot: Mapped[int] = mapped_column(Integer)
    occupied: Mapped[bool] = mapped_column(Boolean, default=False)
    tag: Mapped[str] = mapped_column(String(40), default="")  # the tag last read into it, "" when unknown
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class IntakeState(enum.StrEnum):
    received = "received"
    tested = "tested"  # every key tried and passed (R-KEY-2)
    spot_check = "spot_check"  # the sample is drawn, waiting for its results (R-KEY-3)
    accepted = "accepted"
    refused = "refused"


class KeyIntake(Base):
    """Keys handed over by a contractor after acceptance, with the handover record 钥匙移交记录 (R-KEY-1)."""

    __tablename__ = "key_intakes"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    contractor: Mapped[str] = mapped_column(String(100))
    handed_by: Mapped[str] = mapped_column(String(60))  # the contractor's responsible person
    received_by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    handed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    declared_keys: Mapped[int] = mapped_column(Integer)  # the count on the handover record
    state: Mapped[IntakeState] = mapped_column(_enum(IntakeState), default=IntakeState.received)
    note: Mapped[str] = mapped_column(String(200), default="")


class KeySet(Base):
    """Keys ringed together: one unit's keys, one entrance's public keys, one plant room's set (R-KEY-2, 6)."""

    __tablename__ = "key_sets"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("key_intakes.id", ondelete="CASCADE"), index=True)
    opens: Mapped[KeyGroup] = mapped_column(_enum(KeyGroup))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), nullable=True, index=True)
    building_id: Mapped[int | None] = mapped_column(ForeignKey("buildings.id"), nullable=True)
    entrance: Mapped[str] = mapped_column(String(20), default="")
    floor: Mapped[int | None] = mapped_column(Integer, nullable=True)
    equipment: Mapped[str] = mapped_column(String(60), default="")
    copy: Mapped[SetCopy] = mapped_column(_enum(SetCopy), default=SetCopy.only)
    holder: Mapped[Holder] = mapped_column(_enum(Holder), default=Holder.customer_service)
    label: Mapped[str] = mapped_column(String(60))
    stored_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    receipt_no: Mapped[str] = mapped_column(String(40), default="")  # a rectification set's owner receipt (R-KEY-9)

    keys: Mapped[list[Key]] = relationship(back_populates="key_set", order_by="Key.id")


class Key(Base):
    """One key with its label, its tag (TM/iButton or RFID, unique in the estate) and its home slot."""

    __tablename__ = "keys"
    __table_args__ = (
        UniqueConstraint("estate_id", "tag", name="uq_keys_estate_tag"),
        UniqueConstraint("estate_id", "board", "slot", name="uq_keys_estate_slot"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("key_sets.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(60))
    tag: Mapped[str] = mapped_column(String(40))
    kind: Mapped[KeyKind] = mapped_column(_enum(KeyKind))
    board: Mapped[int | None] = mapped_column(Integer, nullable=True)
    slot: Mapped[int | None] = mapped_column(Integer, nullable=True)
    building_start: Mapped[bool] = mapped_column(Boolean, default=False)  # marked in the building's colour (R-KEY-7)
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # given to the owner (R-KEY-8)

    key_set: Mapped[KeySet] = relationship(back_populates="keys")


class CheckStage(enum.StrEnum):
    acceptance = "acceptance"  # every key of the intake (R-KEY-2)
    spot = "spot"  # the sample the system drew (R-KEY-3)


class KeyCheck(Base):
    """One key tried in its lock during an intake's acceptance test or spot check."""

    __tablename__ = "key_checks"
    __table_args__ = (UniqueConstraint("intake_id", "key_id", "stage"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    intake_id: Mapped[int] = mapped_column(ForeignKey("key_intakes.id", ondelete="CASCADE"), index=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("keys.id", ondelete="CASCADE"))
    stage: Mapped[CheckStage] = mapped_column(_enum(CheckStage, 10))
    passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)  # None: drawn, not tried yet
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LoanPurpose(enum.StrEnum):
    """The only purposes a key leaves the cabinet for: nobody borrows one for private purposes (R-KEY-5)."""

    viewing = "viewing"
    rectification = "rectification"
    engineering = "engineering"
    sales_viewing = "sales_viewing"  # a vacant unit shown by sales
    move_in = "move_in"  # the owner's keys issued at move-in (R-KEY-8)


class BorrowerKind(enum.StrEnum):
    staff = "staff"
    owner = "owner"
    outside_worker = "outside_worker"


class LoanState(enum.StrEnum):
    requested = "requested"  # registered, the key still in its slot
    out = "out"  # the cabinet saw the key leave its slot
    returned = "returned"  # the cabinet saw it back in its home slot
    handed_over = "handed_over"  # a move-in key the owner keeps
    cancelled = "cancelled"


class KeyLoan(Base):
    """A line of the key loan register 《钥匙领用登记表》 (R-KEY-12)."""

    __tablename__ = "key_loans"
    __table_args__ = (Index("ix_key_loans_estate_state_due", "estate_id", "state", "due_at"),)  # out and overdue

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("keys.id", ondelete="CASCADE"), index=True)
    state: Mapped[LoanState] = mapped_column(_enum(LoanState), default=LoanState.requested, index=True)
    purpose: Mapped[LoanPurpose] = mapped_column(_enum(LoanPurpose))
    borrower_kind: Mapped[BorrowerKind] = mapped_column(_enum(BorrowerKind))
    borrower_staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    borrower_person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id"), nullable=True)
    borrower_name: Mapped[str] = mapped_column(String(60))
    company: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    id_tail: Mapped[str] = mapped_column(String(4), default="")
    accompanied_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    receipt_no: Mapped[str] = mapped_column(String(40), default="")  # rectification receipt / signed key receipt
    payment_proof: Mapped[str] = mapped_column(String(40), default="")  # move-in payment proof (R-KEY-8)
    registered_by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    out_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    overdue_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    overdue_ack_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    overdue_ack_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    overdue_ack_note: Mapped[str] = mapped_column(String(200), default="")

    key: Mapped[Key] = relationship()


class DuplicationState(enum.StrEnum):
    requested = "requested"
    approved = "approved"
    refused = "refused"


class KeyDuplication(Base):
    """A request to cut a copy of a key; public-door and plant-room keys need the general manager (R-KEY-11)."""

    __tablename__ = "key_duplications"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("keys.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(200))
    state: Mapped[DuplicationState] = mapped_column(_enum(DuplicationState), default=DuplicationState.requested)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AlarmKind(enum.StrEnum):
    wrong_slot = "wrong_slot"  # a key put back in a slot that is not its home
    removed_without_loan = "removed_without_loan"
    unknown_tag = "unknown_tag"


class KeyAlarm(Base):
    """Something the cabinet saw that a person must look at; `expected_*` names the right slot for a wrong one."""

    __tablename__ = "key_alarms"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    kind: Mapped[AlarmKind] = mapped_column(_enum(AlarmKind, 30))
    key_id: Mapped[int | None] = mapped_column(ForeignKey("keys.id", ondelete="SET NULL"), nullable=True)
    board: Mapped[int] = mapped_column(Integer)
    slot: Mapped[int] = mapped_column(Integer)
    tag: Mapped[str] = mapped_column(String(40), default="")
    expected_board: Mapped[int | None] = mapped_column(Integer, nullable=True)
    expected_slot: Mapped[int | None] = mapped_column(Integer, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class KeyUnlock(Base):
    """An unlock the server authorised for a loan: open the key's home slot once, at a cabinet of the estate
    (`device_id`; None: any of them), for one of the staff in `staff`, before `expires_at`. `request_id` is the
    server's name for it, which the cabinet's unlock frame and its `door_opened` event carry; `opened_at` is set
    when that event arrives."""

    __tablename__ = "key_unlocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(String(80), unique=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), nullable=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("key_loans.id", ondelete="CASCADE"), index=True)
    board: Mapped[int] = mapped_column(Integer)
    slot: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    opened_by_device_id: Mapped[int | None] = mapped_column(
        ForeignKey("devices.id", ondelete="SET NULL"), nullable=True
    )

    loan: Mapped[KeyLoan] = relationship()
    staff: Mapped[list[KeyUnlockStaff]] = relationship(
        back_populates="unlock", order_by="KeyUnlockStaff.staff_id", cascade="all, delete-orphan"
    )


class KeyUnlockStaff(Base):
    """A member of staff an unlock is for: the loan's borrower (if staff), who registered it, who accompanies."""

    __tablename__ = "key_unlock_staff"

    unlock_id: Mapped[int] = mapped_column(ForeignKey("key_unlocks.id", ondelete="CASCADE"), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True)

    unlock: Mapped[KeyUnlock] = relationship(back_populates="staff")


class AlertAcknowledgement(Base):
    """A records admin's acknowledgement of one cabinet alert (an audit entry `cabinet.<event>` the server judged an
    alert): who saw it, when, and what they found or did. One per alert; the alert itself stays in the audit trail
    as it was recorded (issue 21: the dashboards count the alerts nobody has acknowledged)."""

    __tablename__ = "alert_acknowledgements"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    entry_seq: Mapped[int] = mapped_column(ForeignKey("audit_log.seq"), unique=True)  # the alert acknowledged
    by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    by_name: Mapped[str] = mapped_column(String(60))  # their display name at the time
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(String(200))
