"""Typed dependencies named for what they give: the database session, the calling device (of a kind), the
Idempotency-Key of a device write, the signed-in user."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from server.config import Settings
from server.db.models import ConsoleSession, Device, DeviceKind, Estate, StaffUser
from server.db.writer import Writer
from server.domain import devices, idempotency, staff
from server.domain.actors import Actor
from server.domain.errors import DomainError, Forbidden
from server.domain.permissions import Perm, allowed

T = TypeVar("T")
SESSION_COOKIE = "estate_session"
LOGIN_CSRF_COOKIE = "estate_login_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
IDEMPOTENCY_HEADER = "Idempotency-Key"


# The plain look-ups below are `async def`: FastAPI would run a plain `def` dependency on a worker thread, a thread
# hop per request for a single attribute read.


async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on any error."""
    with request.app.state.sessionmaker() as session:
        try:
            yield session
            session.commit()
        except DomainError as exc:
            if exc.keep_changes:
                session.commit()
            else:
                session.rollback()
            raise
        except BaseException:
            session.rollback()
            raise


SettingsDep = Annotated[Settings, Depends(get_settings)]
# "function" scope: commit (or roll back) before the response leaves, so a client is never told of a change
# that then failed to commit.
DbSession = Annotated[Session, Depends(get_db, scope="function")]


async def get_writer(request: Request) -> Writer:
    return request.app.state.writer


# The short writes a request prepared, committed for it (together with other requests' writes on SQLite).
DbWriter = Annotated[Writer, Depends(get_writer)]


async def get_now(request: Request) -> datetime:
    """The time of the request by the app's clock (`app.state.clock`), which tests set to any moment they ask about."""
    return request.app.state.clock()


Now = Annotated[datetime, Depends(get_now)]


def client_ip(request: Request) -> str:
    return request.client.host if request.client else ""


def get_device(request: Request, db: DbSession) -> Device:
    device = devices.authenticate(db, devices.bearer_token(request.headers.get("authorization", "")))
    seen = devices.touch(device)
    if seen is not None:  # kept even if the request then fails; the request waits for it only briefly (SQLite)
        device_id = device.id
        request.app.state.writer.post(lambda session: devices.note_seen(session, device_id, seen))
    return device


CurrentDevice = Annotated[Device, Depends(get_device)]

# What a device of another kind is told (403 wrong_device_kind).
ONLY = {
    DeviceKind.kiosk: ("只有大堂自助机可以使用", "only kiosks use this"),
    DeviceKind.gate: ("只有门岗终端可以使用", "only gate terminals use this"),
    DeviceKind.cabinet: ("只有钥匙柜可以使用", "only key cabinets use this"),
}


def require_kind(device: Device, kind: DeviceKind) -> Device:
    if device.kind != kind:
        raise Forbidden(*ONLY[kind], code="wrong_device_kind")
    return device


def _device_of(kind: DeviceKind) -> Callable[[Device], Device]:
    def device_of_kind(device: CurrentDevice) -> Device:
        return require_kind(device, kind)

    return device_of_kind


KioskDevice = Annotated[Device, Depends(_device_of(DeviceKind.kiosk))]
GateDevice = Annotated[Device, Depends(_device_of(DeviceKind.gate))]
CabinetDevice = Annotated[Device, Depends(_device_of(DeviceKind.cabinet))]

# Every device write (POST, PUT, PATCH, DELETE) carries one; a missing or malformed key is answered
# `idempotency_key_required` (server.web.errors).
IdempotencyKey = Annotated[
    str,
    Header(
        alias=IDEMPOTENCY_HEADER,
        pattern=idempotency.KEY.pattern,
        description="Names this write: a retry with the same key gets the first answer and changes nothing.",
    ),
]


def device_work(request: Request, kind: DeviceKind, work: Callable[[Session, Device], T]) -> T:
    """`work` for the calling device, which must be of `kind`, in one request transaction, as `get_db` and
    `get_device` give it, but all in the calling thread: for routes that check on a worker thread and then await
    the writer for their write."""
    with request.app.state.sessionmaker() as session:
        try:
            result = work(session, require_kind(get_device(request, session), kind))
            session.commit()
            return result
        except DomainError as exc:
            if exc.keep_changes:
                session.commit()
            raise


def device_actor(request: Request, device: Device) -> Actor:
    return Actor("device", device.id, device.name, ip=client_ip(request), device_id=device.id)


def json_answer(answer: idempotency.Answer) -> Response:
    """A device write's answer (`idempotency.answer_once`) as the response."""
    status, body = answer
    return Response(body, status_code=status, media_type="application/json")


class SignInRequired(DomainError):
    """Raised for console pages without a live session; the console answers with a redirect to the login."""

    code = "sign_in_required"
    status = 401


@dataclass
class Console:
    """The signed-in console user, their session, and the estate they are working in."""

    user: StaffUser
    session: ConsoleSession
    estate: Estate | None
    estates: list[Estate]
    ip: str

    @property
    def actor(self) -> Actor:
        return Actor("user", self.user.id, self.user.username, ip=self.ip)

    def can(self, perm: Perm) -> bool:
        return allowed(self.user.role, perm)

    def require_estate(self) -> Estate:
        if self.estate is None:
            raise Forbidden("您没有可管理的小区", "you are not assigned to any estate", code="no_estate")
        return self.estate


def console_session(request: Request, db: DbSession, now: Now) -> ConsoleSession:
    """The live console session of the cookie; checked before any form body is read."""
    cookie = request.cookies.get(SESSION_COOKIE, "")
    row = staff.session_for_cookie(db, cookie, now) if cookie else None
    if row is None:
        raise SignInRequired("请先登录", "please sign in")
    return row


LiveSession = Annotated[ConsoleSession, Depends(console_session)]


async def console_form(request: Request, _signed_in: LiveSession) -> FormData | None:
    """The posted form, read only once the session is known to be live: an anonymous upload is refused before its
    body is read."""
    if request.method in SAFE_METHODS:
        return None
    if request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/")):
        return await request.form()
    return None


ConsoleForm = Annotated[FormData | None, Depends(console_form)]


def form_csrf(form: ConsoleForm) -> str:
    """The CSRF token a posted form carries (HTMX requests send it as a header instead)."""
    value = form.get("csrf_token") if form is not None else None
    return value if isinstance(value, str) else ""


def get_console(
    request: Request, db: DbSession, row: LiveSession, form_token: Annotated[str, Depends(form_csrf)]
) -> Console:
    if request.method not in SAFE_METHODS:
        check_csrf(request, row.csrf_token, form_token)
    estates = staff.visible_estates(db, row.user)
    estate = next((e for e in estates if e.id == row.estate_id), estates[0] if estates else None)
    return Console(row.user, row, estate, estates, client_ip(request))


def check_csrf(request: Request, expected: str, form_value: str | None) -> None:
    sent = request.headers.get(CSRF_HEADER) or form_value or ""
    if not sent or not hmac.compare_digest(sent, expected):
        raise Forbidden(
            "表单已失效，请刷新页面后重试", "the form has expired; reload the page and try again", code="csrf_failed"
        )


CurrentConsole = Annotated[Console, Depends(get_console)]


def require(perm: Perm):
    def _check(console: CurrentConsole) -> Console:
        if not console.can(perm):
            raise Forbidden("您的角色无权进行此操作", "your role may not do this", code="permission_denied")
        return console

    return Depends(_check)
