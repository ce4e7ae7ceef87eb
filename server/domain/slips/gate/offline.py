"""What a gate did while the network was down (R-REL-6), uploaded in its original order and times: releases and
refusals (recorded as online ones are, by `releases.record_release`), scans it turned away, and guards who signed in.
A nonce sent before records nothing; a decision the server cannot take as it stands becomes a conflict."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from server.contract import slip_token
from server.db.base import utcnow
from server.db.models import Device, Estate, GateSyncEvent, ReleaseSlip
from server.domain import audit, guards
from server.domain.actors import Actor
from server.domain.errors import DomainError, NotFound
from server.domain.slips import keys
from server.domain.slips.gate.checking import Rejected
from server.domain.slips.gate.conflicts import record_conflict
from server.domain.slips.gate.releases import Count, ReleasePlan, compare, reason_for, record_release
from server.domain.slips.gate.stops import record_stop


@dataclass(frozen=True)
class OfflineEvent:
    nonce: str
    kind: str  # release | refuse | reject | sign_in | stop
    text: str
    at: datetime
    guard: str = ""
    counts: tuple[Count, ...] = ()
    reason: str = ""
    code: str = ""


@dataclass(frozen=True)
class SyncOutcome:
    nonce: str
    result: str  # recorded | conflict | rejected | duplicate
    code: str = ""
    number: str = ""


@dataclass(frozen=True)
class GateClock:
    """What the server knows of when an offline gate can have decided: not before its last contact preceding the
    silence, nor before what it uploaded already (its queue goes oldest first), nor after now; `skew` tolerates a
    gate clock that is a little off."""

    floor: datetime | None
    now: datetime
    skew: timedelta

    def problem(self, slip: ReleaseSlip, at: datetime) -> str:
        """Why `at` cannot be the true time of a decision about `slip`; empty when it can."""
        return self.problem_since(slip.issued_at, at, "放行条签发")

    def problem_since(self, issued_at: datetime, at: datetime, issue_zh: str) -> str:
        """Why `at` cannot be the true time of something done at the gate with a code issued at `issued_at` (named
        `issue_zh` in Chinese); empty when it can."""
        if at > self.now + self.skew:
            return f"门岗时间晚于服务器时间 / the gate's time {at.isoformat(timespec='minutes')} is in the future"
        if at < issued_at - self.skew:
            return f"门岗时间早于{issue_zh} / the gate's time {at.isoformat(timespec='minutes')} is before the issue"
        if self.floor is not None and at < self.floor - self.skew:
            return (
                f"门岗时间早于其上次联网 {self.floor.isoformat(timespec='minutes')} / "
                f"the gate's time is before its last contact"
            )
        return ""


def gate_clock(session: Session, device: Device, skew: timedelta, now: datetime | None = None) -> GateClock:
    # A time the gate claimed beyond when the server received it counts only as far as that reception.
    claimed = case((GateSyncEvent.at < GateSyncEvent.received_at, GateSyncEvent.at), else_=GateSyncEvent.received_at)
    uploaded = session.scalar(select(func.max(claimed)).where(GateSyncEvent.device_id == device.id))
    floors = [t for t in (device.contact_lost_at, uploaded) if t is not None]
    return GateClock(max(floors) if floors else None, now or utcnow(), skew)


def sync(
    session: Session, actor: Actor, device: Device, events: list[OfflineEvent], clock: GateClock
) -> list[SyncOutcome]:
    """Record what a gate did offline, in its original order and times; a nonce seen before records nothing.
    A release whose time is impossible (`GateClock`) is recorded but becomes a conflict for the security captain."""
    out = []
    for event in events:
        seen = session.scalar(
            select(GateSyncEvent).where(GateSyncEvent.device_id == device.id, GateSyncEvent.nonce == event.nonce)
        )
        if seen is not None:
            out.append(SyncOutcome(event.nonce, "duplicate", seen.result, seen.number))
            continue
        number, result, code = _apply(session, actor, device, event, clock)
        session.add(
            GateSyncEvent(
                estate_id=device.estate_id,
                device_id=device.id,
                nonce=event.nonce,
                kind=event.kind,
                number=number,
                at=event.at,
                result=result,
                code=code,
            )
        )
        session.flush()
        out.append(SyncOutcome(event.nonce, result, code, number))
    return out


def _scanned_slip(session: Session, estate: Estate, event: OfflineEvent, now: datetime) -> ReleaseSlip:
    text = event.text.strip()
    if slip_token.NUMBER_PATTERN.match(text.upper()):
        number = text.upper()
    else:
        try:
            # Never checked at a time later than now: a gate clock running ahead is a conflict, not a rejection.
            claims = slip_token.verify(text, keys.ring(session), estate=estate.code, now=min(event.at, now))
        except slip_token.TokenError as exc:
            raise Rejected(exc.code) from None
        number = claims.number
    slip = session.scalar(select(ReleaseSlip).where(ReleaseSlip.number == number))
    if slip is None or slip.estate_id != estate.id:
        raise NotFound("本小区没有这张放行条", "no such slip in this estate", code="unknown_slip")
    return slip


def _apply(
    session: Session, actor: Actor, device: Device, event: OfflineEvent, clock: GateClock
) -> tuple[str, str, str]:
    estate = device.estate
    if event.kind == "sign_in":  # a guard who started a shift while the gate was offline (R-REL-6)
        # Only a guard on the estate's roster can have signed in at its gate: any other name is refused.
        guard = next((g for g in guards.roster(session, estate) if g.username == event.text.strip()), None)
        if guard is None:
            audit.record(
                session, actor, "gate.sync_rejected", "device", device.id, estate_id=estate.id, code="unknown_guard"
            )
            return "", "rejected", "unknown_guard"
        audit.record(
            session,
            actor,
            "guard.sign_in",
            "staff_user",
            guard.username,
            estate_id=estate.id,
            guard=event.guard,
            at=event.at,
            offline=True,
        )
        return "", "recorded", ""
    if event.kind == "stop":  # goods stopped with no slip while offline, in the gate release log
        try:
            stop = record_stop(
                session,
                actor,
                device,
                goods=event.text,
                reason=event.reason,
                guard=event.guard,
                at=event.at,
                offline=True,
            )
        except DomainError as exc:
            return "", "rejected", exc.code
        return "", "recorded", f"stop:{stop.id}"[:30]
    if event.kind == "reject":  # a scan the gate turned away: kept for the audit trail
        audit.record(
            session, actor, "gate.scan_rejected", "device", device.id, estate_id=estate.id, code=event.code, at=event.at
        )
        return "", "recorded", event.code
    try:
        slip = _scanned_slip(session, estate, event, clock.now)
        differences = compare(slip, list(event.counts)) if event.counts else []
    except DomainError as exc:
        audit.record(
            session, actor, "gate.sync_rejected", "device", device.id, estate_id=estate.id, code=exc.code, at=event.at
        )
        return "", "rejected", exc.code
    outcome = "refused" if event.kind == "refuse" or differences else "released"
    revoked_before = (slip.revoked_at and slip.revoked_at <= event.at) or (
        slip.cancelled_at and slip.cancelled_at <= event.at
    )
    if slip.release is not None:
        return _after_use(session, actor, device, slip, event, outcome)
    plan = ReleasePlan(
        slip_id=slip.id,
        estate_id=slip.estate_id,
        number=slip.number,
        device_id=device.id,
        gate=device.name,
        guard=event.guard.strip()[:40],
        outcome=outcome,
        reason=reason_for(differences, event.reason),
        at=event.at,
        counted={c.line: c.counted for c in event.counts},
        offline=True,
    )
    try:
        with session.begin_nested():  # a release recorded first elsewhere undoes only this event's write
            record_release(session, actor, plan)
    except Rejected:
        session.refresh(slip)
        return _after_use(session, actor, device, slip, event, outcome)
    for changed in (slip, *slip.items):  # the plain statements changed them
        session.expire(changed)
    if outcome == "released" and revoked_before:
        _conflict(session, actor, device, slip, event, "used_when_revoked", "放行时该条已作废或重开")
        return slip.number, "conflict", "used_when_revoked"
    suspect = clock.problem(slip, event.at) if outcome == "released" else ""
    if suspect:
        _conflict(session, actor, device, slip, event, "clock_suspect", suspect)
        return slip.number, "conflict", "clock_suspect"
    return slip.number, "recorded", outcome


def _after_use(
    session: Session, actor: Actor, device: Device, slip: ReleaseSlip, event: OfflineEvent, outcome: str
) -> tuple[str, str, str]:
    """An uploaded decision about a slip already used: a refusal changes nothing but is kept; a release is a
    double use for the security captain."""
    if outcome == "refused":
        audit.record(session, actor, "gate.refused_after_use", "slip", slip.id, estate_id=slip.estate_id, at=event.at)
        return slip.number, "recorded", "refused"
    earlier = slip.release
    assert earlier is not None
    detail = f"已于 {earlier.at.isoformat(timespec='minutes')} 在 {earlier.gate} 放行 / first used at {earlier.gate}"
    _conflict(session, actor, device, slip, event, "double_use", detail)
    return slip.number, "conflict", "already_released"


def _conflict(
    session: Session, actor: Actor, device: Device, slip: ReleaseSlip, event: OfflineEvent, kind: str, detail: str
) -> None:
    record_conflict(session, actor, device, slip, at=event.at, guard=event.guard, kind=kind, detail=detail)
