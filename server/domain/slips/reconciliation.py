"""The daily reconciliation (R-REL-7): the security captain and the CS admin reconcile the day's slips before
17:30; each signs it off. An un-signed day after 17:30 (estate time) is flagged on the dashboard."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from server.db.base import utcnow
from server.db.models import Estate, GateStop, Reconciliation, ReleaseSlip, SlipConflict, SlipRelease, SlipState
from server.domain import audit, clock
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError

DEADLINE = time(17, 30)  # R-REL-7: reconciled every day before 17:30
SIDES = ("security", "records")


def expire_due(session: Session, actor: Actor, estate: Estate, now: datetime) -> list[str]:
    """Mark unused slips past their validity as expired (each one audited)."""
    due = session.execute(
        select(ReleaseSlip.id, ReleaseSlip.number).where(
            ReleaseSlip.estate_id == estate.id, ReleaseSlip.state == SlipState.issued, ReleaseSlip.valid_until < now
        )
    ).all()
    if not due:
        return []
    session.execute(
        update(ReleaseSlip)
        .where(ReleaseSlip.id.in_([i for i, _ in due]), ReleaseSlip.state == SlipState.issued)
        .values(state=SlipState.expired)
        .execution_options(synchronize_session="fetch")
    )
    for slip_id, number in due:
        audit.record(session, actor, "slip.expire", "slip", slip_id, estate_id=estate.id, number=number)
    return [n for _, n in due]


@dataclass(frozen=True)
class Mismatch:
    number: str
    unit: str
    gate: str
    guard: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class ConflictLine:
    number: str
    kind: str
    gate_at: datetime
    detail: str
    resolved: bool


@dataclass
class DailyReport:
    day: date
    issued: int = 0
    released: int = 0
    outstanding: int = 0
    refused: int = 0
    expired: int = 0
    cancelled: int = 0
    revoked: int = 0
    gate_releases: int = 0  # releases at the gates during the day, whatever day their slip was issued
    mismatches: list[Mismatch] = field(default_factory=list)
    conflicts: list[ConflictLine] = field(default_factory=list)
    audit_head: str = ""  # the audit chain's newest entry when the report was made, for the printed copy
    stops: int = 0  # goods stopped at the gates with no slip during the day

    def figures(self) -> dict[str, int]:
        found = {k: v for k, v in asdict(self).items() if isinstance(v, int)}
        return found | {"mismatch_count": len(self.mismatches), "conflict_count": len(self.conflicts)}


def report(
    session: Session, actor: Actor, estate: Estate, day: date, now: datetime | None = None, *, expire: bool = True
) -> DailyReport:
    """The day's slips by outcome, every mismatch at the gate and every conflict found (`expire`: first mark the
    slips past their validity as expired, as the page and the sign-off do; the dashboard only reads)."""
    now = now or utcnow()
    if expire:
        expire_due(session, actor, estate, now)
    start, end = clock.day_bounds(estate, day)
    out = DailyReport(day)
    counts = session.execute(
        select(ReleaseSlip.state, func.count())
        .where(ReleaseSlip.estate_id == estate.id, ReleaseSlip.day == day)
        .group_by(ReleaseSlip.state)
    ).all()
    by_state = {SlipState(s): n for s, n in counts}
    out.issued = sum(by_state.values())
    out.released = by_state.get(SlipState.released, 0)
    out.refused = by_state.get(SlipState.refused, 0)
    out.expired = by_state.get(SlipState.expired, 0)
    out.cancelled = by_state.get(SlipState.cancelled, 0)
    out.outstanding = by_state.get(SlipState.issued, 0)
    out.revoked = (
        session.scalar(
            select(func.count())
            .select_from(ReleaseSlip)
            .where(ReleaseSlip.estate_id == estate.id, ReleaseSlip.day == day, ReleaseSlip.revoked_at.is_not(None))
        )
        or 0
    )
    out.gate_releases = (
        session.scalar(
            select(func.count())
            .select_from(SlipRelease)
            .where(
                SlipRelease.estate_id == estate.id,
                SlipRelease.outcome == "released",
                SlipRelease.at >= start,
                SlipRelease.at < end,
            )
        )
        or 0
    )
    refusals = session.execute(
        select(SlipRelease, ReleaseSlip.number, ReleaseSlip.unit_code)
        .join(ReleaseSlip, ReleaseSlip.id == SlipRelease.slip_id)
        .where(
            SlipRelease.estate_id == estate.id,
            SlipRelease.outcome == "refused",
            SlipRelease.at >= start,
            SlipRelease.at < end,
        )
        .order_by(SlipRelease.at)
    ).all()
    out.mismatches = [Mismatch(n, u, r.gate, r.guard, r.at, r.reason) for r, n, u in refusals]
    out.stops = (
        session.scalar(
            select(func.count())
            .select_from(GateStop)
            .where(GateStop.estate_id == estate.id, GateStop.at >= start, GateStop.at < end)
        )
        or 0
    )
    conflicts = session.execute(
        select(SlipConflict, ReleaseSlip.number)
        .join(ReleaseSlip, ReleaseSlip.id == SlipConflict.slip_id)
        .where(
            SlipConflict.estate_id == estate.id,
            or_(
                ReleaseSlip.day == day,
                (SlipConflict.found_at >= start) & (SlipConflict.found_at < end),
            ),
        )
        .order_by(SlipConflict.id)
    ).all()
    out.conflicts = [ConflictLine(n, c.kind, c.at, c.detail, c.resolved_at is not None) for c, n in conflicts]
    anchor = audit.head(session)
    out.audit_head = f"#{anchor.seq} {anchor.hash}" if anchor else ""
    return out


def day_figures(session: Session, estate: Estate, day: date) -> dict[str, int]:
    """`report(…).figures()` counted in two statements and nothing loaded: what the dashboard compares with the
    figures each side signed to tell a stale sign-off (R-REL-7)."""
    start, end = clock.day_bounds(estate, day)
    by_state: dict[SlipState, int] = {}
    revoked = 0
    for state, n, gone in session.execute(
        select(ReleaseSlip.state, func.count(), func.count(ReleaseSlip.revoked_at))
        .where(ReleaseSlip.estate_id == estate.id, ReleaseSlip.day == day)
        .group_by(ReleaseSlip.state)
    ):
        by_state[SlipState(state)], revoked = n, revoked + gone
    at_gate = (SlipRelease.estate_id == estate.id, SlipRelease.at >= start, SlipRelease.at < end)
    counts = (
        select(func.count()).select_from(SlipRelease).where(*at_gate, SlipRelease.outcome == "released"),
        select(func.count())
        .select_from(SlipRelease)
        .join(ReleaseSlip, ReleaseSlip.id == SlipRelease.slip_id)
        .where(*at_gate, SlipRelease.outcome == "refused"),
        select(func.count())
        .select_from(GateStop)
        .where(GateStop.estate_id == estate.id, GateStop.at >= start, GateStop.at < end),
        select(func.count())
        .select_from(SlipConflict)
        .join(ReleaseSlip, ReleaseSlip.id == SlipConflict.slip_id)
        .where(
            SlipConflict.estate_id == estate.id,
            or_(ReleaseSlip.day == day, (SlipConflict.found_at >= start) & (SlipConflict.found_at < end)),
        ),
    )
    gate_releases, mismatches, stops, conflicts = session.execute(select(*(c.scalar_subquery() for c in counts))).one()
    out = DailyReport(
        day, issued=sum(by_state.values()), released=by_state.get(SlipState.released, 0),
        outstanding=by_state.get(SlipState.issued, 0), refused=by_state.get(SlipState.refused, 0),
        expired=by_state.get(SlipState.expired, 0), cancelled=by_state.get(SlipState.cancelled, 0), revoked=revoked,
        gate_releases=gate_releases or 0, stops=stops or 0,
    )  # fmt: skip
    return out.figures() | {"mismatch_count": mismatches or 0, "conflict_count": conflicts or 0}


def get(session: Session, estate: Estate, day: date) -> Reconciliation | None:
    return session.scalar(
        select(Reconciliation).where(Reconciliation.estate_id == estate.id, Reconciliation.day == day)
    )


def sign_off(
    session: Session, actor: Actor, estate: Estate, day: date, side: str, name: str, now: datetime | None = None
) -> Reconciliation:
    """One side (security captain or CS admin) signs the day off, with the figures as they saw them."""
    now = now or utcnow()
    if side not in SIDES:
        raise DomainError("未知的签字方", "unknown side", code="bad_side")
    if day > clock.local_day(estate, now):
        raise DomainError("不能提前签核", "a day cannot be signed off before it starts", code="future_day")
    figures = report(session, actor, estate, day, now).figures()
    row = get(session, estate, day)
    if row is None:
        row = Reconciliation(estate_id=estate.id, day=day, figures="{}")
        session.add(row)
    again = getattr(row, f"{side}_at") is not None
    if again and side not in stale_sides(row, figures):
        raise Conflict("本方已签核", "this side has already signed", code="already_signed")
    setattr(row, f"{side}_by", name[:60])
    setattr(row, f"{side}_at", now)
    signed = json.loads(row.figures or "{}")
    signed[side] = figures
    row.figures = json.dumps(signed, sort_keys=True)
    session.flush()
    action = "reconciliation.sign_again" if again else "reconciliation.sign"
    audit.record(session, actor, action, "reconciliation", row.id, estate_id=estate.id, day=day, side=side)
    return row


def stale_sides(row: Reconciliation | None, figures: dict[str, int]) -> list[str]:
    """R-REL-7: the sides whose sign-off no longer holds, because a figure they signed has changed since (a later
    release, refusal or conflict, an offline gate's upload); such a side signs again. A figure added to the report
    after a side signed is not held against it."""
    if row is None:
        return []
    signed = json.loads(row.figures or "{}")
    out = []
    for side in SIDES:
        if getattr(row, f"{side}_at") is None or side not in signed:
            continue
        theirs = signed[side]
        if any(theirs[key] != value for key, value in figures.items() if key in theirs):
            out.append(side)
    return out


STALE_LOOKBACK_DAYS = 7


def stale_days(session: Session, actor: Actor, estate: Estate, now: datetime | None = None) -> list[date]:
    """The recent days (a week back) whose sign-off went stale, newest first: the dashboard's flag (R-REL-7)."""
    now = now or utcnow()
    today = clock.local_day(estate, now)
    rows = session.scalars(
        select(Reconciliation)
        .where(Reconciliation.estate_id == estate.id, Reconciliation.day >= today - timedelta(days=STALE_LOOKBACK_DAYS))
        .order_by(Reconciliation.day.desc())
    ).all()
    return [row.day for row in rows if stale_sides(row, day_figures(session, estate, row.day))]


def overdue(session: Session, estate: Estate, now: datetime | None = None) -> date | None:
    """Today (estate time), when it is 17:30 or later and the day is not signed off by both sides; else None."""
    now = now or utcnow()
    local = now.astimezone(clock.zone(estate))
    if local.time() < DEADLINE:
        return None
    row = get(session, estate, local.date())
    if row is not None and row.security_at is not None and row.records_at is not None:
        return None
    return local.date()
