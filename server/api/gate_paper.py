"""Gate routes for the release log's paper trail: the item catalogue for showing names offline, and goods stopped
with no slip (R-REL-6)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from server.api.gate import _cached, _photo
from server.contract.schemas import CatalogueItemOut, GateCatalogueOut, GateStopIn, GateStopOut
from server.domain.slips import catalogue
from server.domain.slips.gate import stops
from server.web.deps import DbSession, GateDevice, IdempotencyKey, device_actor
from server.web.limits import GATE_RELEASE_BODY

router = APIRouter(prefix="/gate", tags=["gate"])


@router.get("/catalogue", response_model=GateCatalogueOut, responses={304: {"description": "Not modified"}})
def gate_catalogue(request: Request, device: GateDevice, db: DbSession) -> Response:
    """The estate's items with their Chinese and English names (ETag), so a slip the gate has not synced shows
    床, not BED."""
    items = [
        CatalogueItemOut(code=i.code, name=i.name, name_en=i.name_en or i.name)
        for i in catalogue.items(db, device.estate, active_only=False)
    ]
    return _cached(request, GateCatalogueOut(estate=device.estate.code, items=items))


@router.post("/stops", response_model=GateStopOut, status_code=201, max_body_size=GATE_RELEASE_BODY)
def stop_goods(
    body: GateStopIn, request: Request, device: GateDevice, db: DbSession, _key: IdempotencyKey
) -> GateStopOut:
    """Goods the guard stopped with no slip at all: what, why and by whom, with the camera's photo when taken."""
    found = stops.record_stop(
        db,
        device_actor(request, device),
        device,
        goods=body.goods,
        reason=body.reason,
        guard=body.guard,
        photo=_photo(body.photo_jpeg_b64),
    )
    return GateStopOut(id=found.id, at=found.at, gate=found.gate)
