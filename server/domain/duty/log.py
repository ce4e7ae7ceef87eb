"""The information log 《信息记录表》 (R-DUTY-2, 3, 5): every matter the front desk hears of is written down with its
urgency, category, unit or place and who reported it, passed to a role of the estate or a named staff member, and
followed until closed. Hard problems escalate to the CS supervisor, major ones to the office director. The log is
internal: only `log.read` reads it. The same category from the same unit or place three times within 30 days flags
the entry and asks the front desk for the written report to the supervisor (R-DUTY-5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.db.models import Estate, PhoneCall, Role, StaffUser, StepHistory, Unit
from server.db.models.dutylog import LogEntry, LogState, RepeatReport, Urgency
from server.domain import audit, clock, registry, workflow
from server.domain.actors import Actor
from server.domain.duty import handover
from server.domain.errors import DomainError, NotFound
from server.domain.permissions import Perm
from server.domain.workflow import NEW, Transition, process

S = LogState
LOG = process(
    "log_entry",
    LogState,
    Transition("open", frozenset({NEW}), S.open, Perm.log_write, needs=("category", "summary")),
    Transition("route", frozenset({S.open, S.routed}), S.routed, Perm.log_write),
    Transition("escalate", frozenset({S.open, S.routed}), S.routed, Perm.log_write, needs=("escalation",)),
    Transition("close", frozenset({S.open, S.routed}), S.closed, Perm.log_write, needs=("close_note",)),
)

# R-DUTY-2: hard problems go to the CS supervisor, major ones to the office director (the general manager).
ESCALATION = {"hard": Role.cs_manager, "major": Role.general_manager}
REPEAT_COUNT = 3  # R-DUTY-5: the same kind of issue this many times …
REPEAT_WINDOW = timedelta(days=30)  # … within this window
REPORT_DUE = timedelta(days=1)  # the written report is due a day after it is asked for


@dataclass(frozen=True)
class EntryIn:
    urgency: str
    category: str
    summary: str
    reporter: str = ""
    unit: str = ""  # a unit code of this estate, optional
    place: str = ""  # a place of the estate when there is no unit


def _text(value: str, zh: str, en: str, field: str, limit: int, *, required: bool = True) -> str:
    text = value.strip()
    if required and not text:
        raise DomainError(f"请填写{zh}", f"enter {en}", code="missing_fields", fields=[field])
    if len(text) > limit:
        raise DomainError(f"{zh}过长", f"{en} is too long", code="too_long", fields=[field])
    return text


def _urgency(value: str) -> Urgency:
    if value not in Urgency.__members__:
        raise DomainError("紧急程度无效", "unknown urgency", code="bad_urgency", fields=["urgency"])
    return Urgency(value)


def serves(user: StaffUser, estate: Estate) -> bool:
    return user.all_estates or any(e.id == estate.id for e in user.estates)


def get(session: Session, estate: Estate, entry_id: int) -> LogEntry:
    entry = session.get(LogEntry, entry_id)
    if entry is None or entry.estate_id != estate.id:
        raise NotFound("没有这条记录", "no such log entry", code="log_entry_not_found")
    return entry


def write(
    session: Session,
    actor: Actor,
    estate: Estate,
    data: EntryIn,
    at: datetime,
    *,
    by: StaffUser,
    phone_call: PhoneCall | None = None,
) -> LogEntry:
    """R-DUTY-3: a new entry, open. Refused while the writer has a handover to acknowledge (R-DUTY-4)."""
    handover.require_acknowledged(session, estate, by)
    urgency = _urgency(data.urgency)
    category = _text(data.category, "类别", "a category", "category", 40)
    summary = _text(data.summary, "内容", "what it is about", "summary", 1000)
    reporter = _text(data.reporter, "反映人", "who reported it", "reporter", 60, required=False)
    place = _text(data.place, "地点", "the place", "place", 60, required=False)
    unit: Unit | None = None
    if data.unit.strip():
        unit = registry.find_unit(session, estate, data.unit)
        if unit is None:
            raise NotFound(f"本小区没有房号 {data.unit.strip()}", f"no unit {data.unit.strip()} in this estate",
                           code="unit_not_found", fields=["unit"])  # fmt: skip
    entry = LogEntry(
        estate_id=estate.id, at=at, urgency=urgency, unit_id=unit.id if unit else None, place=place,
        reporter=reporter, written_by_id=by.id, phone_call_id=phone_call.id if phone_call else None,
    )  # fmt: skip
    workflow.step(
        session, actor, LOG, entry, "open", at, by=by, fields={"category": category, "summary": summary},
        urgency=urgency.value,
    )  # fmt: skip
    _check_repeat(session, actor, estate, entry, at)
    return entry


def _check_repeat(session: Session, actor: Actor, estate: Estate, entry: LogEntry, at: datetime) -> None:
    """R-DUTY-5: the third entry (or more) of one category from one unit or place within 30 days is flagged and
    the written report to the supervisor is asked for, once per issue until written."""
    if entry.unit_id is None and not entry.place:
        return
    same_where = LogEntry.unit_id == entry.unit_id if entry.unit_id is not None else LogEntry.place == entry.place
    count = session.scalar(
        select(func.count()).where(
            LogEntry.estate_id == estate.id,
            LogEntry.category == entry.category,
            same_where,
            LogEntry.at > at - REPEAT_WINDOW,
            LogEntry.at <= at,
        )
    )
    if (count or 0) < REPEAT_COUNT:
        return
    entry.repeated = True
    where = entry.place
    if entry.unit_id is not None:
        where = session.get_one(Unit, entry.unit_id).code
    pending = session.scalar(
        select(RepeatReport).where(
            RepeatReport.estate_id == estate.id,
            RepeatReport.category == entry.category,
            RepeatReport.place == where,
            RepeatReport.written_at.is_(None),
        )
    )
    if pending is not None:
        pending.count = int(count or 0)
        return
    report = RepeatReport(
        estate_id=estate.id, entry_id=entry.id, category=entry.category, place=where, count=int(count or 0),
        asked_at=at, due_at=at + REPORT_DUE,
    )  # fmt: skip
    session.add(report)
    session.flush()
    audit.record(
        session, actor, "log_entry.repeated", "log_entry", entry.id, estate_id=estate.id, category=entry.category,
        where=where, count=int(count or 0), report=report.id,
    )  # fmt: skip


def route(
    session: Session,
    actor: Actor,
    estate: Estate,
    entry: LogEntry,
    at: datetime,
    *,
    by: StaffUser,
    role: str = "",
    staff_id: int | None = None,
    note: str = "",
) -> None:
    """Pass the entry to a role of the estate or a named staff member of it. A role that does not exist, or one
    nobody in the estate holds, is refused and nothing changes."""
    handover.require_acknowledged(session, estate, by)
    role = role.strip()
    if bool(role) == bool(staff_id):
        raise DomainError("请选择一个岗位或一位员工", "choose a role or a staff member", code="missing_fields",
                          fields=["role", "staff_id"])  # fmt: skip
    fields: dict[str, object]
    if role:
        if role not in Role.__members__ or not _role_in_estate(session, estate, Role(role)):
            raise DomainError(f"本小区没有岗位 {role}", f"no role {role} in this estate", code="unknown_role",
                              fields=["role"])  # fmt: skip
        fields = {"routed_role": role, "routed_to_id": None}
    else:
        user = session.get(StaffUser, staff_id)
        if user is None or not user.is_active or not serves(user, estate):
            raise NotFound("本小区没有这位员工", "no such staff member in this estate", code="staff_not_found",
                           fields=["staff_id"])  # fmt: skip
        fields = {"routed_role": "", "routed_to_id": user.id}
    workflow.step(session, actor, LOG, entry, "route", at, by=by, fields=fields, note=note[:400])


def _role_in_estate(session: Session, estate: Estate, role: Role) -> bool:
    return any(serves(u, estate) for u in session.scalars(select(StaffUser).where(StaffUser.role == role,
                                                                                     StaffUser.is_active)))  # fmt: skip


def escalate(
    session: Session, actor: Actor, estate: Estate, entry: LogEntry, level: str, at: datetime, *, by: StaffUser,
    note: str = "",
) -> None:  # fmt: skip
    """R-DUTY-2: hard → the CS supervisor, major → the office director; recorded in the audit log and shown in their
    list."""
    handover.require_acknowledged(session, estate, by)
    if level not in ESCALATION:
        raise DomainError("升级级别无效", "unknown escalation level", code="bad_escalation", fields=["level"])
    workflow.step(
        session, actor, LOG, entry, "escalate", at, by=by, note=note[:400],
        fields={"escalation": level, "routed_role": ESCALATION[level].value, "routed_to_id": None},
    )  # fmt: skip


def close(
    session: Session, actor: Actor, estate: Estate, entry: LogEntry, note: str, at: datetime, *, by: StaffUser
) -> None:
    handover.require_acknowledged(session, estate, by)
    workflow.step(session, actor, LOG, entry, "close", at, by=by, fields={"close_note": note.strip()[:400]})


@dataclass(frozen=True)
class LogFilter:
    state: LogState | None = None
    urgency: Urgency | None = None
    day: date | None = None
    mine: StaffUser | None = None  # entries routed or escalated to this person or to their role


def entries(session: Session, estate: Estate, f: LogFilter, limit: int = 200) -> list[LogEntry]:
    """The log, most urgent first, then newest."""
    q = select(LogEntry).where(LogEntry.estate_id == estate.id)
    if f.state is not None:
        q = q.where(LogEntry.state == f.state)
    if f.urgency is not None:
        q = q.where(LogEntry.urgency == f.urgency)
    if f.day is not None:
        start, end = clock.day_bounds(estate, f.day)
        q = q.where(LogEntry.at >= start, LogEntry.at < end)
    if f.mine is not None:
        q = q.where(or_(LogEntry.routed_to_id == f.mine.id, LogEntry.routed_role == f.mine.role.value))
    rank = {Urgency.urgent: 0, Urgency.normal: 1, Urgency.low: 2}
    found = list(session.scalars(q.order_by(LogEntry.at.desc(), LogEntry.id.desc()).limit(limit)))
    return sorted(found, key=lambda e: rank[e.urgency])


def open_reports(session: Session, estate: Estate) -> list[RepeatReport]:
    return list(
        session.scalars(
            select(RepeatReport)
            .where(RepeatReport.estate_id == estate.id, RepeatReport.written_at.is_(None))
            .order_by(RepeatReport.due_at)
        )
    )


def write_report(
    session: Session, actor: Actor, estate: Estate, report_id: int, text: str, at: datetime, *, by: StaffUser
) -> RepeatReport:
    """R-DUTY-5: the front desk's written report to the supervisor of a repeated issue."""
    report = session.get(RepeatReport, report_id)
    if report is None or report.estate_id != estate.id:
        raise NotFound("没有这份报告", "no such report", code="report_not_found")
    if report.written_at is not None:
        raise DomainError("报告已提交", "the report is already written", code="wrong_state")
    body = _text(text, "报告内容", "the report", "text", 4000)
    report.text, report.written_at, report.written_by_id = body, at, by.id
    audit.record(session, actor, "repeat_report.written", "repeat_report", report.id, estate_id=estate.id)
    return report


