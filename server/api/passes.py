"""Gate routes for workers' passes (R-REN-6): check a scanned pass (with the worker's photo and the renovation's
state, which the token cannot carry) and log an entry or exit on it."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from server.contract.passes import PassCheckRequest, PassMovementOut, PassMovementRequest, WorkerPassOut
from server.db.models.renovation import WorkerPass
from server.domain import idempotency
from server.domain.renovation import passes
from server.web.deps import DbSession, GateDevice, IdempotencyKey, Now, device_actor, json_answer

router = APIRouter(prefix="/gate/passes", tags=["gate"])
REFUSALS = {
    410: {"description": "expired, revoked or suspended (the renovation's works are stopped)"},
    422: {"description": "malformed, bad_signature, unknown_key, wrong_estate or not_yet_valid"},
}


def pass_out(item: WorkerPass) -> WorkerPassOut:
    return WorkerPassOut(
        number=item.number, unit=item.renovation.unit.code, worker=item.worker_name, company=item.company,
        valid_from=item.valid_from, valid_until=item.valid_until, renovation=item.renovation.number, photo=item.photo,
    )  # fmt: skip


@router.post("/check", response_model=WorkerPassOut, responses=REFUSALS)
def check_pass(
    body: PassCheckRequest, device: GateDevice, db: DbSession, now: Now, _key: IdempotencyKey
) -> WorkerPassOut:
    """The pass a scanned code names, if its worker may come in now; else the refusal's code."""
    return pass_out(passes.check(db, device.estate, body.text, now))


@router.post("/movements", response_model=PassMovementOut, status_code=201, responses=REFUSALS)
def log_movement(
    body: PassMovementRequest, request: Request, device: GateDevice, db: DbSession, now: Now, key: IdempotencyKey
) -> Response:
    """A worker came in or went out on a pass, checked again now. A retry with the same Idempotency-Key gets the
    first answer and logs nothing more."""

    def work(session: Session) -> idempotency.Answer:
        movement = passes.log_movement(
            session, device_actor(request, device), device, body.text, body.direction, body.guard, now
        )
        item = session.get_one(WorkerPass, movement.pass_id)
        out = PassMovementOut(number=item.number, direction=body.direction, at=movement.at, worker=item.worker_name)
        return 201, out.model_dump_json()

    write = idempotency.DeviceWrite(device.id, key, "passes.movement", body.model_dump_json())
    return json_answer(idempotency.answer_once(db, write, work))
