"""Home cleaning (DOMAIN.md R-CLN-1…8) on the CLEANING process: a booking from the price list, the dispatch order
《家居清洁服务派工单》 to environment for the booked time, "nobody home" with the note 《留言条》 and the desk's call to
rebook or cancel, out-of-scope requests escalated, the resident's check and signature (no cash), the return deadline
(before 22:00 the same day, else by 10:00 the next), the immediate callback of an unsatisfied order, the desk's
callback, and the month-end household-service register 《家政服务记录表》 with the finance copy.

Each function checks what it is given and takes one step of the process (and opens or closes the call task that goes
with it) in the caller's transaction; a refused request changes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from server.db.models import (
    CallOutcome,
    CallReason,
    CallTask,
    Estate,
    OrderState,
    PriceItem,
    ServiceKind,
    ServiceOrder,
    StaffUser,
    Unit,
)
from server.domain import audit, clock, workflow
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, NotFound
from server.domain.paging import Page
from server.domain.service import calls, intake
from server.domain.service.processes import CLEANING
from server.domain.service.signatures import resident_signature

FINISHED = (OrderState.done, OrderState.returned, OrderState.called_back, OrderState.filed)
OPEN = (OrderState.new, OrderState.dispatched, OrderState.nobody_home, OrderState.done)


def get_order(session: Session, estate: Estate, order_id: int) -> ServiceOrder:
    """Cleaning order `order_id` of `estate`; another estate's order, or a repair, is not found."""
    order = session.get(ServiceOrder, order_id)
    if order is None or order.estate_id != estate.id or order.kind != ServiceKind.cleaning:
        raise NotFound("本小区没有该清洁单", "no such cleaning order in this estate", code="order_not_found")
    return order


def _estate(session: Session, order: ServiceOrder) -> Estate:
    return session.get_one(Estate, order.estate_id)


def _told_environment(session: Session, actor: Actor, order: ServiceOrder, what: str, **detail: object) -> None:
    """R-CLN-1, 3: environment is told of a dispatch, a rebooking or a cancellation (its board reads the audit)."""
    audit.record(
        session, actor, "cleaning.environment_told", "cleaning", order.id, estate_id=order.estate_id, what=what,
        number=order.number, **detail,
    )  # fmt: skip


# --- booking and dispatch (R-CLN-1) ---------------------------------------------------------------------------------


def book(
    session: Session, actor: Actor, estate: Estate, request: intake.OrderRequest, at: datetime, *, by: StaffUser
) -> ServiceOrder:
    """A booking on the tracking sheet: a service of the price list (or a category with a quote), for a unit of
    this estate, with the time agreed with the resident if there is one yet."""
    if request.kind != ServiceKind.cleaning:
        raise DomainError("这不是清洁预约", "this is not a cleaning booking", code="wrong_kind")
    return intake.open_order(session, actor, estate, request, at, by=by)


def dispatch(
    session: Session,
    actor: Actor,
    order: ServiceOrder,
    at: datetime,
    *,
    by: StaffUser,
    start: datetime | None = None,
    end: datetime | None = None,
    note: str = "",
) -> None:
    """R-CLN-1: the dispatch order goes to environment, which serves at the booked time (the booking's, unless a
    time is given now)."""
    start, end = start or order.appointment_start, end or order.appointment_end
    _check_slot(start, end)
    workflow.step(
        session, actor, CLEANING, order, "dispatch", at, by=by, note=note,
        fields={"appointment_start": start, "appointment_end": end},
    )  # fmt: skip
    _told_environment(session, actor, order, "dispatched")


def _check_slot(start: datetime | None, end: datetime | None) -> None:
    if start is not None and end is not None and end <= start:
        raise DomainError(
            "预约结束时间须晚于开始时间", "the appointment must end after it starts", code="bad_appointment"
        )


# --- nobody home: the note, the desk rebooks or cancels (R-CLN-3) ----------------------------------------------------


def nobody_home(session: Session, actor: Actor, order: ServiceOrder, at: datetime, *, by: StaffUser) -> CallTask:
    """The cleaner found nobody home and left the note 《留言条》; the desk must phone the resident at once to rebook
    or cancel."""
    workflow.step(session, actor, CLEANING, order, "nobody_home", at, by=by, note="已留《留言条》")
    estate, why = _estate(session, order), "无人在家，请改约或取消"
    return calls.open_task(session, actor, estate, CallReason.cleaning_rebook, at, order=order, note=why)


def open_task(session: Session, order: ServiceOrder, reason: CallReason) -> CallTask | None:
    """The order's call task of `reason` not made yet, if any."""
    query = select(CallTask).where(CallTask.order_id == order.id, CallTask.reason == reason, CallTask.done_at.is_(None))
    return session.scalars(query.order_by(CallTask.id)).first()


