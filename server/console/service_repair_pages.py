"""Repair work orders 《工程维修单》 in the console (R-REP-1…9): the list with its filters, a new order taken at the
front desk (or from an e-mail, a letter, another department), and the order with its full history and the steps
each role may take on it — assign, book the visit, the resident's acceptance of the quote or a price dispute,
start, could not finish, finish with the resident's signature on the pad, the supervisor's sign-off, reopening —
and the printable order. The registers built from the orders are in service_repair_register_pages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.console.key_pages import local_input, local_time, row_id, translator
from server.console.pages import form_action, language, record_step
from server.console.registers import Column, form_file
from server.console.registers import Form as PaperForm
from server.console.registry_pages import flash_key, page_size, parse_yuan, view, wants_fragment, yuan
from server.contract.fields import Text, parse_day
from server.db.models import CallTask, Channel, OrderState, ServiceKind, ServiceOrder, StaffUser
from server.domain import clock, registry
from server.domain.errors import DomainError
from server.domain.permissions import Perm
from server.domain.service import intake, prices, repairs, signatures
from server.domain.service import repair_registers as reg
from server.domain.service.intake import OrderRequest, Quote
from server.web.deps import Console, DbSession, Now, require
from server.web.limits import SIGNATURE_BODY
from server.web.params import PageNo, RowId

router = APIRouter()

Viewer = Annotated[Console, require(Perm.service_view)]
Desk = Annotated[Console, require(Perm.service_intake)]
Engineer = Annotated[Console, require(Perm.repairs_work)]
Supervisor = Annotated[Console, require(Perm.service_supervise)]

BASE = "/console/service/repairs"
DESK_CHANNELS = (Channel.desk, Channel.email, Channel.department, Channel.letter)  # the phone has its own page
DONE = frozenset(
    f"repair_{done}"
    for done in (
        "opened", "assigned", "scheduled", "quote_accepted", "dispute_recorded", "started", "unfinished",
        "finished", "signed_off", "reopened", "call_again", "reason_saved", "cancelled",
    )
)  # fmt: skip
FormText = Annotated[Text, Form(max_length=200)]
Short = Annotated[Text, Form(max_length=40)]
Choice = Annotated[Text, Query(max_length=20)]

# 《工程维修单》 on paper: the order's facts, the resident's opinion and the three signatures (R-REP-7).
REPAIR_FORM = PaperForm(
    "repair-order",
    "工程维修单",
    "Repair work order",
    fields=(
        Column("number", "单号", "Number"), Column("channel", "受理方式", "Channel"),
        Column("unit", "房号", "Unit"), Column("contact", "联系人及电话", "Contact"),
        Column("category", "类别", "Category"), Column("item", "项目", "Item"),
        Column("description", "维修内容", "Work requested", 100), Column("location", "位置", "Where"),
        Column("price", "收费（由财务结算）", "Charge (billed by finance)"),
        Column("appointment", "预约时间", "Appointment"), Column("engineer", "维修人员", "Repairer"),
        Column("started", "开工时间", "Started"), Column("done", "完工时间", "Finished"),
        Column("unfinished", "未完成原因", "Could not finish", 100),
        Column("opinion", "住户意见", "Resident's opinion", 100), Column("satisfied", "是否满意", "Satisfied"),
        Column("returned", "返回客服中心", "Returned to the CS centre"),
        Column("repairer", "维修人员", "Repairer"), Column("supervisor", "工程主管", "Engineering supervisor"),
        Column("conduct", "作业须知", "On site", 100),
    ),
    signatures=(("住户签名", "Resident"), ("维修人员", "Repairer"), ("工程主管", "Engineering supervisor")),
)  # fmt: skip


def state_label(t: Callable[..., str]) -> Callable[[Any], str]:
    return lambda state: t(f"repairs.state.{state.value if hasattr(state, 'value') else state}")


def repair_view(request: Request, console: Console, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A repair page with what its templates share: state names in the reader's language."""
    t = translator(request)
    return view(request, console, template, status=status, state_name=state_label(t), **context)


# --- the list -------------------------------------------------------------------------------------------------------


def _day(text: str) -> date | None:
    try:
        return parse_day(text) if text else None
    except ValueError:
        return None


