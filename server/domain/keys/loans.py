"""The key loan register 《钥匙领用登记表》 (R-KEY-12): who takes which key, for which purpose, until when.

A loan is registered here, with the one unlock that lets its key out of the cabinet (server.domain.keys.unlocks);
it goes out and comes back only on the cabinet's events (server.domain.keys.events), never on a button. Overdue
loans are a query; a sweep (run by the server every minute and by `estate keys sweep`) records each one in the
audit log once, as an alert, and a person acknowledges it with a note."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.db.models import (
    BorrowerKind,
    Estate,
    IntakeState,
    Key,
    KeyGroup,
    KeyIntake,
    KeyKind,
    KeyLoan,
    KeySet,
    KeySlot,
    LoanPurpose,
    LoanState,
    Occupancy,
    OccupancyKind,
    Person,
    StaffUser,
)
from server.domain import audit, clock, workflow
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, NotFound
from server.domain.keys import unlocks
from server.domain.keys.register import get_key, open_loan
from server.domain.permissions import Perm
from server.domain.workflow import NEW, Transition

L = LoanState
KEY_LOAN = workflow.process(
    "key_loan",
    LoanState,
    Transition("register", frozenset({NEW}), L.requested, Perm.keys_lend, ("purpose", "borrower_name")),
    Transition("remove", frozenset({L.requested}), L.out),  # the cabinet saw the key leave its slot
    Transition("hand_over", frozenset({L.requested}), L.handed_over),  # a move-in key leaves for good (R-KEY-8)
    Transition("return", frozenset({L.out}), L.returned),  # the cabinet saw it back in its home slot
    Transition("cancel", frozenset({L.requested}), L.cancelled, Perm.keys_lend),
    Transition("acknowledge_overdue", frozenset({L.out}), L.out, Perm.keys_lend, ("overdue_ack_note",)),
)
VIEWINGS = (LoanPurpose.viewing, LoanPurpose.sales_viewing)
UNIT_SETS = (KeyGroup.unit, KeyGroup.rectification)


@dataclass(frozen=True)
class Borrower:
    """Who takes the key: a staff member, an owner whose identity was checked, or an outside worker."""

    kind: BorrowerKind
    staff: StaffUser | None = None
    person: Person | None = None
    identity_checked: bool = False  # R-KEY-13: staff compared the owner's ID with the registry
    name: str = ""
    company: str = ""
    phone: str = ""
    id_tail: str = ""


def parse_purpose(purpose: str) -> LoanPurpose:
    """R-KEY-5: a key leaves only for one of the listed purposes, never for a private one."""
    try:
        return LoanPurpose(purpose.strip())
    except ValueError:
        listed = ", ".join(p.value for p in LoanPurpose)
        raise DomainError(
            f"借用用途 {purpose!r} 不在登记表的用途里（{listed}）；钥匙不得私用",
            f"purpose {purpose!r} is not one of the register's ({listed}): keys are never lent for private use",
            code="bad_purpose",
        ) from None


def lend(
    session: Session,
    actor: Actor,
    estate: Estate,
    *,
    key_id: int,
    purpose: str,
    borrower: Borrower,
    by: StaffUser,
    now: datetime,
    due_at: datetime | None = None,
    accompanied_by: StaffUser | None = None,
    receipt_no: str = "",
    payment_proof: str = "",
    note: str = "",
    cabinet_id: int | None = None,
) -> KeyLoan:
    """Register a loan (R-KEY-12) with its one unlock (at cabinet `cabinet_id` only, when given; else at any
    cabinet of the estate). Every rule is checked before anything is written; the loan goes out when the cabinet
    sees the key leave its slot."""
    reason = parse_purpose(purpose)
    key = get_key(session, estate, key_id)
    key_set = session.get_one(KeySet, key.set_id)
    _check_available(session, key, key_set)
    name = _check_borrower(session, estate, borrower, key, key_set, now)
    _check_purpose(reason, borrower, key_set, accompanied_by, receipt_no, payment_proof)
    _check_due(reason, borrower, due_at, now)
    loan = KeyLoan(
        estate_id=estate.id,
        key_id=key.id,
        borrower_kind=borrower.kind,
        borrower_staff_id=borrower.staff.id if borrower.staff is not None else None,
        borrower_person_id=borrower.person.id if borrower.person is not None else None,
        company=borrower.company.strip(),
        phone=borrower.phone.strip(),
        id_tail=borrower.id_tail.strip(),
        accompanied_by_id=accompanied_by.id if accompanied_by is not None else None,
        receipt_no=receipt_no.strip(),
        payment_proof=payment_proof.strip(),
        registered_by_id=by.id,
        registered_at=now,
        due_at=due_at,
    )
    workflow.step(
        session,
        actor,
        KEY_LOAN,
        loan,
        "register",
        now,
        by=by,
        note=note,
        fields={"purpose": reason, "borrower_name": name},
        key=key.label,
        borrower=borrower.kind.value,
        due_at=due_at,
    )
    unlocks.authorise(session, actor, loan, key, now, device_id=cabinet_id)
    return loan


def _check_available(session: Session, key: Key, key_set: KeySet) -> None:
    intake = session.get_one(KeyIntake, key_set.intake_id)
    if intake.state != IntakeState.accepted or key.slot is None or key.handed_over_at is not None:
        raise Conflict(
            f"钥匙「{key.label}」不在柜中可借",
            f"key {key.label!r} is not in the cabinet to lend",
            code="key_unavailable",
        )
    loan = open_loan(session, key)
    slot = session.scalar(
        select(KeySlot).where(KeySlot.estate_id == key.estate_id, KeySlot.board == key.board, KeySlot.slot == key.slot)
    )
    if loan is not None or (slot is not None and not slot.occupied):
        whom = f"（{loan.borrower_name}）" if loan is not None else ""
        raise Conflict(
            f"钥匙「{key.label}」已借出{whom}",
            f"key {key.label!r} is already out",
            code="key_out",
            loan_id=loan.id if loan is not None else None,
        )


def _check_borrower(
    session: Session, estate: Estate, borrower: Borrower, key: Key, key_set: KeySet, now: datetime
) -> str:
    """The borrower's name for the register, once the rules for their kind hold."""
    if borrower.kind == BorrowerKind.staff:
        if borrower.staff is None or not borrower.staff.is_active:
            raise DomainError("请选择借用的员工", "choose the staff member who borrows", code="missing_fields")
        return borrower.staff.display_name
    if borrower.kind == BorrowerKind.owner:
        return _check_owner(session, estate, borrower, key_set, now)
    missing = [f for f in ("name", "company", "phone", "id_tail") if not getattr(borrower, f).strip()]
    if missing or len(borrower.id_tail.strip()) != 4:
        raise DomainError(
            "外来人员须登记姓名、单位、电话和身份证后四位",
            "an outside worker gives name, company, phone and ID tail",
            code="missing_fields",
            fields=missing,
        )
    if key.kind != KeyKind.tm:  # R-KEY-14
        raise DomainError(
            f"外来人员只可借用 TM 电子钥匙，「{key.label}」是机械钥匙",
            f"outside workers may take only TM electronic keys: {key.label!r} is mechanical",
            code="outside_worker_tm_only",
            status=403,
        )
    return borrower.name.strip()[:60]


