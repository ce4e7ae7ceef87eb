"""The gate (R-REL-6): checking a scanned slip, the one release it allows, offline events and the conflicts they
reveal. Single use is the database's job: `slip_releases.slip_id` is unique, so two gates at the same moment give
one release and one `already_released`, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, bindparam, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from server.contract import slip_token
from server.db.base import utcnow
from server.db.models import (
    Device,
    Estate,
    GateSyncEvent,
    ReleaseSlip,
    SlipAttachment,
    SlipConflict,
    SlipItem,
    SlipRelease,
    SlipState,
)
from server.domain import audit, guards
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, NotFound
from server.domain.slips import keys

MAX_PHOTO = 2 * 1024 * 1024
# Rejection code → HTTP status of the API's error answer.
REJECTION_STATUS = {
    "malformed": 422,
    "bad_signature": 422,
    "unknown_key": 422,
    "wrong_estate": 403,
    "expired": 410,
    "revoked": 410,
    "cancelled": 410,
    "refused": 409,
    "already_released": 409,
}
REJECTION_TEXT: dict[str, tuple[str, str]] = {
    "malformed": ("无法识别的放行条二维码", "not a readable slip code"),
    "bad_signature": ("放行条签名无效，可能被篡改", "the slip's signature is not valid: altered or forged"),
    "unknown_key": ("放行条由未知密钥签发", "signed with an unknown key"),
    "wrong_estate": ("这是其他小区的放行条", "this slip belongs to another estate"),
    "expired": ("放行条已过期", "the slip has expired"),
    "revoked": ("放行条已被重开作废", "the slip was replaced and revoked"),
    "cancelled": ("放行条已作废", "the slip was cancelled"),
    "refused": ("该放行条已因物品不符被拒绝放行，请回客服中心重开", "refused at the gate: re-issue at the front desk"),
    "already_released": ("放行条已使用", "the slip was already used"),
}


class Rejected(DomainError):
    """A slip the gate must not honour, with the gate's rejection code."""

    def __init__(self, code: str, **detail: object) -> None:
        super().__init__(*REJECTION_TEXT[code], code=code, status=REJECTION_STATUS[code], **detail)


def _release_detail(release: SlipRelease) -> dict[str, object]:
    return {"released_at": release.at.isoformat(), "gate": release.gate, "guard": release.guard}


def find_scanned(session: Session, estate: Estate, text: str, now: datetime) -> ReleaseSlip:
    """The slip a scanned code (checked cryptographically) or a typed slip number names, if it may pass."""
    text = text.strip()
    if slip_token.NUMBER_PATTERN.match(text.upper()):
        # A guard typed the printed number because the code was unreadable.
        number_estate, _day, _seq = slip_token.parse_slip_number(text)
        if number_estate != estate.code:
            raise Rejected("wrong_estate")
        slip = session.execute(_slip_by_number(text.upper())).unique().scalar_one_or_none()
    else:
        try:
            claims = slip_token.verify(text, keys.ring(session), estate=estate.code, now=now)
        except slip_token.TokenError as exc:
            raise Rejected(exc.code) from None
        slip = session.execute(_slip_by_number(claims.number)).unique().scalar_one_or_none()
        if slip is not None and slip.token != text:
            raise Rejected("revoked")
    if slip is None or slip.estate_id != estate.id:
        raise NotFound("本小区没有这张放行条", "no such slip in this estate", code="unknown_slip")
    check_state(slip, now)
    return slip


def _slip_by_number(number: str) -> Select[tuple[ReleaseSlip]]:
    """A slip with its lines and its release, in one query (a gate checks all three)."""
    return (
        select(ReleaseSlip)
        .where(ReleaseSlip.number == number)
        .options(joinedload(ReleaseSlip.release), joinedload(ReleaseSlip.items))
    )


def check_state(slip: ReleaseSlip, now: datetime) -> None:
    if slip.release is not None and slip.release.outcome == "released":
        raise Rejected("already_released", **_release_detail(slip.release))
    if slip.state == SlipState.cancelled:
        raise Rejected("cancelled")
    if slip.revoked_at is not None:
        raise Rejected("revoked")
    if slip.state == SlipState.refused:
        raise Rejected("refused")
    if slip.state == SlipState.expired or now > slip.valid_until:
        raise Rejected("expired", valid_until=slip.valid_until.isoformat())


