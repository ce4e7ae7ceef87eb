"""Routes of the device API. Thin: each validates, calls one domain function, and shapes the answer."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request

from server.contract.device import DeviceInfo, Health, Heartbeat
from server.contract.schemas import KioskIdentify, KioskResident, KioskResidentUnit, Refusal
from server.db.base import utcnow
from server.db.migrate import current_revision
from server.domain import devices, registry
from server.domain import kiosk as kiosk_rules
from server.web.deps import CurrentDevice, DbSession, IdempotencyKey, KioskDevice, Now
from server.web.errors import error_body

router = APIRouter()
ERRORS = {
    401: {
        "description": "Unknown or revoked device token",
        "content": {
            "application/json": {"example": error_body("invalid_device_token", "unknown or revoked device token")}
        },
    },
    422: {
        "description": "Malformed body",
        "content": {"application/json": {"example": error_body("malformed", "card: field required")}},
    },
}


@router.get("/health", response_model=Health, tags=["system"])
def health(request: Request) -> Health:
    engine = request.app.state.engine
    return Health(status="ok", database=engine.dialect.name, schema_revision=current_revision(engine), time=utcnow())


@router.get("/device", response_model=DeviceInfo, tags=["devices"], responses=ERRORS)
def whoami(device: CurrentDevice, request: Request) -> DeviceInfo:
    """The calling device as the server knows it: kind, name and estate."""
    return DeviceInfo(
        id=device.id,
        kind=device.kind.value,
        name=device.name,
        location=device.location,
        estate_code=device.estate.code,
        estate_name=device.estate.name,
        timezone=device.estate.timezone,
        expected_version=devices.expected_version(request.app.state.settings.device_version),
    )


@router.post("/device/heartbeat", status_code=204, tags=["devices"], responses=ERRORS)
def heartbeat(body: Heartbeat, device: CurrentDevice, _key: IdempotencyKey) -> None:
    device.last_status = json.dumps({"software": body.software, **body.peripherals}, ensure_ascii=False)


def _mask(name: str) -> str:
    return name if len(name) <= 1 else name[0] + "*" * (len(name) - 2) + (name[-1] if len(name) > 2 else "*")


@router.post("/residents/identify", response_model=KioskResident, tags=["residents"], responses=ERRORS)
def identify(body: KioskIdentify, device: KioskDevice, db: DbSession, now: Now, _key: IdempotencyKey) -> KioskResident:
    """A kiosk identifies a resident of its own estate by card, or by unit and PIN (wrong PINs are limited)."""
    estate = device.estate
    person = registry.identify(
        db, estate, card=body.card, unit=body.unit or "", pin=body.pin or "", kiosk_id=device.id, now=now
    )
    units = [
        KioskResidentUnit(
            unit=u.occupancy.unit.code,
            kind=u.occupancy.kind.value,
            applicant=u.applicant.value,
            slip_refusal=None
            if u.refusal is None
            else Refusal(code=u.refusal.code, message=u.refusal.zh, message_en=u.refusal.en, detail=u.refusal.detail),
        )
        for u in kiosk_rules.resident_units(estate, person, now)
    ]
    return KioskResident(person_id=person.id, display_name=_mask(person.name), units=units)
