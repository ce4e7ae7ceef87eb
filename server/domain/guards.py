"""Gate guards (门岗安管员) at the start of a shift: their PIN and card, sign-in at a gate terminal, and the roster
a gate keeps for signing guards in while the network is down.

Offline sign-in: a gate downloads the roster of its estate's active guards with their salted scrypt hashes
(`server.contract.guard_secret`) and checks a PIN or card against it locally. A guard deactivated in the console
drops out of the roster at the gate's next sync. The hashes are as strong as a short PIN allows, which is why they
go only to enrolled gate devices of the same estate, and why online sign-in is throttled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.contract.guard_secret import hash_secret, verify_secret
from server.db.base import utcnow
from server.db.models import Device, Estate, GuardCredential, LoginAttempt, Role, StaffUser
from server.domain import audit, throttle
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError
from server.domain.staff import LoginRefused, LoginThrottled

PIN_LENGTHS = range(6, 9)  # a roster every gate holds must not give up a PIN in minutes


@dataclass(frozen=True)
class RosterEntry:
    user_id: int
    username: str
    display_name: str
    pin_hash: str | None
    card_hash: str | None


def _guards(session: Session, estate: Estate) -> list[tuple[StaffUser, GuardCredential]]:
    rows = session.execute(
        select(StaffUser, GuardCredential)
        .join(GuardCredential, GuardCredential.user_id == StaffUser.id)
        .where(
            StaffUser.role == Role.gate_guard,
            StaffUser.is_active.is_(True),
            or_(StaffUser.all_estates.is_(True), StaffUser.estates.any(Estate.id == estate.id)),
        )
        .order_by(StaffUser.id)
    ).all()
    return [(user, credential) for user, credential in rows]


def set_credentials(
    session: Session, actor: Actor, estate: Estate, user: StaffUser, *, pin: str | None = None, card: str | None = None
) -> GuardCredential:
    """Give a guard a PIN and/or card. PINs identify the guard on their own, so they are unique in the estate."""
    if user.role != Role.gate_guard:
        raise DomainError("只有门岗安管员可以设置门岗登录", "only gate guards sign in at gates", code="not_a_guard")
    if pin is not None and (not pin.isdigit() or len(pin) not in PIN_LENGTHS):
        raise DomainError("PIN 须为 6–8 位数字", "a guard PIN is 6–8 digits", code="bad_pin")
    if card is not None and not card.strip():
        raise DomainError("卡号为空", "the card number is empty", code="bad_card")
    for other, credential in _guards(session, estate):
        if other.id == user.id:
            continue
        if pin is not None and credential.pin_hash and verify_secret(credential.pin_hash, pin):
            raise Conflict("该 PIN 已被其他安管员使用", "another guard has this PIN", code="pin_taken")
        if card is not None and credential.card_hash and verify_secret(credential.card_hash, card):
            raise Conflict("该卡已登记给其他安管员", "this card belongs to another guard", code="card_taken")
    credential = session.get(GuardCredential, user.id) or GuardCredential(user_id=user.id)
    if pin is not None:
        credential.pin_hash = hash_secret(pin)
    if card is not None:
        credential.card_hash = hash_secret(card)
    credential.updated_at = utcnow()
    session.add(credential)
    session.flush()
    audit.record(
        session,
        actor,
        "guard.credentials",
        "staff_user",
        user.id,
        estate_id=estate.id,
        pin=pin is not None,
        card=card is not None,
    )
    return credential


def roster(session: Session, estate: Estate) -> list[RosterEntry]:
    """Active guards of the estate with their credential hashes, for a gate's offline sign-in."""
    return [
        RosterEntry(user.id, user.username, user.display_name, credential.pin_hash, credential.card_hash)
        for user, credential in _guards(session, estate)
    ]


def match(entries: list[RosterEntry], *, pin: str | None = None, card: str | None = None) -> RosterEntry | None:
    """The guard whose PIN or card this is (the same check a gate makes offline)."""
    for entry in entries:
        if pin is not None and entry.pin_hash and verify_secret(entry.pin_hash, pin):
            return entry
        if card is not None and entry.card_hash and verify_secret(entry.card_hash, card):
            return entry
    return None


def sign_in(
    session: Session,
    actor: Actor,
    device: Device,
    *,
    pin: str | None = None,
    card: str | None = None,
    now: datetime | None = None,
) -> RosterEntry:
    """A guard starts a shift at `device`. Wrong tries at one gate lock its sign-in (`throttle.LOCK_OUT`)."""
    now = now or utcnow()
    attempt_name = f"gate:{device.id}"
    throttle.serialize(session, attempt_name)  # one attempt at a time per gate: the count stays true
    lock_out = throttle.LOCK_OUT
    since = now - lock_out.window
    failures = session.scalar(
        select(func.count()).where(
            LoginAttempt.username == attempt_name, LoginAttempt.success.is_(False), LoginAttempt.at >= since
        )
    )
    if lock_out.locked(failures or 0):
        raise LoginThrottled(
            f"错误次数过多，请 {lock_out.minutes} 分钟后再试", f"too many wrong tries, wait {lock_out.minutes} minutes"
        )
    found = match(roster(session, device.estate), pin=pin, card=card)
    session.add(LoginAttempt(username=attempt_name, ip=actor.ip or "", success=found is not None, at=now))
    session.flush()
    if found is None:
        raise LoginRefused("PIN 或工卡无效", "unknown PIN or card", code="guard_unknown")
    audit.record(
        session,
        actor,
        "guard.sign_in",
        "staff_user",
        found.user_id,
        estate_id=device.estate_id,
        gate=device.name,
        by="card" if card is not None else "pin",
    )
    return found