@dataclass(frozen=True)
class Count:
    line: int
    counted: int


def _compare(slip: ReleaseSlip, counts: list[Count]) -> list[str]:
    """R-REL-6: items and quantities against the slip; the differences, line by line."""
    given = {c.line: c.counted for c in counts}
    if set(given) != {i.line for i in slip.items} or len(given) != len(counts):
        raise DomainError("须逐行清点放行条上的每行物品", "count every line of the slip once", code="lines_mismatch")
    return [f"{i.name}: 条上 {i.quantity} / 实点 {given[i.line]}" for i in slip.items if given[i.line] != i.quantity]


@dataclass(frozen=True)
class ReleasePlan:
    """A guard's decision, checked against what was read, ready to be written: plain values, no session."""

    slip_id: int
    estate_id: int
    number: str
    device_id: int
    gate: str
    guard: str
    outcome: str  # released | refused
    reason: str
    at: datetime
    counted: dict[int, int]
    photo: bytes | None = None

    @property
    def state(self) -> SlipState:
        return SlipState.released if self.outcome == "released" else SlipState.refused


def plan_release(
    session: Session,
    device: Device,
    text: str,
    guard: str,
    counts: list[Count],
    *,
    reason: str = "",
    photo: bytes | None = None,
    now: datetime | None = None,
) -> ReleasePlan:
    """Everything the decision needs that only reads (R-REL-6): the token's signature, the slip's state and the
    counted lines against the slip. Every line matches → released; otherwise refused with the reason."""
    now = now or utcnow()
    slip = find_scanned(session, device.estate, text, now)
    differences = _compare(slip, counts)
    if photo is not None and len(photo) > MAX_PHOTO:
        raise DomainError("照片不能超过 2 MB", "a photo is at most 2 MB", code="photo_too_large")
    return ReleasePlan(
        slip_id=slip.id,
        estate_id=slip.estate_id,
        number=slip.number,
        device_id=device.id,
        gate=device.name,
        guard=guard.strip()[:40],
        outcome="refused" if differences else "released",
        reason="; ".join([*differences, reason.strip()] if reason.strip() else differences)[:200],
        at=now,
        counted={c.line: c.counted for c in counts},
        photo=photo,
    )


def record_release(session: Session, actor: Actor, plan: ReleasePlan) -> None:
    """The short write of a planned decision, in plain statements. The slip changes only if it is still unused and
    not revoked, so a use, cancel or re-issue that committed since the plan was read is answered with its rejection."""
    connection = session.connection()
    if connection.execute(_CLAIM, {"slip": plan.slip_id, "to": plan.state}).rowcount != 1:
        slip = session.get(ReleaseSlip, plan.slip_id, populate_existing=True)
        assert slip is not None
        check_state(slip, plan.at)
        raise Rejected("revoked")
    values = {
        "slip_id": plan.slip_id,
        "estate_id": plan.estate_id,
        "device_id": plan.device_id,
        "gate": plan.gate,
        "guard": plan.guard,
        "outcome": plan.outcome,
        "reason": plan.reason,
        "at": plan.at,
        "recorded_at": plan.at,
        "offline": False,
    }
    try:
        connection.execute(_RECORD, values)
    except IntegrityError:  # a release recorded some other way (an offline upload) while the slip stayed unused
        existing = session.scalar(select(SlipRelease).where(SlipRelease.slip_id == plan.slip_id))
        raise Rejected("already_released", **(_release_detail(existing) if existing else {})) from None
    connection.execute(_COUNTED, [{"s": plan.slip_id, "n": n, "c": c} for n, c in plan.counted.items()])
    if plan.photo:
        session.add(SlipAttachment(slip_id=plan.slip_id, kind="gate_photo", media_type="image/jpeg", data=plan.photo))
    audit.record(
        session,
        actor,
        f"slip.{plan.outcome}",
        "slip",
        plan.slip_id,
        estate_id=plan.estate_id,
        number=plan.number,
        guard=plan.guard,
        reason=plan.reason,
    )


