"""The key cabinet's routes of the device API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response

from server.contract.cabinet import CabinetEventsIn, CabinetEventsOut
from server.domain import cabinet
from server.domain.errors import Forbidden
from server.domain.slips import idempotency
from server.web.deps import CurrentDevice, DbSession, device_actor
from server.web.limits import CABINET_EVENTS_BODY

router = APIRouter(prefix="/cabinet", tags=["cabinet"])
ROUTE = "cabinet.events"


@router.post("/events", response_model=CabinetEventsOut, status_code=201, max_body_size=CABINET_EVENTS_BODY)
def upload_events(
    body: CabinetEventsIn,
    request: Request,
    device: CurrentDevice,
    db: DbSession,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> Response:
    """Door and key events the cabinet saw, in order, with their own times. A retry with the same
    Idempotency-Key gets the first answer and records nothing more."""
    if device.kind.value != "cabinet":
        raise Forbidden(
            "只有钥匙柜可以上报钥匙柜事件", "only key cabinets report cabinet events", code="wrong_device_kind"
        )
    key = idempotency.check_key(idempotency_key)
    stored = idempotency.find(db, device.id, key, ROUTE, body.model_dump_json())
    if stored is not None:
        return Response(stored.body, status_code=stored.status, media_type="application/json")
    alerts = cabinet.record_events(db, device_actor(request, device), device, body.events)
    answer = CabinetEventsOut(recorded=len(body.events), alerts=alerts).model_dump_json()
    idempotency.store(db, device.id, key, ROUTE, 201, answer, body.model_dump_json())
    return Response(answer, status_code=201, media_type="application/json")