@router.get("/service/repairs")
def order_list(
    request: Request,
    console: Viewer,
    db: DbSession,
    now: Now,
    state: Choice = "",
    late: bool = False,
    category: Choice = "",
    engineer: Annotated[Text, Query(max_length=10)] = "",
    day: Annotated[Text, Query(max_length=10)] = "",
    page: PageNo = 1,
    done: Text = "",
) -> Response:
    estate = console.require_estate()
    chosen = OrderState(state) if state in OrderState.__members__ else None
    engineer_id = int(engineer) if engineer.isdigit() and len(engineer) < 10 else None
    f = reg.RepairFilter(chosen, late, category, engineer_id, _day(day))
    found = reg.orders_page(db, estate, f, now, page, page_size(request))
    names = reg.staff_names(db, {o.assignee_id for o in found.items})
    query = {"state": state, "late": late, "category": category, "engineer": engineer, "day": day}
    template = "service/repairs/list_table.html" if wants_fragment(request) else "service/repairs/list.html"
    return repair_view(
        request, console, template, page=found, query=query, names=names, now=now,
        late_of=lambda o: reg.is_late(o, now), states=list(OrderState),
        categories=prices.categories(db, estate, ServiceKind.repair), engineers=repairs.engineers(db, estate),
        can_open=console.can(Perm.service_intake), flash=flash_key(done, DONE),
    )  # fmt: skip


# --- a new order at the front desk (R-REP-1, 3) ---------------------------------------------------------------------


def _new_form(
    request: Request, db: Session, console: Console, *, status: int = 200, values: dict[str, Any] | None = None,
    error: str = "",
) -> HTMLResponse:  # fmt: skip
    estate = console.require_estate()
    return repair_view(
        request, console, "service/repairs/new.html", status=status, v=values or {"channel": "desk"}, error=error,
        items=prices.items(db, estate, ServiceKind.repair, active_only=True), channels=DESK_CHANNELS,
        categories=prices.categories(db, estate, ServiceKind.repair),
    )  # fmt: skip


@router.get("/service/repairs/new")
def new_order(request: Request, console: Desk, db: DbSession) -> Response:
    return _new_form(request, db, console)


def amount(text: str, zh: str, en: str) -> int:
    """A typed amount of yuan, in fen; a clear error for anything else."""
    fen = parse_yuan(text)
    if fen is None or fen < 0 or fen > prices.MAX_PRICE_FEN:
        raise DomainError(f"{zh}不是有效金额：{text}", f"{en} is not an amount: {text}", code="bad_amount")
    return fen


def quote_of(materials: str, labour: str) -> Quote | None:
    if not materials.strip() and not labour.strip():
        return None
    return Quote(amount(materials or "0", "材料费", "materials"), amount(labour or "0", "人工费", "labour"))


@router.post("/service/repairs/new")
def open_order(
    request: Request,
    console: Desk,
    db: DbSession,
    now: Now,
    channel: Annotated[Text, Form(max_length=20)] = "",
    room: Annotated[Text, Form(max_length=16)] = "",
    contact_name: Short = "",
    contact_phone: Annotated[Text, Form(max_length=20)] = "",
    item_code: Annotated[Text, Form(max_length=20)] = "",
    category: Annotated[Text, Form(max_length=20)] = "",
    paid: Annotated[bool, Form()] = False,
    materials: Annotated[Text, Form(max_length=20)] = "",
    labour: Annotated[Text, Form(max_length=20)] = "",
    description: Annotated[Text, Form(max_length=400)] = "",
    location: Annotated[Text, Form(max_length=60)] = "",
    appointment_start: Annotated[Text, Form(max_length=20)] = "",
    appointment_end: Annotated[Text, Form(max_length=20)] = "",
) -> Response:
    """R-REP-1: the order, on the tracking sheet from the start; priced from the list or quoted (R-REP-3)."""
    estate = console.require_estate()
    values = {
        "channel": channel, "room": room, "contact_name": contact_name, "contact_phone": contact_phone,
        "item_code": item_code, "category": category, "paid": paid, "materials": materials, "labour": labour,
        "description": description, "location": location, "appointment_start": appointment_start,
        "appointment_end": appointment_end,
    }  # fmt: skip

    def open_it() -> Response:
        if channel not in {c.value for c in DESK_CHANNELS}:
            raise DomainError("请选择受理方式", "choose how the request came in", code="missing_fields")
        if not room.strip():
            raise DomainError("请填写房号", "give the unit", code="missing_fields", fields=["room"])
        unit = registry.get_unit(db, estate, room)
        start = local_time(estate, appointment_start, "预约开始时间", "the appointment's start")
        end = local_time(estate, appointment_end, "预约结束时间", "the appointment's end")
        request_ = OrderRequest(
            kind=ServiceKind.repair, channel=Channel(channel), unit_id=unit.id, contact_name=contact_name,
            contact_phone=contact_phone, item_code=item_code.strip(), category=category, description=description,
            location=location, paid=paid, quote=None if item_code.strip() else quote_of(materials, labour),
            appointment_start=start, appointment_end=end,
        )  # fmt: skip
        if not request_.item_code and not category.strip():
            raise DomainError(
                "请选择价目表项目或维修类别", "choose a price-list line or a category", code="missing_fields"
            )
        order = intake.open_order(db, console.actor, estate, request_, now, by=console.user)
        return RedirectResponse(f"{BASE}/{order.id}?done=repair_opened", status_code=303)

    return form_action(
        request,
        db,
        open_it,
        lambda status, error: _new_form(request, db, console, status=status, values=values, error=error),
    )