_slips, _items = ReleaseSlip.__table__, SlipItem.__table__
_CLAIM = (
    _slips.update()
    .where(_slips.c.id == bindparam("slip"), _slips.c.state == SlipState.issued, _slips.c.revoked_at.is_(None))
    .values(state=bindparam("to"))
)
_RECORD = SlipRelease.__table__.insert()
_COUNTED = (
    _items.update()
    .where(_items.c.slip_id == bindparam("s"), _items.c.line == bindparam("n"))
    .values(counted=bindparam("c"))
)


def release(
    session: Session,
    actor: Actor,
    device: Device,
    text: str,
    guard: str,
    counts: list[Count],
    *,
    reason: str = "",
    photo: bytes | None = None,
    now: datetime | None = None,
) -> SlipRelease:
    """The guard's decision checked and written in one session (commands and tests; the API splits the two)."""
    plan = plan_release(session, device, text, guard, counts, reason=reason, photo=photo, now=now)
    record_release(session, actor, plan)
    session.expire_all()  # the plain statements changed rows this session may hold
    return session.scalars(select(SlipRelease).where(SlipRelease.slip_id == plan.slip_id)).one()


def release_of(session: Session, number: str) -> SlipRelease:
    """The release recorded for slip `number`."""
    record = session.scalar(select(SlipRelease).join(ReleaseSlip).where(ReleaseSlip.number == number))
    if record is None:
        raise NotFound("这张放行条没有放行记录", "no release recorded for this slip", code="unknown_slip")
    return record


def _insert_release(session: Session, slip_id: int, record: SlipRelease) -> None:
    """Insert the slip's one release; the unique constraint turns a concurrent second use into already_released."""
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        existing = session.scalar(
            select(SlipRelease).where(SlipRelease.slip_id == slip_id).execution_options(populate_existing=True)
        )
        if existing is None:
            raise
        raise Rejected("already_released", **_release_detail(existing)) from None


# --- offline events -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfflineEvent:
    nonce: str
    kind: str  # release | refuse | reject | sign_in
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
        if at > self.now + self.skew:
            return f"门岗时间晚于服务器时间 / the gate's time {at.isoformat(timespec='minutes')} is in the future"
        if at < slip.issued_at - self.skew:
            return f"门岗时间早于放行条签发 / the gate's time {at.isoformat(timespec='minutes')} is before the issue"
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
    if event.kind == "reject":  # a scan the gate turned away: kept for the audit trail
        audit.record(
            session, actor, "gate.scan_rejected", "device", device.id, estate_id=estate.id, code=event.code, at=event.at
        )
        return "", "recorded", event.code
    try:
        slip = _scanned_slip(session, estate, event, clock.now)
        differences = _compare(slip, list(event.counts)) if event.counts else []
    except DomainError as exc:
        audit.record(
            session, actor, "gate.sync_rejected", "device", device.id, estate_id=estate.id, code=exc.code, at=event.at
        )
        return "", "rejected", exc.code
    outcome = "refused" if event.kind == "refuse" or differences else "released"
    reason = "; ".join([*differences, event.reason.strip()] if event.reason.strip() else differences)[:200]
    earlier = slip.release
    revoked_before = (slip.revoked_at and slip.revoked_at <= event.at) or (
        slip.cancelled_at and slip.cancelled_at <= event.at
    )
    if earlier is None:
        record = SlipRelease(
            slip_id=slip.id,
            estate_id=slip.estate_id,
            device_id=device.id,
            gate=device.name,
            guard=event.guard.strip()[:40],
            outcome=outcome,
            reason=reason,
            at=event.at,
            recorded_at=utcnow(),
            offline=True,
        )
        try:
            _insert_release(session, slip.id, record)
        except Rejected:
            session.refresh(slip)
            earlier = slip.release
        else:
            if slip.state in (SlipState.issued, SlipState.expired):
                slip.state = SlipState.released if outcome == "released" else SlipState.refused
            for item in slip.items:
                item.counted = next((c.counted for c in event.counts if c.line == item.line), item.counted)
            audit.record(
                session,
                actor,
                f"slip.{outcome}",
                "slip",
                slip.id,
                estate_id=slip.estate_id,
                number=slip.number,
                guard=record.guard,
                reason=reason,
                offline=True,
                at=event.at,
            )
            if outcome == "released" and revoked_before:
                _conflict(session, actor, device, slip, event, "used_when_revoked", "放行时该条已作废或重开")
                return slip.number, "conflict", "used_when_revoked"
            suspect = clock.problem(slip, event.at) if outcome == "released" else ""
            if suspect:
                _conflict(session, actor, device, slip, event, "clock_suspect", suspect)
                return slip.number, "conflict", "clock_suspect"
            return slip.number, "recorded", outcome
    if outcome == "refused":  # a later refusal of a slip already used changes nothing, but is kept
        audit.record(session, actor, "gate.refused_after_use", "slip", slip.id, estate_id=estate.id, at=event.at)
        return slip.number, "recorded", "refused"
    assert earlier is not None
    detail = f"已于 {earlier.at.isoformat(timespec='minutes')} 在 {earlier.gate} 放行 / first used at {earlier.gate}"
    _conflict(session, actor, device, slip, event, "double_use", detail)
    return slip.number, "conflict", "already_released"


