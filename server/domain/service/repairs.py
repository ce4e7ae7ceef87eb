"""A repair work order 《工程维修单》 from assignment to its callback (R-REP-2…9), on the REPAIR process: engineering
assigns it and books the visit agreed with the resident (R-REP-2); a quoted repair waits for the resident's
acceptance before work starts, and a price dispute goes to engineering's duty lead (R-REP-4); work that cannot be
finished records why and the next visit (R-REP-5); a finished order carries the resident's opinion and signature
and the repairer's name, and the engineering supervisor signs it off and returns it to the CS centre (R-REP-7),
which opens its callback for the evening window (R-REP-8, 9). A failed callback goes back to the supervisor, who
reopens the order or has the desk call again.

No function here takes money from a resident: a price or a quote is recorded for finance to bill (R-REP-3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from server.db.models import (
    CallOutcome,
    CallReason,
    CallTask,
    Estate,
    OrderState,
    ServiceKind,
    ServiceOrder,
    StaffUser,
    StepHistory,
)
from server.domain import audit, workflow
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, Forbidden, NotFound
from server.domain.permissions import Perm, allowed
from server.domain.service import calls
from server.domain.service.processes import CALLBACK_WINDOW, REPAIR
from server.domain.service.signatures import resident_signature

NOTE_LENGTH = 200  # step_history.note
QUOTE_STATES = frozenset({OrderState.new, OrderState.assigned, OrderState.scheduled, OrderState.unfinished})


def get_order(session: Session, estate: Estate, order_id: int) -> ServiceOrder:
    """The repair order `order_id` of `estate`; another estate's order, or a cleaning order, is not found."""
    order = session.get(ServiceOrder, order_id)
    if order is None or order.estate_id != estate.id or order.kind != ServiceKind.repair:
        raise NotFound("本小区没有该维修单", "no such repair order in this estate", code="order_not_found")
    return order


def engineers(session: Session, estate: Estate) -> list[StaffUser]:
    """Active staff of the estate who may carry out repairs: the choices for an assignment."""
    staff = session.scalars(
        select(StaffUser)
        .where(
            StaffUser.is_active.is_(True),
            or_(StaffUser.all_estates.is_(True), StaffUser.estates.any(Estate.id == estate.id)),
        )
        .order_by(StaffUser.display_name, StaffUser.id)
    )
    return [s for s in staff if allowed(s.role, Perm.repairs_work)]


def history(session: Session, order: ServiceOrder) -> list[StepHistory]:
    """Every step of the order, oldest first: who, what, when, with the note."""
    return list(
        session.scalars(
            select(StepHistory)
            .where(StepHistory.process == REPAIR.name, StepHistory.record_id == order.id)
            .order_by(StepHistory.at, StepHistory.id)
        )
    )


def _remark(
    session: Session,
    actor: Actor,
    order: ServiceOrder,
    name: str,
    at: datetime,
    by: StaffUser,
    note: str,
    **detail: object,
) -> None:
    """A fact about the order that moves no state (a quote accepted, a dispute, a reason): a history row and an
    audit entry, as a step has."""
    session.add(
        StepHistory(
            estate_id=order.estate_id, process=REPAIR.name, record_id=order.id, transition=name,
            from_state=order.state.value, to_state=order.state.value, actor=actor.label, staff_id=by.id,
            device_id=actor.device_id, note=note[:NOTE_LENGTH], at=at,
        )
    )  # fmt: skip
    audit.record(
        session, actor, f"{REPAIR.name}.{name}", REPAIR.name, order.id, estate_id=order.estate_id, note=note, **detail
    )


def _need(by: StaffUser, *perms: Perm) -> None:
    if not any(allowed(by.role, p) for p in perms):
        raise Forbidden("您的角色无权进行此操作", "your role may not do this", code="permission_denied")


def _text(value: str, zh: str, en: str, field: str, limit: int = 200) -> str:
    text = value.strip()
    if not text:
        raise DomainError(f"请填写{zh}", f"give {en}", code="missing_fields", fields=[field])
    if len(text) > limit:
        raise DomainError(f"{zh}过长（至多 {limit} 字）", f"{en} is too long (at most {limit})", code="too_long")
    return text


# --- assignment and the visit (R-REP-2) -----------------------------------------------------------------------------


