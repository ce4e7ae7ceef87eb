"""Home cleaning in the console (R-CLN-1…8): the orders with their filters (overdue returns, out-of-scope requests),
booking, one order with its history and the steps the reader may take, the dispatch order 《家居清洁服务派工单》 and
the note 《留言条》 as printable PDFs, and the month's household-service register 《家政服务记录表》 with its finance
copy as XLSX and PDF. Every step is one call of `server.domain.service.cleaning`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from server.console.key_pages import local_input, local_time, pdf_file
from server.console.pages import form_action, language, record_step
from server.console.registers import form_file, register_pdf, register_xlsx
from server.console.registry_pages import XLSX, flash_key, page_size, view, wants_fragment, yuan
from server.console.service_cleaning_forms import (
    DISPATCH_ORDER,
    FINANCE_COPY,
    NOTE,
    REGISTER,
    dispatch_values,
    note_values,
)
from server.contract.fields import Text, parse_day
from server.db.models import CallOutcome, CallReason, Channel, Estate, OrderState, ServiceKind, ServiceOrder
from server.domain import clock, registry
from server.domain.errors import DomainError
from server.domain.permissions import Perm
from server.domain.service import cleaning, history, signatures
from server.domain.service.intake import OrderRequest
from server.domain.service.processes import CLEANING
from server.web.deps import Console, DbSession, Now, SettingsDep, require
from server.web.limits import SIGNATURE_BODY
from server.web.params import PageNo, RowId

router = APIRouter()

Viewer = Annotated[Console, require(Perm.service_view)]
Intake = Annotated[Console, require(Perm.service_intake)]
Caller = Annotated[Console, require(Perm.service_callbacks)]
Cleaner = Annotated[Console, require(Perm.cleaning_work)]
Filer = Annotated[Console, require(Perm.service_file)]

BASE = "/console/service/cleaning"
DONE = frozenset(
    f"cleaning_{done}"
    for done in ("booked", "dispatched", "nobody_home", "rebooked", "cancelled", "out_of_scope", "finished", "returned",
                 "called", "filed", "month_filed")
)  # fmt: skip
Choice = Annotated[Text, Query(max_length=20)]
Short = Annotated[Text, Form(max_length=40)]
Long = Annotated[Text, Form(max_length=400)]
Moment = Annotated[Text, Form(max_length=20)]
Month = Annotated[Text, Query(max_length=7)]


def _day(text: str) -> date | None:
    try:
        return parse_day(text) if text else None
    except ValueError:
        return None


def _month(estate: Estate, text: str, now: datetime) -> date:
    """`YYYY-MM` as the month's first day; the estate's current month when empty or not a month."""
    try:
        return parse_day(f"{text}-01") if text else clock.today(estate, now).replace(day=1)
    except ValueError:
        return clock.today(estate, now).replace(day=1)


def _filter(
    state: str, overdue: bool, out_of_scope: bool, unit: str, since: str, until: str
) -> cleaning.CleaningFilter:
    return cleaning.CleaningFilter(
        state=OrderState(state) if state in OrderState.__members__ else None,
        overdue=overdue,
        out_of_scope=out_of_scope,
        unit=unit.strip().upper(),
        since=_day(since),
        until=_day(until),
    )


def _service_name(order: ServiceOrder, lang: str) -> str:
    if order.item is None:
        return order.category
    return order.item.name_zh if lang == "zh" or not order.item.name_en else order.item.name_en


@router.get("/service/cleaning")
def orders(
    request: Request,
    console: Viewer,
    db: DbSession,
    now: Now,
    state: Choice = "",
    overdue: bool = False,
    out_of_scope: bool = False,
    unit: Annotated[Text, Query(max_length=16)] = "",
    since: Choice = "",
    until: Choice = "",
    page: PageNo = 1,
    done: Text = "",
) -> Response:
    estate = console.require_estate()
    found = cleaning.orders_page(
        db, estate, _filter(state, overdue, out_of_scope, unit, since, until), now, page, page_size(request)
    )
    query = {"state": state, "overdue": overdue, "out_of_scope": out_of_scope, "unit": unit, "since": since,
             "until": until}  # fmt: skip
    template = "service/cleaning/list_table.html" if wants_fragment(request) else "service/cleaning/list.html"
    return view(
        request, console, template, page=found, query=query, states=list(OrderState), now_utc=now,
        is_overdue=cleaning.is_overdue, service_name=lambda o: _service_name(o, language(request)),
        month=clock.today(estate, now).strftime("%Y-%m"), flash=flash_key(done, DONE),
    )  # fmt: skip


# --- the month's register (R-CLN-8) ----------------------------------------------------------------------------------


@router.get("/service/cleaning/register.{fmt}")
def household_register(
    console: Viewer, db: DbSession, now: Now, fmt: Literal["xlsx", "pdf"], month: Month = "", copy: Choice = ""
) -> Response:
    """《家政服务记录表》 of a month (the current one by default); `copy=finance`: the finance copy (paid orders)."""
    estate = console.require_estate()
    first = _month(estate, month, now)
    rows = cleaning.register_rows(db, estate, first, now)
    register = REGISTER
    if copy == "finance":
        register, rows = FINANCE_COPY, cleaning.finance_rows(rows)
    heading = f"{estate.name} · {first:%Y-%m}"
    name = f"{register.code}-{first:%Y-%m}.{fmt}"
    if fmt == "pdf":
        return pdf_file(register_pdf(register, rows, heading=heading), name)
    return Response(
        register_xlsx(register, rows, heading=heading),
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


@router.post("/service/cleaning/file-month")
def file_month(console: Filer, db: DbSession, now: Now, month: Annotated[Text, Form(max_length=7)] = "") -> Response:
    """Month end (R-CLN-8): the month's orders that are back and called back go into the register's binder."""
    estate = console.require_estate()
    cleaning.file_month(db, console.actor, estate, _month(estate, month, now), now, by=console.user)
    return RedirectResponse(f"{BASE}?done=cleaning_month_filed", status_code=303)


# --- booking (R-CLN-1) ------------------------------------------------------------------------------------------------


def _new_page(
    request: Request, db: Session, console: Console, *, status: int = 200, values: dict[str, Any] | None = None,
    error: str = "",
) -> HTMLResponse:  # fmt: skip
    return view(
        request, console, "service/cleaning/new.html", status=status, v=values or {"channel": "phone"}, error=error,
        services=cleaning.services(db, console.require_estate()), channels=list(Channel),
    )  # fmt: skip


@router.get("/service/cleaning/new")
def new_order(request: Request, console: Intake, db: DbSession) -> Response:
    return _new_page(request, db, console)


@router.post("/service/cleaning/new")
def book(
    request: Request,
    console: Intake,
    db: DbSession,
    now: Now,
    unit: Annotated[Text, Form(max_length=16)] = "",
    contact_name: Short = "",
    contact_phone: Annotated[Text, Form(max_length=20)] = "",
    item: Annotated[Text, Form(max_length=20)] = "",
    channel: Annotated[Text, Form(max_length=20)] = "phone",
    location: Annotated[Text, Form(max_length=60)] = "",
    description: Long = "",
    start: Moment = "",
    end: Moment = "",
) -> Response:
    estate = console.require_estate()
    values = {
        "unit": unit, "contact_name": contact_name, "contact_phone": contact_phone, "item": item, "channel": channel,
        "location": location, "description": description, "start": start, "end": end,
    }  # fmt: skip

    def save() -> Response:
        if not unit.strip():
            raise DomainError("请填写房号", "give the unit", code="missing_fields", fields=["unit"])
        if not item:
            raise DomainError("请选择服务项目", "choose the service", code="missing_fields", fields=["item"])
        request_ = OrderRequest(
            kind=ServiceKind.cleaning,
            channel=Channel(channel) if channel in Channel.__members__ else Channel.desk,
            unit_id=registry.get_unit(db, estate, unit).id,
            contact_name=contact_name,
            contact_phone=contact_phone,
            item_code=item,
            description=description,
            location=location,
            appointment_start=local_time(estate, start, "预约开始时间", "the booked start"),
            appointment_end=local_time(estate, end, "预约结束时间", "the booked end"),
        )
        order = cleaning.book(db, console.actor, estate, request_, now, by=console.user)
        return RedirectResponse(f"{BASE}/{order.id}?done=cleaning_booked", status_code=303)

    def again(status: int, error: str) -> Response:
        return _new_page(request, db, console, status=status, values=values, error=error)

    return form_action(request, db, save, again)


# --- one order -------------------------------------------------------------------------------------------------------


def _order_page(
    request: Request, db: Session, console: Console, order: ServiceOrder, now: datetime, *, status: int = 200,
    **context: Any,
) -> HTMLResponse:  # fmt: skip
    estate = console.require_estate()
    return view(
        request, console, "service/cleaning/detail.html", status=status, order=order,
        steps=history.steps(db, CLEANING, order), tasks=cleaning.tasks_of(db, order),
        service=_service_name(order, language(request)), overdue=cleaning.is_overdue(order, now),
        rebook_open=cleaning.open_task(db, order, CallReason.cleaning_rebook) is not None,
        callback_open=cleaning.open_task(db, order, CallReason.cleaning_callback) is not None,
        dissatisfied_open=cleaning.open_task(db, order, CallReason.dissatisfied) is not None,
        start_input=local_input(estate, order.appointment_start) if order.appointment_start else "",
        end_input=local_input(estate, order.appointment_end) if order.appointment_end else "",
        **context,
    )  # fmt: skip


@router.get("/service/cleaning/{cleaning_id}")
def order_page(
    request: Request, console: Viewer, db: DbSession, now: Now, cleaning_id: RowId, done: Text = ""
) -> Response:
    order = cleaning.get_order(db, console.require_estate(), cleaning_id)
    return _order_page(request, db, console, order, now, flash=flash_key(done, DONE))


def _step(
    request: Request, db: Session, console: Console, now: datetime, cleaning_id: int,
    take: Callable[[ServiceOrder], None], done: str,
) -> Response:  # fmt: skip
    """A step on one order: taken, or the order's page again with the refusal."""
    return record_step(
        request, db, lambda: cleaning.get_order(db, console.require_estate(), cleaning_id), take,
        lambda order: f"{BASE}/{order.id}?done=cleaning_{done}",
        lambda order, status, error: _order_page(request, db, console, order, now, status=status, error=error),
    )  # fmt: skip


