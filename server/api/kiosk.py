"""Kiosk routes of the device API: the services offered, the item catalogue, and a resident's own slips."""

from __future__ import annotations

from fastapi import APIRouter, Request

from server.api.slip_views import items_out
from server.contract.schemas import (
    CatalogueItemOut,
    CatalogueOut,
    KioskServicesOut,
    MySlipOut,
    MySlipsOut,
    MySlipsRequest,
)
from server.domain import audit, clock, kiosk, registry
from server.domain.slips import catalogue
from server.web.deps import DbSession, IdempotencyKey, KioskDevice, Now, device_actor

router = APIRouter(prefix="/kiosk", tags=["kiosk"])

KIOSK_ONLY = {403: {"description": "wrong_device_kind: not a kiosk"}, 401: {"description": "Unknown device token"}}


@router.get("/services", response_model=KioskServicesOut, responses=KIOSK_ONLY)
def services(device: KioskDevice, db: DbSession) -> KioskServicesOut:
    """The services the kiosk's home screen offers (only these get a button), with the estate's name and zone,
    and the letters its unit codes use (the kiosk's unit keypad offers those)."""
    return KioskServicesOut(
        estate_name=device.estate.name,
        timezone=clock.zone(device.estate).key,
        services=list(kiosk.SERVICES),
        unit_letters=registry.unit_code_letters(db, device.estate),
    )


@router.get("/catalogue", response_model=CatalogueOut, responses=KIOSK_ONLY)
def item_catalogue(device: KioskDevice, db: DbSession) -> CatalogueOut:
    """The estate's common items offered for release slips, with their codes and Chinese and English names."""
    return CatalogueOut(
        items=[
            CatalogueItemOut(code=i.code, name=i.name, name_en=i.name_en or i.name)
            for i in catalogue.items(db, device.estate)
        ]
    )


@router.post(
    "/my-slips",
    response_model=MySlipsOut,
    responses={
        **KIOSK_ONLY,
        401: {"description": "unknown_card or wrong_pin (wrong PINs count towards the lock)"},
        429: {"description": "pin_locked"},
    },
)
def my_slips(
    body: MySlipsRequest, request: Request, device: KioskDevice, db: DbSession, now: Now, _key: IdempotencyKey
) -> MySlipsOut:
    """The identified resident's own latest slips and their state now: issued, released (with the time),
    refused at the gate, expired or cancelled. Viewing is logged, as the list shows personal records."""
    estate = device.estate
    identity = body.identity
    person = registry.identify(
        db, estate, card=identity.card, unit=body.unit or "", pin=identity.pin or "", kiosk_id=device.id, now=now
    )
    found = kiosk.resident_slips(db, estate, person, now)
    english = catalogue.english_names(db, estate)
    audit.record(
        db, device_actor(request, device), "kiosk.my_slips", "person", person.id, estate_id=estate.id, shown=len(found)
    )
    return MySlipsOut(
        slips=[
            MySlipOut(
                number=s.slip.number,
                unit=s.slip.unit_code,
                state=s.state,  # type: ignore[arg-type]
                issued_at=s.slip.issued_at,
                valid_until=s.slip.valid_until,
                gate_at=s.gate_at,
                items=items_out(s.slip, english),
                reprintable=s.reprintable,
            )
            for s in found
        ]
    )
