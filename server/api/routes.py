"""Routes of the device API. Thin: each validates, calls one domain function, and shapes the answer."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request

from server.contract.device import DeviceInfo, Health, Heartbeat
from server.contract.schemas import KioskIdentify, KioskResident, KioskResidentUnit, Refusal
from server.db.base import utcnow
from server.db.migrate import current_revision
from server.domain import registry
from server.domain.slips import clock, eligibility
from server.web.deps import CurrentDevice, DbSession, IdempotencyKey, KioskDevice
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
def whoami(device: CurrentDevice) -> DeviceInfo:
    """The calling device as the server knows it: kind, name and estate."""
    return DeviceInfo(
        id=device.id,
        kind=device.kind.value,
        name=device.name,
        location=device.location,
        estate_code=device.estate.code,
        estate_name=device.estate.name,
        timezone=device.estate.timezone,
    )


@router.post("/device/heartbeat", status_code=204, tags=["devices"], responses=ERRORS)
def heartbeat(body: Heartbeat, device: CurrentDevice, _key: IdempotencyKey) -> None:
    device.last_status = json.dumps({"software": body.software, **body.peripherals}, ensure_ascii=False)


def _mask(name: str) -> str:
    return name if len(name) <= 1 else name[0] + "*" * (len(name) - 2) + (name[-1] if len(name) > 2 else "*")


@router.post("/residents/identify", response_model=KioskResident, tags=["residents"], responses=ERRORS)
def identify(body: KioskIdentify, device: KioskDevice, db: DbSession, _key: IdempotencyKey) -> KioskResident:
    """A kiosk identifies a resident of its own estate by card, or by unit and PIN (wrong PINs are limited)."""
    today = clock.local_day(device.estate, utcnow())  # the estate's day, as the slip request will judge it
    if body.card is not None:
        person = registry.identify_by_card(db, device.estate, body.card, kiosk_id=device.id)
    else:
        person = registry.identify_by_pin(db, device.estate, body.unit or "", body.pin or "", today)
    units = []
    for occupancy in registry.current_occupancies(db, person, today):
        kind = eligibility.applicant_kind(occupancy.kind)
        refused = eligibility.resident_refusal(occupancy.unit, person, kind, today)
        units.append(
            KioskResidentUnit(
                unit=occupancy.unit.code,
                kind=occupancy.kind.value,
                applicant=kind.value,
                slip_refusal=None
                if refused is None
                else Refusal(code=refused.code, message=refused.zh, message_en=refused.en, detail=refused.detail),
            )
        )
    return KioskResident(person_id=person.id, display_name=_mask(person.name), units=units)
