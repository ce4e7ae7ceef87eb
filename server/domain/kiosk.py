"""What the lobby kiosk offers and what it shows a resident about their own slips (R-REL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server.db.models import ApplicantKind, Estate, Occupancy, Person, ReleaseSlip, SlipState
from server.domain import clock
from server.domain.errors import Forbidden
from server.domain.slips import eligibility

# The kiosk's services, in the order its home screen shows them. Repairs, cleaning and feedback join this list
# when their server side exists; the kiosk draws a button only for what is listed here.
SERVICES: tuple[str, ...] = ("item_release", "my_requests")
MY_SLIPS_LIMIT = 20


@dataclass(frozen=True)
class ResidentUnit:
    """A unit the identified resident lives in now, how they would apply for it, and why a slip for it would be
    refused today (R-REL-2/5), so the kiosk says so before items are picked."""

    occupancy: Occupancy
    applicant: ApplicantKind
    refusal: Forbidden | None


def resident_units(estate: Estate, person: Person, now: datetime) -> list[ResidentUnit]:
    """Judged on the estate's local day at `now`, as `issuing.request_slip` judges the slip request."""
    today = clock.local_day(estate, now)
    out = []
    for occupancy in person.occupancies:
        if occupancy.current_on(today):
            kind = eligibility.applicant_kind(occupancy.kind)
            out.append(ResidentUnit(occupancy, kind, eligibility.resident_refusal(occupancy.unit, person, kind, today)))
    return out


@dataclass(frozen=True)
class ResidentSlip:
    """One of a resident's own slips as the kiosk lists it: the state a person would call it now."""

    slip: ReleaseSlip
    state: str
    gate_at: datetime | None  # when the gate released it, or refused it
    reprintable: bool


def effective_state(slip: ReleaseSlip, now: datetime) -> str:
    """An unused slip past its validity is expired even before the daily reconciliation marks it so."""
    if slip.revoked_at is not None and slip.state == SlipState.issued:
        return SlipState.cancelled.value
    if slip.state == SlipState.issued and now > slip.valid_until:
        return SlipState.expired.value
    return slip.state.value


def resident_slips(session: Session, estate: Estate, person: Person, now: datetime) -> list[ResidentSlip]:
    """The resident's own latest slips, newest first; nothing of anyone else's (privacy at a shared screen)."""
    slips = session.scalars(
        select(ReleaseSlip)
        .where(ReleaseSlip.estate_id == estate.id, ReleaseSlip.person_id == person.id)
        .options(selectinload(ReleaseSlip.items), selectinload(ReleaseSlip.release))
        .order_by(ReleaseSlip.id.desc())
        .limit(MY_SLIPS_LIMIT)
    ).all()
    out = []
    for slip in slips:
        state = effective_state(slip, now)
        gate_at = slip.release.at if slip.release is not None else None
        out.append(ResidentSlip(slip, state, gate_at, reprintable=state == SlipState.issued.value))
    return out
