"""Gate routes of the device API: verify a scan, record the guard's release, upload offline events, and download
the public keys and revocations for offline checking (with ETags)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from datetime import timedelta

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from server.api.slip_views import slip_out
from server.contract.schemas import (
    KeysOut,
    PassRevocationOut,
    PublicKeyOut,
    ReleaseOut,
    ReleaseRequest,
    RevocationsOut,
    SyncOut,
    SyncRequest,
    SyncResult,
    VerifyRequest,
    VerifyResult,
)
from server.db.base import utcnow
from server.db.models import Device, DeviceKind
from server.domain import idempotency
from server.domain.actors import Actor
from server.domain.errors import DomainError
from server.domain.renovation import offline as pass_offline
from server.domain.slips import catalogue, keys
from server.domain.slips.gate import checking, offline, releases
from server.domain.slips.gate.revocations import revocations as estate_revocations
from server.web.deps import (
    DbSession,
    DbWriter,
    GateDevice,
    IdempotencyKey,
    Now,
    SettingsDep,
    device_actor,
    device_work,
    json_answer,
)
from server.web.errors import error_body
from server.web.limits import GATE_RELEASE_BODY, GATE_SYNC_BODY

router = APIRouter(prefix="/gate", tags=["gate"])
RELEASE_ROUTE = "releases.release"

REJECTIONS = {
    409: {
        "description": "already_released (with released_at and gate) or refused",
        "content": {
            "application/json": {
                "example": error_body(
                    "already_released",
                    "the slip was already used",
                    released_at="2026-11-27T06:00:00+00:00",
                    gate="东门",
                )
            }
        },
    },
    410: {"description": "expired, revoked or cancelled"},
    422: {"description": "malformed, bad_signature or unknown_key"},
    403: {"description": "wrong_estate, or not a gate device"},
}


@router.post("/verify", response_model=VerifyResult, responses=REJECTIONS)
def verify(body: VerifyRequest, device: GateDevice, db: DbSession, _key: IdempotencyKey) -> VerifyResult:
    """The slip a scanned code or typed number names, with its items and state; or a rejection code."""
    slip = checking.find_scanned(db, device.estate, body.text, utcnow())
    return VerifyResult(slip=slip_out(slip, device.estate, catalogue.english_names(db, device.estate)))


def _photo(value: str | None) -> bytes | None:
    if value is None:
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise DomainError("照片不是有效的 base64", "the photo is not valid base64", code="bad_photo") from None


@router.post(
    "/releases", response_model=ReleaseOut, status_code=201, responses=REJECTIONS, max_body_size=GATE_RELEASE_BODY
)
async def release(
    body: ReleaseRequest,
    request: Request,
    writer: DbWriter,
    settings: SettingsDep,
    key: IdempotencyKey,
) -> Response:
    """The guard counted each line (R-REL-6): all match → released with the time; else refused with the reason.
    The answer is the server's verdict: a slip used, cancelled or re-issued meanwhile is rejected with its code.
    A retry with the same Idempotency-Key gets the first answer and records nothing more."""
    request_text = body.model_dump_json()

    def check(db: Session, device: Device) -> Response | tuple[releases.ReleasePlan, Actor, idempotency.DeviceWrite]:
        write = idempotency.DeviceWrite(device.id, key, RELEASE_ROUTE, request_text)
        if body.decided_at is not None:  # rare: written in this request's own transaction
            queued = idempotency.answer_once(
                db, write, lambda db: _queued_release(body, request, device, db, key, settings)
            )
            return json_answer(queued)
        kept = idempotency.kept(db, write)
        if kept is not None:
            return json_answer(kept)
        counts = [releases.Count(c.line, c.counted) for c in body.lines]
        plan = releases.plan_release(
            db,
            device,
            body.text,
            body.guard,
            counts,
            reason=body.reason,
            photo=_photo(body.photo_jpeg_b64),
            refuse=body.refuse,
        )
        return plan, device_actor(request, device), write

    # The device, the signature, the slip and the counts are checked on a worker thread in one read-only
    # snapshot, outside any write lock; only the write queues for the writer, awaited here so that no worker
    # thread sits waiting for it.
    checked = await anyio.to_thread.run_sync(device_work, request, DeviceKind.gate, check)
    if isinstance(checked, Response):
        return checked
    plan, actor, write = checked
    answer = {"number": plan.number, "outcome": plan.outcome, "at": plan.at, "reason": plan.reason}
    text = ReleaseOut.model_validate(answer | {"state": plan.state.value}).model_dump_json()

    def record(session: Session) -> idempotency.Answer:
        releases.record_release(session, actor, plan)
        return 201, text

    # A request with the same key written since the check (a concurrent retry) gets that answer.
    return json_answer(await writer.submit(lambda session: idempotency.answer_once(session, write, record)))


def _gate_clock(db: Session, device: Device, settings: SettingsDep) -> offline.GateClock:
    return offline.gate_clock(db, device, timedelta(minutes=settings.gate_clock_skew_minutes))


def _queued_release(
    body: ReleaseRequest, request: Request, device: Device, db: Session, key: str, settings: SettingsDep
) -> idempotency.Answer:
    """A release the gate already showed the guard as done, re-sent because its answer was lost: it follows the
    offline rules, so a slip released meanwhile by someone else is a conflict, never silently dropped."""
    assert body.decided_at is not None
    event = offline.OfflineEvent(
        nonce=key[:64],
        kind="refuse" if body.refuse else "release",
        text=body.text,
        at=body.decided_at,
        guard=body.guard,
        counts=tuple(releases.Count(c.line, c.counted) for c in body.lines),
        reason=body.reason,
    )
    outcome = offline.sync(db, device_actor(request, device), device, [event], _gate_clock(db, device, settings))[0]
    if outcome.result == "conflict":
        body = error_body(
            "conflict_recorded",
            "已记录为冲突，待治安队长核对",
            message_en="recorded as a conflict for the security captain",
            kind=outcome.code,
        )
        return 409, json.dumps(body, ensure_ascii=False)
    if outcome.result == "rejected":
        zh, en = checking.REJECTION_TEXT.get(outcome.code, ("放行条无法核验", "the slip could not be checked"))
        status = checking.REJECTION_STATUS.get(outcome.code, 422)
        return status, json.dumps(error_body(outcome.code, zh, message_en=en), ensure_ascii=False)
    record = releases.release_of(db, outcome.number)
    out = ReleaseOut.model_validate(
        {
            "number": record.slip.number,
            "outcome": record.outcome,
            "at": record.at,
            "reason": record.reason,
            "state": record.slip.state.value,
        }
    )
    return 201, out.model_dump_json()


@router.post("/sync", response_model=SyncOut, max_body_size=GATE_SYNC_BODY)
def sync(
    body: SyncRequest, request: Request, device: GateDevice, db: DbSession, settings: SettingsDep, key: IdempotencyKey
) -> Response:
    """Events recorded while offline, with original times and nonces. A release of a slip already used elsewhere,
    or at a time the gate cannot have decided it, becomes a conflict for the security captain; a nonce sent before
    is answered `duplicate`."""
    write = idempotency.DeviceWrite(device.id, key, "offline.sync", body.model_dump_json())
    return json_answer(idempotency.answer_once(db, write, lambda db: _sync(body, request, device, db, settings)))


def _sync(
    body: SyncRequest, request: Request, device: Device, db: Session, settings: SettingsDep
) -> idempotency.Answer:
    events = [
        offline.OfflineEvent(
            nonce=e.nonce,
            kind=e.kind,
            text=e.text,
            at=e.at,
            guard=e.guard,
            counts=tuple(releases.Count(c.line, c.counted) for c in e.lines),
            reason=e.reason,
            code=e.code,
        )
        for e in body.events
    ]
    outcomes = offline.sync(db, device_actor(request, device), device, events, _gate_clock(db, device, settings))
    return 200, SyncOut(results=[SyncResult.model_validate(vars(o)) for o in outcomes]).model_dump_json()


def _cached(request: Request, model: BaseModel) -> Response:
    body = model.model_dump_json().encode()
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


@router.get("/keys", response_model=KeysOut, responses={304: {"description": "Not modified since the ETag"}})
def public_keys(request: Request, _device: GateDevice, db: DbSession) -> Response:
    """Public keys for offline checks: the one in use and retired ones whose slips are still valid."""
    published = keys.published(db, utcnow())
    out = KeysOut(
        keys=[
            PublicKeyOut(
                key_id=k.key_id,
                public_key=base64.urlsafe_b64encode(bytes.fromhex(k.public_hex)).rstrip(b"=").decode(),
                active=k.active,
                publish_until=k.publish_until,
            )
            for k in published
        ]
    )
    return _cached(request, out)


@router.get(
    "/revocations", response_model=RevocationsOut, responses={304: {"description": "Not modified since the ETag"}}
)
def revocations(request: Request, device: GateDevice, db: DbSession, now: Now) -> Response:
    """Numbers of revoked, cancelled and used slips that are still inside their validity; workers' passes
    withdrawn or whose renovation is suspended or ended, with the time from which each is not valid (R-REN-6)."""
    found = estate_revocations(db, device.estate, now)
    withdrawn = [PassRevocationOut.model_validate(vars(p)) for p in pass_offline.revocations(db, device.estate, now)]
    out = RevocationsOut(estate=device.estate.code, revoked=found.revoked, released=found.released, passes=withdrawn)
    return _cached(request, out)
