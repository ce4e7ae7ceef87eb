"""Leave and swap requests (R-DUTY-7): asked at least a day ahead, approved or refused by the supervisor; nobody
arranges their own swap.

A swap is a request to the supervisor naming the colleague who takes the shift (and, when named, the colleague's
shift the requester takes in return); it is only ever applied by the supervisor's approval, and a supervisor may
not decide a request that involves themselves. Approving applies it to the roster — a leave leaves the shift
uncovered for the supervisor to fill, a swap gives the shifts to each other — under the same rule as any roster
change: nobody holds two overlapping shifts. Every step is taken through `workflow.step` on `DUTY_REQUEST`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Estate, StaffUser
from server.db.models.duty import DutyRequest, RequestKind, RequestState, Shift
from server.domain import clock, workflow
from server.domain.actors import Actor
from server.domain.duty import roster
from server.domain.errors import Conflict, DomainError, Forbidden, NotFound
from server.domain.permissions import Perm
from server.domain.workflow import NEW, Transition, process

S = RequestState
DUTY_REQUEST = process(
    "duty_request",
    RequestState,
    Transition("ask", frozenset({NEW}), S.asked, Perm.duty_view),
    Transition("approve", frozenset({S.asked}), S.approved, Perm.duty_manage),
    Transition("refuse", frozenset({S.asked}), S.refused, Perm.duty_manage, needs=("decision_note",)),
    Transition("withdraw", frozenset({S.asked}), S.withdrawn, Perm.duty_view),
)


def _too_late(estate: Estate, shift: Shift, at: datetime, what_zh: str, what_en: str) -> None:
    """R-DUTY-7: at least a day ahead — the estate's calendar day of `at` must be before the shift's day."""
    if clock.local_day(estate, at) >= shift.day:
        raise Conflict(
            f"{what_zh}须至少提前一天提出（班次 {shift.day}）",
            f"{what_en} must be asked at least a day ahead (the shift is on {shift.day})",
            code="too_late",
        )


def ask(
    session: Session, actor: Actor, estate: Estate, by: StaffUser, shift_id: int, kind: RequestKind, at: datetime,
    *, reason: str = "", colleague_id: int | None = None, colleague_shift_id: int | None = None,
) -> DutyRequest:  # fmt: skip
    """`by` asks leave from, or a swap of, their own shift `shift_id`."""
    shift = roster.get_shift(session, estate, shift_id)
    if shift.staff_id != by.id:
        raise Forbidden(
            "只能为自己的班次申请请假或调班", "leave or a swap is asked for one's own shift", code="not_your_shift"
        )
    _too_late(estate, shift, at, "请假或调班", "leave or a swap")
    if session.scalar(
        select(DutyRequest.id).where(DutyRequest.shift_id == shift.id, DutyRequest.state == RequestState.asked)
    ):
        raise Conflict("该班次已有待批的申请", "the shift has a request waiting already", code="request_pending")
    other: Shift | None = None
    if kind == RequestKind.swap:
        if colleague_id is None:
            raise DomainError(
                "调班须写明接班同事", "a swap names the colleague", code="missing_fields", fields=["colleague_id"]
            )
        if colleague_id == by.id:
            raise DomainError("不能与自己调班", "a swap is with a colleague, not oneself", code="self_swap")
        roster.desk_person(session, estate, colleague_id)
        if colleague_shift_id is not None:
            other = roster.get_shift(session, estate, colleague_shift_id)
            if other.staff_id != colleague_id:
                raise DomainError(
                    "所选班次不是该同事的", "that shift is not the colleague's", code="not_colleague_shift"
                )
            _too_late(estate, other, at, "调班", "a swap")
    else:
        colleague_id = colleague_shift_id = None
    request = DutyRequest(
        estate_id=estate.id, kind=kind, shift_id=shift.id, requester_id=by.id, colleague_id=colleague_id,
        colleague_shift_id=other.id if other else None, reason=reason.strip(), created_at=at,
    )  # fmt: skip
    workflow.step(session, actor, DUTY_REQUEST, request, "ask", at, by=by, note=reason.strip(), kind=kind.value)
    return request


def get(session: Session, estate: Estate, request_id: int) -> DutyRequest:
    request = session.get(DutyRequest, request_id)
    if request is None or request.estate_id != estate.id:
        raise NotFound("没有这个申请", "no such request", code="not_found")
    return request


def decide(
    session: Session, actor: Actor, estate: Estate, by: StaffUser, request_id: int, approve: bool, at: datetime,
    note: str = "",
) -> DutyRequest:  # fmt: skip
    """The supervisor approves (applying it to the roster) or refuses (with the reason) a request."""
    request = get(session, estate, request_id)
    workflow.check(DUTY_REQUEST, request, "approve" if approve else "refuse", by=by, fields={"decision_note": note})
    if by.id in (request.requester_id, request.colleague_id):
        raise Forbidden(
            "不能审批涉及自己的请假或调班", "a supervisor cannot decide a request that involves themselves",
            code="own_request",
        )  # fmt: skip
    fields: dict[str, object] = {"decided_by_id": by.id, "decided_at": at, "decision_note": note.strip()}
    if approve:
        shift = session.get_one(Shift, request.shift_id)
        _too_late(estate, shift, at, "批准", "approval")
        if shift.staff_id != request.requester_id:
            raise Conflict("该班次已调整，申请不再适用", "the shift has changed since: the request no longer applies",
                           code="shift_changed")  # fmt: skip
        if request.kind == RequestKind.leave:
            shift.staff_id = None
        else:
            shift.staff_id = request.colleague_id
            if request.colleague_shift_id is not None:
                other = session.get_one(Shift, request.colleague_shift_id)
                if other.staff_id != request.colleague_id:
                    raise Conflict("同事的班次已调整", "the colleague's shift has changed since", code="shift_changed")
                other.staff_id = request.requester_id
                other.updated_by, other.updated_at = actor.label, at
        shift.updated_by, shift.updated_at = actor.label, at
        roster.check_overlaps(session, estate)
    workflow.step(
        session, actor, DUTY_REQUEST, request, "approve" if approve else "refuse", at, by=by, fields=fields,
        note=note.strip(),
    )  # fmt: skip
    return request


def withdraw(session: Session, actor: Actor, estate: Estate, by: StaffUser, request_id: int, at: datetime) -> None:
    request = get(session, estate, request_id)
    if request.requester_id != by.id:
        raise Forbidden("只能撤回自己的申请", "only one's own request can be withdrawn", code="not_your_request")
    workflow.step(session, actor, DUTY_REQUEST, request, "withdraw", at, by=by)


def mine(session: Session, estate: Estate, staff: StaffUser) -> list[DutyRequest]:
    return list(
        session.scalars(
            select(DutyRequest)
            .where(DutyRequest.estate_id == estate.id, DutyRequest.requester_id == staff.id)
            .order_by(DutyRequest.created_at.desc(), DutyRequest.id.desc())
            .limit(50)
        )
    )


def queue(session: Session, estate: Estate) -> list[DutyRequest]:
    """The requests waiting for the supervisor."""
    return list(
        session.scalars(
            select(DutyRequest)
            .where(DutyRequest.estate_id == estate.id, DutyRequest.state == RequestState.asked)
            .order_by(DutyRequest.created_at, DutyRequest.id)
        )
    )
