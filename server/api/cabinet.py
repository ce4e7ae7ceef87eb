"""The key cabinet's routes of the device API: its events, the staff who may sign in at it and signing in, the
unlocks the server authorised, and loans asked for at the cabinet (`server.contract.cabinet` describes the loop)."""

from __future__ import annotations

from collections.abc import Callable

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from server.api.gate import _cached
from server.contract.cabinet import (
    CabinetEventsIn,
    CabinetEventsOut,
    CabinetLoanIn,
    CabinetLoanOut,
    CabinetRosterOut,
    CabinetSignIn,
    CabinetStaffEntry,
    CabinetStaffOut,
    CabinetUnlock,
    CabinetUnlocksOut,
)
from server.db.models import Device, DeviceKind, KeyUnlock
from server.domain import cabinet, idempotency
from server.domain.actors import Actor
from server.domain.keys import cabinet_loans, cabinet_staff, unlocks
from server.web.deps import (
    CabinetDevice,
    DbSession,
    DbWriter,
    IdempotencyKey,
    Now,
    device_actor,
    device_work,
    json_answer,
)
from server.web.errors import error_body
from server.web.limits import CABINET_EVENTS_BODY

router = APIRouter(prefix="/cabinet", tags=["cabinet"])
ROUTE = "cabinet.events"
LOAN_ROUTE = "cabinet.loans"
NOT_MODIFIED = {304: {"description": "Not modified since the ETag"}}
CABINET_ONLY = {403: {"description": "wrong_device_kind: not a key cabinet"}, 401: {"description": "Unknown token"}}


async def _write_once(
    request: Request,
    writer: DbWriter,
    key: str,
    route: str,
    request_text: str,
    work: Callable[[Session, Device, Actor], idempotency.Answer],
) -> Response:
    """A cabinet's write, done once per Idempotency-Key: the device and any kept answer are checked on a worker
    thread from a snapshot; `work` runs in the writer, awaited here. A retry gets the first answer, and a request
    with the same key written since the check (a concurrent retry) gets that answer too."""

    def check(db: Session, device: Device) -> Response | tuple[idempotency.DeviceWrite, Actor]:
        write = idempotency.DeviceWrite(device.id, key, route, request_text)
        kept = idempotency.kept(db, write)
        if kept is not None:
            return json_answer(kept)
        return write, device_actor(request, device)

    checked = await anyio.to_thread.run_sync(device_work, request, DeviceKind.cabinet, check)
    if isinstance(checked, Response):
        return checked
    write, actor = checked

    def run(session: Session) -> idempotency.Answer:
        return work(session, session.get_one(Device, write.device_id), actor)

    return json_answer(await writer.submit(lambda session: idempotency.answer_once(session, write, run)))


@router.post("/events", response_model=CabinetEventsOut, status_code=201, max_body_size=CABINET_EVENTS_BODY)
async def upload_events(body: CabinetEventsIn, request: Request, writer: DbWriter, key: IdempotencyKey) -> Response:
    """Door and key events the cabinet saw, in order, with their own times; the register acts on them (a key
    removed puts its loan out, a key back in its home slot ends it, a key in another slot raises an alarm naming
    the right one; an opening carrying the request id of an authorised unlock is commanded, not an alert). Nothing
    is refused for what it says: an event the register cannot place is recorded as an alert. A retry with the same
    Idempotency-Key gets the first answer and records nothing more."""

    def record(session: Session, device: Device, actor: Actor) -> idempotency.Answer:
        alerts = cabinet.record_events(session, actor, device, body.events)
        return 201, CabinetEventsOut(recorded=len(body.events), alerts=alerts).model_dump_json()

    return await _write_once(request, writer, key, ROUTE, body.model_dump_json(), record)