# --- the order --------------------------------------------------------------------------------------------------------


def _order_page(
    request: Request, db: Session, console: Console, now: Any, order_id: int, *, status: int = 200, **context: Any
) -> HTMLResponse:
    estate = console.require_estate()
    order = repairs.get_order(db, estate, order_id)
    steps = repairs.history(db, order)
    tasks = list(db.scalars(select(CallTask).where(CallTask.order_id == order.id).order_by(CallTask.id)))
    names = reg.staff_names(
        db,
        {
            order.assignee_id,
            order.supervisor_signed_by_id,
            *(s.staff_id for s in steps),
            *(t.called_by_id for t in tasks),
        },
    )
    lead_choices = repairs.engineers(db, estate)
    return repair_view(
        request, console, "service/repairs/detail.html", status=status, order=order, steps=steps, tasks=tasks,
        names=names, engineers=lead_choices, quoted=repairs.is_quoted(order), disputed=repairs.disputed(db, order),
        callback_failed=repairs.callback_failed(db, order), late=reg.is_late(order, now),
        billed=reg.billed_fen(order), suggested=local_input(estate, now.replace(second=0, microsecond=0)),
        can_work=console.can(Perm.repairs_work), can_intake=console.can(Perm.service_intake),
        can_supervise=console.can(Perm.service_supervise), v=context.pop("v", {}), **context,
    )  # fmt: skip


@router.get("/service/repairs/{order_id}")
def order_detail(
    request: Request, console: Viewer, db: DbSession, now: Now, order_id: RowId, done: Text = ""
) -> Response:
    return _order_page(request, db, console, now, order_id, flash=flash_key(done, DONE))


def _act(
    request: Request, db: Session, console: Console, now: Any, order_id: int, done: str,
    work: Callable[[ServiceOrder, StaffUser], object], values: dict[str, Any] | None = None,
) -> Response:  # fmt: skip
    """A step on the order: taken, the order again with its confirmation; refused, the order with the message and
    nothing changed."""
    return record_step(
        request, db, lambda: repairs.get_order(db, console.require_estate(), order_id),
        lambda order: work(order, console.user), lambda order: f"{BASE}/{order.id}?done=repair_{done}",
        lambda order, status, error: _order_page(
            request, db, console, now, order.id, status=status, error=error, v=values or {}
        ),
    )  # fmt: skip


@router.post("/service/repairs/{order_id}/assign")
def assign(
    request: Request, console: Engineer, db: DbSession, now: Now, order_id: RowId,
    engineer: Annotated[Text, Form(max_length=10)] = "", note: FormText = "",
) -> Response:  # fmt: skip
    return _act(request, db, console, now, order_id, "assigned", lambda o, by: repairs.assign(
        db, console.actor, o, row_id(engineer, "维修人员", "repairer"), now, by=by, note=note.strip()))  # fmt: skip


