"""Slip routes of the device API: a kiosk requests a slip for an identified resident, and reprints one."""

from __future__ import annotations

from dataclasses import dataclass

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from server.api.slip_views import slip_out
from server.contract.fields import Text
from server.contract.schemas import MySlipsRequest, SlipOut, SlipRequest
from server.db.models import ApplicantKind, Device, DeviceKind, Estate, Person, Unit
from server.domain import idempotency, registry
from server.domain.actors import Actor
from server.domain.errors import Forbidden
from server.domain.slips import catalogue, clock, eligibility, issuing
from server.web.deps import DbSession, DbWriter, IdempotencyKey, KioskDevice, device_actor, device_work, json_answer
from server.web.errors import error_body

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
}


@router.post("/slips", response_model=SlipOut, status_code=201, responses=REFUSALS)
async def request_slip(
    body: SlipRequest,
    request: Request,
    writer: DbWriter,
    key: IdempotencyKey,
) -> Response:
    """A resident identified again by card or PIN asks for a slip: the slip with its token and print data, or a
    refusal with its reason code (a refusal is recorded). A retry with the same Idempotency-Key (after a lost
    answer) gets the slip the first request made, never a second slip."""

    request_text = body.model_dump_json()

    def check(db: Session, device: Device) -> Response | _Approved:
        write = idempotency.DeviceWrite(device.id, key, "slips.request", request_text)
        kept = idempotency.kept(db, write)
        if kept is not None:
            return json_answer(kept)
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
        return _Approved(estate.id, unit.id, applicant.kind, person.id, actor, write, english)

    # Identification and eligibility are read on a worker thread; the slip is numbered, signed and written by the
    # writer, whose answer is awaited here without holding a worker thread.
    approved = await anyio.to_thread.run_sync(device_work, request, DeviceKind.kiosk, check)
    if isinstance(approved, Response):
        return approved
    draft = issuing.SlipDraft(
        lines=[issuing.LineDraft(i.code, i.name, i.quantity) for i in body.items],
        planned_date=body.planned_date,
        vehicle_plate=body.vehicle_plate,
        note=body.note,
    )

    def issue(session: Session) -> idempotency.Answer:
        estate = session.get(Estate, approved.estate_id)
        unit = session.get(Unit, approved.unit_id)
        person = session.get(Person, approved.person_id)
        assert estate is not None and unit is not None and person is not None
        applicant = eligibility.Applicant(approved.kind, person)
        slip = issuing.issue(session, approved.actor, estate, unit, applicant, draft, channel="kiosk")
        return 201, slip_out(slip, estate, approved.english, with_print=True).model_dump_json()

    # A request with the same key written since the check (a concurrent retry) gets that answer.
    return json_answer(await writer.submit(lambda session: idempotency.answer_once(session, approved.write, issue)))


@dataclass(frozen=True)
class _Approved:
    """A kiosk's request that identification and eligibility accepted, as plain values for the writer."""

    estate_id: int
    unit_id: int
    kind: ApplicantKind
    person_id: int
    actor: Actor
    write: idempotency.DeviceWrite
    english: dict[str, str]  # catalogue code → English name, for the slip's lines


@router.post("/slips/{number}/reprint", response_model=SlipOut)
def reprint(
    number: Text, body: MySlipsRequest, request: Request, device: KioskDevice, db: DbSession, key: IdempotencyKey
) -> Response:
    """Print a valid, unused slip again for the resident it was issued to, identified again by card or unit and
    PIN: the same token, and the reprint is logged. Someone else's slip is refused (`not_your_slip`)."""
    write = idempotency.DeviceWrite(device.id, key, "slips.reprint", f"{number} {body.model_dump_json()}")
    return json_answer(idempotency.answer_once(db, write, lambda db: _reprint(number, body, request, device, db)))


def _reprint(number: str, body: MySlipsRequest, request: Request, device: Device, db: Session) -> idempotency.Answer:
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
    return 200, slip_out(slip, estate, catalogue.english_names(db, estate), with_print=True).model_dump_json()
