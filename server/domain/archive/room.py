"""The archive room's other rules (R-ARC): destruction of expired files after the department manager approves; the
quarterly completeness check with its findings and sign-off; the access register (no entry without permission)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Estate, StaffUser
from server.db.models.archive import (
    ArchiveAccess,
    ArchiveCheck,
    ArchiveCheckFinding,
    ArchiveDestruction,
    ArchiveFile,
    DestructionState,
    FileState,
    Finding,
)
from server.domain import audit, clock, workflow
from server.domain.actors import Actor
from server.domain.archive.files import expired, expires_on
from server.domain.archive.loans import current_loan
from server.domain.archive.processes import DESTRUCTION
from server.domain.errors import Conflict, DomainError, Forbidden, NotFound
from server.domain.permissions import Perm, allowed

# --- destruction of expired files -----------------------------------------------------------------------------------


def get_destruction(session: Session, estate: Estate, destruction_id: int) -> ArchiveDestruction:
    found = session.get(ArchiveDestruction, destruction_id)
    if found is None or found.estate_id != estate.id:
        raise NotFound("没有这份销毁申请", "no such destruction request", code="unknown_destruction")
    return found


def request_destruction(
    session: Session, actor: Actor, file: ArchiveFile, *, reason: str, by: StaffUser, now: datetime
) -> ArchiveDestruction:
    """Only a file whose retention period has ended, on the shelf, with no open request."""
    estate = session.get_one(Estate, file.estate_id)
    if file.state == FileState.destroyed:
        raise Conflict("资料已销毁", "the file is already destroyed", code="wrong_state")
    if not expired(file, clock.local_day(estate, now)):
        end = expires_on(file)
        until = f"{end}" if end else "永久 / permanent"
        raise DomainError(
            f"资料未过保管期限（{until}），不能申请销毁",
            f"the file's retention period has not ended ({until}): it cannot be destroyed",
            code="not_expired",
        )
    if current_loan(session, file) is not None:
        raise Conflict("资料借出中", "the file is out on loan", code="file_out")
    open_one = session.scalars(
        select(ArchiveDestruction).where(
            ArchiveDestruction.file_id == file.id,
            ArchiveDestruction.state.in_((DestructionState.requested, DestructionState.approved)),
        )
    ).first()
    if open_one is not None:
        raise Conflict("已有销毁申请", "a destruction request is already open", code="already_requested")
    record = ArchiveDestruction(estate_id=file.estate_id, file_id=file.id, created_by=actor.label, created_at=now)
    workflow.step(
        session, actor, DESTRUCTION, record, "request", now, by=by, fields={"reason": reason.strip()}, file=file.number
    )
    return record


def approve_destruction(
    session: Session, actor: Actor, record: ArchiveDestruction, *, by: StaffUser, now: datetime, note: str = ""
) -> None:
    workflow.step(
        session, actor, DESTRUCTION, record, "approve", now, by=by, fields={"approved_by_id": by.id}, note=note
    )


def refuse_destruction(
    session: Session, actor: Actor, record: ArchiveDestruction, *, by: StaffUser, now: datetime, note: str = ""
) -> None:
    workflow.step(session, actor, DESTRUCTION, record, "refuse", now, by=by, note=note)


def destroy(
    session: Session, actor: Actor, record: ArchiveDestruction, *, method: str, by: StaffUser, now: datetime
) -> None:
    """The approved file is destroyed (shredded, pulped …): recorded, and the file marked destroyed."""
    workflow.step(
        session,
        actor,
        DESTRUCTION,
        record,
        "destroy",
        now,
        by=by,
        fields={"destroyed_at": now, "method": method.strip()},
    )
    file = session.get_one(ArchiveFile, record.file_id)
    file.state = FileState.destroyed
    session.flush()


def destructions(session: Session, estate: Estate) -> list[ArchiveDestruction]:
    return list(
        session.scalars(
            select(ArchiveDestruction)
            .where(ArchiveDestruction.estate_id == estate.id)
            .order_by(ArchiveDestruction.created_at.desc(), ArchiveDestruction.id.desc())
        )
    )


def expired_files(session: Session, estate: Estate, now: datetime) -> list[ArchiveFile]:
    day = clock.local_day(estate, now)
    held = session.scalars(
        select(ArchiveFile).where(ArchiveFile.estate_id == estate.id, ArchiveFile.state != FileState.destroyed)
    )
    return [f for f in held if expired(f, day)]


# --- the quarterly completeness check -------------------------------------------------------------------------------


def quarter_of(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def quarter_start(quarter: str) -> date:
    year, q = int(quarter[:4]), int(quarter[-1])
    return date(year, 3 * (q - 1) + 1, 1)


def previous_quarter(quarter: str) -> str:
    start = quarter_start(quarter)
    return quarter_of(date(start.year - 1, 12, 1) if start.month == 1 else date(start.year, start.month - 3, 1))


@dataclass(frozen=True)
class QuarterState:
    quarter: str  # the current quarter, e.g. 2026-Q4
    check: ArchiveCheck | None  # this quarter's check, once recorded
    late: list[str]  # earlier quarters whose check is missing (late after the quarter ended)

    @property
    def due(self) -> bool:
        """This quarter's check falls due: not yet recorded."""
        return self.check is None


