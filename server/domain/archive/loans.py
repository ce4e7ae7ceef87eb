"""Archive loans (R-ARC): at most one day — due by the same time the next day, or earlier. Longer, to a borrower
outside the company, or of a file above the borrower's confidentiality level: the CS centre approves
(archive.approve) before the file leaves. The borrower ticks "no copying" and signs on the pad. A file already out
cannot be lent again; overdue loans are a query; a late return is recorded as late."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Estate, StaffUser, StepHistory
from server.db.models.archive import ArchiveFile, ArchiveLoan, ArchiveLoanState, FileState
from server.domain import workflow
from server.domain.actors import Actor
from server.domain.archive.files import above, level_of
from server.domain.archive.processes import LOAN
from server.domain.errors import Conflict, DomainError, NotFound
from server.domain.service.signatures import resident_signature

MAX_LOAN = timedelta(days=1)  # R-ARC: due by the same time the next day at the latest
HELD = (ArchiveLoanState.requested, ArchiveLoanState.approved, ArchiveLoanState.out)


@dataclass(frozen=True)
class ArchiveBorrower:
    """A staff member, or a named borrower outside the company (with their company)."""

    staff: StaffUser | None = None
    name: str = ""
    company: str = ""

    @property
    def outside(self) -> bool:
        return self.staff is None

    @property
    def label(self) -> str:
        return self.staff.display_name if self.staff is not None else self.name.strip()


def current_loan(session: Session, file: ArchiveFile) -> ArchiveLoan | None:
    """The file's loan that is requested, approved or out, if any."""
    return session.scalars(
        select(ArchiveLoan).where(ArchiveLoan.file_id == file.id, ArchiveLoan.state.in_(HELD)).limit(1)
    ).first()


def get_loan(session: Session, estate: Estate, loan_id: int) -> ArchiveLoan:
    found = session.get(ArchiveLoan, loan_id)
    if found is None or found.estate_id != estate.id:
        raise NotFound("没有这笔借阅", "no such loan", code="unknown_loan")
    return found


def approval_reasons(file: ArchiveFile, borrower: ArchiveBorrower, due_at: datetime, now: datetime) -> list[str]:
    """Why this loan needs the CS centre's approval (empty: the desk may lend at once)."""
    reasons = []
    if due_at - now > MAX_LOAN:
        reasons.append("longer_than_a_day")
    if borrower.outside:
        reasons.append("outside_company")
    if above(file.confidentiality, level_of(borrower.staff)):
        reasons.append("confidentiality")
    return reasons


def _signature(data_url: str) -> str:
    if not data_url.strip():
        raise DomainError(
            "请借阅人在签名板上签名",
            "the borrower signs on the pad",
            code="missing_fields",
            fields=["borrower_signature"],
        )
    return resident_signature(data_url)


def _no_copying(ticked: bool) -> None:
    if not ticked:
        raise DomainError(
            "借阅人须确认“不得复印”",
            'the borrower acknowledges "no copying"',
            code="missing_fields",
            fields=["no_copying"],
        )


def _check_new(session: Session, file: ArchiveFile, borrower: ArchiveBorrower, due_at: datetime, now: datetime) -> None:
    if file.state != FileState.held:
        raise Conflict("这份资料不在架上，不能借出", "the file is not held: it cannot be lent", code="wrong_state")
    if current_loan(session, file) is not None:
        raise Conflict("这份资料已借出或已申请借阅", "the file is already out or requested", code="file_out")
    if not borrower.label:
        raise DomainError("请填写借阅人", "name the borrower", code="missing_fields", fields=["borrower_name"])
    if borrower.outside and not borrower.company.strip():
        raise DomainError(
            "外单位借阅人须填写单位",
            "an outside borrower gives their company",
            code="missing_fields",
            fields=["company"],
        )
    if due_at <= now:
        raise DomainError("归还时间须晚于现在", "the due time is after now", code="bad_due")


def _new_loan(
    file: ArchiveFile, borrower: ArchiveBorrower, due_at: datetime, purpose: str, actor: Actor
) -> ArchiveLoan:
    return ArchiveLoan(
        estate_id=file.estate_id,
        file_id=file.id,
        staff_id=borrower.staff.id if borrower.staff is not None else None,
        borrower_name=borrower.label,
        outside=borrower.outside,
        company=borrower.company.strip(),
        purpose=purpose.strip(),
        created_by=actor.label,
    )


def lend(
    session: Session,
    actor: Actor,
    file: ArchiveFile,
    borrower: ArchiveBorrower,
    *,
    due_at: datetime,
    no_copying: bool,
    signature: str,
    by: StaffUser,
    now: datetime,
    purpose: str = "",
) -> ArchiveLoan:
    """Lend at once: a day or less, to a staff member allowed to see the file; anything else needs approval first
    (`needs_approval`, nothing changed)."""
    _check_new(session, file, borrower, due_at, now)
    reasons = approval_reasons(file, borrower, due_at, now)
    if reasons:
        raise DomainError(
            "借阅超过一天、外单位借阅或超出借阅人保密级别，须先经客户服务中心批准",
            "a loan over one day, outside the company or above the borrower's level needs the CS centre's approval "
            "first",
            code="needs_approval",
            reasons=reasons,
        )
    _no_copying(no_copying)
    loan = _new_loan(file, borrower, due_at, purpose, actor)
    loan.created_at = now
    fields = {
        "borrower_name": loan.borrower_name,
        "due_at": due_at,
        "borrower_signature": _signature(signature),
        "no_copying": True,
        "lent_by": by.display_name,
        "lent_at": now,
    }
    workflow.step(session, actor, LOAN, loan, "lend", now, by=by, fields=fields, file=file.number)
    return loan


