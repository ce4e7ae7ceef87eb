"""Staff accounts, console sign-in with throttling, and console sessions."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, delete, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from server.db.base import utcnow
from server.db.models import ConsoleSession, Estate, LoginAttempt, Role, StaffUser
from server.domain import audit, throttle
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, NotFound
from server.domain.secrets import dummy_hash, hash_password, new_token, token_digest, verify_password

MIN_PASSWORD = 8
ADDRESS_WINDOW = timedelta(minutes=1)
ALL_ESTATE_ROLES = frozenset({Role.admin, Role.general_manager})


@dataclass(frozen=True)
class LoginPolicy:
    max_failures: int = throttle.LOCK_OUT.max_failures
    window: timedelta = throttle.LOCK_OUT.window
    session_lifetime: timedelta = timedelta(hours=12)


class LoginRefused(DomainError):
    code = "login_failed"
    status = 401
    keep_changes = True  # the failed attempt is recorded for throttling


class LoginThrottled(DomainError):
    code = "login_throttled"
    status = 429
    keep_changes = True  # the attempt is recorded too, and keeps the lock in place


def create_user(
    session: Session,
    actor: Actor,
    *,
    username: str,
    display_name: str,
    role: Role,
    password: str,
    estates: list[Estate] | None = None,
    all_estates: bool = False,
) -> StaffUser:
    username = username.strip().lower()
    display_name = display_name.strip()
    if not display_name:
        raise DomainError("请填写姓名", "a display name is required", code="missing_name")
    if all_estates and role not in ALL_ESTATE_ROLES:
        raise DomainError(
            "只有系统管理员和总经理可管理全部小区",
            "only admins and general managers cover every estate",
            code="all_estates_denied",
        )
    if not username or len(username) > 40 or not username.replace("_", "").replace(".", "").isalnum():
        raise DomainError(
            "用户名须为 1–40 个字母、数字、点或下划线",
            "a username is 1–40 letters, digits, . and _",
            code="bad_username",
        )
    if len(password) < MIN_PASSWORD:
        raise DomainError(f"密码至少 {MIN_PASSWORD} 位", f"the password needs at least {MIN_PASSWORD} characters")
    if session.scalar(select(StaffUser).where(StaffUser.username == username)):
        raise Conflict(f"用户名 {username} 已存在", f"username {username} is taken")
    user = StaffUser(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=hash_password(password),
        all_estates=all_estates or role == Role.admin,
        estates=list(estates or []),
    )
    session.add(user)
    session.flush()
    audit.record(session, actor, "staff.create", "staff_user", user.id, username=username, role=role.value)
    return user


def set_active(session: Session, actor: Actor, user: StaffUser, active: bool) -> None:
    """Deactivating a user ends their sessions at once. Nobody can lock the console's last admin out."""
    if not active and actor.kind == "user" and actor.id == user.id:
        raise DomainError("不能停用自己的账号", "you cannot deactivate your own account", code="self_deactivate")
    if not active and user.role == Role.admin and user.is_active:
        admins = session.scalar(
            select(func.count()).select_from(StaffUser).where(StaffUser.role == Role.admin, StaffUser.is_active)
        )
        if (admins or 0) <= 1:
            raise DomainError(
                "这是最后一个有效的管理员账号", "this is the last active admin account", code="last_admin"
            )
    user.is_active = active
    if not active:
        session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
    audit.record(session, actor, "staff.activate" if active else "staff.deactivate", "staff_user", user.id)


