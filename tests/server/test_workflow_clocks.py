"""A transition that starts a clock stores the step's due time on the record (WORKFLOWS.md: "which clock starts"),
reckoned on the estate's wall clock and its working days; "late" is then a query."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import DateTime, Engine, Integer, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from server.db.models import Estate, StepHistory
from server.domain import workdays, workflow
from server.domain.actors import SYSTEM
from server.domain.deadlines import SameDayWindow, WorkingDays
from server.domain.workflow import NEW, Transition

SHANGHAI = ZoneInfo("Asia/Shanghai")


class _Base(DeclarativeBase):
    pass


class Ticket(_Base):
    """A stand-in process record, in a table of its own (not part of the product's schema)."""

    __tablename__ = "test_tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    estate_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="")
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    opens_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class TicketState(enum.StrEnum):
    open = "open"
    answered = "answered"
    called_back = "called_back"


FLOW = workflow.process(
    "ticket",
    TicketState,
    Transition("open", frozenset({NEW}), TicketState.open, starts=WorkingDays(1)),
    Transition("answer", frozenset({TicketState.open}), TicketState.answered, starts=SameDayWindow(time(19), time(22))),
)


@pytest.fixture
def tickets(engine: Engine) -> None:
    """The stand-in table, in this test's own fresh database (nothing to drop afterwards)."""
    _Base.metadata.create_all(engine)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def test_a_step_that_starts_a_clock_stores_its_due_time(db: Session, estate: Estate, tickets: None) -> None:
    ticket = Ticket(estate_id=estate.id)
    workflow.step(db, SYSTEM, FLOW, ticket, "open", local("2026-09-30 10:00"))
    assert ticket.due_at is not None
    assert ticket.due_at.astimezone(SHANGHAI) == local("2026-10-08 23:59:59")  # after the National Day holiday
    workflow.step(db, SYSTEM, FLOW, ticket, "answer", local("2026-10-08 17:30"))
    assert (ticket.opens_at, ticket.due_at) == (local("2026-10-08 19:00"), local("2026-10-08 22:00"))
    db.commit()
    steps = db.scalars(select(StepHistory.transition).where(StepHistory.process == "ticket")).all()
    assert steps == ["open", "answer"]


def test_the_estate_s_own_days_move_the_due_time(db: Session, estate: Estate, tickets: None) -> None:
    workdays.set_day(db, SYSTEM, estate, date(2026, 11, 30), working=False, name="台风", now=datetime.now(UTC))
    ticket = Ticket(estate_id=estate.id)
    workflow.step(db, SYSTEM, FLOW, ticket, "open", local("2026-11-27 16:00"))
    db.commit()
    assert ticket.due_at is not None and ticket.due_at.astimezone(SHANGHAI).date() == date(2026, 12, 1)
