"""Renovation applications through their steps (R-REN-1…5, 7…9): each use case checks its input, then takes the
step with `workflow.step`, which checks the state, the permission and the fields and writes history and audit.
Late is a query: an application waiting for engineering past its 3 working days, a refund past its 10."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from server.db.models import Estate, StaffUser
from server.db.models.renovation import Renovation, RenovationState
from server.domain import clock, numbering, registry, workflow
from server.domain.actors import Actor
from server.domain.errors import DomainError, NotFound
from server.domain.renovation import passes
from server.domain.renovation.process import RENOVATION
from server.domain.service.signatures import resident_signature

MAX_DAYS = 366  # a renovation longer than a year is a typing error


@dataclass(frozen=True)
class Application:
    """What the owner writes on the application (R-REN-1)."""

    unit: str
    owner_name: str
    scope: str
    starts_on: date | None
    ends_on: date | None
    owner_phone: str = ""
    contractor: str = ""


def _period(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is None or ends_on is None:
        raise DomainError("请填写装修起止日期", "give the first and last day of the works", code="missing_fields")
    if ends_on < starts_on or (ends_on - starts_on).days > MAX_DAYS:
        raise DomainError(
            "装修结束日期须在开始日期之后，且工期不超过一年",
            "the works end on or after their first day, within a year",
            code="bad_period",
        )


def receive(
    session: Session, actor: Actor, by: StaffUser, estate: Estate, application: Application, now: datetime
) -> Renovation:
    """R-REN-1: the CS centre receives the owner's application; engineering's 3 working days start (R-REN-2)."""
    unit = registry.find_unit(session, estate, application.unit.strip().upper())
    if unit is None:
        raise DomainError(f"没有房号 {application.unit}", f"no unit {application.unit}", code="unknown_unit")
    _period(application.starts_on, application.ends_on)
    fields = {
        "owner_name": application.owner_name.strip(),
        "scope": application.scope.strip(),
        "starts_on": application.starts_on,
        "ends_on": application.ends_on,
    }
    workflow.check(RENOVATION, Renovation(estate_id=estate.id), "receive", by=by, fields=fields)
    record = Renovation(
        estate_id=estate.id,
        number=numbering.next_number(session, estate, "ZX", clock.local_day(estate, now)),
        unit_id=unit.id,
        received_at=now,
        owner_phone=application.owner_phone.strip(),
        contractor=application.contractor.strip(),
        created_by=actor.label[:80],
    )
    workflow.step(session, actor, RENOVATION, record, "receive", now, by=by, fields=fields)
    return record


def get(session: Session, estate: Estate, renovation_id: int) -> Renovation:
    record = session.get(Renovation, renovation_id)
    if record is None or record.estate_id != estate.id:
        raise NotFound("没有这份装修申请", "no such renovation application", code="not_found")
    return record


def decide(
    session: Session, actor: Actor, by: StaffUser, record: Renovation, approve: bool, note: str, now: datetime
) -> None:
    """R-REN-2: engineering's approval (with its conditions) or rejection (with its reasons)."""
    fields = {"decision_note": note.strip(), "decided_by_id": by.id, "decided_at": now}
    workflow.step(session, actor, RENOVATION, record, "approve" if approve else "reject", now, by=by, fields=fields)


def notify(session: Session, actor: Actor, by: StaffUser, record: Renovation, note: str, now: datetime) -> None:
    """R-REN-3: the owner was told (by phone or in person; the note says how)."""
    workflow.step(session, actor, RENOVATION, record, "notify", now, by=by, note=note, fields={"notified_at": now})


def agree(session: Session, actor: Actor, by: StaffUser, record: Renovation, signature: str, now: datetime) -> None:
    """R-REN-4: the owner signs the agreement on the pad."""
    workflow.check(RENOVATION, record, "agree", by=by, fields={"owner_signature": "x"})
    fields = {"owner_signature": resident_signature(signature), "agreed_at": now}
    workflow.step(session, actor, RENOVATION, record, "agree", now, by=by, fields=fields)


def pay(
    session: Session,
    actor: Actor,
    by: StaffUser,
    record: Renovation,
    fee_fen: int | None,
    deposit_fen: int | None,
    receipt_no: str,
    now: datetime,
) -> None:
    """R-REN-5: finance received the fees and the deposit (amounts in fen) against its receipt."""
    if fee_fen is None or deposit_fen is None or fee_fen < 0 or deposit_fen <= 0:
        raise DomainError(
            "请填写管理费和押金金额（押金须大于零）",
            "give the fee and the deposit (the deposit above zero)",
            code="bad_amount",
        )
    fields = {"fee_fen": fee_fen, "deposit_fen": deposit_fen, "receipt_no": receipt_no.strip(), "paid_at": now}
    workflow.step(session, actor, RENOVATION, record, "pay", now, by=by, fields=fields)