def _check_owner(session: Session, estate: Estate, borrower: Borrower, key_set: KeySet, now: datetime) -> str:
    """R-KEY-13: the owner's identity is checked, and an owner borrows only the keys of a unit they own."""
    person = borrower.person
    if person is None or not borrower.identity_checked:
        raise DomainError("须先核实业主身份", "check the owner's identity first", code="identity_unchecked")
    day = clock.today(estate, now)
    owns = key_set.unit_id is not None and any(
        o.current_on(day)
        for o in session.scalars(
            select(Occupancy).where(
                Occupancy.unit_id == key_set.unit_id,
                Occupancy.person_id == person.id,
                Occupancy.kind == OccupancyKind.owner,
            )
        )
    )
    if not owns:
        raise DomainError(
            f"{person.name} 不是这套房的业主", f"{person.name} does not own this unit", code="not_owner", status=403
        )
    return person.name


def _check_purpose(
    purpose: LoanPurpose,
    borrower: Borrower,
    key_set: KeySet,
    accompanied_by: StaffUser | None,
    receipt_no: str,
    payment_proof: str,
) -> None:
    if purpose in VIEWINGS and (accompanied_by is None or not accompanied_by.is_active):
        raise DomainError("看房须有员工陪同", "a viewing is accompanied by a staff member", code="unaccompanied")
    if purpose == LoanPurpose.viewing and borrower.kind != BorrowerKind.owner:
        raise DomainError("看房借钥匙的是业主本人", "a viewing loan is to the owner", code="not_owner")
    if purpose == LoanPurpose.rectification and not receipt_no.strip():  # R-KEY-9
        raise DomainError(
            "整改借钥匙须给业主留回执，请填回执号",
            "a rectification loan needs the owner's receipt number",
            code="missing_receipt",
        )
    if key_set.opens == KeyGroup.rectification:  # R-KEY-9: for the work, or back to the owner with the receipt
        _check_rectification_key(purpose, key_set, receipt_no)
    if purpose == LoanPurpose.move_in:  # R-KEY-8
        if borrower.kind != BorrowerKind.owner or key_set.opens not in UNIT_SETS:
            raise DomainError("入伙只向业主发放本户钥匙", "move-in issues a unit's keys to its owner", code="not_owner")
        if not payment_proof.strip() or not receipt_no.strip():
            raise DomainError(
                "入伙领钥匙须核验入伙缴费证明并由业主签收（填签收单号）",
                "a move-in issue needs the payment proof checked and the owner's signed receipt number",
                code="missing_receipt",
            )