def rebook(
    session: Session,
    actor: Actor,
    order: ServiceOrder,
    start: datetime | None,
    end: datetime | None,
    at: datetime,
    *,
    by: StaffUser,
    note: str = "",
) -> None:
    """The resident agreed a new time on the call: the rebooking task is closed, the order goes to environment
    again for that time, and environment is told."""
    workflow.check(CLEANING, order, "rebook", by=by, fields={"appointment_start": start, "appointment_end": end})
    _check_slot(start, end)
    task = open_task(session, order, CallReason.cleaning_rebook)
    if task is not None:
        calls.close_task(session, actor, task, CallOutcome.rebooked, at, by=by, note=note)
    workflow.step(
        session, actor, CLEANING, order, "rebook", at, by=by, note=note or "已改约，已通知环境部",
        fields={"appointment_start": start, "appointment_end": end},
    )  # fmt: skip
    _told_environment(session, actor, order, "rebooked")


def cancel(session: Session, actor: Actor, order: ServiceOrder, at: datetime, *, by: StaffUser, reason: str) -> None:
    """The booking is cancelled (by the resident, or on the nobody-home call); environment is told."""
    if not reason.strip():
        raise DomainError("请写明取消原因", "say why it is cancelled", code="missing_fields", fields=["reason"])
    workflow.check(CLEANING, order, "cancel", by=by)
    task = open_task(session, order, CallReason.cleaning_rebook)
    if task is not None:
        calls.close_task(session, actor, task, CallOutcome.cancelled, at, by=by, note=reason.strip())
    was_dispatched = order.state != OrderState.new
    workflow.step(session, actor, CLEANING, order, "cancel", at, by=by, note=reason.strip()[:200])
    if was_dispatched:
        _told_environment(session, actor, order, "cancelled")


# --- out-of-scope requests (R-CLN-4) ---------------------------------------------------------------------------------


def out_of_scope(
    session: Session, actor: Actor, order: ServiceOrder, request: str, at: datetime, *, by: StaffUser
) -> None:
    """A request beyond the booked service, declined politely and recorded on the order; the supervisor sees it
    (`escalated`) and decides. At the desk before dispatch, or by the cleaner on site."""
    text = request.strip()
    name = "out_of_scope_on_site" if order.state == OrderState.dispatched else "out_of_scope"
    workflow.step(
        session, actor, CLEANING, order, name, at, by=by, note=text[:200],
        fields={"out_of_scope": (f"{order.out_of_scope}；{text}" if order.out_of_scope else text)[:200]},
    )  # fmt: skip
    audit.record(
        session, actor, "cleaning.escalated", "cleaning", order.id, estate_id=order.estate_id, to="supervisor",
        reason="out_of_scope", request=text,
    )  # fmt: skip


def escalated(session: Session, estate: Estate) -> list[ServiceOrder]:
    """Open orders carrying an out-of-scope request, for the supervisor (R-CLN-4)."""
    query = _orders(estate).where(ServiceOrder.out_of_scope != "", ServiceOrder.state.in_(OPEN))
    return list(session.scalars(query.order_by(ServiceOrder.id)))


# --- finished, returned, called back (R-CLN-5, 6, 7) -----------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """The resident's check of the work: an opinion, satisfied or not, and the signature from the pad (R-CLN-5)."""

    worker_name: str
    opinion: str
    satisfied: bool
    signature: str


def finish(
    session: Session, actor: Actor, order: ServiceOrder, check: Check, at: datetime, *, by: StaffUser
) -> CallTask | None:
    """The cleaner finished, the resident checked and signed; no cash is taken — the price stays on the order for
    finance to bill (R-CLN-5). The order is due back at the CS centre by 22:00, or by 10:00 the next day when
    finished at or after 22:00 (R-CLN-6). An unsatisfied resident gets an immediate callback (R-CLN-7)."""
    fields: dict[str, object] = {
        "worker_name": check.worker_name.strip(),
        "resident_opinion": check.opinion.strip(),
        "resident_signature": check.signature.strip(),
    }
    workflow.check(CLEANING, order, "finish", by=by, fields=fields)
    fields["resident_signature"] = resident_signature(check.signature)
    fields.update(satisfied=check.satisfied, done_at=at)
    workflow.step(session, actor, CLEANING, order, "finish", at, by=by, fields=fields)
    if check.satisfied:
        return None
    return calls.open_task(
        session, actor, _estate(session, order), CallReason.dissatisfied, at, order=order,
        note=f"住户不满意：{check.opinion.strip()}"[:300],
    )  # fmt: skip


