"""Opening repair and cleaning orders and feedback forms, from every channel (R-REP-1, R-CLN-1, R-FB-1): the front
desk in person, a phone call, the kiosk, e-mail or another department. One function per record type checks what
was given — the unit belongs to this estate, a paid service is priced from the price list or carries a quote —
numbers the record and takes its first step, so every order is on the paid-service tracking sheet from the start.

A staff member opens with their permission (`by`); a kiosk opens for an identified resident (`by` None), through
the process's device transition."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import (
    Channel,
    Estate,
    FeedbackCategory,
    FeedbackForm,
    Person,
    PriceItem,
    ServiceKind,
    ServiceOrder,
    StaffUser,
    Unit,
)
from server.domain import clock, numbering, workflow
from server.domain.actors import Actor
from server.domain.errors import DomainError, NotFound
from server.domain.service.processes import CLEANING, FEEDBACK, REPAIR

NUMBER_KIND = {ServiceKind.repair: "WX", ServiceKind.cleaning: "QJ"}  # 维修, 清洁
FEEDBACK_KIND = "YJ"  # 意见
PROCESS = {ServiceKind.repair: REPAIR, ServiceKind.cleaning: CLEANING}


@dataclass(frozen=True)
class Quote:
    """A budget quote from materials and labour for a repair not on the price list (R-REP-3), in fen; the
    resident's acceptance is recorded before work starts (R-REP-4)."""

    materials_fen: int
    labour_fen: int

    @property
    def total_fen(self) -> int:
        return self.materials_fen + self.labour_fen


@dataclass(frozen=True)
class OrderRequest:
    kind: ServiceKind
    channel: Channel
    unit_id: int
    contact_name: str
    contact_phone: str = ""
    item_code: str = ""  # a line of the price list; its category and price come with it
    category: str = ""  # without an item: the category the problem falls under
    description: str = ""
    location: str = ""
    paid: bool | None = None  # without an item: whether the work is paid (then a quote is needed)
    quote: Quote | None = None
    appointment_start: datetime | None = None  # the time agreed with the resident, if already agreed
    appointment_end: datetime | None = None
    person_id: int | None = None


def unit_of(session: Session, estate: Estate, unit_id: int) -> Unit:
    """The unit `unit_id` if it is one of `estate`'s: an order or form for another estate's unit is refused."""
    unit = session.get(Unit, unit_id)
    if unit is None or unit.estate_id != estate.id:
        raise NotFound("本小区没有该单元", "no such unit in this estate", code="unit_not_found")
    return unit


def price_item(session: Session, estate: Estate, kind: ServiceKind, code: str) -> PriceItem:
    item = session.scalar(
        select(PriceItem).where(PriceItem.estate_id == estate.id, PriceItem.kind == kind, PriceItem.code == code)
    )
    if item is None or not item.active:
        raise DomainError(
            f"价目表中没有「{code}」", f"{code!r} is not on the price list", code="not_on_price_list", field="item"
        )
    return item


def open_order(
    session: Session,
    actor: Actor,
    estate: Estate,
    request: OrderRequest,
    at: datetime,
    *,
    by: StaffUser | None = None,
    note: str = "",
) -> ServiceOrder:
    """A new repair or cleaning order, numbered and opened (by staff: `open`; from a kiosk: `request`)."""
    unit = unit_of(session, estate, request.unit_id)
    if request.person_id is not None:
        person = session.get(Person, request.person_id)
        if person is None or person.estate_id != estate.id:
            raise NotFound("本小区没有该住户", "no such resident in this estate", code="person_not_found")
    if request.appointment_start and request.appointment_end and request.appointment_end <= request.appointment_start:
        raise DomainError(
            "预约结束时间须晚于开始时间", "the appointment must end after it starts", code="bad_appointment"
        )
    order = ServiceOrder(
        estate_id=estate.id,
        kind=request.kind,
        channel=request.channel,
        unit_id=unit.id,
        person_id=request.person_id,
        description=request.description.strip(),
        location=request.location.strip(),
        created_by=actor.label,
        created_at=at,
    )
    if request.item_code:
        item = price_item(session, estate, request.kind, request.item_code)
        order.item_id, order.category = item.id, item.category
        order.paid = item.price_fen > 0
        order.price_fen = item.price_fen if order.paid else None
        if request.quote is not None:
            raise DomainError(
                "价目表内的项目按价目表收费，不另报价",
                "an item on the price list is charged at its listed price, not quoted",
                code="quote_not_needed",
            )
    else:
        order.category = request.category.strip()
        order.paid = bool(request.paid) or request.quote is not None
        if order.paid:
            if request.quote is None:  # R-REP-3: priced from the list, otherwise from a quote
                raise DomainError(
                    "不在价目表内的有偿服务须先按材料和人工报价",
                    "a paid service not on the price list needs a quote of materials and labour",
                    code="quote_required",
                    field="quote",
                )
            if request.quote.materials_fen < 0 or request.quote.labour_fen < 0:
                raise DomainError("报价不能为负数", "a quote cannot be negative", code="bad_quote", field="quote")
            order.quote_materials_fen = request.quote.materials_fen
            order.quote_labour_fen = request.quote.labour_fen
            order.price_fen = request.quote.total_fen
    order.number = numbering.next_number(session, estate, NUMBER_KIND[request.kind], clock.local_day(estate, at))
    fields: dict[str, object] = {
        "contact_name": request.contact_name.strip(),
        "contact_phone": request.contact_phone.strip(),
        "category": order.category,
    }
    if request.appointment_start is not None:
        fields["appointment_start"] = request.appointment_start
        fields["appointment_end"] = request.appointment_end
    workflow.step(
        session,
        actor,
        PROCESS[request.kind],
        order,
        "open" if by is not None else "request",
        at,
        by=by,
        note=note,
        fields=fields,
        number=order.number,
        channel=request.channel.value,
    )
    return order


@dataclass(frozen=True)
class FeedbackRequest:
    channel: Channel
    category: FeedbackCategory
    contact_name: str
    subject: str
    details: str = ""
    contact_phone: str = ""
    contact_back: str = "phone"
    unit_id: int | None = None
    person_id: int | None = None


def open_feedback(
    session: Session,
    actor: Actor,
    estate: Estate,
    request: FeedbackRequest,
    at: datetime,
    *,
    by: StaffUser | None = None,
    note: str = "",
) -> FeedbackForm:
    """A feedback form 《客户意见处理单》 received today (R-FB-1), due within 1 working day (R-FB-3)."""
    unit = unit_of(session, estate, request.unit_id) if request.unit_id is not None else None
    if not request.subject.strip():
        raise DomainError("请填写意见内容", "say what the feedback is about", code="missing_fields", fields=["subject"])
    form = FeedbackForm(
        estate_id=estate.id,
        channel=request.channel,
        category=request.category,
        unit_id=unit.id if unit else None,
        person_id=request.person_id,
        contact_phone=request.contact_phone.strip(),
        contact_back=request.contact_back,
        subject=request.subject.strip(),
        details=request.details.strip(),
        received_at=at,
        created_by=actor.label,
    )
    form.number = numbering.next_number(session, estate, FEEDBACK_KIND, clock.local_day(estate, at))
    workflow.step(
        session,
        actor,
        FEEDBACK,
        form,
        "receive" if by is not None else "submit",
        at,
        by=by,
        note=note,
        fields={"contact_name": request.contact_name.strip()},
        number=form.number,
        channel=request.channel.value,
    )
    return form