def _check_rectification_key(purpose: LoanPurpose, key_set: KeySet, receipt_no: str) -> None:
    if purpose not in (LoanPurpose.rectification, LoanPurpose.move_in):
        raise DomainError(
            f"「{key_set.label}」是整改钥匙，只可借给整改工作",
            f"{key_set.label!r} is a rectification key: it is lent only for the rectification work",
            code="rectification_key_only",
        )
    if key_set.receipt_no and receipt_no.strip() != key_set.receipt_no:
        raise DomainError(
            f"回执号与留钥匙时给业主的回执 {key_set.receipt_no} 不符",
            f"the receipt number is not the one the owner was given ({key_set.receipt_no})",
            code="receipt_mismatch",
        )


def _check_due(purpose: LoanPurpose, borrower: Borrower, due_at: datetime | None, now: datetime) -> None:
    """Every loan but a move-in issue has a due time, in the future; an outside worker's always (R-KEY-14)."""
    if purpose == LoanPurpose.move_in:
        if due_at is not None:
            raise DomainError("入伙发放的钥匙不归还，不设归还时间", "a move-in issue has no due time", code="bad_due")
        return
    if due_at is None or due_at <= now:
        who = "外来人员" if borrower.kind == BorrowerKind.outside_worker else "借用"
        raise DomainError(
            f"{who}须定一个将来的归还时间", "a loan needs a return deadline in the future", code="missing_due"
        )


def get_loan(session: Session, estate: Estate, loan_id: int) -> KeyLoan:
    loan = session.get(KeyLoan, loan_id)
    if loan is None or loan.estate_id != estate.id:
        raise NotFound(f"没有借用记录 {loan_id}", f"no key loan {loan_id}", code="unknown_loan")
    return loan


def cancel(session: Session, actor: Actor, loan: KeyLoan, *, by: StaffUser, now: datetime, note: str = "") -> KeyLoan:
    """A registered loan whose key never left the cabinet."""
    workflow.step(session, actor, KEY_LOAN, loan, "cancel", now, by=by, note=note)
    return loan


def overdue(session: Session, estate: Estate, now: datetime) -> list[KeyLoan]:
    """Loans out past their due time, the longest overdue first."""
    return list(
        session.scalars(
            select(KeyLoan)
            .where(KeyLoan.estate_id == estate.id, KeyLoan.state == LoanState.out, KeyLoan.due_at < now)
            .order_by(KeyLoan.due_at, KeyLoan.id)
        )
    )


def flag_overdue(session: Session, actor: Actor, estate: Estate, now: datetime) -> list[KeyLoan]:
    """The periodic sweep: each loan that became overdue is recorded in the audit log once, as an alert. Safe to
    run again, and from several servers at once: a loan is flagged by a conditional update, so only one sweep
    records it."""
    flagged = []
    for loan in overdue(session, estate, now):
        if loan.overdue_flagged_at is not None:
            continue
        claimed = session.execute(
            update(KeyLoan)
            .where(KeyLoan.id == loan.id, KeyLoan.overdue_flagged_at.is_(None))
            .values(overdue_flagged_at=now)
            .execution_options(synchronize_session=False)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            continue
        session.refresh(loan, ["overdue_flagged_at"])
        flagged.append(loan)
        audit.record(
            session,
            actor,
            "key_loan.overdue",
            "key_loan",
            loan.id,
            estate_id=estate.id,
            key=loan.key.label,
            borrower=loan.borrower_name,
            due_at=loan.due_at,
            alert=True,
        )
    return flagged


def flag_all_overdue(session: Session, actor: Actor, now: datetime) -> list[KeyLoan]:
    """The sweep over every estate."""
    flagged: list[KeyLoan] = []
    for estate in session.scalars(select(Estate).order_by(Estate.id)):
        flagged += flag_overdue(session, actor, estate, now)
    return flagged


def any_to_flag(session: Session, now: datetime) -> bool:
    """Whether a sweep would flag anything now (a read, so an idle server's sweep writes nothing)."""
    found = session.scalar(
        select(KeyLoan.id)
        .where(KeyLoan.state == LoanState.out, KeyLoan.due_at < now, KeyLoan.overdue_flagged_at.is_(None))
        .limit(1)
    )
    return found is not None


def overdue_alerts(session: Session, estate: Estate, now: datetime) -> list[KeyLoan]:
    """Overdue loans nobody has acknowledged yet: what the console shows as open overdue alerts."""
    return [loan for loan in overdue(session, estate, now) if loan.overdue_ack_at is None]


def acknowledge_overdue(
    session: Session, actor: Actor, loan: KeyLoan, *, by: StaffUser, note: str, now: datetime
) -> KeyLoan:
    """A person has seen the overdue loan and says what is being done about it."""
    if loan.state != LoanState.out or loan.due_at is None or loan.due_at >= now:
        raise Conflict("这笔借用没有逾期", "this loan is not overdue", code="not_overdue")
    workflow.step(
        session,
        actor,
        KEY_LOAN,
        loan,
        "acknowledge_overdue",
        now,
        by=by,
        note=note.strip()[:200],
        fields={"overdue_ack_note": note.strip()[:200], "overdue_ack_at": now, "overdue_ack_by_id": by.id},
    )
    return loan
