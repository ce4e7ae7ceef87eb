"""Developer repairs of vacant units (R-VAC-1, 2), tracked to completion: a failure agreed with the developer at the
takeover and a warranty defect found on a patrol each become a repair the developer owes. It is reported →
acknowledged by the developer → repaired → verified by engineering, or reopened when our check fails and repaired
again (server.domain.lifecycle.processes.DEVELOPER_REPAIR).

The developer has `REPAIR_DAYS` working days (15 by default; the server's `developer_repair_days` setting) on the
estate's working-day calendar from the report, and again from each reopening; the due time is stored on the repair
when that step is taken. Overdue is a query: past its due time while it is the developer's turn (reported,
acknowledged or reopened) — a repair waiting for our check is not the developer's delay."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from server.db.models import Estate, StaffUser, StepHistory, Unit
from server.db.models.lifecycle import DeveloperRepair, DeveloperRepairState, TakeoverCategory
from server.domain import clock, deadlines, numbering, workdays, workflow
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, NotFound
from server.domain.lifecycle.processes import DEVELOPER_REPAIR

REPAIR_DAYS = 15
NUMBER_KIND = "FX"  # 返修
S = DeveloperRepairState
DEVELOPERS_TURN = (S.reported, S.acknowledged, S.reopened)
OPEN = (*DEVELOPERS_TURN, S.repaired)
STEPS = ("acknowledge", "repair", "verify", "reopen")  # the steps a person takes after the report
Show = Literal["open", "overdue", "closed", "all"]


def due_after(session: Session, estate: Estate, start: datetime, days: int = REPAIR_DAYS) -> datetime:
    """The end of the `days`-th working day after `start`, on the estate's calendar and wall clock."""
    if days < 1:
        raise ValueError("a developer repair has at least one working day")
    window = deadlines.due(
        deadlines.WorkingDays(days), start, clock.zone(estate), workdays.estate_calendar(session, estate)
    )
    return window.at


def late(now: datetime) -> ColumnElement[bool]:
    return and_(DeveloperRepair.state.in_(DEVELOPERS_TURN), DeveloperRepair.due_at < now)


def overdue(repair: DeveloperRepair, now: datetime) -> bool:
    return repair.state in DEVELOPERS_TURN and repair.due_at < now


def _text(value: str, zh: str, en: str, field: str, length: int = 200) -> str:
    text = value.strip()[:length]
    if not text:
        raise DomainError(f"请填写{zh}", f"give {en}", code="missing_fields", fields=[field])
    return text


def report(
    session: Session,
    actor: Actor,
    estate: Estate,
    unit: Unit,
    *,
    category: TakeoverCategory,
    description: str,
    developer: str,
    by: StaffUser,
    now: datetime,
    days: int = REPAIR_DAYS,
    takeover_item_id: int | None = None,
    patrol_finding_id: int | None = None,
) -> DeveloperRepair:
    """A defect reported to the developer; its `days` working days start now."""
    fields = {
        "description": _text(description, "问题描述", "the defect", "description"),
        "due_at": due_after(session, estate, now, days),
    }
    repair = DeveloperRepair(
        estate_id=estate.id,
        unit_id=unit.id,
        category=category,
        developer=developer.strip()[:100],
        reported_at=now,
        takeover_item_id=takeover_item_id,
        patrol_finding_id=patrol_finding_id,
    )
    workflow.check(DEVELOPER_REPAIR, repair, "report", by=by, fields=fields)
    repair.number = numbering.next_number(session, estate, NUMBER_KIND, clock.local_day(estate, now))
    workflow.step(
        session, actor, DEVELOPER_REPAIR, repair, "report", now, by=by, fields=fields, unit=unit.code, days=days
    )
    return repair


def get(session: Session, estate: Estate, repair_id: int) -> DeveloperRepair:
    found = session.get(DeveloperRepair, repair_id)
    if found is None or found.estate_id != estate.id:
        raise NotFound("没有这条开发商返修记录", "no such developer repair", code="unknown_developer_repair")
    return found


def acknowledge(
    session: Session, actor: Actor, repair: DeveloperRepair, *, contact: str, by: StaffUser, now: datetime
) -> DeveloperRepair:
    """The developer has taken the repair on; `contact` is who said so for them."""
    fields = {"developer_contact": contact.strip()[:60], "acknowledged_at": now}
    workflow.step(session, actor, DEVELOPER_REPAIR, repair, "acknowledge", now, by=by, fields=fields)
    return repair


