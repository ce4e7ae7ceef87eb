"""Staff at the key cabinet: who may sign in there (the roster a cabinet keeps for signing in while offline), and
signing in with a staff card or with a username and PIN (R-KEY-12: a loan names who took the key).

The credentials are the staff terminal credentials of `server.domain.guards` (one PIN and one card per person,
salted scrypt hashes), which any member of staff may have; at the cabinet every active member of staff of the
estate who has one may sign in, whatever the role: the loans decide what they may take (`loans.lend`).

Wrong tries are counted as at the gate (`throttle.LOCK_OUT`): per cabinet, so one cabinet cannot be used to guess
at leisure, and per account for a username with a PIN, so one account cannot be guessed at from every cabinet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.contract.guard_secret import hash_secret, verify_secret
from server.db.models import Device, Estate, GuardCredential, LoginAttempt, StaffUser
from server.domain import audit, guards, throttle
from server.domain.actors import Actor
from server.domain.errors import DomainError, Forbidden
from server.domain.staff import LoginRefused, LoginThrottled

# Checked when the username is unknown, so an unknown name and a wrong PIN take the same time.
_NOBODY = hash_secret("not-a-real-pin")
MAX_ID = 2**31 - 1  # row ids are 32-bit integers on every backend


@dataclass(frozen=True)
class StaffEntry:
    """A member of staff as the cabinet's roster lists them, with the hashes it checks offline."""

    id: int
    username: str
    display_name: str
    role: str
    pin_hash: str | None
    card_hash: str | None


def roster(session: Session, estate: Estate) -> list[StaffEntry]:
    """The estate's active staff with a PIN or card, for the cabinet's offline sign-in."""
    return [
        StaffEntry(u.id, u.username, u.display_name, u.role.value, c.pin_hash, c.card_hash)
        for u, c in guards.holders(session, estate)
        if c.pin_hash or c.card_hash
    ]


def _failures(session: Session, name: str, now: datetime) -> int:
    since = now - throttle.LOCK_OUT.window
    return (
        session.scalar(
            select(func.count()).where(
                LoginAttempt.username == name, LoginAttempt.success.is_(False), LoginAttempt.at >= since
            )
        )
        or 0
    )


def _locked() -> LoginThrottled:
    minutes = throttle.LOCK_OUT.minutes
    return LoginThrottled(f"错误次数过多，请 {minutes} 分钟后再试", f"too many wrong tries, wait {minutes} minutes")


def sign_in(
    session: Session,
    actor: Actor,
    device: Device,
    now: datetime,
    *,
    card: str | None = None,
    username: str | None = None,
    pin: str | None = None,
) -> StaffUser:
    """The member of staff whose card this is, or whose username and PIN these are, signing in at cabinet
    `device`. Refused `staff_unknown` (401) for anything else; `login_throttled` (429) once the cabinet, or the
    account, has had too many wrong tries in the lock-out window. Every try is counted; a sign-in is audited."""
    by_card = card is not None and username is None and pin is None
    if not by_card and (card is not None or not username or not pin):
        raise DomainError(
            "请刷工卡，或输入用户名和 PIN",
            "sign in with a staff card, or with a username and a PIN",
            code="sign_in_incomplete",
            status=422,
        )
    estate = device.estate
    cabinet_name = f"cabinet:{device.id}"
    user: StaffUser | None = None
    if not by_card:
        name = (username or "").strip().lower()
        user = session.scalar(select(StaffUser).where(StaffUser.username == name, guards.in_estate(estate)))
    account_name = f"cabinet-staff:{user.id}" if user is not None else None
    # One try at a time per cabinet and per account: concurrent guesses cannot share one count.
    throttle.serialize(session, cabinet_name, *([account_name] if account_name else []))
    if _failures(session, cabinet_name, now) >= throttle.LOCK_OUT.max_failures:
        raise _locked()
    if account_name is not None and _failures(session, account_name, now) >= throttle.LOCK_OUT.max_failures:
        raise _locked()
    found = _check(session, estate, user, card=card if by_card else None, pin=pin)
    ip = actor.ip or ""
    session.add(LoginAttempt(username=cabinet_name, ip=ip, success=found is not None, at=now))
    if account_name is not None:
        session.add(LoginAttempt(username=account_name, ip=ip, success=found is not None, at=now))
    session.flush()
    if found is None:
        raise LoginRefused("工卡或用户名、PIN 无效", "unknown card, or wrong username or PIN", code="staff_unknown")
    audit.record(
        session,
        actor,
        "cabinet.sign_in",
        "staff_user",
        found.id,
        estate_id=device.estate_id,
        cabinet=device.name,
        by="card" if by_card else "pin",
    )
    return found


def _check(
    session: Session, estate: Estate, user: StaffUser | None, *, card: str | None, pin: str | None
) -> StaffUser | None:
    if card is not None:
        holder = guards.card_holder(session, estate, card)
        return holder[0] if holder is not None else None
    credential = session.get(GuardCredential, user.id) if user is not None else None
    stored = credential.pin_hash if credential is not None else None
    matches = verify_secret(stored or _NOBODY, pin or "")  # the slow hash runs either way
    if user is None or not user.is_active or not stored or not matches:
        return None
    return user


def at_cabinet(session: Session, estate: Estate, staff_id: int) -> StaffUser:
    """The member of staff a cabinet says is signed in: one who may sign in at this estate's cabinets (active, of
    the estate, with a PIN or card); 403 `staff_unknown` for anyone else."""
    user = session.get(StaffUser, staff_id) if 1 <= staff_id <= MAX_ID else None
    credential = session.get(GuardCredential, staff_id) if user is not None else None
    works_here = user is not None and (user.all_estates or any(e.id == estate.id for e in user.estates))
    if (
        user is None
        or not user.is_active
        or not works_here
        or credential is None
        or not (credential.pin_hash or credential.card_hash)
    ):
        raise Forbidden(
            "这位员工不能在本小区的钥匙柜登录",
            "this member of staff may not sign in at this cabinet",
            code="staff_unknown",
        )
    return user
