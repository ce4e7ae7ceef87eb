"""The slip register 《物品放行条记录单》 (R-REL-4): filtered listing by keyset pages, export rows, timelines,
pending countersigns and open conflicts."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, selectinload

from server.db.models import (
    ApplicantKind,
    AuditEntry,
    Estate,
    ReleaseSlip,
    SlipAttachment,
    SlipConflict,
    SlipState,
)
from server.domain.errors import DomainError, NotFound
from server.domain.registry import parse_unit_code
from server.domain.slips import issuing

DATED_NUMBER = re.compile(r"^[A-Z]{2,8}-(\d{8})")


@dataclass(frozen=True)
class RegisterFilter:
    day: date | None = None
    unit: str = ""
    state: SlipState | None = None
    applicant: ApplicantKind | None = None
    number: str = ""  # a slip number or its start, e.g. GH-20261127


@dataclass(frozen=True)
class KeysetPage:
    items: list[ReleaseSlip]
    next_after: int | None  # pass as `after` for the next page; None on the last page


def _query(estate: Estate, f: RegisterFilter) -> Select[ReleaseSlip]:
    query = select(ReleaseSlip).where(ReleaseSlip.estate_id == estate.id)
    if f.day is not None:
        query = query.where(ReleaseSlip.day == f.day)
    if f.unit.strip():
        try:
            unit = str(parse_unit_code(f.unit))
        except DomainError:
            unit = f.unit.strip().upper()
        query = query.where(ReleaseSlip.unit_code == unit)
    if f.state is not None:
        query = query.where(ReleaseSlip.state == f.state)
    if f.applicant is not None:
        query = query.where(ReleaseSlip.applicant_kind == f.applicant)
    if f.number.strip():
        start = f.number.strip().upper()
        # A range, not LIKE, so the unique index on the number serves it on both databases.
        query = query.where(ReleaseSlip.number >= start, ReleaseSlip.number < start + "\x7f")
        dated = DATED_NUMBER.match(start)
        if dated:  # the number carries its day: let the day index order the page instead of sorting the range
            with contextlib.suppress(ValueError):
                query = query.where(ReleaseSlip.day == datetime.strptime(dated[1], "%Y%m%d").date())
    return query


def page(
    session: Session, estate: Estate, f: RegisterFilter, *, after: int | None = None, size: int = 25
) -> KeysetPage:
    """Newest first, `size` slips after the slip with id `after`: constant cost however deep the register."""
    query = _query(estate, f)
    if after is not None:
        query = query.where(ReleaseSlip.id < after)
    rows = list(
        session.scalars(
            query.options(selectinload(ReleaseSlip.items), selectinload(ReleaseSlip.release))
            .order_by(ReleaseSlip.id.desc())
            .limit(size + 1)
        )
    )
    more = len(rows) > size
    rows = rows[:size]
    return KeysetPage(rows, rows[-1].id if more and rows else None)


def rows_for_export(session: Session, estate: Estate, f: RegisterFilter, batch: int = 1000) -> Iterator[ReleaseSlip]:
    """Every matching slip, oldest first, fetched in keyset batches."""
    after = 0
    while True:
        chunk = list(
            session.scalars(
                _query(estate, f)
                .where(ReleaseSlip.id > after)
                .options(selectinload(ReleaseSlip.items), selectinload(ReleaseSlip.release))
                .order_by(ReleaseSlip.id)
                .limit(batch)
            )
        )
        yield from chunk
        if len(chunk) < batch:
            return
        after = chunk[-1].id


def timeline(session: Session, slip: ReleaseSlip) -> list[AuditEntry]:
    """Everything that happened to a slip, from the audit trail, in order."""
    return list(
        session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.estate_id == slip.estate_id,
                AuditEntry.entity == "slip",
                AuditEntry.entity_id == str(slip.id),
            )
            .order_by(AuditEntry.seq)
        )
    )


def pending_countersigns(session: Session, estate: Estate) -> list[ReleaseSlip]:
    """R-REL-3: proxy slips whose owner has not yet come to countersign, oldest first."""
    return list(
        session.scalars(
            select(ReleaseSlip)
            .where(ReleaseSlip.estate_id == estate.id, ReleaseSlip.countersign_pending.is_(True))
            .order_by(ReleaseSlip.id)
        )
    )


def conflicts(session: Session, estate: Estate, *, open_only: bool = False) -> list[SlipConflict]:
    query = select(SlipConflict).where(SlipConflict.estate_id == estate.id)
    if open_only:
        query = query.where(SlipConflict.resolved_at.is_(None))
    return list(session.scalars(query.order_by(SlipConflict.id.desc()).limit(500)))


@dataclass(frozen=True)
class AttachmentRef:
    id: int
    kind: str  # "proxy_id": the proxy's ID copy (R-REL-3)


@dataclass(frozen=True)
class SlipDetail:
    """One slip as its detail page shows it: its timeline, attachments, and the slips it replaced or that replaced
    it."""

    slip: ReleaseSlip
    timeline: list[AuditEntry]
    attachments: list[AttachmentRef]
    reissue_of: ReleaseSlip | None
    replaced_by: ReleaseSlip | None


def detail(session: Session, estate: Estate, slip_id: int) -> SlipDetail:
    slip = issuing.get_slip(session, estate, slip_id)
    attachments = session.execute(
        select(SlipAttachment.id, SlipAttachment.kind).where(SlipAttachment.slip_id == slip.id)
    ).all()
    return SlipDetail(
        slip=slip,
        timeline=timeline(session, slip),
        attachments=[AttachmentRef(row.id, row.kind) for row in attachments],
        reissue_of=session.get(ReleaseSlip, slip.reissue_of_id) if slip.reissue_of_id else None,
        replaced_by=session.scalar(select(ReleaseSlip).where(ReleaseSlip.reissue_of_id == slip.id)),
    )


def attachment(session: Session, estate: Estate, slip_id: int, attachment_id: int) -> SlipAttachment:
    """A file kept with one of the estate's slips (the proxy's ID copy); nothing of another slip or estate."""
    slip = issuing.get_slip(session, estate, slip_id)
    found = session.get(SlipAttachment, attachment_id)
    if found is None or found.slip_id != slip.id:
        raise NotFound("没有这个附件", "no such attachment", code="unknown_attachment")
    return found
