"""What the lobby kiosk offers an identified resident at the service desk (issue 17, item 6): the catalogue of repair
problems and cleaning services with their listed prices and the feedback categories; a repair request, a cleaning
booking or a feedback form opened for the resident (through `intake`, as the kiosk's device steps `request` and
`submit`); the resident's own requests as they stand; and withdrawing one nobody has taken up yet.

A resident asks only for a unit they live in now, and sees and withdraws only their own requests: the kiosk is a
shared screen. Prices come only from the price list (R-REP-3): the kiosk sends a line of it, never an amount."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import (
    CallReason,
    CallTask,
    Channel,
    Estate,
    FeedbackCategory,
    FeedbackForm,
    Person,
    PriceItem,
    ServiceKind,
    ServiceOrder,
    Unit,
)
from server.domain import clock, registry, workflow
from server.domain.actors import Actor
from server.domain.errors import DomainError, Forbidden, NotFound
from server.domain.service import intake, slots
from server.domain.service.processes import CLEANING, REPAIR

MY_REQUESTS_LIMIT = 20
PROCESS = {ServiceKind.repair: REPAIR, ServiceKind.cleaning: CLEANING}
CALLBACKS = (CallReason.repair_callback, CallReason.cleaning_callback, CallReason.dissatisfied)

# Names of the price list's categories as the kiosk shows them (a category not named here shows as its code).
CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "plumbing": ("水管洁具", "Plumbing"),
    "electrical": ("电气照明", "Electrical"),
    "doors": ("门窗锁具", "Doors and locks"),
    "appliances": ("家用电器", "Appliances"),
    "walls": ("墙面地面", "Walls and floors"),
    "other": ("其他", "Other"),
    "deep": ("深度清洁", "Deep cleaning"),
    "routine": ("日常保洁", "Routine cleaning"),
    "windows": ("玻璃清洁", "Windows"),
    "kitchen": ("厨房清洁", "Kitchen"),
}
FEEDBACK_NAMES: dict[FeedbackCategory, tuple[str, str]] = {
    FeedbackCategory.suggestion: ("建议", "Suggestion"),
    FeedbackCategory.complaint: ("投诉", "Complaint"),
    FeedbackCategory.praise: ("表扬", "Praise"),
    FeedbackCategory.question: ("咨询", "Question"),
}


def category_name(code: str) -> tuple[str, str]:
    return CATEGORY_NAMES.get(code, (code, code))


# --- the catalogue --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    code: str
    items: list[PriceItem]


@dataclass(frozen=True)
class Catalogue:
    repair: list[Category]
    cleaning: list[Category]

    @property
    def offered(self) -> list[str]:
        """The services the kiosk offers: a kind with no active line on the price list is not offered."""
        kinds = [k.value for k, c in ((ServiceKind.repair, self.repair), (ServiceKind.cleaning, self.cleaning)) if c]
        return [*kinds, "feedback"]


def catalogue(session: Session, estate: Estate) -> Catalogue:
    """The estate's active price list lines by kind and category, in the list's order."""
    items = session.scalars(
        select(PriceItem)
        .where(PriceItem.estate_id == estate.id, PriceItem.active.is_(True))
        .order_by(PriceItem.kind, PriceItem.category, PriceItem.sort, PriceItem.id)
    ).all()
    grouped: dict[ServiceKind, dict[str, list[PriceItem]]] = {k: defaultdict(list) for k in ServiceKind}
    for item in items:
        grouped[item.kind][item.category].append(item)

    def categories(kind: ServiceKind) -> list[Category]:
        return [Category(code, found) for code, found in grouped[kind].items()]

    return Catalogue(categories(ServiceKind.repair), categories(ServiceKind.cleaning))


# --- opening requests -----------------------------------------------------------------------------------------------


def resident_unit(session: Session, estate: Estate, person: Person, unit_code: str, now: datetime) -> Unit:
    """The unit `unit_code` of this estate, if the identified resident lives in it today; else `not_your_unit`."""
    unit = registry.get_unit(session, estate, unit_code)
    today = clock.local_day(estate, now)
    if not any(o.unit_id == unit.id and o.current_on(today) for o in person.occupancies):
        raise Forbidden(
            "您不是该房号的住户，请到前台办理", "you do not live in this unit: ask the front desk", code="not_your_unit"
        )
    return unit


@dataclass(frozen=True)
class KioskOrder:
    """A repair request or a cleaning booking as the kiosk sends it: a line of the price list (its category and
    price come with it), or for a repair a category with the problem described (free, or quoted by engineering
    before any work, R-REP-3/4); the slot chosen (required for cleaning)."""

    kind: ServiceKind
    unit_code: str
    item_code: str = ""
    category: str = ""
    description: str = ""
    location: str = ""
    contact_phone: str = ""
    slot_start: datetime | None = None


@dataclass(frozen=True)
class SlotRules:
    days: int
    capacity: int


def open_order(
    session: Session,
    actor: Actor,
    estate: Estate,
    person: Person,
    order: KioskOrder,
    now: datetime,
    rules: SlotRules,
) -> ServiceOrder:
    """Open the resident's repair request or cleaning booking (`request`: a device step, no staff permission)."""
    unit = resident_unit(session, estate, person, order.unit_code, now)
    if not order.item_code:
        if order.kind is ServiceKind.cleaning:
            raise DomainError("请选择清洁服务项目", "choose a cleaning service", code="missing_fields", fields=["item"])
        known = {c.code for c in catalogue(session, estate).repair}
        if order.category not in known:
            raise DomainError("请选择维修类别", "choose a repair category", code="unknown_category", field="category")
        if not order.description.strip():
            raise DomainError(
                "请描述需要维修的问题", "describe what needs repairing", code="missing_fields", fields=["description"]
            )
    if order.kind is ServiceKind.cleaning and order.slot_start is None:
        raise DomainError("请选择上门时间", "choose a time for the visit", code="missing_fields", fields=["slot"])
    slot = None
    if order.slot_start is not None:
        slot = slots.book(session, estate, order.kind, order.slot_start, now, days=rules.days, capacity=rules.capacity)
    request = intake.OrderRequest(
        kind=order.kind,
        channel=Channel.kiosk,
        unit_id=unit.id,
        contact_name=person.name,
        contact_phone=order.contact_phone.strip() or person.phone,
        item_code=order.item_code,
        category=order.category,
        description=order.description,
        location=order.location,
        appointment_start=slot.start if slot else None,
        appointment_end=slot.end if slot else None,
        person_id=person.id,
    )
    return intake.open_order(session, actor, estate, request, now, by=None, note="自助机 / kiosk")