def suspend(session: Session, actor: Actor, by: StaffUser, record: Renovation, reason: str, now: datetime) -> None:
    """Works stopped by the estate: every worker pass is refused at the gate until they resume (R-REN-6)."""
    workflow.step(
        session, actor, RENOVATION, record, "suspend", now, by=by, fields={"suspend_reason": reason.strip()[:200]}
    )


def resume(session: Session, actor: Actor, by: StaffUser, record: Renovation, now: datetime) -> None:
    workflow.step(session, actor, RENOVATION, record, "resume", now, by=by, fields={"suspend_reason": ""})


def extend(
    session: Session, actor: Actor, by: StaffUser, record: Renovation, ends_on: date | None, reason: str, now: datetime
) -> None:
    """R-REN-7: the works' end moves later; the workers' passes are issued again for the new end."""
    workflow.check(RENOVATION, record, "extend", by=by, fields={"ends_on": ends_on})
    _period(record.starts_on, ends_on)
    assert ends_on is not None
    if ends_on <= record.ends_on:
        raise DomainError(
            f"延期后的结束日期须晚于 {record.ends_on}", f"an extension ends after {record.ends_on}", code="bad_period"
        )
    before = record.ends_on
    workflow.step(
        session, actor, RENOVATION, record, "extend", now, by=by, note=reason, fields={"ends_on": ends_on},
        ends_before=before,
    )  # fmt: skip
    passes.reissue_all(session, actor, record, now)


def request_acceptance(session: Session, actor: Actor, by: StaffUser, record: Renovation, now: datetime) -> None:
    """R-REN-8: the owner applies for completion acceptance."""
    workflow.step(session, actor, RENOVATION, record, "request_acceptance", now, by=by)


def book_inspection(
    session: Session, actor: Actor, by: StaffUser, record: Renovation, at: datetime | None, now: datetime
) -> None:
    """R-REN-8: engineering books the inspection with the owner."""
    workflow.step(session, actor, RENOVATION, record, "book_inspection", now, by=by, fields={"inspection_at": at})


def accept(session: Session, actor: Actor, by: StaffUser, record: Renovation, note: str, now: datetime) -> None:
    """R-REN-8, 9: engineering accepts the works; the deposit refund is due 10 working days later. The workers'
    passes end with the works."""
    fields = {"accepted_at": now, "acceptance_note": note.strip()[:400]}
    workflow.step(session, actor, RENOVATION, record, "accept", now, by=by, fields=fields)
    record.refund_due_at = record.due_at
    passes.withdraw_all(session, actor, record, now)


def refund(
    session: Session,
    actor: Actor,
    by: StaffUser,
    record: Renovation,
    amount_fen: int | None,
    reference: str,
    now: datetime,
) -> None:
    """R-REN-9: finance paid the deposit back (less any deduction for damage, which the note of acceptance says)."""
    if amount_fen is None or not 0 <= amount_fen <= record.deposit_fen:
        raise DomainError("退还金额须在 0 与押金之间", "the refund is between zero and the deposit", code="bad_amount")
    fields = {"refund_fen": amount_fen, "refund_reference": reference.strip(), "refunded_at": now}
    workflow.step(session, actor, RENOVATION, record, "refund", now, by=by, fields=fields)


# --- lateness (R-REN-2, 9) ------------------------------------------------------------------------------------------


def late(now: datetime) -> ColumnElement[bool]:
    """Waiting for engineering past its 3 working days, or for the refund past its 10."""
    waiting = or_(Renovation.state == RenovationState.received, Renovation.state == RenovationState.accepted)
    return and_(waiting, Renovation.due_at.is_not(None), Renovation.due_at < now)


def is_late(record: Renovation, now: datetime) -> bool:
    waiting = record.state in (RenovationState.received, RenovationState.accepted)
    return waiting and record.due_at is not None and record.due_at < now


def listing(
    session: Session, estate: Estate, *, state: str = "", late_only: bool = False, now: datetime
) -> list[Renovation]:
    query = select(Renovation).where(Renovation.estate_id == estate.id)
    if state in RenovationState.__members__:
        query = query.where(Renovation.state == RenovationState(state))
    if late_only:
        query = query.where(late(now))
    return list(session.scalars(query.order_by(Renovation.id.desc()).limit(200)))