def assign(
    session: Session,
    actor: Actor,
    order: ServiceOrder,
    engineer_id: int,
    at: datetime,
    *,
    by: StaffUser,
    note: str = "",
) -> None:
    estate = session.get_one(Estate, order.estate_id)
    engineer = next((e for e in engineers(session, estate) if e.id == engineer_id), None)
    if engineer is None:
        raise DomainError(
            "请选择本小区的工程维修人员", "choose a repairer of this estate", code="not_an_engineer", field="assignee"
        )
    workflow.step(
        session, actor, REPAIR, order, "assign", at, by=by, note=note or engineer.display_name,
        fields={"assignee_id": engineer.id},
    )  # fmt: skip


def schedule(
    session: Session, actor: Actor, order: ServiceOrder, start: datetime, end: datetime, at: datetime, *, by: StaffUser
) -> None:
    """The visit at the time agreed with the resident."""
    if end <= start:
        raise DomainError(
            "预约结束时间须晚于开始时间", "the appointment must end after it starts", code="bad_appointment"
        )
    workflow.step(
        session, actor, REPAIR, order, "schedule", at, by=by,
        fields={"appointment_start": start, "appointment_end": end},
    )  # fmt: skip


# --- the price (R-REP-3, 4) -----------------------------------------------------------------------------------------


def is_quoted(order: ServiceOrder) -> bool:
    return order.quote_labour_fen is not None or order.quote_materials_fen is not None


def accept_quote(
    session: Session, actor: Actor, order: ServiceOrder, at: datetime, *, by: StaffUser, note: str = ""
) -> None:
    """R-REP-4: the resident accepts the quote (on the spot with the repairer, or on the phone with the desk)."""
    _need(by, Perm.repairs_work, Perm.service_intake)
    if not is_quoted(order):
        raise Conflict("该维修单没有报价", "this order has no quote to accept", code="no_quote")
    if order.quote_accepted_at is not None:
        raise Conflict("住户已接受报价", "the resident has already accepted the quote", code="quote_already_accepted")
    if order.state not in QUOTE_STATES:
        raise Conflict("维修已开始或已结束", "the work has started or ended", code="wrong_state")
    order.quote_accepted_at = at
    _remark(session, actor, order, "accept_quote", at, by, note or "住户接受报价", price_fen=order.price_fen)


def dispute_price(
    session: Session,
    actor: Actor,
    order: ServiceOrder,
    note: str,
    at: datetime,
    *,
    by: StaffUser,
    lead: StaffUser | None = None,
) -> None:
    """R-REP-4: the resident disputes the price; recorded and routed to engineering's duty lead (named when known).
    Work still waits for an accepted price."""
    _need(by, Perm.repairs_work, Perm.service_intake)
    text = _text(note, "住户对价格的异议", "what the resident disputes", "note")
    if order.state not in QUOTE_STATES:
        raise Conflict("维修已开始或已结束", "the work has started or ended", code="wrong_state")
    if lead is not None and (
        lead.id not in {e.id for e in engineers(session, session.get_one(Estate, order.estate_id))}
    ):
        raise DomainError(
            "值班负责人须为本小区工程人员", "the duty lead must be of engineering", code="not_an_engineer"
        )
    routed = f"→ 工程部值班负责人{(' ' + lead.display_name) if lead else ''}"
    _remark(session, actor, order, "price_dispute", at, by, f"{text} {routed}", duty_lead_id=lead.id if lead else None)


def disputed(session: Session, order: ServiceOrder) -> bool:
    """A dispute is open while no price has been accepted after it."""
    last = session.scalar(
        select(StepHistory.at)
        .where(
            StepHistory.process == REPAIR.name,
            StepHistory.record_id == order.id,
            StepHistory.transition == "price_dispute",
        )
        .order_by(StepHistory.at.desc())
        .limit(1)
    )
    return last is not None and order.quote_accepted_at is None


# --- the work (R-REP-4, 5, 7) ---------------------------------------------------------------------------------------


def start(session: Session, actor: Actor, order: ServiceOrder, at: datetime, *, by: StaffUser) -> None:
    """R-REP-4: work starts only once the resident has accepted a quoted price."""
    workflow.check(REPAIR, order, "start", by=by)
    if is_quoted(order) and order.quote_accepted_at is None:
        raise DomainError(
            "住户尚未接受报价，不能开工", "the resident has not accepted the quote: work may not start",
            code="quote_not_accepted",
        )  # fmt: skip
    workflow.step(session, actor, REPAIR, order, "start", at, by=by, fields={"started_at": at})