@router.post("/service/repairs/{order_id}/schedule")
def schedule(
    request: Request, console: Engineer, db: DbSession, now: Now, order_id: RowId,
    start: Annotated[Text, Form(max_length=20)] = "", end: Annotated[Text, Form(max_length=20)] = "",
) -> Response:  # fmt: skip
    """R-REP-2: the visit at the time agreed with the resident."""
    estate = console.require_estate()

    def book(order: ServiceOrder, by: StaffUser) -> None:
        begins = local_time(estate, start, "预约开始时间", "the appointment's start")
        ends = local_time(estate, end, "预约结束时间", "the appointment's end")
        if begins is None or ends is None:
            raise DomainError(
                "请填写预约的开始和结束时间", "give the appointment's start and end", code="missing_fields"
            )
        repairs.schedule(db, console.actor, order, begins, ends, now, by=by)

    return _act(request, db, console, now, order_id, "scheduled", book, {"start": start, "end": end})


@router.post("/service/repairs/{order_id}/accept-quote")
def accept_quote(request: Request, console: Viewer, db: DbSession, now: Now, order_id: RowId) -> Response:
    """R-REP-4: by the repairer on site or the desk on the phone (the domain checks which roles)."""
    return _act(request, db, console, now, order_id, "quote_accepted",
                lambda o, by: repairs.accept_quote(db, console.actor, o, now, by=by))  # fmt: skip


@router.post("/service/repairs/{order_id}/dispute")
def dispute(
    request: Request, console: Viewer, db: DbSession, now: Now, order_id: RowId,
    note: FormText = "", lead: Annotated[Text, Form(max_length=10)] = "",
) -> Response:  # fmt: skip
    """R-REP-4: a price dispute, routed to engineering's duty lead."""
    estate = console.require_estate()

    def record(order: ServiceOrder, by: StaffUser) -> None:
        duty = None
        if lead.strip():
            duty = next((e for e in repairs.engineers(db, estate) if str(e.id) == lead.strip()), None)
            if duty is None:
                raise DomainError(
                    "值班负责人须为本小区工程人员", "the duty lead must be of engineering", code="not_an_engineer"
                )
        repairs.dispute_price(db, console.actor, order, note, now, by=by, lead=duty)

    return _act(request, db, console, now, order_id, "dispute_recorded", record, {"dispute_note": note})


@router.post("/service/repairs/{order_id}/start")
def start(request: Request, console: Engineer, db: DbSession, now: Now, order_id: RowId) -> Response:
    return _act(
        request, db, console, now, order_id, "started", lambda o, by: repairs.start(db, console.actor, o, now, by=by)
    )


@router.post("/service/repairs/{order_id}/unfinished")
def could_not_finish(
    request: Request, console: Engineer, db: DbSession, now: Now, order_id: RowId, reason: FormText = "",
    next_start: Annotated[Text, Form(max_length=20)] = "", next_end: Annotated[Text, Form(max_length=20)] = "",
) -> Response:  # fmt: skip
    """R-REP-5: why, and the next visit when one is agreed."""
    estate = console.require_estate()

    def record(order: ServiceOrder, by: StaffUser) -> None:
        begins = local_time(estate, next_start, "下次预约开始时间", "the next visit's start")
        ends = local_time(estate, next_end, "下次预约结束时间", "the next visit's end")
        repairs.unfinished(db, console.actor, order, reason, now, by=by, next_start=begins, next_end=ends)

    values = {"reason": reason, "next_start": next_start, "next_end": next_end}
    return _act(request, db, console, now, order_id, "unfinished", record, values)


@router.post("/service/repairs/{order_id}/finish", max_body_size=SIGNATURE_BODY)
def finish(
    request: Request, console: Engineer, db: DbSession, now: Now, order_id: RowId,
    opinion: FormText = "", satisfied: Annotated[Text, Form(max_length=3)] = "",
    signature: Annotated[Text, Form(max_length=signatures.MAX_DATA_URL)] = "", repairer: Short = "",
    actual: Annotated[Text, Form(max_length=20)] = "",
) -> Response:  # fmt: skip
    """R-REP-7: the resident's opinion and signature (drawn on the pad), the repairer's name."""

    def record(order: ServiceOrder, by: StaffUser) -> None:
        if satisfied not in ("yes", "no"):
            raise DomainError("请选择住户是否满意", "say whether the resident is satisfied", code="missing_fields")
        actual_fen = amount(actual, "实际费用", "the actual cost") if actual.strip() else None
        done = repairs.Completion(opinion, satisfied == "yes", signature, repairer, actual_fen)
        repairs.finish(db, console.actor, order, done, now, by=by)

    values = {"opinion": opinion, "satisfied": satisfied, "repairer": repairer, "actual": actual}
    return _act(request, db, console, now, order_id, "finished", record, values)