@router.get("/roster", response_model=CabinetRosterOut, responses={**CABINET_ONLY, **NOT_MODIFIED})
def staff_roster(request: Request, device: CabinetDevice, db: DbSession) -> Response:
    """The estate's active staff with a staff card or PIN, with salted scrypt hashes of both, for signing in at
    the cabinet while the network is down. A member of staff deactivated in the console drops out of it."""
    entries = [CabinetStaffEntry.model_validate(vars(e)) for e in cabinet_staff.roster(db, device.estate)]
    return _cached(request, CabinetRosterOut(estate=device.estate.code, staff=entries))


@router.post(
    "/sign-in",
    response_model=CabinetStaffOut,
    responses={
        **CABINET_ONLY,
        401: {
            "description": "staff_unknown: no active member of staff of this estate has that card, username or PIN",
            "content": {"application/json": {"example": error_body("staff_unknown", "unknown card or wrong PIN")}},
        },
        422: {"description": "sign_in_incomplete: neither a card nor a username with a PIN"},
        429: {"description": "login_throttled: too many wrong tries at this cabinet or on this account"},
    },
)
def staff_sign_in(
    body: CabinetSignIn, request: Request, device: CabinetDevice, db: DbSession, now: Now, _key: IdempotencyKey
) -> CabinetStaffOut:
    """A member of staff signs in at the cabinet with their staff card, or their username and PIN; audited as
    `cabinet.sign_in`. Wrong tries lock the cabinet's sign-in, and the account's, for a while."""
    user = cabinet_staff.sign_in(
        db, device_actor(request, device), device, now, card=body.card, username=body.username, pin=body.pin
    )
    return CabinetStaffOut(id=user.id, username=user.username, display_name=user.display_name, role=user.role.value)


def unlock_out(unlock: KeyUnlock) -> CabinetUnlock:
    return CabinetUnlock(
        request_id=unlock.request_id,
        board=unlock.board,
        slot=unlock.slot,
        loan_id=unlock.loan_id,
        key_label=unlock.loan.key.label,
        staff_ids=[s.staff_id for s in unlock.staff],
        expires_at=unlock.expires_at,
    )


@router.get("/unlocks", response_model=CabinetUnlocksOut, responses={**CABINET_ONLY, **NOT_MODIFIED})
def waiting_unlocks(request: Request, device: CabinetDevice, db: DbSession, now: Now) -> Response:
    """The unlocks the server authorised that this cabinet may carry out now (for it or for any cabinet of the
    estate, not opened yet, not expired, their loan still registered), each for the staff it lists."""
    found = unlocks.waiting(db, device, now)
    return _cached(request, CabinetUnlocksOut(unlocks=[unlock_out(u) for u in found]))


@router.post(
    "/loans",
    response_model=CabinetLoanOut,
    status_code=201,
    responses={
        **CABINET_ONLY,
        400: {"description": "bad_purpose, missing_due, unaccompanied, missing_receipt …: the register's rules"},
        403: {"description": "staff_unknown (not signed in here), or the staff member may not register loans"},
        404: {"description": "unknown_key"},
        409: {"description": "key_out (already lent), key_unavailable, key_ambiguous (a label several keys share)"},
    },
)
async def borrow_key(
    body: CabinetLoanIn, request: Request, writer: DbWriter, now: Now, key: IdempotencyKey
) -> Response:
    """The member of staff signed in at the cabinet borrows a key (by its label or tag) for themselves, for one of
    the register's purposes (R-KEY-5, 12); the answer carries the loan and its one unlock at this cabinet. A retry
    with the same Idempotency-Key gets the same loan, never a second one."""

    def lend(session: Session, device: Device, actor: Actor) -> idempotency.Answer:
        loan, unlock = cabinet_loans.borrow(
            session,
            actor,
            device,
            staff_id=body.staff_id,
            key=body.key,
            purpose=body.purpose,
            now=now,
            due_at=body.due_at,
            note=body.note,
        )
        out = CabinetLoanOut(loan_id=loan.id, state=loan.state.value, due_at=loan.due_at, unlock=unlock_out(unlock))
        return 201, out.model_dump_json()

    return await _write_once(request, writer, key, LOAN_ROUTE, body.model_dump_json(), lend)
