"""The service desk (DOMAIN.md R-REP, R-CLN, R-FB, R-PHONE): the price list 《便民服务一览表》, repair work
orders 《工程维修单》, home-cleaning dispatch orders 《家居清洁服务派工单》, feedback forms 《客户意见处理单》 with the
library of standard answers, the front desk's call log and its call tasks (callbacks, rebooking).

Every order is also a line of the paid-service tracking sheet 《有偿服务跟踪记录单》 (R-REP-1, R-CLN-1): the sheet is a
view over repair and cleaning orders, not a table of its own. Each order's steps are declared as a process
(server.domain.service) and kept in `step_history`; a step that starts a clock stores its due time in `due_at`."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import Base, UTCDateTime, utcnow
from server.db.models.registry import Unit


def _enum(kind: type[enum.StrEnum], length: int = 20) -> Enum:
    return Enum(kind, native_enum=False, length=length)


class ServiceKind(enum.StrEnum):
    repair = "repair"  # 家居维修 (R-REP)
    cleaning = "cleaning"  # 家居清洁 (R-CLN)


class Channel(enum.StrEnum):
    """How a request reached the centre (R-REP-1, R-FB-1)."""

    desk = "desk"  # in person at the front desk
    phone = "phone"
    kiosk = "kiosk"
    email = "email"
    department = "department"  # passed on by another department
    letter = "letter"  # in writing


class PriceItem(Base):
    """A line of the service price list 《便民服务一览表》 (R-REP-3, R-CLN-1): a common problem or a service, under a
    category, with its price in fen (0: free). Items are retired, never deleted, so old orders keep their line."""

    __tablename__ = "price_items"
    __table_args__ = (UniqueConstraint("estate_id", "kind", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ServiceKind] = mapped_column(_enum(ServiceKind))
    code: Mapped[str] = mapped_column(String(20))  # short and stable: "tap-leak"
    category: Mapped[str] = mapped_column(String(20))  # plumbing, electrical, doors … / deep, windows …
    name_zh: Mapped[str] = mapped_column(String(60))
    name_en: Mapped[str] = mapped_column(String(80), default="")
    unit_zh: Mapped[str] = mapped_column(String(10), default="次")  # per visit, per metre, per hour …
    price_fen: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    sort: Mapped[int] = mapped_column(Integer, default=0)
    updated_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OrderState(enum.StrEnum):
    """Repair: new → assigned → scheduled → in_progress → done → returned → called_back → filed, with unfinished
    (could not finish: next visit booked) and reopened. Cleaning: new → dispatched → done → returned → called_back
    → filed, with nobody_home (the note left; the desk rebooks or cancels)."""

    new = "new"
    assigned = "assigned"
    scheduled = "scheduled"
    dispatched = "dispatched"
    in_progress = "in_progress"
    unfinished = "unfinished"
    nobody_home = "nobody_home"
    done = "done"
    returned = "returned"  # the signed order is back at the CS centre (R-REP-7, R-CLN-6)
    called_back = "called_back"
    reopened = "reopened"
    filed = "filed"
    cancelled = "cancelled"


class ServiceOrder(Base):
    """A repair work order 《工程维修单》 or a home-cleaning dispatch order 《家居清洁服务派工单》, and its line of the
    paid-service tracking sheet. Money is recorded for finance to bill; no cash is taken (R-REP-3, R-CLN-5)."""

    __tablename__ = "service_orders"
    __table_args__ = (
        UniqueConstraint("estate_id", "number"),
        Index("ix_service_orders_board", "estate_id", "kind", "state", "due_at"),
        Index("ix_service_orders_unit", "unit_id", "created_at"),
        # repairs finished in a period with their lead times: the repair lead-time chart (issue 21)
        Index("ix_service_orders_estate_kind_done", "estate_id", "kind", "done_at", "created_at", "appointment_end"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    kind: Mapped[ServiceKind] = mapped_column(_enum(ServiceKind))
    number: Mapped[str] = mapped_column(String(32))  # GH-WX-202611-0042 (repair), GH-QJ-… (cleaning)
    state: Mapped[OrderState] = mapped_column(_enum(OrderState), default=OrderState.new)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"), nullable=True)
    contact_name: Mapped[str] = mapped_column(String(40))
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    category: Mapped[str] = mapped_column(String(20))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("price_items.id"), nullable=True)
    description: Mapped[str] = mapped_column(String(400), default="")
    location: Mapped[str] = mapped_column(String(60), default="")  # where in the unit: kitchen, bathroom …
    paid: Mapped[bool] = mapped_column(Boolean, default=False)
    price_fen: Mapped[int | None] = mapped_column(Integer, nullable=True)  # from the price list, or the quote
    quote_materials_fen: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quote_labour_fen: Mapped[int | None] = mapped_column(Integer, nullable=True)
    quote_accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # R-REP-4
    actual_fen: Mapped[int | None] = mapped_column(Integer, nullable=True)  # a quoted repair billed at actual cost
    appointment_start: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    appointment_end: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    worker_name: Mapped[str] = mapped_column(String(40), default="")  # the repairer or cleaner who went
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    unfinished_reason: Mapped[str] = mapped_column(String(200), default="")  # R-REP-5
    out_of_scope: Mapped[str] = mapped_column(String(200), default="")  # R-CLN-4: declined or escalated
    resident_opinion: Mapped[str] = mapped_column(String(200), default="")  # R-REP-7, R-CLN-5
    satisfied: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    resident_signature: Mapped[str] = mapped_column(Text, default="")  # a PNG data URL from the pad
    repairer_signed_by: Mapped[str] = mapped_column(String(40), default="")
    supervisor_signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    unreturned_reason: Mapped[str] = mapped_column(String(200), default="")  # R-REP-11, by Friday
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # R-REP-12, R-CLN-8
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # the current step's deadline
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)  # late: the supervisor told
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    unit: Mapped[Unit] = relationship()
    item: Mapped[PriceItem | None] = relationship()


class FeedbackCategory(enum.StrEnum):
    suggestion = "suggestion"
    complaint = "complaint"
    praise = "praise"
    question = "question"


class FeedbackState(enum.StrEnum):
    """received → answered (a standard answer, the same day, R-FB-2) → filed; or received → formed (the form within
    1 working day) → referred (to the department the same day, the director's assistant told) → replied (in writing
    within 1 working day) → signed (the supervisor) → answered (the resident told) → followed_up → filed."""

    received = "received"
    formed = "formed"
    referred = "referred"
    replied = "replied"
    signed = "signed"
    answered = "answered"
    followed_up = "followed_up"
    filed = "filed"


class StandardAnswer(Base):
    """The library of standard answers (R-FB-2): a question asked often, answered the same day from here."""

    __tablename__ = "standard_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(60))
    question: Mapped[str] = mapped_column(String(200))
    answer: Mapped[str] = mapped_column(String(1000))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str] = mapped_column(String(80), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FeedbackForm(Base):
    """A feedback form 《客户意见处理单》 (R-FB-1…5)."""

    __tablename__ = "feedback_forms"
    __table_args__ = (
        UniqueConstraint("estate_id", "number"),
        Index("ix_feedback_forms_board", "estate_id", "state", "due_at"),
        Index("ix_feedback_forms_estate_received", "estate_id", "received_at", "category"),  # feedback chart
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(32))  # GH-YJ-202611-0007
    state: Mapped[FeedbackState] = mapped_column(_enum(FeedbackState), default=FeedbackState.received)
    channel: Mapped[Channel] = mapped_column(_enum(Channel))
    category: Mapped[FeedbackCategory] = mapped_column(_enum(FeedbackCategory))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), nullable=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"), nullable=True)
    contact_name: Mapped[str] = mapped_column(String(40))
    contact_phone: Mapped[str] = mapped_column(String(20), default="")
    contact_back: Mapped[str] = mapped_column(String(20), default="phone")  # phone, visit, none …
    subject: Mapped[str] = mapped_column(String(100))
    details: Mapped[str] = mapped_column(String(2000), default="")
    standard_answer_id: Mapped[int | None] = mapped_column(ForeignKey("standard_answers.id"), nullable=True)
    department: Mapped[str] = mapped_column(String(20), default="")  # a staff role: engineering, environment …
    assistant_informed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    reply: Mapped[str] = mapped_column(String(2000), default="")  # the department's written reply
    replied_by: Mapped[str] = mapped_column(String(80), default="")
    supervisor_signed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    answer_to_resident: Mapped[str] = mapped_column(String(1000), default="")
    follow_up: Mapped[str] = mapped_column(String(500), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_by: Mapped[str] = mapped_column(String(80))

    unit: Mapped[Unit | None] = relationship()


class CallReason(enum.StrEnum):
    repair_callback = "repair_callback"  # every finished repair, 19:00–22:00 the day it was handed over (R-REP-8, 9)
    cleaning_rebook = "cleaning_rebook"  # nobody home: rebook or cancel (R-CLN-3)
    dissatisfied = "dissatisfied"  # an unsatisfied cleaning: an immediate callback (R-CLN-7)
    cleaning_callback = "cleaning_callback"
    feedback_answer = "feedback_answer"  # the resident answered (R-FB-4)


class CallOutcome(enum.StrEnum):
    reached_satisfied = "reached_satisfied"
    reached_unsatisfied = "reached_unsatisfied"  # back to the supervisor (R-REP-8)
    no_answer = "no_answer"
    rebooked = "rebooked"
    cancelled = "cancelled"


class CallTask(Base):
    """A call the front desk owes a resident: a callback, a rebooking, an answer; offered only in its window
    (`opens_at` … `due_at`) and closed with its outcome."""

    __tablename__ = "call_tasks"
    __table_args__ = (
        Index("ix_call_tasks_queue", "estate_id", "done_at", "due_at"),
        Index("ix_call_tasks_estate_done_outcome", "estate_id", "done_at", "outcome"),  # callback outcomes chart
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    reason: Mapped[CallReason] = mapped_column(_enum(CallReason, 24))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("service_orders.id", ondelete="CASCADE"), nullable=True)
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_forms.id", ondelete="CASCADE"), nullable=True)
    phone: Mapped[str] = mapped_column(String(20), default="")
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    outcome: Mapped[CallOutcome | None] = mapped_column(_enum(CallOutcome, 24), nullable=True)
    note: Mapped[str] = mapped_column(String(300), default="")
    called_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class CallTopic(enum.StrEnum):
    repair = "repair"
    cleaning = "cleaning"
    feedback = "feedback"
    enquiry = "enquiry"  # answered on the call
    other = "other"


class PhoneCall(Base):
    """A line of the front desk's call log (R-PHONE): who called, about what, whether the key facts were read back
    and "anything else?" asked, how it will be handled, and what came of it (the order or form it opened)."""

    __tablename__ = "phone_calls"
    __table_args__ = (Index("ix_phone_calls_day", "estate_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="SET NULL"), nullable=True)
    room: Mapped[str] = mapped_column(String(16), default="")  # as the caller said it
    surname: Mapped[str] = mapped_column(String(20), default="")
    phone: Mapped[str] = mapped_column(String(20), default="")
    topic: Mapped[CallTopic] = mapped_column(_enum(CallTopic))
    summary: Mapped[str] = mapped_column(String(400), default="")
    read_back: Mapped[bool] = mapped_column(Boolean, default=False)
    handling: Mapped[str] = mapped_column(String(200), default="")  # what the caller was told will happen
    anything_else_asked: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str] = mapped_column(String(40), default="")  # order_opened, answered, callback_promised …
    order_id: Mapped[int | None] = mapped_column(ForeignKey("service_orders.id", ondelete="SET NULL"), nullable=True)
    feedback_id: Mapped[int | None] = mapped_column(ForeignKey("feedback_forms.id", ondelete="SET NULL"), nullable=True)
    taken_by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
