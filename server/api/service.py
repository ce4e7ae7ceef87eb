"""The service desk's kiosk routes of the device API (issue 17, item 6): the catalogue of repairs, cleaning services
and feedback categories with their listed prices, the bookable time slots, a repair request, a cleaning booking and
a feedback form for an identified resident, the resident's own requests, and withdrawing one not yet taken up.

Every write is keyed (Idempotency-Key): a retry after a lost answer gets the first answer and opens nothing twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from server.contract.fields import Text
from server.contract.schemas import ResidentIdentity
from server.contract.service import (
    CallbackOut,
    CleaningBookingIn,
    FeedbackCategoryOut,
    FeedbackIn,
    FeedbackOut,
    MyRequestsOut,
    ReceiptLookupIn,
    RepairRequestIn,
    ServiceCatalogueOut,
    ServiceCategoryOut,
    ServiceItemOut,
    ServiceOrderOut,
    ServiceResidentIn,
    ServiceSlotOut,
    ServiceSlotsOut,
    VisitOut,
)
from server.db.models import (
    CallTask,
    Device,
    FeedbackCategory,
    FeedbackForm,
    OrderState,
    Person,
    ServiceKind,
    ServiceOrder,
)
from server.domain import audit, clock, idempotency, registry
from server.domain.service import receipts, resident_requests, slots
from server.domain.service.resident_requests import KioskOrder, SlotRules
from server.web.deps import DbSession, IdempotencyKey, KioskDevice, Now, device_actor, json_answer
from server.web.errors import error_body

router = APIRouter(prefix="/service", tags=["service"])

KIOSK_ONLY = {403: {"description": "wrong_device_kind: not a kiosk"}, 401: {"description": "Unknown device token"}}
IDENTIFIED = {
    **KIOSK_ONLY,
    401: {"description": "unknown_card or wrong_pin (wrong PINs count towards the lock)"},
    403: {"description": "wrong_device_kind (not a kiosk); not_your_unit: the resident does not live there"},
    404: {"description": "unknown_unit: no such unit in this estate"},
    429: {"description": "pin_locked, card_throttled"},
}
WRITES = {
    **IDENTIFIED,
    400: {
        "description": "not_on_price_list, unknown_category, missing_fields, bad_slot",
        "content": {
            "application/json": {"example": error_body("not_on_price_list", "'tap-x' is not on the price list")}
        },
    },
    409: {"description": "slot_full: the slot was booked up meanwhile"},
}


def slot_rules(request: Request, kind: ServiceKind) -> SlotRules:
    settings = request.app.state.settings
    capacity = settings.repair_slot_capacity if kind is ServiceKind.repair else settings.cleaning_slot_capacity
    return SlotRules(days=settings.service_slot_days, capacity=capacity)


# --- the catalogue and the slots ------------------------------------------------------------------------------------


@router.get("/catalogue", response_model=ServiceCatalogueOut, responses=KIOSK_ONLY)
def service_catalogue(device: KioskDevice, db: DbSession) -> ServiceCatalogueOut:
    """Repair categories with their common problems, cleaning services, all with their listed prices, and the
    feedback categories; `offered` names the services the kiosk shows (a kind with nothing on the price list is
    not offered)."""
    found = resident_requests.catalogue(db, device.estate)

    def categories(listed: list[resident_requests.Category]) -> list[ServiceCategoryOut]:
        out = []
        for category in listed:
            zh, en = resident_requests.category_name(category.code)
            items = [
                ServiceItemOut(
                    code=i.code,
                    name=i.name_zh,
                    name_en=i.name_en or i.name_zh,
                    unit=i.unit_zh,
                    price_fen=i.price_fen,
                    paid=i.price_fen > 0,
                )
                for i in category.items
            ]
            out.append(ServiceCategoryOut(code=category.code, name=zh, name_en=en, items=items))
        return out

    return ServiceCatalogueOut(
        offered=found.offered,  # type: ignore[arg-type]
        repair=categories(found.repair),
        cleaning=categories(found.cleaning),
        feedback=[
            FeedbackCategoryOut(code=c.value, name=zh, name_en=en)  # type: ignore[arg-type]
            for c, (zh, en) in resident_requests.FEEDBACK_NAMES.items()
        ],
    )


@router.get("/slots", response_model=ServiceSlotsOut, responses=KIOSK_ONLY)
def service_slots(
    request: Request,
    device: KioskDevice,
    db: DbSession,
    now: Now,
    kind: Literal["repair", "cleaning"],
    days: Annotated[int | None, Query(ge=1, le=slots.MAX_DAYS)] = None,
) -> ServiceSlotsOut:
    """The visit times of the estate's next working days (09:00–11:00, 14:00–16:00, 16:00–18:00), each with the
    visits still bookable in it; begun slots and non-working days are left out."""
    estate, service = device.estate, ServiceKind(kind)
    rules = slot_rules(request, service)
    found = slots.slots(db, estate, service, now, days=days or rules.days, capacity=rules.capacity)
    zone = clock.zone(estate)
    return ServiceSlotsOut(
        kind=kind,
        timezone=zone.key,
        slots=[
            ServiceSlotOut(
                day=s.day,
                start=s.start,
                end=s.end,
                label=f"{s.start.astimezone(zone):%H:%M}–{s.end.astimezone(zone):%H:%M}",
                capacity=s.capacity,
                free=s.free,
            )
            for s in found
        ],
    )


# --- writes ---------------------------------------------------------------------------------------------------------


def _identify(db: Session, device: Device, now: datetime, identity: ResidentIdentity, unit: str | None) -> Person:
    return registry.identify(
        db, device.estate, card=identity.card, unit=unit or "", pin=identity.pin or "", kiosk_id=device.id, now=now
    )


def _once(
    db: Session, device: Device, key: str, route: str, request_text: str, work: Callable[[Session], idempotency.Answer]
) -> Response:
    write = idempotency.DeviceWrite(device.id, key, route, request_text)
    return json_answer(idempotency.answer_once(db, write, work))


def _order_work(
    request: Request, device: Device, now: datetime, identity: ResidentIdentity, order: KioskOrder
) -> Callable[[Session], idempotency.Answer]:
    """The unit of work of a kiosk order: the resident identified, the order opened in an offered slot."""

    def work(session: Session) -> idempotency.Answer:
        person = _identify(session, device, now, identity, order.unit_code)
        opened = resident_requests.open_order(
            session, device_actor(request, device), device.estate, person, order, now, slot_rules(request, order.kind)
        )
        receipt = receipts.receipt_code(session, opened)
        return 201, order_out(opened, None, receipt).model_dump_json()

    return work


@router.post("/repairs", response_model=ServiceOrderOut, status_code=201, responses=WRITES)
def request_repair(
    body: RepairRequestIn, request: Request, device: KioskDevice, db: DbSession, now: Now, key: IdempotencyKey
) -> Response:
    """A repair request 《工程维修单》 for the identified resident's unit: a common problem of the price list at its
    listed price, or a category with the problem described; with the visit slot chosen, if one was. A retry with
    the same Idempotency-Key gets the same order."""

    order = KioskOrder(
        kind=ServiceKind.repair,
        unit_code=body.unit,
        item_code=body.item or "",
        category=body.category or "",
        description=body.description,
        location=body.location,
        contact_phone=body.contact_phone,
        slot_start=body.slot,
    )
    work = _order_work(request, device, now, body.identity, order)
    return _once(db, device, key, "service.repair", body.model_dump_json(), work)


@router.post("/cleanings", response_model=ServiceOrderOut, status_code=201, responses=WRITES)
def book_cleaning(
    body: CleaningBookingIn, request: Request, device: KioskDevice, db: DbSession, now: Now, key: IdempotencyKey
) -> Response:
    """A home-cleaning booking 《家居清洁服务派工单》 of a service on the price list for an offered slot. A retry with
    the same Idempotency-Key gets the same booking."""

    order = KioskOrder(
        kind=ServiceKind.cleaning,
        unit_code=body.unit,
        item_code=body.item,
        description=body.description,
        contact_phone=body.contact_phone,
        slot_start=body.slot,
    )
    work = _order_work(request, device, now, body.identity, order)
    return _once(db, device, key, "service.cleaning", body.model_dump_json(), work)


@router.post("/feedback", response_model=FeedbackOut, status_code=201, responses=IDENTIFIED)
def give_feedback(
    body: FeedbackIn, request: Request, device: KioskDevice, db: DbSession, now: Now, key: IdempotencyKey
) -> Response:
    """A suggestion, complaint, praise or question, received now on a feedback form 《客户意见处理单》 (R-FB-1) due
    within 1 working day. A retry with the same Idempotency-Key gets the same form."""

    def work(session: Session) -> idempotency.Answer:
        person = _identify(session, device, now, body.identity, body.unit)
        form = resident_requests.open_feedback(
            session,
            device_actor(request, device),
            device.estate,
            person,
            body.unit,
            FeedbackCategory(body.category),
            body.subject,
            body.details,
            now,
            contact_phone=body.contact_phone,
            contact_back=body.contact_back,
        )
        return 201, feedback_out(form).model_dump_json()

    return _once(db, device, key, "service.feedback", body.model_dump_json(), work)


@router.post("/my-requests", response_model=MyRequestsOut, responses=IDENTIFIED)
def my_requests(
    body: ServiceResidentIn, request: Request, device: KioskDevice, db: DbSession, now: Now, _key: IdempotencyKey
) -> MyRequestsOut:
    """The identified resident's own latest repair and cleaning orders (state, appointment, the visit, the
    callback's outcome) and feedback forms. Viewing is logged, as the list shows personal records."""
    estate = device.estate
    person = _identify(db, device, now, body.identity, body.unit)
    found = resident_requests.my_requests(db, estate, person)
    audit.record(
        db,
        device_actor(request, device),
        "kiosk.my_requests",
        "person",
        person.id,
        estate_id=estate.id,
        shown=len(found.orders) + len(found.forms),
    )
    return MyRequestsOut(
        orders=[order_out(o, found.callbacks.get(o.id)) for o in found.orders],
        feedback=[feedback_out(f) for f in found.forms],
    )


