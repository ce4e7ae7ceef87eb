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
from server.db.models import ApplicantKind, Device, Estate, Person, Unit
from server.domain import clock, registry
from server.domain.actors import Actor
from server.domain.errors import Forbidden
from server.domain.slips import catalogue, eligibility, idempotency, issuing
from server.web.deps import CurrentDevice, DbSession, DbWriter, device_actor, device_work
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
    idempotency_key: Annotated[str | None, Header()] = None,
) -> Response:
    """A resident identified again by card or PIN asks for a slip: the slip with its token and print data, or a
    refusal with its reason code (a refusal is recorded). A retry with the same Idempotency-Key (after a lost
    answer) gets the slip the first request made, never a second slip."""

    request_text = body.model_dump_json()

    def check(db: Session, device: Device) -> Response | _Approved:
        _kiosk(device)
        key = idempotency.check_key(idempotency_key) if idempotency_key is not None else None
        stored = idempotency.find(db, device.id, key, "slips.request", request_text) if key else None
        if stored is not None:
            return Response(stored.body, status_code=stored.status, media_type="application/json")
        estate = device.estate
        actor = device_actor(request, device)
        today = clock.local_day(estate, issuing.utcnow())
        unit = registry.get_unit(db, estate, body.unit)
        if body.identity.card is not None:
            person = registry.identify_by_card(db, estate, body.identity.card, kiosk_id=device.id)
        else:
            person = registry.identify_by_pin(db, estate, body.unit, body.identity.pin or "", today)
        applicant = eligibility.check(
            db, actor, estate, unit, ApplicantKind(body.applicant), person, channel="kiosk", today=today
        )
        english = catalogue.english_names(db, estate)
        return _Approved(estate.id, unit.id, applicant.kind, person.id, actor, device.id, key, english)

    # Identification and eligibility are read on a worker thread; the slip is numbered, signed and written by the
    # writer, whose answer is awaited here without holding a worker thread.
    approved = await anyio.to_thread.run_sync(device_work, request, check)
    if isinstance(approved, Response):
        return approved
    draft = issuing.SlipDraft(
        lines=[issuing.LineDraft(i.code, i.name, i.quantity) for i in body.items],
        planned_date=body.planned_date,
        vehicle_plate=body.vehicle_plate,
        note=body.note,
    )

    def write(session: Session) -> tuple[int, str]:
        if approved.key:  # a request with the same key written since the check (a concurrent retry): its answer
            stored = idempotency.find(session, approved.device_id, approved.key, "slips.request", request_text)
            if stored is not None:
                return stored.status, stored.body
        estate = session.get(Estate, approved.estate_id)
        unit = session.get(Unit, approved.unit_id)
        person = session.get(Person, approved.person_id)
        assert estate is not None and unit is not None and person is not None
        applicant = eligibility.Applicant(approved.kind, person)
        slip = issuing.issue(session, approved.actor, estate, unit, applicant, draft, channel="kiosk")
        text = slip_out(slip, estate, approved.english, with_print=True).model_dump_json()
        if approved.key:
            idempotency.store(session, approved.device_id, approved.key, "slips.request", 201, text, request_text)
        return 201, text

    status, text = await writer.submit(write)
    return Response(text, status_code=status, media_type="application/json")


@dataclass(frozen=True)
class _Approved:
    """A kiosk's request that identification and eligibility accepted, as plain values for the writer."""

    estate_id: int
    unit_id: int
    kind: ApplicantKind
    person_id: int
    actor: Actor
    device_id: int
    key: str | None
    english: dict[str, str]  # catalogue code → English name, for the slip's lines


@router.post("/slips/{number}/reprint", response_model=SlipOut)
def reprint(number: Text, body: MySlipsRequest, request: Request, device: CurrentDevice, db: DbSession) -> SlipOut:
    """Print a valid, unused slip again for the resident it was issued to, identified again by card or unit and
    PIN: the same token, and the reprint is logged. Someone else's slip is refused (`not_your_slip`)."""
    _kiosk(device)
    estate = device.estate
    slip = issuing.get_slip(db, estate, number)
    if body.identity.card is not None:
        person = registry.identify_by_card(db, estate, body.identity.card, kiosk_id=device.id)
    else:
        today = clock.local_day(estate, issuing.utcnow())
        person = registry.identify_by_pin(db, estate, body.unit or "", body.identity.pin or "", today)
    if slip.person_id != person.id:
        raise Forbidden(
            "这不是您的放行条，请到前台补打", "this is not your slip; ask the front desk", code="not_your_slip"
        )
    issuing.reprint(db, device_actor(request, device), slip)
    return slip_out(slip, estate, catalogue.english_names(db, estate), with_print=True)