def from_call(
    session: Session, actor: Actor, estate: Estate, call: PhoneCall, data: EntryIn, at: datetime, *, by: StaffUser
) -> LogEntry:
    """R-PHONE: a call logged by the phone script becomes an entry of the information log (not only an order)."""
    if call.estate_id != estate.id:
        raise NotFound("没有这个来电", "no such call", code="call_not_found")
    if session.scalar(select(LogEntry.id).where(LogEntry.phone_call_id == call.id)) is not None:
        raise DomainError("这个来电已记入信息记录表", "this call is already in the log", code="already_logged")
    filled = EntryIn(
        urgency=data.urgency, category=data.category or call.topic.value, summary=data.summary or call.summary,
        reporter=data.reporter or f"{call.surname} {call.phone}".strip(), unit=data.unit or call.room, place=data.place,
    )  # fmt: skip
    return write(session, actor, estate, filled, at, by=by, phone_call=call)


def calls_per_day(session: Session, estate: Estate, since: date, until: date) -> list[tuple[date, int]]:
    """R-PHONE: how many calls were logged on each day from `since` to `until`, both included."""
    start, _ = clock.day_bounds(estate, since)
    _, end = clock.day_bounds(estate, until)
    counts: dict[date, int] = {}
    for at in session.scalars(
        select(PhoneCall.at).where(PhoneCall.estate_id == estate.id, PhoneCall.at >= start, PhoneCall.at < end)
    ):
        day = clock.local_day(estate, at)
        counts[day] = counts.get(day, 0) + 1
    days = (until - since).days + 1
    return [(since + timedelta(days=i), counts.get(since + timedelta(days=i), 0)) for i in range(max(days, 0))]


def estate_staff(session: Session, estate: Estate) -> list[StaffUser]:
    """The active staff of the estate, for routing and handover choices."""
    users = session.scalars(select(StaffUser).where(StaffUser.is_active).order_by(StaffUser.display_name))
    return [u for u in users if serves(u, estate)]


def history(session: Session, entry: LogEntry) -> list[StepHistory]:
    return list(
        session.scalars(
            select(StepHistory)
            .where(StepHistory.process == LOG.name, StepHistory.record_id == entry.id)
            .order_by(StepHistory.at, StepHistory.id)
        )
    )
