"""The key cabinet's routes of the device API."""

from __future__ import annotations

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from server.contract.cabinet import CabinetEventsIn, CabinetEventsOut
from server.db.models import Device, DeviceKind
from server.domain import cabinet, idempotency
from server.domain.actors import Actor
from server.web.deps import DbWriter, IdempotencyKey, device_actor, device_work, json_answer
from server.web.limits import CABINET_EVENTS_BODY

router = APIRouter(prefix="/cabinet", tags=["cabinet"])
ROUTE = "cabinet.events"


@router.post("/events", response_model=CabinetEventsOut, status_code=201, max_body_size=CABINET_EVENTS_BODY)
async def upload_events(body: CabinetEventsIn, request: Request, writer: DbWriter, key: IdempotencyKey) -> Response:
    """Door and key events the cabinet saw, in order, with their own times. A retry with the same
    Idempotency-Key gets the first answer and records nothing more."""

    def check(db: Session, device: Device) -> Response | tuple[idempotency.DeviceWrite, Actor]:
        write = idempotency.DeviceWrite(device.id, key, ROUTE, body.model_dump_json())
        kept = idempotency.kept(db, write)
        if kept is not None:
            return json_answer(kept)
        return write, device_actor(request, device)

    # Checked on a worker thread from a snapshot; the events are written by the writer, awaited here.
    checked = await anyio.to_thread.run_sync(device_work, request, DeviceKind.cabinet, check)
    if isinstance(checked, Response):
        return checked
    write, actor = checked

    def record(session: Session) -> idempotency.Answer:
        device = session.get(Device, write.device_id)
        assert device is not None
        alerts = cabinet.record_events(session, actor, device, body.events)
        return 201, CabinetEventsOut(recorded=len(body.events), alerts=alerts).model_dump_json()

    # A request with the same key written since the check (a concurrent retry) gets that answer.
    return json_answer(await writer.submit(lambda session: idempotency.answer_once(session, write, record)))