def return_order(session: Session, actor: Actor, order: ServiceOrder, at: datetime, *, by: StaffUser) -> CallTask:
    """The signed order is back at the CS centre (R-CLN-6; `late` when after its due time); the desk calls the
    resident back."""
    late = bool(order.due_at is not None and at > order.due_at)
    workflow.step(
        session, actor, CLEANING, order, "return", at, by=by, fields={"returned_at": at},
        note="逾期回单" if late else "", late=late,
    )  # fmt: skip
    return calls.open_task(session, actor, _estate(session, order), CallReason.cleaning_callback, at, order=order)


def call(
    session: Session,
    actor: Actor,
    task: CallTask,
    outcome: CallOutcome,
    at: datetime,
    *,
    by: StaffUser,
    note: str = "",
) -> None:
    """A call about a cleaning order made: the callback of a returned order (R-CLN-8's follow-up) or the immediate
    callback of an unsatisfied one (R-CLN-7). An unsatisfied resident is followed up with the environment
    supervisor. Rebooking calls go through `rebook` and `cancel`."""
    if task.order_id is None or task.reason not in (CallReason.cleaning_callback, CallReason.dissatisfied):
        raise DomainError("这不是清洁回访任务", "this is not a cleaning callback", code="wrong_task")
    if outcome not in (CallOutcome.reached_satisfied, CallOutcome.reached_unsatisfied, CallOutcome.no_answer):
        raise DomainError("回访结果不对", "not an outcome of a callback", code="bad_outcome", field="outcome")
    order = session.get_one(ServiceOrder, task.order_id)
    if task.reason == CallReason.cleaning_callback and outcome != CallOutcome.no_answer:
        workflow.check(CLEANING, order, "call_back", by=by)
    calls.close_task(session, actor, task, outcome, at, by=by, note=note.strip())
    if task.reason == CallReason.cleaning_callback and outcome != CallOutcome.no_answer:
        workflow.step(session, actor, CLEANING, order, "call_back", at, by=by, note=note.strip()[:200])
    if outcome == CallOutcome.reached_unsatisfied or task.reason == CallReason.dissatisfied:
        audit.record(
            session, actor, "cleaning.follow_up", "cleaning", order.id, estate_id=order.estate_id,
            to="environment_supervisor", outcome=outcome.value, note=note.strip(),
        )  # fmt: skip
    elif outcome == CallOutcome.no_answer:  # tried, not reached: the call stays owed
        calls.open_task(session, actor, _estate(session, order), task.reason, at, order=order, note="上次未接通")


def get_task(session: Session, estate: Estate, task_id: int) -> CallTask:
    task = session.get(CallTask, task_id)
    if task is None or task.estate_id != estate.id or task.order_id is None:
        raise NotFound("没有该来电任务", "no such call task", code="task_not_found")
    return task


def tasks_of(session: Session, order: ServiceOrder) -> list[CallTask]:
    return list(session.scalars(select(CallTask).where(CallTask.order_id == order.id).order_by(CallTask.id)))


# --- filing and the household-service register (R-CLN-8) -------------------------------------------------------------


def file(session: Session, actor: Actor, order: ServiceOrder, at: datetime, *, by: StaffUser) -> None:
    if open_task(session, order, CallReason.cleaning_callback) or open_task(session, order, CallReason.dissatisfied):
        raise Conflict("该单还有未完成的回访", "this order still has a callback to make", code="callback_open")
    workflow.step(session, actor, CLEANING, order, "file", at, by=by, fields={"filed_at": at})


def file_month(session: Session, actor: Actor, estate: Estate, month: date, at: datetime, *, by: StaffUser) -> int:
    """Month end (R-CLN-8): every order of `month` that is back and called back (or back with no call owed) is
    filed in the household-service register; the count filed."""
    start, end = clock.month_bounds(estate, month)
    query = _orders(estate).where(
        ServiceOrder.done_at >= start,
        ServiceOrder.done_at < end,
        ServiceOrder.state.in_((OrderState.returned, OrderState.called_back)),
    )
    filed = 0
    for order in session.scalars(query.order_by(ServiceOrder.number)):
        owed = open_task(session, order, CallReason.cleaning_callback) or open_task(
            session, order, CallReason.dissatisfied
        )
        if owed is None:
            workflow.step(session, actor, CLEANING, order, "file", at, by=by, fields={"filed_at": at})
            filed += 1
    return filed


