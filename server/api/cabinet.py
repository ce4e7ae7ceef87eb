"""The key cabinet's routes of the device API."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from server.contract.cabinet import CabinetEventsIn, CabinetEventsOut
from server.db.models import Device
from server.domain import cabinet
from server.domain.actors import Actor
from server.domain.errors import Forbidden
from server.domain.slips import idempotency
from server.web.deps import DbWriter, device_actor, device_work
from server.web.limits import CABINET_EVENTS_BODY

router = APIRouter(prefix="/cabinet", tags=["cabinet"])
ROUTE = "cabinet.events"


@router.post("/events", response_model=CabinetEventsOut, status_code=201, max_body_size=CABINET_EVENTS_BODY)
async def upload_events(
    body: CabinetEventsIn,
    request: Request,
    writer: DbWriter,
    idempotency_key: Annotated[str | None, Header()] = None,
) -> Response:
    """Door and key events the cabinet saw, in order, with their own times. A retry with the same
    Idempotency-Key gets the first answer and records nothing more."""

    request_text = body.model_dump_json()

    def check(db: Session, device: Device) -> Response | tuple[int, str, Actor]:
        if device.kind.value != "cabinet":
            raise Forbidden(
                "只有钥匙柜可以上报钥匙柜事件", "only key cabinets report cabinet events", code="wrong_device_kind"
            )
        key = idempotency.check_key(idempotency_key)
        stored = idempotency.find(db, device.id, key, ROUTE, request_text)
        if stored is not None:
            return Response(stored.body, status_code=stored.status, media_type="application/json")
        return device.id, key, device_actor(request, device)

    # Checked on a worker thread from a snapshot; the events are written by the writer, awaited here.
    checked = await anyio.to_thread.run_sync(device_work, request, check)
    if isinstance(checked, Response):
        return checked
    device_id, key, actor = checked

    def write(session: Session) -> tuple[int, str]:
        # A request with the same key written since the check (a concurrent retry) gets that answer.
        stored = idempotency.find(session, device_id, key, ROUTE, request_text)
        if stored is not None:
            return stored.status, stored.body
        device = session.get(Device, device_id)
        assert device is not None
        alerts = cabinet.record_events(session, actor, device, body.events)
        answer = CabinetEventsOut(recorded=len(body.events), alerts=alerts).model_dump_json()
        idempotency.store(session, device_id, key, ROUTE, 201, answer, request_text)
        return 201, answer

    status, answer = await writer.submit(write)
    return Response(answer, status_code=status, media_type="application/json")
