"""Unlocks the server authorises for key loans (R-KEY-12: a key leaves the cabinet only against its loan).

Every registered loan gets one unlock: open the key's home slot, once, for a member of staff the loan names (its
borrower if staff, who registered it, who accompanies the borrower), at any cabinet of the estate or at the one
where it was asked for, until it expires (24 hours after the loan was registered, or its due time if sooner).
The server names each unlock with a request id of its own choosing; the cabinet sends at most one unlock frame
per request id, and its `door_opened` event carries the id back. An opening whose request id names an unlock the
server authorised for that slot is commanded and never a tamper alert; any other request id is an alert.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from server.db.models import Device, Key, KeyLoan, KeyUnlock, KeyUnlockStaff, LoanState
from server.domain import audit
from server.domain.actors import Actor

LIFETIME = timedelta(hours=24)
# How far a cabinet's clock may be off when its opening is judged against an unlock's expiry.
CLOCK_SKEW = timedelta(minutes=5)


def allowed_staff(loan: KeyLoan) -> list[int]:
    """Who may open the slot for this loan: its borrower if staff, who registered it, who accompanies."""
    ids = (loan.borrower_staff_id, loan.registered_by_id, loan.accompanied_by_id)
    return sorted({i for i in ids if i is not None})


def authorise(
    session: Session, actor: Actor, loan: KeyLoan, key: Key, now: datetime, *, device_id: int | None = None
) -> KeyUnlock:
    """The one unlock of a newly registered loan, for the key's home slot."""
    assert key.board is not None and key.slot is not None, "a loan is registered only for a key with a home slot"
    expires = now + LIFETIME if loan.due_at is None else min(now + LIFETIME, loan.due_at)
    unlock = KeyUnlock(
        request_id=f"unlock-{secrets.token_hex(12)}",
        estate_id=loan.estate_id,
        device_id=device_id,
        loan_id=loan.id,
        board=key.board,
        slot=key.slot,
        created_at=now,
        expires_at=expires,
        staff=[KeyUnlockStaff(staff_id=i) for i in allowed_staff(loan)],
    )
    session.add(unlock)
    session.flush()
    audit.record(
        session,
        actor,
        "key_unlock.authorise",
        "key_unlock",
        unlock.id,
        estate_id=loan.estate_id,
        request_id=unlock.request_id,
        loan=loan.id,
        key=key.label,
        slot=f"{key.board}-{key.slot}",
        cabinet=device_id,
        staff=allowed_staff(loan),
        expires_at=expires,
    )
    return unlock


def of_loan(session: Session, loan: KeyLoan) -> KeyUnlock | None:
    return session.scalar(select(KeyUnlock).where(KeyUnlock.loan_id == loan.id).order_by(KeyUnlock.id).limit(1))


def waiting(session: Session, device: Device, now: datetime) -> list[KeyUnlock]:
    """The unlocks cabinet `device` may carry out now: of its estate, for it or for any cabinet, not yet opened,
    not expired, their loan still registered and its key not yet out."""
    return list(
        session.scalars(
            select(KeyUnlock)
            .join(KeyLoan, KeyLoan.id == KeyUnlock.loan_id)
            .where(
                KeyUnlock.estate_id == device.estate_id,
                or_(KeyUnlock.device_id.is_(None), KeyUnlock.device_id == device.id),
                KeyUnlock.opened_at.is_(None),
                KeyUnlock.expires_at > now,
                KeyLoan.state == LoanState.requested,
            )
            .options(selectinload(KeyUnlock.staff), selectinload(KeyUnlock.loan).selectinload(KeyLoan.key))
            .order_by(KeyUnlock.id)
        )
    )


@dataclass(frozen=True)
class Opening:
    """How the server judges a door the cabinet saw open with a request id: commanded (its unlock named), or not,
    and why not (`never_authorised`, `other_slot`, `other_cabinet`, `already_opened`, `expired`,
    `loan_cancelled`)."""

    commanded: bool
    why: str = ""
    unlock: KeyUnlock | None = None


def judge_opening(
    session: Session, device: Device, board: int, slot: int | None, request_id: str, at: datetime
) -> Opening:
    """Judge a `door_opened` event that carries `request_id`; a commanded opening marks its unlock opened (a
    second upload of the same opening finds it opened at that same time and is commanded still)."""
    unlock = session.scalar(
        select(KeyUnlock).where(KeyUnlock.request_id == request_id, KeyUnlock.estate_id == device.estate_id)
    )
    if unlock is None:
        return Opening(False, "never_authorised")
    if (unlock.board, unlock.slot) != (board, slot):
        return Opening(False, "other_slot", unlock)
    if unlock.device_id is not None and unlock.device_id != device.id:
        return Opening(False, "other_cabinet", unlock)
    if unlock.opened_at is not None:
        same = unlock.opened_at == at and unlock.opened_by_device_id == device.id
        return Opening(True, unlock=unlock) if same else Opening(False, "already_opened", unlock)
    if at > unlock.expires_at + CLOCK_SKEW:
        return Opening(False, "expired", unlock)
    if unlock.loan.state == LoanState.cancelled:
        return Opening(False, "loan_cancelled", unlock)
    unlock.opened_at, unlock.opened_by_device_id = at, device.id
    session.flush()
    return Opening(True, unlock=unlock)
