"""Slip routes of the device API: a kiosk requests a slip for an identified resident, and reprints one.
The gate's routes are in `server.api.gate` and mounted here, so the API registers one router for slips."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Header, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from server.api.gate import router as gate_router
from server.api.slip_views import slip_out
from server.contract.fields import Text
from server.contract.schemas import MySlipsRequest, SlipOut, SlipRequest
from server.db.models import ApplicantKind, Device, Estate
from server.domain import registry
from server.domain.errors import Forbidden
from server.domain.slips import catalogue, idempotency, issuing
from server.web.deps import CurrentDevice, DbSession, DbWriter, Now, device_actor, device_work
from server.web.errors import error_body

router = APIRouter(tags=["slips"])
router.include_router(gate_router)

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
}


def _kiosk(device: Device) -> None:
    if device.kind.value != "kiosk":
        raise Forbidden("只有大堂自助机可以申请放行条", "only kiosks request slips", code="wrong_device_kind")


@router.post("/slips", response_model=SlipOut, status_code=201, responses=REFUSALS)
async def request_slip(
    body: SlipRequest,
    request: Request,
    writer: DbWriter,
    now: Now,
    idempotency_key: Annotated[str | None, Header()] = None,
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
        _kiosk(device)
        key = idempotency.check_key(idempotency_key) if idempotency_key is not None else None
        stored = idempotency.find(db, device.id, key, "slips.request", request_text) if key else None
        if stored is not None:
            return Response(stored.body, status_code=stored.status, media_type="application/json")
        estate = device.estate
        unit = registry.get_unit(db, estate, body.unit)
        identity = body.identity
        person = registry.identify(
            db, estate, card=identity.card, unit=body.unit, pin=identity.pin or "", kiosk_id=device.id, now=now
        )
        actor, kind = device_actor(request, device), ApplicantKind(body.applicant)
        approval = issuing.request_slip(db, actor, estate, unit, kind, person, draft, channel="kiosk", now=now)
        return _Approved(approval, device.id, key, catalogue.english_names(db, estate))

    # Identification and eligibility are read on a worker thread; the slip is numbered, signed and written by the
    # writer, whose answer is awaited here without holding a worker thread.
    approved = await anyio.to_thread.run_sync(device_work, request, check)
    if isinstance(approved, Response):
        return approved

    def write(session: Session) -> tuple[int, str]:
        if approved.key:  # a request with the same key written since the check (a concurrent retry): its answer
            stored = idempotency.find(session, approved.device_id, approved.key, "slips.request", request_text)
            if stored is not None:
                return stored.status, stored.body
        slip = approved.approval.issue(session)
        estate = session.get(Estate, slip.estate_id)
        assert estate is not None
        text = slip_out(slip, estate, approved.english, with_print=True).model_dump_json()
        if approved.key:
            idempotency.store(session, approved.device_id, approved.key, "slips.request", 201, text, request_text)
        return 201, text

    status, text = await writer.submit(write)
    return Response(text, status_code=status, media_type="application/json")


@dataclass(frozen=True)
class _Approved:
    """A kiosk's request that identification and eligibility accepted, with what its answer needs."""

    approval: issuing.Approval
    device_id: int
    key: str | None
    english: dict[str, str]  # catalogue code → English name, for the slip's lines


@router.post("/slips/{number}/reprint", response_model=SlipOut)
def reprint(
    number: Text, body: MySlipsRequest, request: Request, device: CurrentDevice, db: DbSession, now: Now
) -> SlipOut:
    """Print a valid, unused slip again for the resident it was issued to, identified again by card or unit and
    PIN: the same token, and the reprint is logged. Someone else's slip is refused (`not_your_slip`)."""
    _kiosk(device)
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
    return slip_out(slip, estate, catalogue.english_names(db, estate), with_print=True)