def set_password(session: Session, actor: Actor, user: StaffUser, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise DomainError(f"密码至少 {MIN_PASSWORD} 位", f"the password needs at least {MIN_PASSWORD} characters")
    user.password_hash = hash_password(password)
    session.execute(delete(ConsoleSession).where(ConsoleSession.user_id == user.id))
    audit.record(session, actor, "staff.password", "staff_user", user.id)


def user_by_name(session: Session, username: str) -> StaffUser:
    user = session.scalar(select(StaffUser).where(StaffUser.username == username.strip().lower()))
    if user is None:
        raise NotFound(f"没有用户 {username}", f"no user {username}")
    return user


def _recent_failures(session: Session, column: InstrumentedAttribute[str], value: str, since: datetime) -> int:
    return (
        session.scalar(
            select(func.count()).where(column == value, LoginAttempt.success.is_(False), LoginAttempt.at >= since)
        )
        or 0
    )


def sign_in(
    session: Session, username: str, password: str, ip: str, policy: LoginPolicy, now: datetime | None = None
) -> tuple[StaffUser, str, ConsoleSession]:
    """Check a console login. Returns the user, the cookie value and the session row.

    Repeated failures for one username lock further attempts on it for the policy window, even with the right
    password; many failures from one address make that address wait `ADDRESS_WINDOW`, without locking out the
    other accounts behind it (one NAT address). Guessing is slow either way; each attempt is recorded.
    """
    username = username.strip().lower()[:40]
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    # The slow hash runs first, holding nothing: the read's snapshot ends here, and the attempt is then counted
    # and recorded in one short transaction.
    session.commit()
    password_ok = verify_password(user.password_hash if user else dummy_hash(), password)
    # One attempt at a time per account and per address, so concurrent guesses cannot share one count.
    throttle.serialize(session, f"login:user:{username}", f"login:ip:{ip}")
    now = now or utcnow()
    if _recent_failures(session, LoginAttempt.username, username, now - policy.window) >= policy.max_failures:
        minutes = int(policy.window.total_seconds() // 60)
        raise LoginThrottled(
            f"该账号登录失败次数过多，请 {minutes} 分钟后再试",
            f"too many failed sign-ins, try again in {minutes} minutes",
        )
    # An address is slowed down, not locked out: the accounts behind one NAT address are not all shut out for
    # the lock-out window because of one of them, yet a guesser trying many accounts gets few tries a minute.
    if _recent_failures(session, LoginAttempt.ip, ip, now - ADDRESS_WINDOW) >= policy.max_failures * 2:
        raise LoginThrottled("此地址登录失败过多，请 1 分钟后再试", "too many failed sign-ins from here, wait a minute")
    ok = user is not None and user.is_active and password_ok
    session.add(LoginAttempt(username=username, ip=ip, success=ok, at=now))
    if not ok or user is None:
        session.flush()
        raise LoginRefused("用户名或密码错误", "wrong username or password")
    cookie = new_token()
    row = ConsoleSession(
        digest=token_digest(cookie),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        estate_id=user.estates[0].id if user.estates else None,
        ip=ip,
        expires_at=now + policy.session_lifetime,
    )
    session.add(row)
    session.flush()
    audit.record(session, Actor("user", user.id, user.username, ip=ip), "staff.sign_in", "staff_user", user.id)
    return user, cookie, row


def session_for_cookie(session: Session, cookie: str, now: datetime | None = None) -> ConsoleSession | None:
    """The live session for a cookie: unknown, expired, or a deactivated user's session gives None."""
    row = session.scalar(select(ConsoleSession).where(ConsoleSession.digest == token_digest(cookie)))
    if row is None or row.expires_at <= (now or utcnow()) or not row.user.is_active:
        return None
    return row


def sign_out(session: Session, row: ConsoleSession) -> None:
    session.delete(row)


def list_for_estate(session: Session, estate: Estate) -> Select[StaffUser]:
    """Staff who work in `estate`, plus accounts not given any estate yet (so none is lost), active first."""
    return (
        select(StaffUser)
        .where(
            or_(
                StaffUser.all_estates.is_(True),
                StaffUser.estates.any(Estate.id == estate.id),
                ~StaffUser.estates.any(),
            )
        )
        .order_by(StaffUser.is_active.desc(), StaffUser.username)
    )


def visible_estates(session: Session, user: StaffUser) -> list[Estate]:
    if user.all_estates:
        return list(session.scalars(select(Estate).order_by(Estate.id)))
    return list(user.estates)
