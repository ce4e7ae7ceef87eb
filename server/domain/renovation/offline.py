"""Workers' passes at a gate that was offline (R-REN-6).

- What the gate must refuse although a pass's signature and days are good: passes withdrawn (or replaced by an
  extension's new ones), and passes whose renovation is suspended or ended early, each with the time from which it is
  not valid. The list is a snapshot the gate replaces whole at each sync, so a pass whose suspension is lifted drops
  off it and is accepted again.
- Entries and exits the gate recorded offline, uploaded later: judged at the time they happened (`at`), not at the
  upload. A movement on a pass valid then is recorded as valid even if the renovation has ended since; one at a time
  the pass was withdrawn, suspended or over, or at a time the gate cannot have recorded it (before the pass was
  issued, before the gate's last contact, after now — each with the configured clock skew, as slips' offline
  releases are bounded: `GateClock`), is recorded too and becomes a conflict for the security captain. A movement
  whose pass is forged or unknown is refused with its code and kept in the gate's upload log and the audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.contract import worker_pass
from server.contract.slip_token import TokenError
from server.db.models import Device, Estate, GateSyncEvent, SlipConflict, StepHistory
from server.db.models.renovation import PassMovement, Renovation, RenovationState, WorkerPass
from server.domain import audit, clock
from server.domain.actors import Actor
from server.domain.errors import DomainError
from server.domain.renovation.passes import DIRECTIONS
from server.domain.renovation.process import RENOVATION
from server.domain.slips import keys
from server.domain.slips.gate.offline import GateClock

WORKS = RenovationState.paid.value  # the only state in which a pass lets its worker in


@dataclass(frozen=True)
class PassRevocation:
    number: str
    state: str  # withdrawn | suspended | ended
    since: datetime
    reason: str = ""


def revocations(session: Session, estate: Estate, now: datetime) -> list[PassRevocation]:
    """The estate's passes still inside their days that an offline gate must refuse, by number."""
    today = clock.local_day(estate, now)
    rows = session.execute(
        select(
            WorkerPass.number,
            WorkerPass.withdrawn_at,
            WorkerPass.issued_at,
            Renovation.id,
            Renovation.state,
            Renovation.suspend_reason,
        )
        .join(Renovation, Renovation.id == WorkerPass.renovation_id)
        .where(
            WorkerPass.estate_id == estate.id,
            WorkerPass.valid_until >= today - timedelta(days=1),  # a gate a zone behind still needs yesterday's
            or_(WorkerPass.withdrawn_at.is_not(None), Renovation.state != RenovationState.paid),
        )
        .order_by(WorkerPass.number)
    ).all()
    left = _works_stopped(session, {row[3] for row in rows if row[1] is None})
    out = []
    for number, withdrawn_at, issued_at, record_id, state, reason in rows:
        if withdrawn_at is not None:
            out.append(PassRevocation(number, "withdrawn", withdrawn_at))
        elif state is RenovationState.suspended:
            out.append(PassRevocation(number, "suspended", left.get(record_id, issued_at), reason))
        else:
            out.append(PassRevocation(number, "ended", left.get(record_id, issued_at)))
    return out


def _works_stopped(session: Session, record_ids: set[int]) -> dict[int, datetime]:
    """When each renovation's works last stopped: its last step out of `paid` (a suspension, or the request for
    completion acceptance)."""
    if not record_ids:
        return {}
    rows = session.execute(
        select(StepHistory.record_id, func.max(StepHistory.at))
        .where(
            StepHistory.process == RENOVATION.name,
            StepHistory.record_id.in_(record_ids),
            StepHistory.from_state == WORKS,
            StepHistory.to_state != WORKS,
        )
        .group_by(StepHistory.record_id)
    ).all()
    return {record_id: at for record_id, at in rows}


