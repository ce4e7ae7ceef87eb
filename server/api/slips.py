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
from server.db.models import ApplicantKind, Device, DeviceKind, Estate, ReleaseSlip
from server.db.writer import Writer
from server.domain import idempotency, registry
from server.domain.actors import Actor
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

    def check(db: Session, device: Device) -> idempotency.Answer | Approved:
        return approve(db, device, body, key, device_actor(request, device), now)

    # Identification and eligibility are read, and the slip drafted, on a worker thread; the slip is numbered,
    # signed and written by the writer, whose answer is awaited here without holding a worker thread.
    approved = await anyio.to_thread.run_sync(device_work, request, DeviceKind.kiosk, check)
    if not isinstance(approved, Approved):
        return json_answer(approved)
    written = await approved.issue_plain(writer)
    if written is not None:
        return json_answer(written)
    approval = approved.approval
    assert approval is not None

    def issue(session: Session) -> idempotency.Answer:
        slip = approval.issue(session)
        estate = session.get(Estate, slip.estate_id)
        assert estate is not None
        return 201, slip_out(slip, estate, approved.english, with_print=True).model_dump_json()

    # The answer kept for the key meanwhile (a concurrent retry), or the slip written by the ORM.
    return json_answer(await writer.submit(lambda session: idempotency.answer_once(session, approved.write, issue)))


SLIP_ROUTE = "slips.request"


def approve(
    db: Session, device: Device, body: SlipRequest, key: str, actor: Actor, now: datetime
) -> idempotency.Answer | Approved:
    """The kiosk's request identified, checked and drafted on `db` (R-REL-2/5; a refusal recorded and raised); or
    the answer kept for its key (a retry)."""
    write = idempotency.DeviceWrite(device.id, key, SLIP_ROUTE, body.model_dump_json())
    kept = idempotency.kept(db, write)
    if kept is not None:
        return kept
    estate = device.estate
    unit = registry.get_unit(db, estate, body.unit)
    identity = body.identity
    person = registry.identify(
        db, estate, card=identity.card, unit=body.unit, pin=identity.pin or "", kiosk_id=device.id, now=now
    )
    draft = draft_of(body)
    signature = signature_of(body)
    approval = issuing.request_slip(
        db,
        actor,
        estate,
        unit,
        ApplicantKind(body.applicant),
        person,
        draft,
        channel="kiosk",
        now=now,
        signature=signature,
    )
    return Approved(write, catalogue.english_names(db, estate), approval.drafted(db), approval)


def draft_of(body: SlipRequest) -> issuing.SlipDraft:
    return issuing.SlipDraft(
        lines=[issuing.LineDraft(i.code, i.name, i.quantity) for i in body.items],
        planned_date=body.planned_date,
        vehicle_plate=body.vehicle_plate,
        note=body.note,
    )


def signature_of(body: SlipRequest) -> bytes | None:
    """The applicant's signature from the pad, checked (`paper.from_base64`), if the request has one."""
    return paper.from_base64(body.signature_png_b64) if body.signature_png_b64 is not None else None


@dataclass(frozen=True)
class Approved:
    """A kiosk's request that identification and eligibility accepted, with what its answer needs."""

    write: idempotency.DeviceWrite
    english: dict[str, str]  # catalogue code → English name, for the slip's lines
    drafted: issuing.Drafted | None
    approval: issuing.Approval | None = None  # for `Approval.issue` when nothing was drafted (the slip lane's has none)

    async def issue_plain(self, writer: Writer) -> idempotency.Answer | None:
        """The slip written by the writer in plain statements, and its answer; None, with nothing written, when
        this is no resident's own request (`issue` writes it) or the key was answered meanwhile."""
        drafted, english = self.drafted, self.english
        if drafted is None:
            return None

        def answer(slip: ReleaseSlip) -> idempotency.Answer:
            return 201, slip_out(slip, drafted.estate, english, with_print=True).model_dump_json()

        return await writer.submit_plain(lambda db: issuing.issue_plain(db, drafted, self.write, answer))


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