@router.post(
    "/requests/{number}/withdraw",
    response_model=ServiceOrderOut,
    responses={
        **IDENTIFIED,
        403: {"description": "not_your_request"},
        404: {"description": "request_not_found"},
        409: {"description": "wrong_state: already taken up (assigned, dispatched …): ask the front desk"},
    },
)
def withdraw(
    number: Text,
    body: ServiceResidentIn,
    request: Request,
    device: KioskDevice,
    db: DbSession,
    now: Now,
    key: IdempotencyKey,
) -> Response:
    """Withdraw the resident's own repair or cleaning request while nobody has taken it up (still new). A retry
    with the same Idempotency-Key gets the same answer."""

    def work(session: Session) -> idempotency.Answer:
        person = _identify(session, device, now, body.identity, body.unit)
        order = resident_requests.withdraw(session, device_actor(request, device), device.estate, person, number, now)
        return 200, order_out(order, None).model_dump_json()

    return _once(db, device, key, "service.withdraw", f"{number} {body.model_dump_json()}", work)


@router.post(
    "/receipt",
    response_model=ServiceOrderOut,
    responses={**KIOSK_ONLY, 404: {"description": "receipt_unknown: malformed, forged or of another estate"}},
)
def receipt_lookup(
    body: ReceiptLookupIn, request: Request, device: KioskDevice, db: DbSession, _key: IdempotencyKey
) -> ServiceOrderOut:
    """The order a printed confirmation's QR code names, as it stands now (state, appointment, the visit, the
    callback): the signed code is the proof, so a scan shows that one order and nothing else. Logged."""
    order, callback = receipts.order_by_receipt(db, device.estate, body.code)
    audit.record(
        db, device_actor(request, device), "kiosk.receipt_lookup", "service_order", order.id, estate_id=order.estate_id
    )
    return order_out(order, callback)