def quarter_state(session: Session, estate: Estate, now: datetime) -> QuarterState:
    """The check falls due each quarter; a quarter that ended without one is late. Quarters before the room held
    its first file are not counted."""
    quarter = quarter_of(clock.local_day(estate, now))
    done = {c.quarter: c for c in session.scalars(select(ArchiveCheck).where(ArchiveCheck.estate_id == estate.id))}
    first = session.scalars(
        select(ArchiveFile.created_at).where(ArchiveFile.estate_id == estate.id).order_by(ArchiveFile.created_at)
    ).first()
    late: list[str] = []
    if first is not None:
        since = quarter_of(clock.local_day(estate, first))
        q = previous_quarter(quarter)
        while q >= since and len(late) < 8:
            if q not in done:
                late.append(q)
            q = previous_quarter(q)
    return QuarterState(quarter, done.get(quarter), late)


def record_check(
    session: Session,
    actor: Actor,
    estate: Estate,
    findings: Mapping[int, tuple[str, str]],
    *,
    by: StaffUser,
    now: datetime,
    quarter: str = "",
    note: str = "",
) -> ArchiveCheck:
    """A finding (present / missing / damaged) for every file on the register, signed off by `by`."""
    if not allowed(by.role, Perm.archive_manage):
        raise Forbidden("需要权限 archive.manage", "needs permission archive.manage")
    current = quarter_of(clock.local_day(estate, now))
    quarter = quarter or current
    if quarter > current or len(quarter) != 7 or quarter[4:6] != "-Q" or quarter[-1] not in "1234":
        raise DomainError("季度无效", "not a valid quarter", code="bad_quarter")
    if session.scalars(
        select(ArchiveCheck).where(ArchiveCheck.estate_id == estate.id, ArchiveCheck.quarter == quarter)
    ).first():
        raise Conflict(f"{quarter} 的检查已记录", f"the check of {quarter} is already recorded", code="already_checked")
    held = list(
        session.scalars(
            select(ArchiveFile).where(ArchiveFile.estate_id == estate.id, ArchiveFile.state == FileState.held)
        )
    )
    missing = [f.number for f in held if f.id not in findings]
    bad = [str(k) for k, (v, _) in findings.items() if v not in Finding.__members__]
    if missing or bad:
        raise DomainError(
            f"每份资料都须有检查结果：{', '.join(missing + bad)}",
            f"every file needs a finding: {', '.join(missing + bad)}",
            code="missing_fields",
        )
    check = ArchiveCheck(
        estate_id=estate.id, quarter=quarter, checked_at=now, signed_by=by.display_name, note=note.strip()
    )
    for f in held:
        finding, text = findings[f.id]
        check.findings.append(ArchiveCheckFinding(file_id=f.id, finding=Finding(finding), note=text.strip()))
    session.add(check)
    session.flush()
    problems = sum(1 for x in check.findings if x.finding != Finding.present)
    audit.record(
        session, actor, "archive_check.record", "archive_check", check.id, estate_id=estate.id, quarter=quarter,
        problems=problems,
    )  # fmt: skip
    return check


def checks(session: Session, estate: Estate) -> list[ArchiveCheck]:
    return list(
        session.scalars(
            select(ArchiveCheck).where(ArchiveCheck.estate_id == estate.id).order_by(ArchiveCheck.quarter.desc())
        )
    )


# --- the access register --------------------------------------------------------------------------------------------


def record_entry(
    session: Session,
    actor: Actor,
    estate: Estate,
    *,
    reason: str,
    by: StaffUser,
    now: datetime,
    staff: StaffUser | None = None,
    name: str = "",
    accompanied_by: StaffUser | None = None,
    entered_at: datetime | None = None,
) -> ArchiveAccess:
    """Who entered, when and why. Only an archive.view holder enters alone; anyone else with a keyholder
    (archive.lend) named as accompanying them."""
    if not allowed(by.role, Perm.archive_lend):
        raise Forbidden("需要权限 archive.lend", "needs permission archive.lend")
    who = staff.display_name if staff is not None else name.strip()
    if not who:
        raise DomainError("请填写进入人员", "name who entered", code="missing_fields", fields=["name"])
    if not reason.strip():
        raise DomainError("请写明进入原因", "give the reason", code="missing_fields", fields=["reason"])
    may_enter = staff is not None and allowed(staff.role, Perm.archive_view)
    if not may_enter and (accompanied_by is None or not allowed(accompanied_by.role, Perm.archive_lend)):
        raise Forbidden(
            "无权限人员须由钥匙保管人陪同进入资料室",
            "someone without permission enters only with a keyholder accompanying them",
            code="no_permission",
        )
    entry = ArchiveAccess(
        estate_id=estate.id,
        entered_at=entered_at or now,
        staff_id=staff.id if staff is not None else None,
        name=who,
        reason=reason.strip(),
        accompanied_by_id=accompanied_by.id if accompanied_by is not None and not may_enter else None,
        recorded_by=actor.label,
    )
    session.add(entry)
    session.flush()
    audit.record(session, actor, "archive_access.record", "archive_access", entry.id, estate_id=estate.id, name=who)
    return entry


def entries(session: Session, estate: Estate) -> list[ArchiveAccess]:
    return list(
        session.scalars(
            select(ArchiveAccess)
            .where(ArchiveAccess.estate_id == estate.id)
            .order_by(ArchiveAccess.entered_at.desc(), ArchiveAccess.id.desc())
        )
    )