def register_rows(session: Session, estate: Estate, month: date, now: datetime) -> list[dict[str, object]]:
    """《家政服务记录表》: every order finished in `month`, by number (R-CLN-8)."""
    start, end = clock.month_bounds(estate, month)
    query = (
        select(ServiceOrder, Unit.code, PriceItem.name_zh)
        .join(Unit, Unit.id == ServiceOrder.unit_id)
        .outerjoin(PriceItem, PriceItem.id == ServiceOrder.item_id)
        .where(
            ServiceOrder.estate_id == estate.id,
            ServiceOrder.kind == ServiceKind.cleaning,
            ServiceOrder.done_at >= start,
            ServiceOrder.done_at < end,
        )
        .order_by(ServiceOrder.number)
    )
    rows: list[dict[str, object]] = []
    for order, unit, item in session.execute(query):
        rows.append(
            {
                "number": order.number,
                "unit": unit,
                "contact": order.contact_name,
                "service": item or order.category,
                "appointment": clock.local_text(estate, order.appointment_start),
                "done_at": clock.local_text(estate, order.done_at),
                "worker": order.worker_name,
                "amount": _yuan(order.price_fen if order.paid else 0),
                "satisfied": "满意" if order.satisfied else "不满意",
                "returned_at": clock.local_text(estate, order.returned_at),
                "late": "逾期" if _late_return(order, now) else "",
                "paid": order.paid,
            }
        )
    return rows


def finance_rows(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """The finance copy: the paid orders of the register, for billing (R-CLN-8); no cash was taken (R-CLN-5)."""
    return [r for r in rows if r["paid"]]


def _late_return(order: ServiceOrder, now: datetime) -> bool:
    if order.due_at is None:
        return False
    back = order.returned_at or (now if order.state == OrderState.done else None)
    return back is not None and back > order.due_at


def _yuan(fen: int | None) -> str:
    whole, cents = divmod(fen or 0, 100)
    return f"{whole}.{cents:02d}"


# --- listings ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CleaningFilter:
    state: OrderState | None = None
    overdue: bool = False  # done but not back past its due time (R-CLN-6)
    out_of_scope: bool = False  # carrying an out-of-scope request (R-CLN-4)
    unit: str = ""  # a unit code, or its start
    since: date | None = None
    until: date | None = None


def _orders(estate: Estate) -> Select[ServiceOrder]:
    return select(ServiceOrder).where(ServiceOrder.estate_id == estate.id, ServiceOrder.kind == ServiceKind.cleaning)


def overdue_returns(session: Session, estate: Estate, now: datetime) -> list[ServiceOrder]:
    """R-CLN-6: finished orders not back at the CS centre by their due time (a query: due_at < now, still done)."""
    return list(session.scalars(_filtered(estate, CleaningFilter(overdue=True), now).order_by(ServiceOrder.due_at)))


def _filtered(estate: Estate, f: CleaningFilter, now: datetime) -> Select[ServiceOrder]:
    query = _orders(estate)
    if f.state is not None:
        query = query.where(ServiceOrder.state == f.state)
    if f.overdue:
        query = query.where(ServiceOrder.state == OrderState.done, ServiceOrder.due_at < now)
    if f.out_of_scope:
        query = query.where(ServiceOrder.out_of_scope != "")
    if f.unit:
        units = select(Unit.id).where(Unit.estate_id == estate.id, Unit.code.startswith(f.unit, autoescape=True))
        query = query.where(ServiceOrder.unit_id.in_(units))
    if f.since is not None:
        query = query.where(ServiceOrder.created_at >= clock.day_bounds(estate, f.since)[0])
    if f.until is not None:
        query = query.where(ServiceOrder.created_at < clock.day_bounds(estate, f.until)[1])
    return query


def orders_page(
    session: Session, estate: Estate, f: CleaningFilter, now: datetime, page: int, size: int
) -> Page[ServiceOrder]:
    """The orders as filtered, newest first."""
    query = _filtered(estate, f, now)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = max(1, min(page, max(1, -(-total // size))))
    found = session.scalars(query.order_by(ServiceOrder.id.desc()).limit(size).offset((page - 1) * size))
    return Page(list(found), total, page, size)


def services(session: Session, estate: Estate) -> list[PriceItem]:
    """The cleaning services of the price list 《便民服务一览表》 that can be booked."""
    query = select(PriceItem).where(
        PriceItem.estate_id == estate.id, PriceItem.kind == ServiceKind.cleaning, PriceItem.active.is_(True)
    )
    return list(session.scalars(query.order_by(PriceItem.sort, PriceItem.code)))


def is_overdue(order: ServiceOrder, now: datetime) -> bool:
    return order.state == OrderState.done and order.due_at is not None and order.due_at < now