@router.post("/service/repairs/{order_id}/sign-off")
def sign_off(request: Request, console: Engineer, db: DbSession, now: Now, order_id: RowId) -> Response:
    """R-REP-7: the engineering supervisor signs and the order returns to the CS centre; its callback is queued."""
    return _act(request, db, console, now, order_id, "signed_off",
                lambda o, by: repairs.sign_off(db, console.actor, o, now, by=by))  # fmt: skip


@router.post("/service/repairs/{order_id}/reopen")
def reopen(
    request: Request, console: Supervisor, db: DbSession, now: Now, order_id: RowId, note: FormText = ""
) -> Response:
    return _act(request, db, console, now, order_id, "reopened",
                lambda o, by: repairs.reopen(db, console.actor, o, note, now, by=by),
                {"reopen_note": note})  # fmt: skip


@router.post("/service/repairs/{order_id}/call-again")
def call_again(request: Request, console: Supervisor, db: DbSession, now: Now, order_id: RowId) -> Response:
    return _act(request, db, console, now, order_id, "call_again",
                lambda o, by: repairs.call_again(db, console.actor, o, now, by=by))  # fmt: skip


@router.post("/service/repairs/{order_id}/unreturned-reason")
def unreturned_reason(
    request: Request, console: Engineer, db: DbSession, now: Now, order_id: RowId, reason: FormText = ""
) -> Response:
    """R-REP-11: engineering's reason on the unreturned-order register."""
    return _act(request, db, console, now, order_id, "reason_saved",
                lambda o, by: repairs.unreturned_reason(db, console.actor, o, reason, now, by=by))  # fmt: skip


@router.post("/service/repairs/{order_id}/cancel")
def cancel(request: Request, console: Desk, db: DbSession, now: Now, order_id: RowId, note: FormText = "") -> Response:
    return _act(request, db, console, now, order_id, "cancelled",
                lambda o, by: repairs.cancel(db, console.actor, o, note, now, by=by),
                {"cancel_note": note})  # fmt: skip


@router.get("/service/repairs/{order_id}/form.{fmt}")
def order_form(
    request: Request, console: Viewer, db: DbSession, order_id: RowId, fmt: Literal["pdf", "xlsx"]
) -> Response:
    """The printable 《工程维修单》 with the resident's signature in its box."""
    estate = console.require_estate()
    order = repairs.get_order(db, estate, order_id)
    lang, t = language(request), translator(request)
    names = reg.staff_names(db, {order.assignee_id, order.supervisor_signed_by_id})
    local = lambda at: clock.local_text(estate, at)  # noqa: E731
    item = order.item
    values = {
        "number": order.number, "channel": t(f"repairs.channel.{order.channel.value}"), "unit": order.unit.code,
        "contact": f"{order.contact_name} {order.contact_phone}", "category": order.category,
        "item": (item.name_zh if lang == "zh" or not item.name_en else item.name_en) if item else "",
        "description": order.description, "location": order.location,
        "price": yuan(reg.billed_fen(order)) if order.paid else t("repairs.free"),
        "appointment": f"{local(order.appointment_start)} – {local(order.appointment_end)}"
        if order.appointment_start else "",
        "engineer": names.get(order.assignee_id or 0, ""), "started": local(order.started_at),
        "done": local(order.done_at), "unfinished": order.unfinished_reason, "opinion": order.resident_opinion,
        "satisfied": "" if order.satisfied is None else t("repairs.yes" if order.satisfied else "repairs.no"),
        "returned": local(order.returned_at), "repairer": order.repairer_signed_by,
        "supervisor": names.get(order.supervisor_signed_by_id or 0, ""),
        "conduct": t("repairs.conduct"),  # R-REP-6, printed on every order the repairer takes along
    }  # fmt: skip
    heading = f"{estate.name} · {order.number}"
    signed = {"住户签名": order.resident_signature}
    return form_file(
        fmt, REPAIR_FORM, values, f"repair-order-{order.number}", lang=lang, heading=heading, signatures=signed,
        signed_at={"住户签名": local(order.done_at)},
    )  # fmt: skip
