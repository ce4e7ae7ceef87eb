"""The files register (R-ARC): each file or box with its class, number, title, shelf, retention period and
confidentiality level; created, edited and retired by archive.manage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Estate, Role, StaffUser
from server.db.models.archive import ArchiveFile, Confidentiality, FileClass, FileState
from server.domain import audit, clock, numbering
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, Forbidden, NotFound
from server.domain.permissions import Perm, allowed

LEVELS = list(Confidentiality)  # from the least to the most restricted
# The highest level each role may see without the CS centre's approval; an outside borrower sees public files only.
ROLE_LEVEL: dict[Role, Confidentiality] = {
    Role.admin: Confidentiality.secret,
    Role.general_manager: Confidentiality.secret,
    Role.cs_manager: Confidentiality.secret,
    Role.records_admin: Confidentiality.confidential,
    Role.front_desk: Confidentiality.internal,
}
OUTSIDE_LEVEL = Confidentiality.public


def level_of(staff: StaffUser | None) -> Confidentiality:
    """What a borrower may see without approval: by role for staff, public for an outside borrower."""
    if staff is None:
        return OUTSIDE_LEVEL
    return ROLE_LEVEL.get(staff.role, Confidentiality.internal)


def above(level: Confidentiality, allowed_level: Confidentiality) -> bool:
    return LEVELS.index(level) > LEVELS.index(allowed_level)


def expires_on(file: ArchiveFile) -> date | None:
    """The day the retention period ends; None for a permanent file."""
    if file.retention_years is None:
        return None
    try:
        return file.filed_on.replace(year=file.filed_on.year + file.retention_years)
    except ValueError:  # filed on 29 February
        return file.filed_on.replace(year=file.filed_on.year + file.retention_years, day=28)


def expired(file: ArchiveFile, day: date) -> bool:
    end = expires_on(file)
    return end is not None and end <= day


@dataclass(frozen=True)
class FileFields:
    file_class: str
    title: str
    location: str
    filed_on: date | None
    retention_years: int | None  # None: permanent
    confidentiality: str


def _check(fields: FileFields) -> tuple[FileClass, Confidentiality]:
    if fields.file_class not in FileClass.__members__:
        raise DomainError("请选择资料类别", "choose the file's class", code="bad_class")
    if fields.confidentiality not in Confidentiality.__members__:
        raise DomainError("请选择保密级别", "choose the confidentiality level", code="bad_level")
    if not fields.title.strip():
        raise DomainError("请填写资料名称", "give the file's title", code="missing_fields", fields=["title"])
    if fields.retention_years is not None and not 1 <= fields.retention_years <= 100:
        raise DomainError(
            "保管期限为 1–100 年或永久", "the retention period is 1–100 years or permanent", code="bad_retention"
        )
    if fields.filed_on is None:
        raise DomainError("请填写归档日期", "give the day it was filed", code="missing_fields", fields=["filed_on"])
    return FileClass(fields.file_class), Confidentiality(fields.confidentiality)


def get_file(session: Session, estate: Estate, file_id: int) -> ArchiveFile:
    found = session.get(ArchiveFile, file_id)
    if found is None or found.estate_id != estate.id:
        raise NotFound("没有这份资料", "no such file", code="unknown_file")
    return found


def create(
    session: Session, actor: Actor, estate: Estate, fields: FileFields, *, by: StaffUser, now: datetime
) -> ArchiveFile:
    if not allowed(by.role, Perm.archive_manage):
        raise Forbidden("需要权限 archive.manage", "needs permission archive.manage")
    kind, level = _check(fields)
    assert fields.filed_on is not None
    file = ArchiveFile(
        estate_id=estate.id,
        number=numbering.next_number(session, estate, "ZL", clock.local_day(estate, now)),
        file_class=kind,
        title=fields.title.strip(),
        location=fields.location.strip(),
        filed_on=fields.filed_on,
        retention_years=fields.retention_years,
        confidentiality=level,
        state=FileState.held,
        created_by=actor.label,
        created_at=now,
    )
    session.add(file)
    session.flush()
    audit.record(
        session, actor, "archive_file.create", "archive_file", file.id, estate_id=estate.id, number=file.number
    )
    return file


def edit(session: Session, actor: Actor, file: ArchiveFile, fields: FileFields, *, by: StaffUser) -> None:
    if not allowed(by.role, Perm.archive_manage):
        raise Forbidden("需要权限 archive.manage", "needs permission archive.manage")
    if file.state != FileState.held:
        raise Conflict("已退役或销毁的资料不能修改", "a retired or destroyed file cannot be edited", code="wrong_state")
    kind, level = _check(fields)
    assert fields.filed_on is not None
    file.file_class, file.confidentiality = kind, level
    file.title, file.location = fields.title.strip(), fields.location.strip()
    file.filed_on, file.retention_years = fields.filed_on, fields.retention_years
    session.flush()
    audit.record(session, actor, "archive_file.edit", "archive_file", file.id, estate_id=file.estate_id)


def retire(session: Session, actor: Actor, file: ArchiveFile, *, by: StaffUser, note: str = "") -> None:
    from server.domain.archive.loans import current_loan

    if not allowed(by.role, Perm.archive_manage):
        raise Forbidden("需要权限 archive.manage", "needs permission archive.manage")
    if file.state != FileState.held:
        raise Conflict("这份资料不在架上", "the file is not held", code="wrong_state")
    if current_loan(session, file) is not None:
        raise Conflict("资料借出中，不能退役", "the file is out on loan", code="file_out")
    file.state = FileState.retired
    session.flush()
    audit.record(session, actor, "archive_file.retire", "archive_file", file.id, estate_id=file.estate_id, note=note)


def files(
    session: Session, estate: Estate, *, file_class: str = "", level: str = "", state: str = "", text: str = ""
) -> list[ArchiveFile]:
    query = select(ArchiveFile).where(ArchiveFile.estate_id == estate.id)
    if file_class in FileClass.__members__:
        query = query.where(ArchiveFile.file_class == FileClass(file_class))
    if level in Confidentiality.__members__:
        query = query.where(ArchiveFile.confidentiality == Confidentiality(level))
    if state in FileState.__members__:
        query = query.where(ArchiveFile.state == FileState(state))
    if text.strip():
        like = f"%{text.strip()}%"
        query = query.where(ArchiveFile.title.like(like) | ArchiveFile.number.like(like))
    return list(session.scalars(query.order_by(ArchiveFile.number)))