def unfinished(
    session: Session,
    actor: Actor,
    order: ServiceOrder,
    reason: str,
    at: datetime,
    *,
    by: StaffUser,
    next_start: datetime | None = None,
    next_end: datetime | None = None,
) -> None:
    """R-REP-5: could not finish: why, and the next visit when one is agreed (otherwise it is booked later)."""
    text = _text(reason, "未能完成的原因", "why the work could not be finished", "unfinished_reason")
    if (next_start is None) != (next_end is None):
        raise DomainError("请填写下次预约的开始和结束时间", "give both ends of the next visit", code="bad_appointment")
    if next_start is not None and next_end is not None and next_end <= next_start:
        raise DomainError(
            "预约结束时间须晚于开始时间", "the appointment must end after it starts", code="bad_appointment"
        )
    workflow.step(session, actor, REPAIR, order, "unfinished", at, by=by, note=text, fields={"unfinished_reason": text})
    if next_start is not None and next_end is not None:
        schedule(session, actor, order, next_start, next_end, at, by=by)


@dataclass(frozen=True)
class Completion:
    """R-REP-7: what the finished order carries. `actual_fen`: a quoted repair billed at actual cost (R-REP-3)."""

    opinion: str
    satisfied: bool
    signature: str  # a PNG data URL from the signature pad
    repairer: str
    actual_fen: int | None = None


def finish(
    session: Session, actor: Actor, order: ServiceOrder, done: Completion, at: datetime, *, by: StaffUser
) -> None:
    """The work is done: the resident's opinion and signature and the repairer's name; the order is then due back
    at the CS centre by the 17:30 handover (R-REP-9)."""
    fields: dict[str, object] = {
        "resident_opinion": _text(done.opinion, "住户意见", "the resident's opinion", "resident_opinion"),
        "resident_signature": resident_signature(done.signature),
        "repairer_signed_by": _text(done.repairer, "维修人员姓名", "the repairer's name", "repairer_signed_by", 40),
        "satisfied": done.satisfied,
        "done_at": at,
    }
    if done.actual_fen is not None:
        if not is_quoted(order):
            raise DomainError(
                "价目表项目按价目表收费，不填实际费用", "a listed repair is billed at its listed price",
                code="actual_not_quoted",
            )  # fmt: skip
        if done.actual_fen < 0:
            raise DomainError("实际费用不能为负数", "the actual cost cannot be negative", code="bad_amount")
        fields["actual_fen"] = done.actual_fen
    workflow.step(session, actor, REPAIR, order, "finish", at, by=by, fields=fields)


def sign_off(
    session: Session, actor: Actor, order: ServiceOrder, at: datetime, *, by: StaffUser, note: str = ""
) -> CallTask:
    """R-REP-7: the engineering supervisor signs the finished order and it returns to the CS centre; its callback
    is then due in the evening window (R-REP-8, 9). Signed off twice: refused (the order is no longer done)."""
    workflow.step(
        session, actor, REPAIR, order, "return", at, by=by, note=note,
        fields={"supervisor_signed_by_id": by.id, "returned_at": at},
    )  # fmt: skip
    return _callback_task(session, actor, order, at)


def _callback_task(session: Session, actor: Actor, order: ServiceOrder, at: datetime) -> CallTask:
    estate = session.get_one(Estate, order.estate_id)
    return calls.open_task(session, actor, estate, CallReason.repair_callback, at, window=CALLBACK_WINDOW, order=order)


# --- the callback (R-REP-8, 9) --------------------------------------------------------------------------------------


def open_callback(session: Session, order: ServiceOrder) -> CallTask | None:
    return session.scalar(
        select(CallTask).where(
            CallTask.order_id == order.id, CallTask.reason == CallReason.repair_callback, CallTask.done_at.is_(None)
        )
    )


def last_callback(session: Session, order: ServiceOrder) -> CallTask | None:
    return session.scalar(
        select(CallTask)
        .where(CallTask.order_id == order.id, CallTask.reason == CallReason.repair_callback)
        .order_by(CallTask.created_at.desc(), CallTask.id.desc())
        .limit(1)
    )


def callback_failed(session: Session, order: ServiceOrder) -> bool:
    """The order is back with the supervisor: its last callback did not reach a satisfied resident."""
    if order.state != OrderState.returned:
        return False
    last = last_callback(session, order)
    return last is not None and last.done_at is not None and last.outcome != CallOutcome.reached_satisfied


CALLBACK_OUTCOMES = (CallOutcome.reached_satisfied, CallOutcome.reached_unsatisfied, CallOutcome.no_answer)


