"""Workers' temporary passes (装修工人临时出入证, R-REN-6): issued by the CS centre for a renovation whose fees and
deposit are paid, signed with the slip keys as a ``WP1:`` token (`server.contract.worker_pass`), valid from the day
of issue to the renovation's end; checked at the gate — refused before its first day, after the end, while the
renovation is suspended, once withdrawn — and every entry and exit logged."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.contract import worker_pass
from server.contract.slip_token import TokenError
from server.db.models import Device, Estate, StaffUser
from server.db.models.renovation import PassMovement, Renovation, RenovationState, WorkerPass
from server.domain import audit, clock, numbering, registry
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, Forbidden, NotFound
from server.domain.permissions import Perm, allowed
from server.domain.slips import keys

PHOTO_TYPES = ("data:image/jpeg;base64,", "data:image/png;base64,")
MAX_PHOTO_BYTES = 200_000
DIRECTIONS = ("in", "out")


@dataclass(frozen=True)
class Worker:
    name: str
    company: str = ""
    id_tail: str = ""
    photo: str = ""  # a data URL from the desk's camera or a file


def _photo(text: str) -> str:
    text = text.strip()
    if not text:
        return ""
    try:
        kind = next(p for p in PHOTO_TYPES if text.startswith(p))
        raw = base64.b64decode(text[len(kind) :], validate=True)
        if len(raw) > MAX_PHOTO_BYTES or not (raw.startswith(b"\x89PNG") or raw.startswith(b"\xff\xd8\xff")):
            raise ValueError
    except (StopIteration, ValueError, binascii.Error):
        raise DomainError(
            "照片须为 200 KB 以内的 JPEG 或 PNG", "the photo is a JPEG or PNG of at most 200 KB", code="bad_photo"
        ) from None
    return text


def _issuable(record: Renovation) -> None:
    if record.state is not RenovationState.paid:
        raise Conflict(
            f"装修 {record.number} 未获批准并交清费用，或已停工、已竣工，不能办理出入证",
            f"renovation {record.number} is not approved and paid, or is suspended or finished: no worker passes",
            code="no_approved_renovation",
        )


def _sign(session: Session, estate: Estate, record: Renovation, item: WorkerPass, today: date) -> None:
    key = keys.active_key(session)
    day = today
    seq = numbering.next_seq(session, estate, "WP", f"{day:%Y%m%d}")
    claims = worker_pass.PassClaims(
        key.id, estate.code, record.unit.code, day, seq, item.valid_from, item.valid_until, item.worker_name,
        item.company,
    )  # fmt: skip
    item.number = claims.number
    try:
        item.token = worker_pass.encode(claims, keys.private_key(key.private_key))
    except ValueError as exc:
        raise DomainError(
            "工人姓名或公司名称过长", f"the worker's name or company is too long: {exc}", code="too_long"
        ) from None


def issue(
    session: Session, actor: Actor, by: StaffUser, record: Renovation, worker: Worker, now: datetime
) -> WorkerPass:
    """R-REN-6: a pass for one worker, valid from today to the renovation's end."""
    if not allowed(by.role, Perm.renovation_desk):
        raise Forbidden("办理出入证需要权限 renovation.desk", "issuing passes needs permission renovation.desk")
    _issuable(record)
    if not worker.name.strip():
        raise DomainError("请填写工人姓名", "give the worker's name", code="missing_fields", fields=["worker_name"])
    estate = session.get_one(Estate, record.estate_id)
    today = clock.local_day(estate, now)
    if today > record.ends_on:
        raise Conflict(
            "装修期已过，请先办理延期", "the renovation's period is over: extend it first", code="period_over"
        )
    item = WorkerPass(
        estate_id=estate.id,
        renovation_id=record.id,
        worker_name=worker.name.strip()[:40],
        company=(worker.company.strip() or record.contractor)[:60],
        id_tail=worker.id_tail.strip()[-8:],
        photo=_photo(worker.photo),
        valid_from=max(today, record.starts_on),
        valid_until=record.ends_on,
        issued_at=now,
        issued_by=actor.label[:80],
    )
    _sign(session, estate, record, item, today)
    session.add(item)
    session.flush()
    audit.record(
        session, actor, "worker_pass.issue", "worker_pass", item.id, estate_id=estate.id, number=item.number,
        renovation=record.number, worker=item.worker_name, valid_until=item.valid_until.isoformat(),
    )  # fmt: skip
    return item


def issue_for_unit(
    session: Session, actor: Actor, by: StaffUser, estate: Estate, unit_code: str, worker: Worker, now: datetime
) -> WorkerPass:
    """A pass asked for by unit: the unit's renovation must be approved and paid (R-REN-6)."""
    unit = registry.find_unit(session, estate, unit_code.strip().upper())
    if unit is None:
        raise DomainError(f"没有房号 {unit_code}", f"no unit {unit_code}", code="unknown_unit")
    record = session.scalar(
        select(Renovation)
        .where(Renovation.unit_id == unit.id, Renovation.state == RenovationState.paid)
        .order_by(Renovation.id.desc())
    )
    if record is None:
        raise Conflict(
            f"{unit.code} 没有已批准并交费的装修，不能办理工人出入证",
            f"{unit.code} has no approved and paid renovation: no worker passes",
            code="no_approved_renovation",
        )
    return issue(session, actor, by, record, worker, now)


def active(session: Session, record: Renovation) -> list[WorkerPass]:
    """The renovation's passes not withdrawn, oldest first."""
    query = select(WorkerPass).where(WorkerPass.renovation_id == record.id, WorkerPass.withdrawn_at.is_(None))
    return list(session.scalars(query.order_by(WorkerPass.id)))


