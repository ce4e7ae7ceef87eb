"""Record numbers from one counter and the estate's own working days (WORKFLOWS.md), on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from server.db.engine import make_sessionmaker
from server.db.models import AuditEntry, CalendarDay, Estate
from server.domain import numbering, registry, workdays
from server.domain.actors import SYSTEM

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)


def test_numbers_run_per_estate_kind_and_month(db: Session, estate: Estate) -> None:
    other = registry.create_estate(db, SYSTEM, "YH", "雅湖", "Yahu")
    made = [
        numbering.next_number(db, estate, "WX", date(2026, 11, 30)),
        numbering.next_number(db, estate, "WX", date(2026, 11, 30)),
        numbering.next_number(db, estate, "QJ", date(2026, 11, 30)),
        numbering.next_number(db, other, "WX", date(2026, 11, 30)),
        numbering.next_number(db, estate, "WX", date(2026, 12, 1)),
    ]
    assert made == [
        "GH-WX-202611-0001",
        "GH-WX-202611-0002",
        "GH-QJ-202611-0001",
        "YH-WX-202611-0001",
        "GH-WX-202612-0001",
    ]
    assert sorted(made[:2] + made[4:]) == [made[0], made[1], made[4]]  # sortable as text


def test_a_kind_that_is_not_capitals_is_refused(db: Session, estate: Estate) -> None:
    with pytest.raises(ValueError, match="capital"):
        numbering.next_number(db, estate, "wx", date(2026, 11, 30))


def test_concurrent_numbers_are_never_shared(engine: Engine, estate: Estate) -> None:
    """Eight writers at once, each in its own transaction: eight different numbers."""
    factory = make_sessionmaker(engine)
    got: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(8)

    def take() -> None:
        try:
            start.wait()
            with factory() as session, session.begin():
                mine = session.get_one(Estate, estate.id)
                got.append(numbering.next_number(session, mine, "WX", date(2026, 11, 30)))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(got) == [f"GH-WX-202611-{n:04d}" for n in range(1, 9)]


def test_an_estate_day_is_kept_audited_and_used(db: Session, estate: Estate) -> None:
    monday = date(2026, 11, 30)
    assert workdays.estate_calendar(db, estate).add_working_days(date(2026, 11, 27), 1) == monday
    workdays.set_day(db, SYSTEM, estate, monday, working=False, name="台风停工", now=NOW)
    db.commit()
    assert workdays.estate_calendar(db, estate).add_working_days(date(2026, 11, 27), 1) == date(2026, 12, 1)
    row = db.get_one(CalendarDay, (estate.id, monday))
    assert (row.working, row.name) == (False, "台风停工")
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "calendar.set_day")) is not None
    assert workdays.clear_day(db, SYSTEM, estate, monday)
    assert not workdays.clear_day(db, SYSTEM, estate, monday)
    db.commit()
    assert workdays.estate_calendar(db, estate).is_working_day(monday)