def record_callback(
    session: Session,
    actor: Actor,
    task: CallTask,
    outcome: CallOutcome,
    at: datetime,
    *,
    by: StaffUser,
    note: str = "",
) -> ServiceOrder:
    """The desk's callback, made only inside its window (19:00–22:00 of its day). Satisfied: the order is called
    back. Unsatisfied or not reached: the order goes back to the supervisor (R-REP-8)."""
    if task.reason != CallReason.repair_callback or task.order_id is None:
        raise DomainError("这不是维修回访任务", "this is not a repair callback", code="not_a_repair_callback")
    if outcome not in CALLBACK_OUTCOMES:
        raise DomainError("请选择回访结果", "choose the callback's outcome", code="bad_outcome", field="outcome")
    order = session.get_one(ServiceOrder, task.order_id)
    workflow.check(REPAIR, order, "call_back", by=by)
    calls.check_open(task, at)
    if task.due_at is not None and at > task.due_at:
        raise DomainError(
            "回访时段已过，请主管安排重新回访", "the window for this call has closed: the supervisor arranges another",
            code="call_window_closed",
        )  # fmt: skip
    if outcome != CallOutcome.reached_satisfied and not note.strip():
        raise DomainError("请写明回访情况", "say what came of the call", code="missing_fields", fields=["note"])
    calls.close_task(session, actor, task, outcome, at, by=by, note=note.strip()[:300])
    if outcome == CallOutcome.reached_satisfied:
        workflow.step(session, actor, REPAIR, order, "call_back", at, by=by, note=note.strip()[:NOTE_LENGTH])
    else:
        _remark(
            session,
            actor,
            order,
            "callback_failed",
            at,
            by,
            f"{outcome.value}: {note.strip()} → 主管",
            outcome=outcome.value,
        )
    return order


def reopen(session: Session, actor: Actor, order: ServiceOrder, reason: str, at: datetime, *, by: StaffUser) -> None:
    """The supervisor sends the order back to engineering (a failed callback, a complaint after it)."""
    text = _text(reason, "重开原因", "why the order is reopened", "note")
    if open_callback(session, order) is not None:
        raise Conflict("回访尚未进行", "the callback has not been made yet", code="callback_pending")
    workflow.step(session, actor, REPAIR, order, "reopen", at, by=by, note=text)


def call_again(
    session: Session, actor: Actor, order: ServiceOrder, at: datetime, *, by: StaffUser, note: str = ""
) -> CallTask:
    """The supervisor has the desk call again in the next evening window after a failed or missed callback."""
    _need(by, Perm.service_supervise)
    if order.state != OrderState.returned:
        raise Conflict("该维修单不在待回访状态", "this order is not waiting for its callback", code="wrong_state")
    pending = open_callback(session, order)
    if pending is not None and (pending.due_at is None or pending.due_at >= at):
        raise Conflict("回访尚未进行", "the callback has not been made yet", code="callback_pending")
    if pending is not None:  # its window passed without a call: recorded as missed
        calls.close_task(session, actor, pending, CallOutcome.no_answer, at, by=by, note="回访时段已过 / window missed")
    _remark(session, actor, order, "call_again", at, by, note or "主管安排重新回访")
    return _callback_task(session, actor, order, at)


# --- the unreturned-order register and filing (R-REP-11, 12) --------------------------------------------------------


def unreturned_reason(
    session: Session, actor: Actor, order: ServiceOrder, reason: str, at: datetime, *, by: StaffUser
) -> None:
    """R-REP-11: engineering writes why a finished order has not come back to the CS centre."""
    _need(by, Perm.repairs_work)
    if order.state != OrderState.done:
        raise Conflict("该维修单不在未返回状态", "this order is not an unreturned one", code="wrong_state")
    order.unreturned_reason = _text(reason, "未返回原因", "why the order is not back", "unreturned_reason")
    _remark(session, actor, order, "unreturned_reason", at, by, order.unreturned_reason)


def file_order(session: Session, actor: Actor, order: ServiceOrder, at: datetime, *, by: StaffUser) -> None:
    workflow.step(session, actor, REPAIR, order, "file", at, by=by, fields={"filed_at": at})


def cancel(session: Session, actor: Actor, order: ServiceOrder, reason: str, at: datetime, *, by: StaffUser) -> None:
    text = _text(reason, "取消原因", "why the order is cancelled", "note")
    workflow.step(session, actor, REPAIR, order, "cancel", at, by=by, note=text)
