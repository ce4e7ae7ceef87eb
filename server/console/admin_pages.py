"""Administration pages of the console: staff accounts, enrolled devices, and the audit log with its chain check.

Every change goes through the domain functions, which write the audit entries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import false
from sqlalchemy.orm import Session

from server.console.audit_view import Reader
from server.console.i18n import translate
from server.console.pages import form_action, language
from server.console.registry_pages import flash_key, page_size, view, wants_fragment
from server.contract.fields import Text
from server.db.models import Device, DeviceKind, Role, StaffUser
from server.domain import audit, audit_codes, devices, guards, registry, staff
from server.domain.errors import DomainError, Forbidden, NotFound
from server.domain.paging import paginate
from server.domain.permissions import Perm
from server.web.deps import Console, DbSession, require
from server.web.params import PageNo, RowId

router = APIRouter()

StaffAdmin = Annotated[Console, require(Perm.staff_manage)]
DeviceAdmin = Annotated[Console, require(Perm.devices_manage)]
Auditor = Annotated[Console, require(Perm.audit_view)]

STAFF_DONE = frozenset(
    {"staff_created", "staff_activated", "staff_deactivated", "password_reset", "gate_credentials_set"}
)
DEVICE_DONE = frozenset({"device_enrolled", "device_revoked"})


# --- staff --------------------------------------------------------------------------------------------------------


def _staff_page(
    request: Request, db: Session, console: Console, page: int = 1, *, status: int = 200, **context: Any
) -> Response:
    """Staff who work in the current estate, plus accounts not yet given any estate (so none is lost)."""
    estate = console.require_estate()
    query = staff.list_for_estate(db, estate)
    context.setdefault("form", {})
    return view(
        request,
        console,
        "staff.html",
        status=status,
        page=paginate(db, query, page, page_size(request)),
        roles=list(Role),
        **context,
    )


def _staff_user(db: Session, user_id: int) -> StaffUser:
    user = db.get(StaffUser, user_id)
    if user is None:
        raise NotFound("没有这个员工账号", "no such staff account", code="unknown_user")
    return user


@router.get("/staff")
def staff_list(request: Request, console: StaffAdmin, db: DbSession, page: PageNo = 1, done: Text = "") -> Response:
    return _staff_page(request, db, console, page, flash=flash_key(done, STAFF_DONE))


@router.post("/staff")
def staff_create(
    request: Request,
    console: StaffAdmin,
    db: DbSession,
    username: Annotated[Text, Form(max_length=40)] = "",
    display_name: Annotated[Text, Form(max_length=60)] = "",
    role: Annotated[Text, Form(max_length=20)] = "",
    password: Annotated[Text, Form(max_length=200)] = "",
    estate_ids: Annotated[list[int], Form()] = [],  # noqa: B006 - FastAPI copies form defaults
    all_estates: Annotated[bool, Form()] = False,
) -> Response:
    form = {"username": username, "display_name": display_name, "role": role, "estate_ids": estate_ids}
    lang = language(request)
    if role not in Role.__members__:
        return _staff_page(request, db, console, status=400, error=translate(lang, "staff.pick_role"), form=form)
    allowed = {e.id: e for e in console.estates}
    if any(i not in allowed for i in estate_ids):
        raise Forbidden("您无权管理该小区", "you may not work in that estate", code="estate_denied")

    def create() -> Response:
        staff.create_user(
            db,
            console.actor,
            username=username,
            display_name=display_name.strip(),
            role=Role(role),
            password=password,
            estates=[allowed[i] for i in estate_ids],
            all_estates=all_estates,
        )
        return RedirectResponse("/console/staff?done=staff_created", status_code=303)

    def form_again(status: int, error: str) -> Response:
        return _staff_page(request, db, console, status=status, error=error, form=form)

    return form_action(request, db, create, form_again)


@router.post("/staff/{user_id}/active")
def staff_set_active(
    console: StaffAdmin, db: DbSession, user_id: RowId, active: Annotated[bool, Form()] = False
) -> Response:
    staff.set_active(db, console.actor, _staff_user(db, user_id), active)
    done = "staff_activated" if active else "staff_deactivated"
    return RedirectResponse(f"/console/staff?done={done}", status_code=303)


@router.post("/staff/{user_id}/password")
def staff_reset_password(
    request: Request,
    console: StaffAdmin,
    db: DbSession,
    user_id: RowId,
    password: Annotated[Text, Form(max_length=200)] = "",
) -> Response:
    user = _staff_user(db, user_id)

    def reset() -> Response:
        staff.set_password(db, console.actor, user, password)
        return RedirectResponse("/console/staff?done=password_reset", status_code=303)

    return form_action(request, db, reset, _staff_error(request, db, console, user))


@router.post("/staff/{user_id}/gate-credentials")
def staff_gate_credentials(
    request: Request,
    console: StaffAdmin,
    db: DbSession,
    user_id: RowId,
    pin: Annotated[Text, Form(max_length=8)] = "",
    card: Annotated[Text, Form(max_length=40)] = "",
) -> Response:
    """A gate guard's PIN and/or card for signing in at the gate terminal (R-REL-6: every release names the guard)."""
    user = _staff_user(db, user_id)

    def set_credentials() -> Response:
        if not pin and not card:
            raise DomainError("请填写 PIN 或卡号", "enter a PIN or a card number", code="nothing_to_set")
        guards.set_credentials(
            db, console.actor, console.require_estate(), user, pin=pin or None, card=card.strip() or None
        )
        return RedirectResponse("/console/staff?done=gate_credentials_set", status_code=303)

    return form_action(request, db, set_credentials, _staff_error(request, db, console, user))