@router.post("/service/cleaning/{cleaning_id}/dispatch")
def dispatch(
    request: Request, console: Intake, db: DbSession, now: Now, cleaning_id: RowId, start: Moment = "", end: Moment = ""
) -> Response:
    """R-CLN-1: the dispatch order to environment for the booked time (or the time given here)."""
    estate = console.require_estate()

    def take(order: ServiceOrder) -> None:
        begin = local_time(estate, start, "预约开始时间", "the booked start")
        finish = local_time(estate, end, "预约结束时间", "the booked end")
        cleaning.dispatch(db, console.actor, order, now, by=console.user, start=begin, end=finish)

    return _step(request, db, console, now, cleaning_id, take, "dispatched")


@router.post("/service/cleaning/{cleaning_id}/nobody-home")
def nobody_home(request: Request, console: Cleaner, db: DbSession, now: Now, cleaning_id: RowId) -> Response:
    """R-CLN-3: the note is left on the door; the desk gets the call to make."""

    def take(order: ServiceOrder) -> None:
        cleaning.nobody_home(db, console.actor, order, now, by=console.user)

    return _step(request, db, console, now, cleaning_id, take, "nobody_home")


@router.post("/service/cleaning/{cleaning_id}/rebook")
def rebook(
    request: Request, console: Caller, db: DbSession, now: Now, cleaning_id: RowId, start: Moment = "",
    end: Moment = "", note: Long = "",
) -> Response:  # fmt: skip
    estate = console.require_estate()

    def take(order: ServiceOrder) -> None:
        begin = local_time(estate, start, "预约开始时间", "the booked start")
        finish = local_time(estate, end, "预约结束时间", "the booked end")
        cleaning.rebook(db, console.actor, order, begin, finish, now, by=console.user, note=note)

    return _step(request, db, console, now, cleaning_id, take, "rebooked")


