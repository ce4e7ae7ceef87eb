"""A small estate with something due, late or unusual in every area, for the dashboard and chart tests: today's slips in
each state (R-REL-4), countersigns owed (R-REL-3), conflicts (R-REL-6), releases and refusals at two gates, a key out
and overdue with an open alarm and cabinet alerts (R-KEY-12), repairs finished within and after their visit
(R-REP-2), callbacks (R-REP-8), feedback forms (R-FB-1), today's move-in queue (R-MOVE), renovations awaiting
approval and refund (R-REN-2, 9) and vacant units (R-VAC). Records are written as rows, the state each would have
reached by its own steps."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.base import utcnow
from server.db.models import (
    ApplicantKind,
    CallOutcome,
    CallReason,
    CallTask,
    Channel,
    DuplicationState,
    Estate,
    FeedbackCategory,
    FeedbackForm,
    KeyAlarm,
    KeyDuplication,
    KeyLoan,
    LoanState,
    OrderState,
    Person,
    ReleaseSlip,
    Role,
    ServiceKind,
    ServiceOrder,
    SigningKey,
    SlipConflict,
    SlipRelease,
    SlipState,
)
from server.db.models.keys import AlarmKind
from server.db.models.lifecycle import MoveIn, MoveInState, TakeoverInspection, TakeoverState, Vacancy
from server.db.models.renovation import Renovation, RenovationState
from server.domain import audit, clock, staff
from server.domain.actors import SYSTEM
from tests.server.console.conftest import PASSWORD, Registry
from tests.server.console.key_cabinet import key_records

MISMATCH = "纸箱: 条上 3 / 实点 4"  # the differences the gate wrote (R-REL-6)


@dataclass
class Seeded:
    now: datetime
    today: date


def _slip(
    db: Session, estate: Estate, unit_id: int, n: int, day: date, state: SlipState, **extra: object
) -> ReleaseSlip:
    slip = ReleaseSlip(
        estate_id=estate.id, number=f"GH-{day:%Y%m%d}-{n:04d}", day=day, seq=n, unit_id=unit_id, unit_code="1-1A",
        applicant_kind=extra.pop("kind", ApplicantKind.owner), applicant_name="张伟", planned_date=day,
        valid_until=utcnow() + timedelta(days=1), state=state, channel="console", key_id=901, token="RS1:test",
        issued_by="desk", **extra,
    )  # fmt: skip
    db.add(slip)
    db.flush()
    return slip


def seed(db: Session, populated: Registry) -> Seeded:
    estate, units = populated.estate, populated.unit_ids
    now = utcnow()
    today = clock.local_day(estate, now)
    yesterday = today - timedelta(days=1)
    db.add(SigningKey(id=901, private_key="00" * 32, public_key="00" * 32))
    db.flush()
    unit = units["1-1A"]
    # Today: 2 issued (one a proxy's, its owner still to countersign), 1 released, 1 refused, 1 cancelled.
    _slip(db, estate, unit, 1, today, SlipState.issued)
    _slip(db, estate, unit, 2, today, SlipState.issued, kind=ApplicantKind.proxy, countersign_pending=True)
    released = _slip(db, estate, unit, 3, today, SlipState.released)
    refused = _slip(db, estate, unit, 4, today, SlipState.refused)
    _slip(db, estate, unit, 5, today, SlipState.cancelled)
    # Yesterday: 2 released at the west gate, 1 refused with the guard's reason, a countersign still owed.
    west = [_slip(db, estate, unit, n, yesterday, SlipState.released) for n in (1, 2)]
    refused_yesterday = _slip(db, estate, unit, 3, yesterday, SlipState.refused, countersign_pending=True)
    at = now - timedelta(minutes=5)
    day_before = now - timedelta(days=1)
    for slip, gate, outcome, reason, when in (
        (released, "东门", "released", "", at),
        (refused, "东门", "refused", MISMATCH, at),
        (west[0], "西门", "released", "", day_before),
        (west[1], "西门", "released", "", day_before),
        (refused_yesterday, "西门", "refused", "无业主确认", day_before),
    ):
        db.add(SlipRelease(slip_id=slip.id, estate_id=estate.id, gate=gate, guard="保安", outcome=outcome,
                           reason=reason, at=when))  # fmt: skip
    db.add(SlipConflict(estate_id=estate.id, slip_id=west[0].id, kind="double_use", at=at))
    db.add(SlipConflict(estate_id=estate.id, slip_id=west[1].id, kind="double_use", at=at, resolved_at=now))

    # Keys: the cabinet's in-use key out past its due time, nobody has acknowledged it; an alarm; two cabinet alerts.
    keeper = staff.create_user(
        db, SYSTEM, username="dash.keeper", display_name="钥匙管理员", role=Role.records_admin, password=PASSWORD,
        estates=[estate],
    )  # fmt: skip
    cabinet = key_records(db, estate, keeper)
    loan = db.get_one(KeyLoan, cabinet.loan_id)
    loan.state, loan.out_at, loan.due_at = LoanState.out, now - timedelta(hours=3), now - timedelta(hours=1)
    # A copy of the pump room's key awaits the general manager (`key_records`); an earlier request was refused.
    db.add(KeyDuplication(
        estate_id=estate.id, key_id=loan.key_id, reason="旧钥匙磨损", state=DuplicationState.refused,
        requested_by_id=keeper.id, requested_at=day_before, decided_by_id=keeper.id, decided_at=day_before,
    ))  # fmt: skip
    db.add(KeyAlarm(estate_id=estate.id, kind=AlarmKind.wrong_slot, board=1, slot=3, at=at))
    for action, alert in (
        ("cabinet.door_opened", True),
        ("cabinet.key_returned", True),
        ("cabinet.door_closed", False),
    ):
        detail = {"alert": True} if alert else {}
        audit.record(db, SYSTEM, action, "cabinet", "1", estate_id=estate.id, **detail)

    # Service: repairs finished within their visit (2 h) and after it (30 h); calls made; feedback received.
    def order(n: int, opened: datetime, done: datetime | None, visit_end: datetime | None) -> None:
        db.add(ServiceOrder(
            estate_id=estate.id, kind=ServiceKind.repair, number=f"GH-WX-T-{n}", state=OrderState.done,
            channel=Channel.desk, unit_id=unit, contact_name="张伟", category="水电", created_by="desk",
            created_at=opened, done_at=done, appointment_end=visit_end, due_at=now + timedelta(hours=5),
        ))  # fmt: skip

    order(1, now - timedelta(hours=2), now - timedelta(hours=1), now - timedelta(minutes=30))
    order(2, now - timedelta(hours=31), now - timedelta(hours=1), None)
    for outcome in (CallOutcome.reached_satisfied, CallOutcome.reached_satisfied, CallOutcome.no_answer):
        db.add(CallTask(estate_id=estate.id, reason=CallReason.repair_callback, done_at=at, outcome=outcome))
    for n, category in enumerate((FeedbackCategory.complaint, FeedbackCategory.complaint, FeedbackCategory.praise)):
        db.add(FeedbackForm(
            estate_id=estate.id, number=f"GH-YJ-T-{n}", channel=Channel.desk, category=category, contact_name="张伟",
            subject="噪音", received_at=at, created_by="desk",
        ))  # fmt: skip

    # Renovation: one waiting for engineering past its 3 working days, one accepted with its refund due.
    for n, state, due in ((1, RenovationState.received, now - timedelta(hours=2)),
                          (2, RenovationState.accepted, now + timedelta(days=5))):  # fmt: skip
        db.add(Renovation(
            estate_id=estate.id, number=f"GH-ZX-T-{n}", state=state, unit_id=units[f"2-{n}A"], owner_name="陈静",
            starts_on=today, ends_on=today + timedelta(days=30), due_at=due,
        ))  # fmt: skip

    # Move-ins (R-MOVE): today two owners still in the queue, one filed, one cancelled; yesterday one left open.
    owner = db.scalar(select(Person.id).where(Person.estate_id == estate.id, Person.name == "张伟"))
    for n, (day, state) in enumerate(
        ((today, MoveInState.queued), (today, MoveInState.paid), (today, MoveInState.filed),
         (today, MoveInState.cancelled), (yesterday, MoveInState.checked)), start=1,
    ):  # fmt: skip
        db.add(MoveIn(
            estate_id=estate.id, number=f"GH-RH-T-{n}", unit_id=unit, owner_id=owner, ticket=n, queued_on=day,
            queued_at=now, state=state, created_by="desk",
        ))  # fmt: skip

    # Vacant units: one vacant since 40 days, one that was vacant from 100 to 50 days ago.
    for n, (starts, ends) in enumerate(((40, None), (100, 50))):
        code = ("1-4A", "1-4B")[n]
        takeover = TakeoverInspection(
            estate_id=estate.id, number=f"GH-JG-T-{n}", unit_id=units[code], developer="开发商",
            state=TakeoverState.signed, inspector_id=keeper.id, opened_at=now, signed_at=now,
        )  # fmt: skip
        db.add(takeover)
        db.flush()
        db.add(Vacancy(
            estate_id=estate.id, unit_id=units[code], takeover_id=takeover.id, starts_on=today - timedelta(days=starts),
            ends_on=None if ends is None else today - timedelta(days=ends),
        ))  # fmt: skip
    db.commit()
    return Seeded(now, today)


FIGURE = re.compile(
    r'<a class="figure[^"]*" id="figure-([\w-]+)" data-figure="(\w+)" data-count="(\d+)" href="([^"]+)"'
)


def figures(html: str) -> dict[str, tuple[int, str]]:
    """The dashboard's figures: `section-figure` → (count, link)."""
    return {key: (int(count), link.replace("&amp;", "&")) for key, _f, count, link in FIGURE.findall(html)}