# --- answers --------------------------------------------------------------------------------------------------------


def order_out(order: ServiceOrder, callback: CallTask | None, receipt: str = "") -> ServiceOrderOut:
    zh, en = resident_requests.category_name(order.category)
    item = order.item
    visited = order.worker_name or order.started_at or order.done_at or order.unfinished_reason
    return ServiceOrderOut(
        number=order.number,
        kind=order.kind.value,  # type: ignore[arg-type]
        state=order.state.value,
        unit=order.unit.code,
        category=order.category,
        category_name=zh,
        category_name_en=en,
        item=item.code if item else None,
        item_name=item.name_zh if item else "",
        item_name_en=(item.name_en or item.name_zh) if item else "",
        description=order.description,
        paid=order.paid,
        price_fen=order.price_fen,
        appointment_start=order.appointment_start,
        appointment_end=order.appointment_end,
        created_at=order.created_at,
        visit=VisitOut(
            worker=order.worker_name,
            started_at=order.started_at,
            done_at=order.done_at,
            unfinished_reason=order.unfinished_reason,
        )
        if visited
        else None,
        callback=CallbackOut(at=callback.done_at, outcome=callback.outcome.value)
        if callback is not None and callback.done_at is not None and callback.outcome is not None
        else None,
        withdrawable=order.state == OrderState.new,
        receipt_code=receipt,
    )


def feedback_out(form: FeedbackForm) -> FeedbackOut:
    return FeedbackOut(
        number=form.number,
        category=form.category.value,  # type: ignore[arg-type]
        state=form.state.value,
        subject=form.subject,
        received_at=form.received_at,
        due_at=form.due_at,
        answer=form.answer_to_resident,
    )