def _staff_error(request: Request, db: Session, console: Console, user: StaffUser) -> Callable[[int, str], Response]:
    """The staff page again with a refusal about one user, named first."""
    return lambda status, error: _staff_page(request, db, console, status=status, error=f"{user.username}: {error}")


# --- devices ------------------------------------------------------------------------------------------------------


def _devices_page(request: Request, db: Session, console: Console, *, status: int = 200, **context: Any) -> Response:
    estate = console.require_estate()
    rows = devices.list_for_estate(db, estate)
    context.setdefault("form", {})
    response = view(
        request,
        console,
        "devices.html",
        status=status,
        devices=list(rows),
        kinds=list(DeviceKind),
        peripherals=devices.peripherals,
        software_version=devices.software_version,
        expected_version=devices.expected_version(request.app.state.settings.device_version),
        **context,
    )
    response.headers["Cache-Control"] = "no-store"  # a freshly issued token is on this page once, and only here
    return response


def _device(db: Session, console: Console, device_id: int) -> Device:
    device = db.get(Device, device_id)
    if device is None or device.estate_id != console.require_estate().id:
        raise NotFound("本小区没有这台设备", "no such device in this estate", code="unknown_device")
    return device


@router.get("/devices")
def devices_list(request: Request, console: DeviceAdmin, db: DbSession, done: Text = "") -> Response:
    return _devices_page(request, db, console, flash=flash_key(done, DEVICE_DONE))


@router.post("/devices")
def device_enrol(
    request: Request,
    console: DeviceAdmin,
    db: DbSession,
    kind: Annotated[Text, Form(max_length=10)] = "",
    name: Annotated[Text, Form(max_length=60)] = "",
    location: Annotated[Text, Form(max_length=100)] = "",
    url: Annotated[Text, Form(max_length=200)] = "",
) -> Response:
    form = {"kind": kind, "name": name, "location": location, "url": url}
    if kind not in DeviceKind.__members__:
        error = translate(language(request), "devices.pick_kind")
        return _devices_page(request, db, console, status=400, error=error, form=form)

    def enrol() -> Response:
        devices.enrol(db, console.actor, console.require_estate(), DeviceKind(kind), name, location, url=url)
        return RedirectResponse("/console/devices?done=device_enrolled", status_code=303)

    def form_again(status: int, error: str) -> Response:
        return _devices_page(request, db, console, status=status, error=error, form=form)

    return form_action(request, db, enrol, form_again)


