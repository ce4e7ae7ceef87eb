"""Staff terminal credentials and gate guards (门岗安管员) at the start of a shift.

A member of staff may hold one PIN and/or one staff card (`GuardCredential`, one row per person, salted scrypt
hashes). Any member of staff may have them: guards sign in with them at a gate terminal, and everyone who takes
keys signs in with them at the key cabinet (`server.domain.keys.cabinet_staff`). The gate's roster and sign-in
keep to guards; the cabinet's take any active member of staff of the estate. One table serves both because it is
the same card and the same PIN a person carries: a guard who also takes keys has one card, not two.

Offline sign-in: a gate downloads the roster of its estate's active guards with their salted scrypt hashes
(`server.contract.guard_secret`) and checks a PIN or card against it locally. A guard deactivated in the console
drops out of the roster at the gate's next sync. The hashes are as strong as a short PIN allows, which is why they
go only to enrolled devices of the same estate, and why online sign-in is throttled.

Uniqueness: a card identifies its holder on its own at a gate and at the cabinet, so it belongs to one member of
staff of the estate. A PIN identifies a guard on its own at a gate, so guards' PINs are unique among the estate's
guards; at the cabinet a PIN goes with a username, and other staff's PINs need not differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from server.contract.guard_secret import at_full_cost, hash_secret, verify_secret
from server.db.base import utcnow
from server.db.models import Device, Estate, GuardCredential, LoginAttempt, Role, StaffUser
from server.domain import audit, secrets, throttle
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


def in_estate(estate: Estate) -> ColumnElement[bool]:
    """Staff who work in `estate` (named for it, or for every estate)."""
    return or_(StaffUser.all_estates.is_(True), StaffUser.estates.any(Estate.id == estate.id))


def holders(session: Session, estate: Estate, role: Role | None = None) -> list[tuple[StaffUser, GuardCredential]]:
    """Active staff of the estate with a credential (of `role` only, when given), by id."""
    query = (
        select(StaffUser, GuardCredential)
        .join(GuardCredential, GuardCredential.user_id == StaffUser.id)
        .where(StaffUser.is_active.is_(True), in_estate(estate))
        .order_by(StaffUser.id)
    )
    if role is not None:
        query = query.where(StaffUser.role == role)
    return [(user, credential) for user, credential in session.execute(query).all()]


def _guards(session: Session, estate: Estate) -> list[tuple[StaffUser, GuardCredential]]:
    return holders(session, estate, Role.gate_guard)


def card_holder(session: Session, estate: Estate, card: str) -> tuple[StaffUser, GuardCredential] | None:
    """The active member of staff of the estate whose card this is. Found by the card's keyed digest; a card set
    before digests were kept is checked against its slow hash, and gets its digest once it matches."""
    digest = secrets.keyed_digest(session, card)
    found = session.execute(
        select(StaffUser, GuardCredential)
        .join(GuardCredential, GuardCredential.user_id == StaffUser.id)
        .where(StaffUser.is_active.is_(True), in_estate(estate), GuardCredential.card_digest == digest)
        .order_by(StaffUser.id)
        .limit(1)
    ).first()
    if found is not None:
        return found[0], found[1]
    for user, credential in holders(session, estate):
        if credential.card_digest is None and credential.card_hash and verify_secret(credential.card_hash, card):
            credential.card_digest = digest
            return user, credential
    return None


def set_credentials(
    session: Session, actor: Actor, estate: Estate, user: StaffUser, *, pin: str | None = None, card: str | None = None
) -> GuardCredential:
    """Give a member of staff a PIN (6–8 digits) and/or a staff card, for the gate (guards) and the key cabinet
    (anyone who takes keys). A card is unique among the estate's staff; a guard's PIN among its guards."""
    if pin is not None and (not pin.isdigit() or len(pin) not in PIN_LENGTHS):
        raise DomainError("PIN 须为 6–8 位数字", "a staff PIN is 6–8 digits", code="bad_pin")
    if card is not None and not card.strip():
        raise DomainError("卡号为空", "the card number is empty", code="bad_card")
    if card is not None:
        holder = card_holder(session, estate, card)
        if holder is not None and holder[0].id != user.id:
            raise Conflict("该卡已登记给其他员工", "this card belongs to another member of staff", code="card_taken")
    if pin is not None and user.role == Role.gate_guard:
        for other, credential in _guards(session, estate):
            if other.id != user.id and credential.pin_hash and verify_secret(credential.pin_hash, pin):
                raise Conflict("该 PIN 已被其他安管员使用", "another guard has this PIN", code="pin_taken")
    credential = session.get(GuardCredential, user.id) or GuardCredential(user_id=user.id)
    if pin is not None:
        credential.pin_hash = hash_secret(pin)
    if card is not None:
        credential.card_hash = hash_secret(card)
        credential.card_digest = secrets.keyed_digest(session, card)
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
        role=user.role.value,
        pin=pin is not None,
        card=card is not None,
    )
    return credential


def roster(session: Session, estate: Estate) -> list[RosterEntry]:
    """Active guards of the estate with their credential hashes, for a gate's offline sign-in (and the server's
    online one). A PIN set under the older rule (4 digits allowed, a cheaper hash) is left out: a gate's copy of it
    would give the PIN up in minutes. That guard signs in by card, or is given a new PIN."""
    return [
        RosterEntry(
            user.id,
            user.username,
            user.display_name,
            credential.pin_hash if credential.pin_hash and at_full_cost(credential.pin_hash) else None,
            credential.card_hash,
        )
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