def mark_repaired(
    session: Session, actor: Actor, repair: DeveloperRepair, *, note: str, by: StaffUser, now: datetime
) -> DeveloperRepair:
    """The developer reports the repair done (what was done, in `note`); engineering checks it next."""
    fields = {"repair_note": note.strip()[:200], "repaired_at": now}
    workflow.step(session, actor, DEVELOPER_REPAIR, repair, "repair", now, by=by, fields=fields)
    return repair


def _check_repaired(repair: DeveloperRepair, step: str) -> None:
    if repair.state != S.repaired:
        zh = "验收" if step == "verify" else "退回返修"
        raise Conflict(
            f"{repair.number} 开发商尚未报修复完成（当前：{repair.state.value}），不能{zh}",
            f"{repair.number} is {repair.state.value}: the developer has not reported it repaired, so it cannot be "
            f"{'verified' if step == 'verify' else 'reopened'}",
            code="not_repaired",
        )


def verify(
    session: Session, actor: Actor, repair: DeveloperRepair, *, by: StaffUser, now: datetime, note: str = ""
) -> DeveloperRepair:
    """Engineering checked the repair on site: closed. Only a repair the developer reported done is verified."""
    _check_repaired(repair, "verify")
    workflow.step(
        session,
        actor,
        DEVELOPER_REPAIR,
        repair,
        "verify",
        now,
        by=by,
        note=note.strip()[:200],
        fields={"verified_at": now},
    )
    return repair


def reopen(
    session: Session,
    actor: Actor,
    repair: DeveloperRepair,
    *,
    reason: str,
    by: StaffUser,
    now: datetime,
    days: int = REPAIR_DAYS,
) -> DeveloperRepair:
    """Our check failed: back to the developer with the reason, its working days running again from now."""
    _check_repaired(repair, "reopen")
    estate = session.get_one(Estate, repair.estate_id)
    fields = {"reopen_reason": reason.strip()[:200], "due_at": due_after(session, estate, now, days)}
    workflow.check(DEVELOPER_REPAIR, repair, "reopen", by=by, fields=fields)
    repair.reopened += 1
    workflow.step(session, actor, DEVELOPER_REPAIR, repair, "reopen", now, by=by, fields=fields, times=repair.reopened)
    return repair


def of_unit(session: Session, unit: Unit) -> list[DeveloperRepair]:
    return list(
        session.scalars(
            select(DeveloperRepair).where(DeveloperRepair.unit_id == unit.id).order_by(DeveloperRepair.id.desc())
        )
    )


def history(session: Session, repair: DeveloperRepair) -> list[StepHistory]:
    return list(
        session.scalars(
            select(StepHistory)
            .where(StepHistory.process == DEVELOPER_REPAIR.name, StepHistory.record_id == repair.id)
            .order_by(StepHistory.at, StepHistory.id)
        )
    )


@dataclass(frozen=True)
class Line:
    """A line of the developer repair register: the repair, its unit's code, and whether it is overdue now."""

    repair: DeveloperRepair
    unit: str
    overdue: bool


def parse_show(text: str) -> Show:
    value = text.strip() or "open"
    if value not in ("open", "overdue", "closed", "all"):
        raise DomainError(
            f"筛选 {text!r} 不对：应为 open、overdue、closed 或 all",
            f"filter {text!r} should be open, overdue, closed or all",
            code="bad_filter",
        )
    return value  # type: ignore[return-value]


def register(
    session: Session,
    estate: Estate,
    now: datetime,
    *,
    show: Show = "open",
    unit_code: str = "",
    categories: Sequence[TakeoverCategory] = (),
) -> list[Line]:
    """The estate's developer repairs: open ones (the default), overdue ones, closed ones or all; of one unit or of
    some takeover items when asked; the longest overdue first, then by due time."""
    query = (
        select(DeveloperRepair, Unit.code)
        .join(Unit, DeveloperRepair.unit_id == Unit.id)
        .where(DeveloperRepair.estate_id == estate.id)
    )
    if show == "open":
        query = query.where(DeveloperRepair.state.in_(OPEN))
    elif show == "overdue":
        query = query.where(late(now))
    elif show == "closed":
        query = query.where(DeveloperRepair.state == S.verified)
    if unit_code.strip():
        query = query.where(Unit.code == unit_code.strip().upper())
    if categories:
        query = query.where(DeveloperRepair.category.in_(categories))
    rows = session.execute(query.order_by(DeveloperRepair.due_at, DeveloperRepair.id)).all()
    return [Line(repair, code, overdue(repair, now)) for repair, code in rows]
