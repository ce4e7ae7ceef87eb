"""The one release a slip allows (R-REL-6): the guard counts each line; every line matches → released, otherwise
refused with the reason. A decision made online and one a gate made offline and uploaded later are written by the
same function, `record_release`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.db.base import utcnow
from server.db.models import Device, ReleaseSlip, SlipAttachment, SlipItem, SlipRelease, SlipState
from server.domain import audit
from server.domain.actors import Actor
from server.domain.errors import DomainError, NotFound
from server.domain.slips.gate.checking import (
    Checkable,
    Rejected,
    Scanned,
    check_scanned,
    check_state,
    release_detail,
)

MAX_PHOTO = 2 * 1024 * 1024


@dataclass(frozen=True)
class Count:
    line: int
    counted: int


def compare(slip: Checkable, counts: list[Count]) -> list[str]:
    """R-REL-6: items and quantities against the slip; the differences, line by line."""
    given = {c.line: c.counted for c in counts}
    if set(given) != {i.line for i in slip.items} or len(given) != len(counts):
        raise DomainError("须逐行清点放行条上的每行物品", "count every line of the slip once", code="lines_mismatch")
    return [f"{i.name}: 条上 {i.quantity} / 实点 {given[i.line]}" for i in slip.items if given[i.line] != i.quantity]


def reason_for(differences: list[str], reason: str) -> str:
    """The refusal's reason: the differences counted, then what the guard wrote."""
    return "; ".join([*differences, reason.strip()] if reason.strip() else differences)[:200]


@dataclass(frozen=True)
class ReleasePlan:
    """A guard's decision, checked against what was read, ready to be written: plain values, no session.
    `offline`: decided by a gate without the network at `at`, and uploaded now."""

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
    offline: bool = False
    recorded_at: datetime = field(default_factory=utcnow)

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
    refuse: bool = False,
) -> ReleasePlan:
    """Everything the decision needs that only reads (R-REL-6): the token's signature, the slip's state and the
    counted lines against the slip. Every line matches → released; otherwise refused with the reason. `refuse`:
    the guard turns the goods away although the counts match (an item not on the slip, damaged goods …), which
    needs the reason."""
    now = now or utcnow()
    slip = check_scanned(session, device.estate, text, now)
    return decide(slip, device.id, device.name, guard, counts, reason=reason, photo=photo, now=now, refuse=refuse)


def decide(
    slip: Scanned,
    device_id: int,
    gate: str,
    guard: str,
    counts: list[Count],
    *,
    reason: str,
    photo: bytes | None,
    now: datetime,
    refuse: bool,
) -> ReleasePlan:
    """The decision on a slip that may pass (R-REL-6): the counted lines against the slip's."""
    differences = compare(slip, counts)
    if refuse and not reason.strip():
        raise DomainError("拒绝放行须写明原因", "a refusal needs its reason", code="reason_missing")
    if photo is not None and len(photo) > MAX_PHOTO:
        raise DomainError("照片不能超过 2 MB", "a photo is at most 2 MB", code="photo_too_large")
    return ReleasePlan(
        slip_id=slip.id,
        estate_id=slip.estate_id,
        number=slip.number,
        device_id=device_id,
        gate=gate,
        guard=guard.strip()[:40],
        outcome="refused" if differences or refuse else "released",
        reason=reason_for(differences, reason),
        at=now,
        counted={c.line: c.counted for c in counts},
        photo=photo,
        recorded_at=now,
    )


def record_release(session: Session, actor: Actor, plan: ReleasePlan) -> None:
    """Write a decision, online or uploaded, in plain statements: the slip's one release, its new state, the
    counted lines, the photo and the audit entry. Online, the slip changes only if it is still unused and not
    revoked, so a use, cancel or re-issue that committed since the plan was read is answered with its rejection.
    Offline, what the gate did is recorded whatever happened meanwhile (the caller turns it into a conflict); only
    an unused slip (even one expired since) takes the outcome's state. A release already recorded for the slip
    is `already_released` either way."""
    connection = session.connection()
    claim = _CLAIM_UPLOADED if plan.offline else _CLAIM
    if connection.execute(claim, {"slip": plan.slip_id, "to": plan.state}).rowcount != 1 and not plan.offline:
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
        "recorded_at": plan.recorded_at,
        "offline": plan.offline,
    }
    try:
        connection.execute(_RECORD, values)
    except IntegrityError:  # a release recorded meanwhile some other way (online, or another gate's upload)
        existing = session.scalar(
            select(SlipRelease).where(SlipRelease.slip_id == plan.slip_id).execution_options(populate_existing=True)
        )
        raise Rejected("already_released", **(release_detail(existing) if existing else {})) from None
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
        **({"offline": True, "at": plan.at} if plan.offline else {}),
    )


_slips, _items = ReleaseSlip.__table__, SlipItem.__table__
_CLAIM = (
    _slips.update()
    .where(_slips.c.id == bindparam("slip"), _slips.c.state == SlipState.issued, _slips.c.revoked_at.is_(None))
    .values(state=bindparam("to"))
)
_CLAIM_UPLOADED = (
    _slips.update()
    .where(_slips.c.id == bindparam("slip"), _slips.c.state.in_([SlipState.issued, SlipState.expired]))
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
    refuse: bool = False,
) -> SlipRelease:
    """The guard's decision checked and written in one session (commands and tests; the API splits the two)."""
    plan = plan_release(session, device, text, guard, counts, reason=reason, photo=photo, now=now, refuse=refuse)
    record_release(session, actor, plan)
    session.expire_all()  # the plain statements changed rows this session may hold
    return session.scalars(select(SlipRelease).where(SlipRelease.slip_id == plan.slip_id)).one()


def release_of(session: Session, number: str) -> SlipRelease:
    """The release recorded for slip `number`."""
    record = session.scalar(select(SlipRelease).join(ReleaseSlip).where(ReleaseSlip.number == number))
    if record is None:
        raise NotFound("这张放行条没有放行记录", "no release recorded for this slip", code="unknown_slip")
    return record
