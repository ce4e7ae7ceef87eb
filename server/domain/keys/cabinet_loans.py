"""A loan asked for at the key cabinet: the member of staff signed in there borrows a key for themselves
(R-KEY-12: they fill the register themselves, as engineering's own staff do, R-KEY-14). Every rule of the register
is `loans.lend`'s; this names the key by its label or tag and gives the loan its unlock at this cabinet."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import BorrowerKind, Device, Estate, Key, KeyLoan, KeyUnlock, LoanPurpose
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, NotFound
from server.domain.keys import cabinet_staff, loans, unlocks
from server.domain.keys.register import key_by_tag, normal_tag

# Due back this long after it was taken, when the cabinet gives no due time.
DEFAULT_LOAN = timedelta(hours=4)


def find_key(session: Session, estate: Estate, text: str) -> Key:
    """The estate's key with this tag, or else with this label; a label that several keys share is refused."""
    text = text.strip()
    try:
        tagged = key_by_tag(session, estate, normal_tag(text))
    except DomainError:  # not a tag: a label
        tagged = None
    if tagged is not None:
        return tagged
    found = list(session.scalars(select(Key).where(Key.estate_id == estate.id, Key.label == text).limit(2)))
    if len(found) > 1:
        raise Conflict(
            f"有多把钥匙叫「{text}」，请刷钥匙标签",
            f"several keys are labelled {text!r}: use the tag",
            code="key_ambiguous",
        )
    if not found:
        raise NotFound(f"本小区没有钥匙「{text}」", f"no key {text!r} in this estate", code="unknown_key")
    return found[0]


def borrow(
    session: Session,
    actor: Actor,
    device: Device,
    *,
    staff_id: int,
    key: str,
    purpose: str,
    now: datetime,
    due_at: datetime | None = None,
    note: str = "",
) -> tuple[KeyLoan, KeyUnlock]:
    """Register the loan of `key` to the member of staff signed in at cabinet `device`, who registers it
    (needing `keys.lend`), with its one unlock at this cabinet. A sales viewing is accompanied by the borrower
    themselves (R-KEY-13); a loan with no due time is due back in `DEFAULT_LOAN`."""
    estate = device.estate
    person = cabinet_staff.at_cabinet(session, estate, staff_id)
    found = find_key(session, estate, key)
    reason = loans.parse_purpose(purpose)
    loan = loans.lend(
        session,
        actor,
        estate,
        key_id=found.id,
        purpose=reason.value,
        borrower=loans.Borrower(BorrowerKind.staff, staff=person),
        by=person,
        now=now,
        due_at=due_at if due_at is not None or reason == LoanPurpose.move_in else now + DEFAULT_LOAN,
        accompanied_by=person if reason == LoanPurpose.sales_viewing else None,
        note=note,
        cabinet_id=device.id,
    )
    unlock = unlocks.of_loan(session, loan)
    assert unlock is not None, "lend authorises the loan's unlock"
    return loan, unlock
