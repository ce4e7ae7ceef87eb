"""Enrolled devices (kiosks, gate terminals, key cabinets) and their bearer tokens."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from importlib.metadata import PackageNotFoundError, version

from sqlalchemy import bindparam, case, or_, select, update
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from server.db.base import utcnow
from server.db.models import Device, DeviceKind, Estate
from server.domain import audit
from server.domain.actors import Actor
from server.domain.errors import DomainError, Unauthorized
from server.domain.secrets import new_token, token_digest
from server.domain.slips.printing import check_url

TOKEN_PREFIX = "edt_"


def enrol(
    session: Session,
    actor: Actor,
    estate: Estate,
    kind: DeviceKind,
    name: str,
    location: str = "",
    *,
    url: str = "",
) -> Device:
    """A new device; a front-desk printer is enrolled with the URL the server prints to (`tcp://10.0.0.5:9100`)."""
    if not name.strip():
        raise DomainError("设备名称不能为空", "a device needs a name")
    if kind == DeviceKind.printer:
        url = check_url(url)
    elif url.strip():
        raise DomainError("只有打印机登记地址", "only a printer is enrolled with an address", code="url_not_wanted")
    device = Device(estate_id=estate.id, kind=kind, name=name.strip(), location=location.strip(), url=url)
    session.add(device)
    session.flush()
    audit.record(
        session, actor, "device.enrol", "device", device.id, estate_id=estate.id, kind=kind.value, name=name, url=url
    )
    return device


def issue_token(session: Session, actor: Actor, device: Device) -> str:
    """A new enrolment token; any earlier token of the device stops working at once. Shown once, stored hashed."""
    if device.kind == DeviceKind.printer:
        raise DomainError(
            "打印机不用令牌：服务器按地址打印",
            "a printer needs no token: the server prints to its address",
            code="printer_has_no_token",
        )
    token = new_token(TOKEN_PREFIX)
    device.token_digest = token_digest(token)
    device.token_hint = token[: len(TOKEN_PREFIX) + 4]
    device.token_issued_at = utcnow()
    device.revoked_at = None
    audit.record(session, actor, "device.token_issue", "device", device.id, estate_id=device.estate_id)
    return token


def revoke(session: Session, actor: Actor, device: Device) -> None:
    device.token_digest = None
    device.revoked_at = utcnow()
    audit.record(session, actor, "device.revoke", "device", device.id, estate_id=device.estate_id)


def bearer_token(authorization: str) -> str:
    """The device token of an `Authorization: Bearer …` header; refused when there is none."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("需要设备令牌", "a device bearer token is required", code="missing_device_token")
    return token.strip()


def authenticate(session: Session, token: str) -> Device:
    """The device a bearer token belongs to; unknown or revoked tokens are refused."""
    device = session.scalar(_BY_DIGEST, {"digest": token_digest(token)}) if token else None
    if device is None or device.revoked_at is not None:
        raise Unauthorized("设备令牌无效或已吊销", "unknown or revoked device token", code="invalid_device_token")
    return device


# Built once: making the statement (with its joined load) costs as much as running it.
_BY_DIGEST = select(Device).where(Device.token_digest == bindparam("digest")).options(joinedload(Device.estate))

LAST_SEEN_RESOLUTION = timedelta(seconds=60)
# Online devices call at least every minute or two; a longer silence means the device was cut off.
CONTACT_GAP = timedelta(minutes=5)


def touch(device: Device) -> datetime | None:
    """Note that the device was seen now; only when the last note is older than a minute, so a busy gate does not
    pay a database write on every request. After a silence, the last contact before it is kept: what an offline gate
    uploads cannot have happened before that contact. The request's copy of the device shows the note at once, but
    nothing in its session is changed: the time returned (None when there is nothing to note) is for `note_seen`, in
    a write of its own, so a request never waits long for the database's writer over a last-seen note."""
    now = utcnow()
    if device.last_seen_at is not None and now - device.last_seen_at < LAST_SEEN_RESOLUTION:
        return None
    if device.last_seen_at is not None and now - device.last_seen_at > CONTACT_GAP:
        set_committed_value(device, "contact_lost_at", device.last_seen_at)
    set_committed_value(device, "last_seen_at", now)
    return now


def note_seen(session: Session, device_id: int, now: datetime) -> None:
    """Store that device `device_id` was seen at `now` (`touch`), judged against the stored row: a silence of more
    than CONTACT_GAP before it keeps the last contact, and a later note already stored is not moved back."""
    last = Device.last_seen_at
    session.execute(
        update(Device)
        .where(Device.id == device_id, or_(last.is_(None), last < now))
        .values(contact_lost_at=case((last < now - CONTACT_GAP, last), else_=Device.contact_lost_at), last_seen_at=now)
        .execution_options(synchronize_session=False)
    )


def list_for_estate(session: Session, estate: Estate) -> list[Device]:
    return list(session.scalars(select(Device).where(Device.estate_id == estate.id).order_by(Device.kind, Device.name)))


KNOWN_PERIPHERALS = {
    "printer": {"ok", "paper_out", "cover_open", "offline", "unknown"},
    "camera": {"live", "frozen", "no_device"},
}


def peripherals(device: Device) -> dict[str, str]:
    """What the device last reported of its peripherals (e.g. {"printer": "paper_out"}), known names only."""
    try:
        reported = json.loads(device.last_status or "{}")
    except ValueError:
        return {}
    return {
        name: state
        for name, state in reported.items()
        if name in KNOWN_PERIPHERALS and state in KNOWN_PERIPHERALS[name]
    }


def software_version(device: Device) -> str | None:
    """The version the device last reported running ("kiosk 0.1.0" -> "0.1.0"), None before its first report."""
    try:
        reported = json.loads(device.last_status or "{}").get("software")
    except (ValueError, AttributeError):
        return None
    if not isinstance(reported, str) or not reported.strip():
        return None
    return reported.split()[-1]


def expected_version(configured: str) -> str:
    """The version devices should run: as configured (ESTATE_DEVICE_VERSION), else the server's own."""
    if configured:
        return configured
    try:
        return version("estate-desk")
    except PackageNotFoundError:
        return ""