def state_at(session: Session, record: Renovation, at: datetime) -> tuple[str, datetime | None]:
    """The renovation's state at `at`, from its step history, and since when it was in it."""
    row = session.execute(
        select(StepHistory.to_state, StepHistory.at)
        .where(StepHistory.process == RENOVATION.name, StepHistory.record_id == record.id, StepHistory.at <= at)
        .order_by(StepHistory.at.desc(), StepHistory.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else ("", None)


# --- movements recorded offline -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfflineMovement:
    """What the gate recorded: a nonce (its Idempotency-Key), the scanned pass, in or out, the guard and the time."""

    nonce: str
    text: str
    direction: str
    guard: str
    at: datetime


@dataclass(frozen=True)
class OfflineOutcome:
    result: str  # recorded | conflict | rejected | duplicate
    code: str  # recorded: the direction; conflict: its kind; rejected: the refusal's code
    number: str = ""
    movement: PassMovement | None = None
    message: str = ""  # rejected: why, in Chinese then English
    message_en: str = ""


def record_offline_movement(
    session: Session, actor: Actor, device: Device, event: OfflineMovement, gate_clock: GateClock
) -> OfflineOutcome:
    """Record an entry or exit the gate made offline, judged at its own time `event.at` (module docstring)."""
    if event.direction not in DIRECTIONS:
        raise DomainError("方向须为 in 或 out", "direction is in or out", code="bad_direction")
    seen = session.scalar(
        select(GateSyncEvent).where(GateSyncEvent.device_id == device.id, GateSyncEvent.nonce == event.nonce)
    )
    if seen is not None:
        return OfflineOutcome("duplicate", seen.code, seen.number)
    estate = session.get_one(Estate, device.estate_id)
    try:
        item = _scanned(session, estate, event.text)
    except DomainError as exc:
        audit.record(
            session, actor, "gate.sync_rejected", "device", device.id, estate_id=estate.id, code=exc.code,
            at=event.at, direction=event.direction, guard=event.guard,
        )  # fmt: skip
        _log_upload(session, device, event, gate_clock.now, "", "rejected", exc.code)
        return OfflineOutcome("rejected", exc.code, message=exc.zh, message_en=exc.en)
    movement = PassMovement(
        estate_id=estate.id, pass_id=item.id, direction=event.direction, at=event.at, device_id=device.id,
        guard=event.guard.strip()[:40], offline=True,
    )  # fmt: skip
    session.add(movement)
    session.flush()
    audit.record(
        session, actor, f"worker_pass.{event.direction}", "worker_pass", item.id, estate_id=estate.id,
        number=item.number, guard=movement.guard, at=event.at, offline=True,
    )  # fmt: skip
    kind, detail = _problem(session, estate, item, event.at, gate_clock)
    if kind:
        _conflict(session, actor, device, item, event, kind, detail)
        _log_upload(session, device, event, gate_clock.now, item.number, "conflict", kind)
        return OfflineOutcome("conflict", kind, item.number, movement)
    _log_upload(session, device, event, gate_clock.now, item.number, "recorded", event.direction)
    return OfflineOutcome("recorded", event.direction, item.number, movement)


def _scanned(session: Session, estate: Estate, text: str) -> WorkerPass:
    """The pass a scanned text names: signed by a key of ours, for this estate, and issued by us."""
    try:
        signed = worker_pass.decode(text)
        # The days are judged at the movement's time, later; here only the signature and the estate.
        claims = worker_pass.verify(text, keys.ring(session), estate=estate.code, today=signed.claims.valid_from)
    except TokenError as exc:
        raise DomainError(f"出入证无效（{exc.code}）", exc.message, code=exc.code) from None
    item = session.scalar(
        select(WorkerPass).where(WorkerPass.estate_id == estate.id, WorkerPass.number == claims.number)
    )
    if item is None or item.token != text.strip():
        raise DomainError("本小区没有签发这张出入证", "this estate issued no such pass", code="unknown_pass")
    return item


def _problem(
    session: Session, estate: Estate, item: WorkerPass, at: datetime, gate_clock: GateClock
) -> tuple[str, str]:
    """Why the pass was not good at the gate at `at` (a conflict's kind and detail); empty when it was."""
    when = clock.local_text(estate, at)
    suspect = gate_clock.problem_since(item.issued_at, at, "出入证签发")
    if suspect:
        return "clock_suspect", suspect
    if item.withdrawn_at is not None and item.withdrawn_at <= at:
        since = clock.local_text(estate, item.withdrawn_at)
        return "used_when_revoked", f"{when} 使用时出入证已于 {since} 收回 / used after the pass was withdrawn"
    # Within the skew before its issue the pass counts as just issued (its renovation was running then).
    state, since_at = state_at(session, item.renovation, max(at, item.issued_at))
    if state and state != WORKS:
        since = clock.local_text(estate, since_at, "?")
        if state == RenovationState.suspended.value:
            return "used_when_suspended", f"{when} 使用时装修自 {since} 停工 / used while the works were suspended"
        return "used_when_ended", f"{when} 使用时装修已于 {since} 结束 / used after the works ended"
    day = clock.local_day(estate, at)
    if not item.valid_from <= day <= item.valid_until:
        return "outside_days", (
            f"{when} 不在出入证有效期 {item.valid_from} 至 {item.valid_until} 内 / outside the pass's days"
        )
    return "", ""


def _conflict(
    session: Session, actor: Actor, device: Device, item: WorkerPass, event: OfflineMovement, kind: str, detail: str
) -> None:
    conflict = SlipConflict(
        estate_id=item.estate_id, pass_id=item.id, device_id=device.id, kind=kind, at=event.at,
        guard=event.guard.strip()[:40], detail=detail[:200],
    )  # fmt: skip
    session.add(conflict)
    session.flush()
    audit.record(
        session, actor, "worker_pass.conflict", "worker_pass", item.id, estate_id=item.estate_id, number=item.number,
        kind=kind, at=event.at, conflict=conflict.id,
    )  # fmt: skip


def _log_upload(
    session: Session, device: Device, event: OfflineMovement, now: datetime, number: str, result: str, code: str
) -> None:
    """One row per nonce, as for slips' offline events: a re-upload records nothing, and the gate's clock floor
    (`offline.gate_clock`) counts it."""
    row = GateSyncEvent(
        estate_id=device.estate_id, device_id=device.id, nonce=event.nonce[:64], kind=f"pass_{event.direction}",
        number=number[:24], at=event.at, result=result, code=code[:30], received_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