@router.post("/service/cleaning/{cleaning_id}/cancel")
def cancel(
    request: Request, console: Intake, db: DbSession, now: Now, cleaning_id: RowId, reason: Long = ""
) -> Response:
    def take(order: ServiceOrder) -> None:
        cleaning.cancel(db, console.actor, order, now, by=console.user, reason=reason)

    return _step(request, db, console, now, cleaning_id, take, "cancelled")


def _out_of_scope(
    request: Request, console: Console, db: Session, now: datetime, cleaning_id: int, text: str
) -> Response:
    def take(order: ServiceOrder) -> None:
        if not text.strip():
            raise DomainError("请写明住户的要求", "say what the resident asked for", code="missing_fields")
        cleaning.out_of_scope(db, console.actor, order, text, now, by=console.user)

    return _step(request, db, console, now, cleaning_id, take, "out_of_scope")


@router.post("/service/cleaning/{cleaning_id}/out-of-scope")
def out_of_scope_at_desk(
    request: Request, console: Intake, db: DbSession, now: Now, cleaning_id: RowId, request_text: Long = ""
) -> Response:
    """R-CLN-4 at the desk: recorded on the booking and escalated to the supervisor."""
    return _out_of_scope(request, console, db, now, cleaning_id, request_text)


@router.post("/service/cleaning/{cleaning_id}/out-of-scope-on-site")
def out_of_scope_on_site(
    request: Request, console: Cleaner, db: DbSession, now: Now, cleaning_id: RowId, request_text: Long = ""
) -> Response:
    """R-CLN-4 on site: the cleaner declines politely, records it, and the supervisor decides."""
    return _out_of_scope(request, console, db, now, cleaning_id, request_text)


