"""The console's home page: one dashboard per member of staff, made of the sections their role's permissions open — what
is due today, late or unusual in each area, each figure a count and the filtered list it stands for.

A role sees the union of its sections (the permissions decide, never the role's name): the front desk today's slips,
countersigns owed, key loans, the move-in queue and the desk's service board; the records admin the same with the
cabinet's alerts (of the last day, and those nobody has acknowledged) and the reconciliation; the general manager the
key copies awaiting approval; the security captain conflicts and the reconciliation; engineering and environment their
service boards, approvals and vacant units; finance refunds due and arrears; managers everything they may see.

Every count is a `COUNT` in SQL over an indexed predicate; a section's counts are read in one statement."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from server.db.base import utcnow
from server.db.models import (
    AuditEntry,
    DuplicationState,
    Estate,
    Key,
    KeyAlarm,
    KeyDuplication,
    KeyLoan,
    KeySet,
    LoanState,
    ReleaseSlip,
    Role,
    SlipConflict,
    SlipState,
    Unit,
)
from server.db.models.lifecycle import MoveIn, Vacancy
from server.db.models.renovation import Renovation, RenovationState
from server.domain import cabinet, clock, registry
from server.domain.keys.duplication import NEEDS_GENERAL_MANAGER
from server.domain.lifecycle import move_in
from server.domain.permissions import Perm, allowed
from server.domain.renovation import records as renovation_records
from server.domain.service import boards
from server.domain.slips import reconciliation

CABINET_ALERT_HOURS = 24  # the cabinet's alerts the dashboard counts: those of the last day


@dataclass(frozen=True)
class Figure:
    key: str  # its translation key (dashboard.figure.KEY, or the service board's own)
    count: int
    link: str  # the filtered list this figure counts
    alarm: bool = False  # late or unusual: shown in red when not zero


@dataclass(frozen=True)
class Section:
    key: str  # slips, reconciliation, keys, service.<board role>, renovation, vacancy, finance
    figures: list[Figure]
    status: str = ""  # the reconciliation's state: signed, partly, unsigned, stale
    status_link: str = ""
    status_alarm: bool = False
    charts: list[str] = field(default_factory=list)  # the charts (server.domain.charts) shown beside it


@dataclass(frozen=True)
class Dashboard:
    day: date
    sections: list[Section]

    def figure(self, key: str) -> Figure | None:
        return next((f for s in self.sections for f in s.figures if f.key == key), None)


def _link(base: str, **query: object) -> str:
    return boards.link(base, **query)


class _Counts:
    """Figures collected as (key, link, alarm, count query), read together in one statement."""

    def __init__(self) -> None:
        self.specs: list[tuple[str, str, bool, Select[Any]]] = []

    def add(self, key: str, link: str, query: Select[Any], *, alarm: bool = False) -> None:
        self.specs.append((key, link, alarm, query))

    def read(self, session: Session) -> list[Figure]:
        if not self.specs:
            return []
        row = session.execute(select(*(q.scalar_subquery() for _k, _l, _a, q in self.specs))).one()
        return [Figure(k, row[n] or 0, link, alarm) for n, (k, link, alarm, _q) in enumerate(self.specs)]


def _count(model: type[Any], *where: ColumnElement[bool]) -> Select[Any]:
    return select(func.count()).select_from(model).where(*where)


def slip_states_today(session: Session, estate: Estate, day: date) -> dict[SlipState, int]:
    """R-REL-4: the day's slips by state, one grouped count over the (estate, day, state) index."""
    rows = session.execute(
        select(ReleaseSlip.state, func.count())
        .where(ReleaseSlip.estate_id == estate.id, ReleaseSlip.day == day)
        .group_by(ReleaseSlip.state)
    ).all()
    return {SlipState(state): n for state, n in rows}