def _conflict(
    session: Session, actor: Actor, device: Device, slip: ReleaseSlip, event: OfflineEvent, kind: str, detail: str
) -> SlipConflict:
    """An offline double use (or a use after revocation) goes to the security captain."""
    conflict = SlipConflict(
        estate_id=slip.estate_id,
        slip_id=slip.id,
        device_id=device.id,
        kind=kind,
        at=event.at,
        guard=event.guard.strip()[:40],
        detail=detail[:200],
    )
    session.add(conflict)
    session.flush()
    audit.record(
        session,
        actor,
        "slip.conflict",
        "slip",
        slip.id,
        estate_id=slip.estate_id,
        number=slip.number,
        kind=kind,
        at=event.at,
        conflict=conflict.id,
    )
    return conflict


def resolve_conflict(session: Session, actor: Actor, estate: Estate, conflict_id: int, by: str, note: str) -> None:
    conflict = session.get(SlipConflict, conflict_id)
    if conflict is None or conflict.estate_id != estate.id:
        raise NotFound("没有这条冲突记录", "no such conflict", code="unknown_conflict")
    if conflict.resolved_at is not None:
        raise Conflict("该冲突已处理", "already resolved", code="already_resolved")
    if not note.strip():
        raise DomainError("请填写处理结果", "describe how it was resolved", code="reason_missing")
    conflict.resolved_at, conflict.resolved_by, conflict.resolution = utcnow(), by[:60], note.strip()[:200]
    audit.record(session, actor, "slip.conflict_resolve", "slip", conflict.slip_id, estate_id=estate.id, note=note)


@dataclass(frozen=True)
class Revocations:
    revoked: list[str]
    released: list[str]


def revocations(session: Session, estate: Estate, now: datetime) -> Revocations:
    """What an offline gate must refuse although the signature is good: revoked, cancelled and used slips that
    are still inside their validity (expired ones the gate refuses by itself)."""
    rows = session.execute(
        select(ReleaseSlip.number, ReleaseSlip.state, ReleaseSlip.revoked_at)
        .where(
            ReleaseSlip.estate_id == estate.id,
            ReleaseSlip.valid_until >= now,
            ReleaseSlip.state != SlipState.issued,
        )
        .order_by(ReleaseSlip.number)
    ).all()
    revoked_now = session.scalars(
        select(ReleaseSlip.number).where(
            ReleaseSlip.estate_id == estate.id,
            ReleaseSlip.valid_until >= now,
            ReleaseSlip.state == SlipState.issued,
            ReleaseSlip.revoked_at.is_not(None),
        )
    ).all()
    revoked = sorted(
        {n for n, state, revoked_at in rows if state == SlipState.cancelled or revoked_at is not None}
        | set(revoked_now)
    )
    released = [n for n, state, revoked_at in rows if state in (SlipState.released, SlipState.refused)]
    return Revocations(revoked, sorted(set(released) - set(revoked)))
