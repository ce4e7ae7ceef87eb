"""Gate routes for workers' passes (R-REN-6): check a scanned pass (with the worker's photo and the renovation's
state, which the token cannot carry) and log an entry or exit on it, at once or as recorded offline."""

from __future__ import annotations

import json
from datetime import timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from server.contract.passes import PassCheckRequest, PassMovementOut, PassMovementRequest, WorkerPassOut
from server.db.models.renovation import WorkerPass
from server.domain import idempotency
from server.domain.renovation import offline as pass_offline
from server.domain.renovation import passes
from server.domain.slips.gate import offline
from server.web.deps import DbSession, GateDevice, IdempotencyKey, Now, SettingsDep, device_actor, json_answer
from server.web.errors import error_body

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


@router.post(
    "/movements",
    response_model=PassMovementOut,
    status_code=201,
    responses=REFUSALS | {409: {"description": "conflict_recorded: an offline movement recorded as a conflict"}},
)
def log_movement(
    body: PassMovementRequest,
    request: Request,
    device: GateDevice,
    db: DbSession,
    now: Now,
    settings: SettingsDep,
    key: IdempotencyKey,
) -> Response:
    """A worker came in or went out on a pass, checked again now. With `at` (recorded while the gate was offline,
    or re-sent after a lost answer) it is judged at that time instead: recorded (201) when the pass was good then,
    recorded and made a conflict for the security captain (409 `conflict_recorded`) when it was not or the time is
    impossible, refused with its code when the pass is forged or unknown. A retry with the same Idempotency-Key gets
    the first answer and logs nothing more."""
    actor = device_actor(request, device)

    def work(session: Session) -> idempotency.Answer:
        movement = passes.log_movement(session, actor, device, body.text, body.direction, body.guard, now)
        item = session.get_one(WorkerPass, movement.pass_id)
        out = PassMovementOut(number=item.number, direction=body.direction, at=movement.at, worker=item.worker_name)
        return 201, out.model_dump_json()

    def recorded_offline(session: Session) -> idempotency.Answer:
        assert body.at is not None
        event = pass_offline.OfflineMovement(key[:64], body.text, body.direction, body.guard, body.at)
        skew = timedelta(minutes=settings.gate_clock_skew_minutes)
        outcome = pass_offline.record_offline_movement(
            session, actor, device, event, offline.gate_clock(session, device, skew, now)
        )
        if outcome.result == "recorded" and outcome.movement is not None:
            item = session.get_one(WorkerPass, outcome.movement.pass_id)
            out = PassMovementOut(number=item.number, direction=body.direction, at=body.at, worker=item.worker_name)
            return 201, out.model_dump_json()
        if outcome.result == "conflict":
            answer = error_body(
                "conflict_recorded", "已记录为冲突，待治安队长核对",
                message_en="recorded as a conflict for the security captain", kind=outcome.code, number=outcome.number,
            )  # fmt: skip
            return 409, json.dumps(answer, ensure_ascii=False)
        if outcome.result == "duplicate":
            answer = error_body("duplicate", "该记录已上传", message_en="already uploaded", result=outcome.code)
            return 409, json.dumps(answer, ensure_ascii=False)
        answer = error_body(outcome.code, outcome.message, message_en=outcome.message_en)
        return 422, json.dumps(answer, ensure_ascii=False)

    # The key is bound to the movement without its time: a movement re-sent with `at` after its online answer was
    # lost gets that answer.
    write = idempotency.DeviceWrite(device.id, key, "passes.movement", body.model_dump_json(exclude={"at"}))
    return json_answer(idempotency.answer_once(db, write, work if body.at is None else recorded_offline))