def _slips(session: Session, estate: Estate, day: date, role: Role) -> Section:
    by_state = slip_states_today(session, estate, day)
    shown = day.isoformat()
    figures = [Figure("slips_today", sum(by_state.values()), _link("/console/slips", day=shown))]
    figures += [
        Figure(f"slips_{s.value}", by_state.get(s, 0), _link("/console/slips", day=shown, state=s.value),
               alarm=s == SlipState.refused)
        for s in SlipState
    ]  # fmt: skip
    counts = _Counts()
    counts.add(
        "countersigns_pending",
        "/console/slips/countersign",
        _count(ReleaseSlip, ReleaseSlip.estate_id == estate.id, ReleaseSlip.countersign_pending.is_(True)),
    )
    counts.add(
        "conflicts_open",
        _link("/console/slips/conflicts", open=1),
        _count(SlipConflict, SlipConflict.estate_id == estate.id, SlipConflict.resolved_at.is_(None)),
        alarm=True,
    )
    return Section("slips", figures + counts.read(session), charts=["releases", "refusals"])


def reconciliation_status(session: Session, estate: Estate, now: datetime) -> tuple[str, bool]:
    """R-REL-7: today's reconciliation — signed by both sides, by one, by none, or stale (a figure changed since a
    side signed) — and whether that is late (unsigned after 17:30) or stale."""
    day = clock.local_day(estate, now)
    row = reconciliation.get(session, estate, day)
    if row is not None and reconciliation.stale_sides(row, reconciliation.day_figures(session, estate, day)):
        return "stale", True
    signed = [row is not None and getattr(row, f"{side}_at") is not None for side in reconciliation.SIDES]
    state = "signed" if all(signed) else "partly" if any(signed) else "unsigned"
    return state, reconciliation.overdue(session, estate, now) is not None


def _reconciliation(session: Session, estate: Estate, now: datetime) -> Section:
    state, alarm = reconciliation_status(session, estate, now)
    day = clock.local_day(estate, now).isoformat()
    return Section(
        "reconciliation", [], status=state, status_link=_link("/console/slips/reconciliation", day=day),
        status_alarm=alarm,
    )  # fmt: skip


def cabinet_alerts(estate: Estate, now: datetime) -> ColumnElement[bool]:
    """The cabinet's alerts of the last day, as the dashboard counts them and the event page filters them."""
    return cabinet.alert_condition(estate.id, now - timedelta(hours=CABINET_ALERT_HOURS))


def awaiting_general_manager(estate: Estate) -> Select[Any]:
    """R-KEY-11: requests to copy a public door or plant-room key that wait for the general manager's decision."""
    return (
        select(func.count())
        .select_from(KeyDuplication)
        .join(Key, KeyDuplication.key_id == Key.id)
        .join(KeySet, Key.set_id == KeySet.id)
        .where(
            KeyDuplication.estate_id == estate.id,
            KeyDuplication.state == DuplicationState.requested,
            KeySet.opens.in_(NEEDS_GENERAL_MANAGER),
        )
    )


def _keys(session: Session, estate: Estate, role: Role, now: datetime) -> Section:
    counts = _Counts()
    out = (KeyLoan.estate_id == estate.id, KeyLoan.state == LoanState.out)
    counts.add("loans_out", _link("/console/keys/loans", state="out"), _count(KeyLoan, *out))
    counts.add(
        "keys_overdue",
        _link("/console/keys/overdue", open=1),
        _count(KeyLoan, *out, KeyLoan.due_at < now, KeyLoan.overdue_ack_at.is_(None)),
        alarm=True,
    )
    counts.add(
        "key_alarms",
        "/console/keys/events#open-alarms",
        _count(KeyAlarm, KeyAlarm.estate_id == estate.id, KeyAlarm.cleared_at.is_(None)),
        alarm=True,
    )
    counts.add(
        "cabinet_alerts",
        _link("/console/keys/events", alerts=1, hours=CABINET_ALERT_HOURS),
        _count(AuditEntry, cabinet_alerts(estate, now)),
        alarm=True,
    )
    counts.add(
        "cabinet_alerts_open",  # of any age, until the keeper of the keys acknowledges each
        _link("/console/keys/events", alerts=1, ack=0),
        _count(AuditEntry, cabinet.open_alert_condition(estate.id)),
        alarm=True,
    )
    if allowed(role, Perm.keys_approve_duplication):
        counts.add(
            "duplications_awaiting",
            _link("/console/keys/duplications", waiting="general_manager"),
            awaiting_general_manager(estate),
        )
    return Section("keys", counts.read(session), charts=["key_loans"])


