"""A cleaning order through its steps on each database (SQLite and PostgreSQL): the listing finds it by its unit and
its history holds every step (R-CLN-1, 5, 6)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from server.domain.service import cleaning, history
from server.domain.service.processes import CLEANING
from tests.server.service.cleaning.conftest import PNG, Desk, actor, local


def test_r_cln_a_whole_order_keeps_its_history_on_every_database(db: Session, desk: Desk) -> None:
    order = desk.book(db)
    cleaning.dispatch(db, actor(desk.desk), order, local("2026-11-02 09:05"), by=desk.desk)
    check = cleaning.Check("赵阿姨", "干净", True, PNG)
    cleaning.finish(db, actor(desk.cleaner), order, check, local("2026-11-03 11:00"), by=desk.cleaner)
    cleaning.return_order(db, actor(desk.desk), order, local("2026-11-03 12:00"), by=desk.desk)
    db.commit()
    page = cleaning.orders_page(db, desk.estate, cleaning.CleaningFilter(unit="5-8"), local("2026-11-03 13:00"), 1, 5)
    assert page.items == [order]
    assert [s.transition for s in history.steps(db, CLEANING, order)] == ["open", "dispatch", "finish", "return"]