def open_feedback(
    session: Session,
    actor: Actor,
    estate: Estate,
    person: Person,
    unit_code: str,
    category: FeedbackCategory,
    subject: str,
    details: str,
    now: datetime,
    *,
    contact_phone: str = "",
    contact_back: str = "phone",
) -> FeedbackForm:
    """The resident's feedback, received now on a form due within 1 working day (R-FB-1, 3)."""
    unit = resident_unit(session, estate, person, unit_code, now)
    request = intake.FeedbackRequest(
        channel=Channel.kiosk,
        category=category,
        contact_name=person.name,
        subject=subject,
        details=details,
        contact_phone=contact_phone.strip() or person.phone,
        contact_back=contact_back,
        unit_id=unit.id,
        person_id=person.id,
    )
    return intake.open_feedback(session, actor, estate, request, now, by=None, note="自助机 / kiosk")


# --- the resident's own requests ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MyRequests:
    orders: list[ServiceOrder]
    forms: list[FeedbackForm]
    callbacks: dict[int, CallTask] = field(default_factory=dict)  # order id → its latest callback made


def my_requests(session: Session, estate: Estate, person: Person) -> MyRequests:
    """The resident's own latest orders and forms, newest first, with each order's latest callback made."""
    orders = list(
        session.scalars(
            select(ServiceOrder)
            .where(ServiceOrder.estate_id == estate.id, ServiceOrder.person_id == person.id)
            .order_by(ServiceOrder.id.desc())
            .limit(MY_REQUESTS_LIMIT)
        )
    )
    forms = list(
        session.scalars(
            select(FeedbackForm)
            .where(FeedbackForm.estate_id == estate.id, FeedbackForm.person_id == person.id)
            .order_by(FeedbackForm.id.desc())
            .limit(MY_REQUESTS_LIMIT)
        )
    )
    return MyRequests(orders, forms, latest_callbacks(session, orders))


def latest_callbacks(session: Session, orders: list[ServiceOrder]) -> dict[int, CallTask]:
    """Each order's latest callback made, by order id."""
    callbacks: dict[int, CallTask] = {}
    if orders:
        tasks = session.scalars(
            select(CallTask)
            .where(
                CallTask.order_id.in_([o.id for o in orders]),
                CallTask.reason.in_(CALLBACKS),
                CallTask.done_at.is_not(None),
            )
            .order_by(CallTask.done_at)
        )
        for task in tasks:
            if task.order_id is not None:
                callbacks[task.order_id] = task  # the latest wins
    return callbacks


def withdraw(
    session: Session, actor: Actor, estate: Estate, person: Person, number: str, now: datetime
) -> ServiceOrder:
    """Withdraw the resident's own order while nobody has taken it up (`withdraw`: from `new` only); once assigned
    or dispatched it is refused (`wrong_state`) and the resident asks the front desk."""
    order = session.scalar(
        select(ServiceOrder).where(ServiceOrder.estate_id == estate.id, ServiceOrder.number == number)
    )
    if order is None:
        raise NotFound("没有这张单", "no such request", code="request_not_found")
    if order.person_id != person.id:
        raise Forbidden(
            "这不是您的申请，请到前台办理", "this is not your request: ask the front desk", code="not_your_request"
        )
    workflow.step(
        session, actor, PROCESS[order.kind], order, "withdraw", now, note="住户在自助机撤回 / withdrawn at kiosk"
    )
    return order