def _move_in(session: Session, estate: Estate, day: date) -> Section:
    """R-MOVE: the front desk's queue today — owners who took a ticket today and whose move-in is neither filed nor
    cancelled yet."""
    counts = _Counts()
    counts.add(
        "move_in_queue",
        _link("/console/move-in", open=1),
        _count(MoveIn, MoveIn.estate_id == estate.id, MoveIn.queued_on == day, move_in.still_queued()),
    )
    return Section("move_in", counts.read(session))


def _service(session: Session, estate: Estate, role: Role, now: datetime) -> list[Section]:
    out = []
    for name in boards.roles_for(role):
        board = boards.board(session, estate, name, now, with_lines=False)
        figures = [Figure(f"service.board.figure.{f.key}", f.count, f.link, f.alarm) for f in board.figures]
        charts = ["repair_lead", "callbacks", "feedback"] if name == "supervisor" else []
        charts = charts or (["repair_lead"] if name == "engineering" else ["callbacks"] if name == "desk" else [])
        out.append(Section(f"service.{name}", figures, charts=charts))
    return out


def _renovation(session: Session, estate: Estate, role: Role, now: datetime) -> Section:
    counts = _Counts()
    mine = Renovation.estate_id == estate.id

    def state(key: str, s: RenovationState) -> None:
        counts.add(key, _link("/console/renovations", state=s.value), _count(Renovation, mine, Renovation.state == s))

    state("ren_awaiting_approval", RenovationState.received)
    if allowed(role, Perm.renovation_approve) or allowed(role, Perm.renovation_desk):
        state("ren_acceptance_requested", RenovationState.acceptance_requested)
    state("ren_refund_due", RenovationState.accepted)
    counts.add(
        "ren_late",
        _link("/console/renovations", late=1),
        _count(Renovation, mine, renovation_records.late(now)),
        alarm=True,
    )
    return Section("renovation", counts.read(session))


def _vacancy(session: Session, estate: Estate) -> Section:
    counts = _Counts()
    counts.add(
        "vacant_units",
        _link("/console/units", vacant=1),
        select(func.count(func.distinct(Vacancy.unit_id))).where(
            Vacancy.estate_id == estate.id, Vacancy.ends_on.is_(None)
        ),
    )
    return Section("vacancy", counts.read(session), charts=["vacancy"])


def _finance(session: Session, estate: Estate) -> Section:
    counts = _Counts()
    counts.add(
        "units_in_arrears",
        _link("/console/units", arrears=1),
        _count(Unit, Unit.estate_id == estate.id, Unit.arrears_fen > registry.ARREARS_LIMIT_FEN),
        alarm=True,
    )
    return Section("finance", counts.read(session))


def dashboard(session: Session, estate: Estate, role: Role, now: datetime | None = None) -> Dashboard:
    """The dashboard of a member of staff with `role` for `estate` at `now`."""
    now = now or utcnow()
    day = clock.local_day(estate, now)

    def can(perm: Perm) -> bool:
        return allowed(role, perm)

    sections: list[Section] = []
    if can(Perm.slips_view):
        sections.append(_slips(session, estate, day, role))
        sections.append(_reconciliation(session, estate, now))
    if can(Perm.keys_view):
        sections.append(_keys(session, estate, role, now))
    if can(Perm.movein_desk):
        sections.append(_move_in(session, estate, day))
    sections += _service(session, estate, role, now)
    if can(Perm.renovation_view):
        sections.append(_renovation(session, estate, role, now))
    if can(Perm.vacancy_view):
        sections.append(_vacancy(session, estate))
    if can(Perm.arrears_edit):
        sections.append(_finance(session, estate))
    return Dashboard(day, sections)