def all_passes(session: Session, record: Renovation) -> list[WorkerPass]:
    return list(
        session.scalars(select(WorkerPass).where(WorkerPass.renovation_id == record.id).order_by(WorkerPass.id))
    )


def withdraw(session: Session, actor: Actor, item: WorkerPass, now: datetime, reason: str = "withdrawn") -> None:
    if item.withdrawn_at is not None:
        return
    item.withdrawn_at = now
    audit.record(
        session, actor, "worker_pass.withdraw", "worker_pass", item.id, estate_id=item.estate_id,
        number=item.number, reason=reason,
    )  # fmt: skip


def withdraw_all(session: Session, actor: Actor, record: Renovation, now: datetime) -> None:
    """The works are accepted: the workers' passes end (R-REN-8)."""
    for item in active(session, record):
        withdraw(session, actor, item, now, "accepted")


def reissue_all(session: Session, actor: Actor, record: Renovation, now: datetime) -> list[WorkerPass]:
    """After an extension (R-REN-7): each active pass is replaced by one valid to the new end; the old ones are
    withdrawn, so only the new codes pass the gate."""
    estate = session.get_one(Estate, record.estate_id)
    today = clock.local_day(estate, now)
    out = []
    for old in active(session, record):
        withdraw(session, actor, old, now, "extended")
        item = WorkerPass(
            estate_id=estate.id, renovation_id=record.id, worker_name=old.worker_name, company=old.company,
            id_tail=old.id_tail, photo=old.photo, valid_from=max(today, record.starts_on),
            valid_until=record.ends_on, issued_at=now, issued_by=actor.label[:80],
        )  # fmt: skip
        _sign(session, estate, record, item, today)
        session.add(item)
        session.flush()
        audit.record(
            session, actor, "worker_pass.issue", "worker_pass", item.id, estate_id=estate.id, number=item.number,
            renovation=record.number, worker=item.worker_name, replaces=old.number,
        )  # fmt: skip
        out.append(item)
    return out


def get(session: Session, estate: Estate, pass_id: int) -> WorkerPass:
    item = session.get(WorkerPass, pass_id)
    if item is None or item.estate_id != estate.id:
        raise NotFound("没有这张出入证", "no such worker pass", code="not_found")
    return item


# --- the gate (R-REN-6) -------------------------------------------------------------------------------------------


def _refused(code: str, zh: str, en: str) -> DomainError:
    return DomainError(zh, en, code=code, status=410 if code in ("expired", "revoked", "suspended") else 422)


def check(session: Session, estate: Estate, text: str, now: datetime) -> WorkerPass:
    """The pass a scanned code names, if it may come in now: the token checked as the gate checks it offline, then
    what only the server knows — withdrawn, the renovation suspended or no longer running."""
    today = clock.local_day(estate, now)
    try:
        claims = worker_pass.verify(text, keys.ring(session), estate=estate.code, today=today)
    except TokenError as exc:
        raise _refused(exc.code, f"出入证无效（{exc.code}）", exc.message) from None
    item = session.scalar(
        select(WorkerPass).where(WorkerPass.estate_id == estate.id, WorkerPass.number == claims.number)
    )
    if item is None or item.token != text.strip():
        raise _refused("revoked", "出入证已作废", "this pass was replaced or withdrawn")
    record = item.renovation
    if record.state is RenovationState.suspended:
        raise _refused("suspended", f"装修已停工：{record.suspend_reason}", f"works suspended: {record.suspend_reason}")
    if item.withdrawn_at is not None or record.state is not RenovationState.paid:
        raise _refused("revoked", "出入证已作废", "this pass was withdrawn")
    if today > record.ends_on:
        raise _refused("expired", f"装修期已于 {record.ends_on} 结束", f"the works ended on {record.ends_on}")
    return item


def log_movement(
    session: Session, actor: Actor, device: Device, text: str, direction: str, guard: str, now: datetime
) -> PassMovement:
    """A worker came in or went out on a valid pass (checked again now)."""
    if direction not in DIRECTIONS:
        raise DomainError("方向须为 in 或 out", "direction is in or out", code="bad_direction")
    estate = session.get_one(Estate, device.estate_id)
    item = check(session, estate, text, now)
    movement = PassMovement(
        estate_id=estate.id, pass_id=item.id, direction=direction, at=now, device_id=device.id, guard=guard.strip()[:40]
    )
    session.add(movement)
    session.flush()
    audit.record(
        session, actor, f"worker_pass.{direction}", "worker_pass", item.id, estate_id=estate.id, number=item.number,
        guard=movement.guard,
    )  # fmt: skip
    return movement


def movements(session: Session, record: Renovation) -> list[tuple[PassMovement, WorkerPass]]:
    rows = session.execute(
        select(PassMovement, WorkerPass)
        .join(WorkerPass, WorkerPass.id == PassMovement.pass_id)
        .where(WorkerPass.renovation_id == record.id)
        .order_by(PassMovement.at.desc())
        .limit(200)
    )
    return [(m, p) for m, p in rows]


def inside(session: Session, record: Renovation) -> int:
    """Workers of this renovation inside now (their last movement was in)."""
    last = (
        select(PassMovement.pass_id, func.max(PassMovement.id).label("last"))
        .join(WorkerPass, WorkerPass.id == PassMovement.pass_id)
        .where(WorkerPass.renovation_id == record.id)
        .group_by(PassMovement.pass_id)
        .subquery()
    )
    found = session.scalars(select(PassMovement.direction).join(last, PassMovement.id == last.c.last))
    return sum(1 for d in found if d == "in")
