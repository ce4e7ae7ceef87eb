"""Slip routes of the device API: a kiosk requests a slip for an identified resident, and reprints one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from server.api.slip_views import slip_out
from server.contract.fields import Text
from server.contract.schemas import MySlipsRequest, SlipOut, SlipRequest
from server.db.models import ApplicantKind, Device, DeviceKind, Estate
from server.domain import idempotency, registry
from server.domain.errors import Forbidden
from server.domain.slips import catalogue, issuing, paper
from server.web.deps import (
    DbSession,
    DbWriter,
    IdempotencyKey,
    KioskDevice,
    Now,
    device_actor,
    device_work,
    json_answer,
)
from server.web.errors import error_body
from server.web.limits import SLIP_REQUEST_BODY

router = APIRouter(tags=["slips"])

REFUSALS = {
    403: {
        "description": "Refused: not_owner, not_resident, arrears_outstanding (R-REL-5), proxy_console_only",
        "content": {
            "application/json": {
                "example": error_body("arrears_outstanding", "the unit owes ¥1,200.00: settle it first", arrears_fen=1)
            }
        },
    },
    401: {"description": "Unknown device token, unknown card or wrong PIN"},
    422: {"description": "Malformed body, bad items or planned date"},
    400: {"description": "signature_too_large (over 200 KB) or bad_signature: the applicant signs again"},
}


@router.post("/slips", response_model=SlipOut, status_code=201, responses=REFUSALS, max_body_size=SLIP_REQUEST_BODY)
async def request_slip(
    body: SlipRequest,
    request: Request,
    writer: DbWriter,
    now: Now,
    key: IdempotencyKey,
) -> Response:
    """A resident identified again by card or PIN asks for a slip: the slip with its token and print data, or a
    refusal with its reason code (a refusal is recorded). A retry with the same Idempotency-Key (after a lost
    answer) gets the slip the first request made, never a second slip."""

    request_text = body.model_dump_json()
    draft = issuing.SlipDraft(
        lines=[issuing.LineDraft(i.code, i.name, i.quantity) for i in body.items],
        planned_date=body.planned_date,
        vehicle_plate=body.vehicle_plate,
        note=body.note,
    )

    def check(db: Session, device: Device) -> Response | _Approved:
        write = idempotency.DeviceWrite(device.id, key, "slips.request", request_text)
        kept = idempotency.kept(db, write)
        if kept is not None:
            return json_answer(kept)
        estate = device.estate
        unit = registry.get_unit(db, estate, body.unit)
        identity = body.identity
        person = registry.identify(
            db, estate, card=identity.card, unit=body.unit, pin=identity.pin or "", kiosk_id=device.id, now=now
        )
        actor, kind = device_actor(request, device), ApplicantKind(body.applicant)
        signature = paper.from_base64(body.signature_png_b64) if body.signature_png_b64 is not None else None
        approval = issuing.request_slip(
            db, actor, estate, unit, kind, person, draft, channel="kiosk", now=now, signature=signature
        )
        return _Approved(approval, write, catalogue.english_names(db, estate))

    # Identification and eligibility are read on a worker thread; the slip is numbered, signed and written by the
    # writer, whose answer is awaited here without holding a worker thread.
    approved = await anyio.to_thread.run_sync(device_work, request, DeviceKind.kiosk, check)
    if isinstance(approved, Response):
        return approved

    def issue(session: Session) -> idempotency.Answer:
        slip = approved.approval.issue(session)
        estate = session.get(Estate, slip.estate_id)
        assert estate is not None
        return 201, slip_out(slip, estate, approved.english, with_print=True).model_dump_json()

    # A request with the same key written since the check (a concurrent retry) gets that answer.
    return json_answer(await writer.submit(lambda session: idempotency.answer_once(session, approved.write, issue)))


@dataclass(frozen=True)
class _Approved:
    """A kiosk's request that identification and eligibility accepted, with what its answer needs."""

    approval: issuing.Approval
    write: idempotency.DeviceWrite
    english: dict[str, str]  # catalogue code → English name, for the slip's lines


@router.post("/slips/{number}/reprint", response_model=SlipOut)
def reprint(
    number: Text,
    body: MySlipsRequest,
    request: Request,
    device: KioskDevice,
    db: DbSession,
    now: Now,
    key: IdempotencyKey,
) -> Response:
    """Print a valid, unused slip again for the resident it was issued to, identified again by card or unit and
    PIN: the same token, and the reprint is logged. Someone else's slip is refused (`not_your_slip`)."""
    write = idempotency.DeviceWrite(device.id, key, "slips.reprint", f"{number} {body.model_dump_json()}")
    return json_answer(idempotency.answer_once(db, write, lambda db: _reprint(number, body, request, device, db, now)))


def _reprint(
    number: str, body: MySlipsRequest, request: Request, device: Device, db: Session, now: datetime
) -> idempotency.Answer:
    estate = device.estate
    slip = issuing.get_slip(db, estate, number)
    identity = body.identity
    person = registry.identify(
        db, estate, card=identity.card, unit=body.unit or "", pin=identity.pin or "", kiosk_id=device.id, now=now
    )
    if slip.person_id != person.id:
        raise Forbidden(
            "这不是您的放行条，请到前台补打", "this is not your slip; ask the front desk", code="not_your_slip"
        )
    issuing.reprint(db, device_actor(request, device), slip)
    return 200, slip_out(slip, estate, catalogue.english_names(db, estate), with_print=True).model_dump_json()
