"""Gate-terminal routes beside the slip checks: guards signing in at the start of a shift, the guard roster for
offline sign-in, and the day's slips for typed numbers offline (both with ETags)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from server.api.gate import _cached
from server.api.slip_views import slip_out
from server.contract.fields import Day
from server.contract.schemas import GateSlipsOut, GuardOut, GuardRosterEntry, GuardRosterOut, GuardSignInRequest
from server.db.base import utcnow
from server.domain import clock, guards
from server.domain.slips import catalogue, gate_day
from server.web.deps import DbSession, GateDevice, IdempotencyKey, Now, device_actor
from server.web.errors import error_body

router = APIRouter(prefix="/gate", tags=["gate"])
NOT_MODIFIED = {304: {"description": "Not modified since the ETag"}}


@router.post(
    "/guards/sign-in",
    response_model=GuardOut,
    responses={
        401: {
            "description": "guard_unknown: no active guard of this estate has that PIN or card",
            "content": {"application/json": {"example": error_body("guard_unknown", "unknown PIN or card")}},
        },
        429: {"description": "login_throttled: too many wrong tries at this gate"},
    },
)
def guard_sign_in(
    body: GuardSignInRequest, request: Request, device: GateDevice, db: DbSession, now: Now, _key: IdempotencyKey
) -> GuardOut:
    """A guard starts a shift at this gate by PIN or staff card; the sign-in is audited."""
    found = guards.sign_in(db, device_actor(request, device), device, pin=body.pin, card=body.card, now=now)
    return GuardOut(user_id=found.user_id, username=found.username, display_name=found.display_name)


@router.get("/guards", response_model=GuardRosterOut, responses=NOT_MODIFIED)
def guard_roster(request: Request, device: GateDevice, db: DbSession) -> Response:
    """The estate's active guards with salted hashes of their PIN and card, for signing in while offline."""
    entries = [GuardRosterEntry.model_validate(vars(e)) for e in guards.roster(db, device.estate)]
    return _cached(request, GuardRosterOut(estate=device.estate.code, guards=entries))


@router.get("/slips", response_model=GateSlipsOut, responses=NOT_MODIFIED)
def slips_of_the_day(
    request: Request,
    device: GateDevice,
    db: DbSession,
    day: Day | None = Query(None, description="the estate's local day; today when left out"),
) -> Response:
    """Slips a guard may meet today, with tokens, items and states, so a typed number is checked offline too."""
    estate = device.estate
    day = day or clock.local_day(estate, utcnow())
    found = gate_day.day_slips(db, estate, day)
    english = catalogue.english_names(db, estate)
    return _cached(
        request, GateSlipsOut(estate=estate.code, day=day, slips=[slip_out(s, estate, english) for s in found])
    )