@router.post("/service/cleaning/{cleaning_id}/finish", max_body_size=SIGNATURE_BODY)
def finish(
    request: Request,
    console: Cleaner,
    db: DbSession,
    now: Now,
    cleaning_id: RowId,
    worker_name: Short = "",
    opinion: Annotated[Text, Form(max_length=200)] = "",
    satisfied: Annotated[Text, Form(max_length=3)] = "",
    signature: Annotated[Text, Form(max_length=signatures.MAX_DATA_URL)] = "",
) -> Response:
    """R-CLN-5, 6, 7: the resident's check and signature on the pad; no cash."""

    def take(order: ServiceOrder) -> None:
        if satisfied not in ("yes", "no"):
            raise DomainError("请选择住户是否满意", "say whether the resident is satisfied", code="missing_fields")
        check = cleaning.Check(worker_name, opinion, satisfied == "yes", signature)
        cleaning.finish(db, console.actor, order, check, now, by=console.user)

    return _step(request, db, console, now, cleaning_id, take, "finished")


@router.post("/service/cleaning/{cleaning_id}/return")
def return_order(request: Request, console: Intake, db: DbSession, now: Now, cleaning_id: RowId) -> Response:
    """R-CLN-6: the signed order is back at the CS centre."""

    def take(order: ServiceOrder) -> None:
        cleaning.return_order(db, console.actor, order, now, by=console.user)

    return _step(request, db, console, now, cleaning_id, take, "returned")


@router.post("/service/cleaning/{cleaning_id}/call")
def call(
    request: Request,
    console: Caller,
    db: DbSession,
    now: Now,
    cleaning_id: RowId,
    reason: Annotated[Text, Form(max_length=20)] = "",
    outcome: Annotated[Text, Form(max_length=20)] = "",
    note: Annotated[Text, Form(max_length=300)] = "",
) -> Response:
    """The callback of a returned order, or the immediate callback of an unsatisfied one (R-CLN-7), with its
    outcome."""

    def take(order: ServiceOrder) -> None:
        why = CallReason.dissatisfied if reason == "dissatisfied" else CallReason.cleaning_callback
        task = cleaning.open_task(db, order, why)
        if task is None:
            raise DomainError("没有待做的回访", "there is no callback to make", code="no_call_owed")
        if outcome not in CallOutcome.__members__:
            raise DomainError("请选择回访结果", "choose the outcome", code="missing_fields", fields=["outcome"])
        cleaning.call(db, console.actor, task, CallOutcome(outcome), now, by=console.user, note=note)

    return _step(request, db, console, now, cleaning_id, take, "called")


@router.post("/service/cleaning/{cleaning_id}/file")
def file(request: Request, console: Filer, db: DbSession, now: Now, cleaning_id: RowId) -> Response:
    def take(order: ServiceOrder) -> None:
        cleaning.file(db, console.actor, order, now, by=console.user)

    return _step(request, db, console, now, cleaning_id, take, "filed")


# --- the papers ------------------------------------------------------------------------------------------------------


@router.get("/service/cleaning/{cleaning_id}/dispatch.{fmt}")
def dispatch_order_form(console: Viewer, db: DbSession, cleaning_id: RowId, fmt: Literal["pdf", "xlsx"]) -> Response:
    """《家居清洁服务派工单》: what environment takes to the door, then the resident's check (R-CLN-1, 5)."""
    estate = console.require_estate()
    order = cleaning.get_order(db, estate, cleaning_id)
    values = dispatch_values(order, estate, _service_name(order, "zh"), yuan)
    return form_file(
        fmt, DISPATCH_ORDER, values, order.number, heading=estate.name,
        signatures={"住户签名": order.resident_signature},
        signed_at={"住户签名": clock.local_text(estate, order.done_at)},
    )  # fmt: skip


@router.get("/service/cleaning/{cleaning_id}/note.{fmt}")
def note_form(
    console: Viewer, db: DbSession, settings: SettingsDep, cleaning_id: RowId, fmt: Literal["pdf", "xlsx"]
) -> Response:
    """《留言条》: left on the door when nobody is home, with the order number and the desk's phone (R-CLN-3)."""
    estate = console.require_estate()
    order = cleaning.get_order(db, estate, cleaning_id)
    visited = next(
        (clock.local_text(estate, s.at) for s in reversed(history.steps(db, CLEANING, order))
         if s.transition == "nobody_home"),
        clock.local_text(estate, order.appointment_start),
    )  # fmt: skip
    values = note_values(order, estate, visited, settings.service_desk_phone)
    return form_file(fmt, NOTE, values, f"{order.number}-note", heading=estate.name)
