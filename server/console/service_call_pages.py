"""The front desk's telephone work in the console: the call queue (R-REP-8, 9 and the calls other areas owe —
rebooking a cleaning, an unsatisfied cleaning, answering a feedback form), each call offered only inside its window;
and the phone intake that follows the script (R-PHONE), with the day's call log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from server.console.pages import form_action
from server.console.registry_pages import flash_key
from server.console.service_repair_pages import quote_of, repair_view
from server.contract.fields import Text
from server.db.models import CallOutcome, CallReason, CallTopic, ServiceKind
from server.domain import clock
from server.domain.errors import DomainError
from server.domain.permissions import Perm
from server.domain.service import call_queue, phone, prices, repairs
from server.domain.service import repair_registers as reg
from server.web.deps import Console, DbSession, Now, require
from server.web.params import RowId

router = APIRouter()

Caller = Annotated[Console, require(Perm.service_callbacks)]
Desk = Annotated[Console, require(Perm.service_intake)]
FormText = Annotated[Text, Form(max_length=200)]

# Where a call task of another area is made: its order's or form's own page.
ELSEWHERE = {
    CallReason.cleaning_rebook: "/console/service/cleaning/{id}",
    CallReason.dissatisfied: "/console/service/cleaning/{id}",
    CallReason.cleaning_callback: "/console/service/cleaning/{id}",
    CallReason.feedback_answer: "/console/service/feedback/{id}",
}


def link_of(queued: call_queue.QueuedCall) -> str:
    task = queued.task
    if task.reason == CallReason.repair_callback:
        return f"/console/service/repairs/{task.order_id}"
    return ELSEWHERE[task.reason].format(id=task.order_id or task.feedback_id)


# --- the call queue -------------------------------------------------------------------------------------------------


def _queue_page(
    request: Request, db: Session, console: Console, now: datetime, *, status: int = 200, **context: Any
) -> HTMLResponse:
    estate = console.require_estate()
    return repair_view(
        request, console, "service/calls/queue.html", status=status, queue=call_queue.open_calls(db, estate, now),
        made=call_queue.calls_made(db, estate, clock.today(estate, now), now), link_of=link_of,
        outcomes=repairs.CALLBACK_OUTCOMES, **context,
    )  # fmt: skip


@router.get("/service/calls")
def queue(request: Request, console: Caller, db: DbSession, now: Now, done: Text = "") -> Response:
    return _queue_page(request, db, console, now, flash=flash_key(done, frozenset({"call_recorded"})))


@router.post("/service/calls/{task_id}")
def record_call(
    request: Request, console: Caller, db: DbSession, now: Now, task_id: RowId,
    outcome: Annotated[Text, Form(max_length=24)] = "", note: FormText = "",
) -> Response:  # fmt: skip
    """A repair callback's outcome (R-REP-8, 9), taken only inside its window; other areas' calls are recorded on
    their own pages."""
    task = call_queue.get_task(db, console.require_estate(), task_id)

    def record() -> Response:
        if task.reason != CallReason.repair_callback:
            raise DomainError(
                "请在该单据页面记录此来电", "record this call on its order's or form's page", code="call_elsewhere"
            )
        chosen = CallOutcome(outcome) if outcome in CallOutcome.__members__ else None
        if chosen is None:
            raise DomainError("请选择回访结果", "choose the callback's outcome", code="bad_outcome")
        repairs.record_callback(db, console.actor, task, chosen, now, by=console.user, note=note)
        return RedirectResponse("/console/service/calls?done=call_recorded", status_code=303)

    def again(status: int, error: str) -> Response:
        return _queue_page(request, db, console, now, status=status, error=error, failed=task_id, note=note)

    return form_action(request, db, record, again)


# --- phone intake by the script (R-PHONE) ---------------------------------------------------------------------------


def _phone_page(
    request: Request, db: Session, console: Console, now: datetime, *, status: int = 200, **context: Any
) -> HTMLResponse:
    estate = console.require_estate()
    calls = phone.calls_of_day(db, estate, clock.today(estate, now))
    numbers = {o.id: o.number for o in reg.orders_by_id(db, {c.order_id for c in calls})}
    return repair_view(
        request, console, "service/phone/intake.html", status=status, calls=calls, numbers=numbers,
        topics=list(CallTopic), outcomes=phone.OUTCOMES,
        items=prices.items(db, estate, ServiceKind.repair, active_only=True),
        categories=prices.categories(db, estate, ServiceKind.repair), v=context.pop("v", {"topic": "repair"}),
        **context,
    )  # fmt: skip


@router.get("/service/phone")
def phone_intake(request: Request, console: Desk, db: DbSession, now: Now, done: Text = "") -> Response:
    return _phone_page(request, db, console, now, flash=flash_key(done, frozenset({"call_logged"})))


@router.post("/service/phone")
def log_call(
    request: Request,
    console: Desk,
    db: DbSession,
    now: Now,
    room: Annotated[Text, Form(max_length=16)] = "",
    surname: Annotated[Text, Form(max_length=20)] = "",
    phone_number: Annotated[Text, Form(max_length=20)] = "",
    topic: Annotated[Text, Form(max_length=20)] = "",
    summary: Annotated[Text, Form(max_length=400)] = "",
    location: Annotated[Text, Form(max_length=60)] = "",
    item_code: Annotated[Text, Form(max_length=20)] = "",
    category: Annotated[Text, Form(max_length=20)] = "",
    paid: Annotated[bool, Form()] = False,
    materials: Annotated[Text, Form(max_length=20)] = "",
    labour: Annotated[Text, Form(max_length=20)] = "",
    read_back: Annotated[bool, Form()] = False,
    handling: FormText = "",
    anything_else: Annotated[bool, Form()] = False,
    outcome: Annotated[Text, Form(max_length=24)] = "",
) -> Response:
    """R-PHONE: the call as the script took it; a repair call opens its order (R-REP-1)."""
    estate = console.require_estate()
    values = {
        "room": room, "surname": surname, "phone_number": phone_number, "topic": topic, "summary": summary,
        "location": location, "item_code": item_code, "category": category, "paid": paid, "materials": materials,
        "labour": labour, "read_back": read_back, "handling": handling, "anything_else": anything_else,
        "outcome": outcome,
    }  # fmt: skip

    def log() -> Response:
        if topic not in CallTopic.__members__:
            raise DomainError("请选择来电类型", "choose what the call is about", code="missing_fields")
        call = phone.Call(
            room=room, surname=surname, phone=phone_number, topic=CallTopic(topic), summary=summary,
            read_back=read_back, handling=handling, anything_else_asked=anything_else, outcome=outcome,
            item_code=item_code, category=category, location=location, paid=paid,
            quote=None if item_code.strip() else quote_of(materials, labour),
        )  # fmt: skip
        logged = phone.log_call(db, console.actor, estate, call, now, by=console.user)
        if logged.order_id is not None:
            return RedirectResponse(f"/console/service/repairs/{logged.order_id}?done=repair_opened", status_code=303)
        return RedirectResponse("/console/service/phone?done=call_logged", status_code=303)

    def again(status: int, error: str) -> Response:
        return _phone_page(request, db, console, now, status=status, error=error, v=values)

    return form_action(request, db, log, again)