def request(
    session: Session,
    actor: Actor,
    file: ArchiveFile,
    borrower: ArchiveBorrower,
    *,
    due_at: datetime,
    by: StaffUser,
    now: datetime,
    purpose: str = "",
) -> ArchiveLoan:
    """Ask the CS centre to approve a loan that needs it (over a day, outside, above the borrower's level)."""
    _check_new(session, file, borrower, due_at, now)
    if not purpose.strip():
        raise DomainError("请写明借阅用途", "give the purpose of the loan", code="missing_fields", fields=["purpose"])
    loan = _new_loan(file, borrower, due_at, purpose, actor)
    loan.created_at = now
    fields = {"borrower_name": loan.borrower_name, "due_at": due_at}
    workflow.step(session, actor, LOAN, loan, "request", now, by=by, fields=fields, file=file.number)
    return loan


def approve(session: Session, actor: Actor, loan: ArchiveLoan, *, by: StaffUser, now: datetime, note: str = "") -> None:
    workflow.step(session, actor, LOAN, loan, "approve", now, by=by, fields={"approved_by_id": by.id}, note=note)


def refuse(session: Session, actor: Actor, loan: ArchiveLoan, *, by: StaffUser, now: datetime, note: str = "") -> None:
    workflow.step(session, actor, LOAN, loan, "refuse", now, by=by, note=note)


def hand_over(
    session: Session,
    actor: Actor,
    loan: ArchiveLoan,
    *,
    no_copying: bool,
    signature: str,
    by: StaffUser,
    now: datetime,
) -> None:
    """The approved file leaves the room: the borrower ticks "no copying" and signs."""
    workflow.check(LOAN, loan, "hand_over", by=by, fields={"borrower_signature": "x"})
    if loan.due_at <= now:
        raise DomainError(
            "批准的归还时间已过，请重新申请", "the approved due time has passed: ask again", code="bad_due"
        )
    _no_copying(no_copying)
    fields = {
        "borrower_signature": _signature(signature),
        "no_copying": True,
        "lent_by": by.display_name,
        "lent_at": now,
    }
    workflow.step(session, actor, LOAN, loan, "hand_over", now, by=by, fields=fields)


def cancel(session: Session, actor: Actor, loan: ArchiveLoan, *, by: StaffUser, now: datetime, note: str = "") -> None:
    workflow.step(session, actor, LOAN, loan, "cancel", now, by=by, note=note)


def return_loan(
    session: Session, actor: Actor, loan: ArchiveLoan, *, by: StaffUser, now: datetime, note: str = ""
) -> None:
    """The file is back; a return after the due time is recorded as late."""
    late = now > loan.due_at
    fields = {"returned_at": now, "returned_late": late}
    workflow.step(session, actor, LOAN, loan, "return", now, by=by, fields=fields, note=note, late=late)


def is_overdue(loan: ArchiveLoan, now: datetime) -> bool:
    return loan.state == ArchiveLoanState.out and loan.due_at < now


def overdue(session: Session, estate: Estate, now: datetime) -> list[ArchiveLoan]:
    """Loans out past their due time (R-ARC: overdue loans flagged)."""
    return list(
        session.scalars(
            select(ArchiveLoan)
            .where(
                ArchiveLoan.estate_id == estate.id,
                ArchiveLoan.state == ArchiveLoanState.out,
                ArchiveLoan.due_at < now,
            )
            .order_by(ArchiveLoan.due_at)
        )
    )


def loans(session: Session, estate: Estate, *, state: str = "") -> list[ArchiveLoan]:
    query = select(ArchiveLoan).where(ArchiveLoan.estate_id == estate.id)
    if state in ArchiveLoanState.__members__:
        query = query.where(ArchiveLoan.state == ArchiveLoanState(state))
    return list(session.scalars(query.order_by(ArchiveLoan.created_at.desc(), ArchiveLoan.id.desc())))


def pending(session: Session, estate: Estate) -> list[ArchiveLoan]:
    """Loans waiting for the CS centre's approval."""
    return loans(session, estate, state=ArchiveLoanState.requested.value)


def history(session: Session, loan: ArchiveLoan) -> list[StepHistory]:
    """The loan's steps, oldest first (kept by `workflow.step`)."""
    return list(
        session.scalars(
            select(StepHistory)
            .where(StepHistory.process == LOAN.name, StepHistory.record_id == loan.id)
            .order_by(StepHistory.at, StepHistory.id)
        )
    )