@router.post("/devices/{device_id}/token")
def device_issue_token(request: Request, console: DeviceAdmin, db: DbSession, device_id: RowId) -> Response:
    device = _device(db, console, device_id)

    def issue() -> Response:
        token = devices.issue_token(db, console.actor, device)
        return _devices_page(request, db, console, new_token=token, token_device=device)

    return form_action(
        request, db, issue, lambda status, error: _devices_page(request, db, console, status=status, error=error)
    )


@router.post("/devices/{device_id}/revoke")
def device_revoke(console: DeviceAdmin, db: DbSession, device_id: RowId) -> Response:
    devices.revoke(db, console.actor, _device(db, console, device_id))
    return RedirectResponse("/console/devices?done=device_revoked", status_code=303)


# --- audit log ----------------------------------------------------------------------------------------------------


def _row_id(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) < 10 else None


def audit_reader(request: Request, db: Session, console: Console) -> Reader:
    """How this reader sees entries: their language, the estate's zone, the estate's staff and devices by name."""
    estate = console.require_estate()
    people = {u.id: f"{u.display_name} ({u.username})" for u in db.scalars(staff.list_for_estate(db, estate))}
    machines = {d.id: d.name for d in devices.list_for_estate(db, estate)}
    return Reader(language(request), estate, people, machines)


def _audit_page(
    request: Request,
    db: Session,
    console: Console,
    *,
    query: dict[str, str] | None = None,
    page: int = 1,
    report: audit.ChainReport | None = None,
) -> Response:
    """The audit log of the estate, newest first, filtered by action, person, device and unit together (issue 21,
    item 3); the filters stay in the URL, so paging, the language switch and a bookmark keep them."""
    estate = console.require_estate()
    query = {"action": "", "person": "", "device": "", "unit": "", **(query or {})}
    reader = audit_reader(request, db, console)
    unit, error = None, ""
    if query["unit"].strip():
        try:
            unit = registry.get_unit(db, estate, query["unit"])
        except DomainError as exc:  # a unit that is not one matches nothing, and the page says why
            error = exc.text(reader.lang)
    only = audit.Filter(
        action=query["action"],
        staff_id=_row_id(query["person"]),
        device_id=_row_id(query["device"]),
        unit=unit,
    )
    found = audit.recent(estate.id, only).where(false()) if error else audit.recent(estate.id, only)
    context = {"page": paginate(db, found, page, page_size(request)), "query": query, "reader": reader, "error": error}
    if wants_fragment(request):
        return view(request, console, "audit_table.html", **context)
    groups: dict[str, list[str]] = {}
    for code in audit.actions(db, estate.id):
        groups.setdefault(reader.area(code), []).append(code)
    areas = [a for a in (*audit_codes.AREAS, "other") if a in groups]
    return view(
        request,
        console,
        "audit.html",
        action_groups=[(a, sorted(groups[a], key=reader.action)) for a in areas],
        people=sorted(reader.staff.items(), key=lambda p: p[1]),
        machines=sorted(reader.devices.items(), key=lambda d: d[1]),
        report=report,
        **context,
    )


@router.get("/audit")
def audit_list(
    request: Request,
    console: Auditor,
    db: DbSession,
    action: Annotated[Text, Query(max_length=60)] = "",
    person: Annotated[Text, Query(max_length=12)] = "",
    device: Annotated[Text, Query(max_length=12)] = "",
    unit: Annotated[Text, Query(max_length=16)] = "",
    page: PageNo = 1,
) -> Response:
    query = {"action": action, "person": person, "device": device, "unit": unit}
    return _audit_page(request, db, console, query=query, page=page)


@router.get("/audit/verify")
def audit_verify(request: Request, console: Auditor, db: DbSession) -> Response:
    """Check the whole hash chain (read-only, so a plain GET); HTMX swaps just the result in."""
    console.require_estate()
    report = audit.verify(db)
    if wants_fragment(request, "verify-result"):
        return view(request, console, "audit_verify.html", report=report)
    return _audit_page(request, db, console, report=report)
