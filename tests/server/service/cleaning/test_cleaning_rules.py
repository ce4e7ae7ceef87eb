"""Home cleaning (DOMAIN.md R-CLN-1…8) with the clock controlled: booking and dispatch, nobody home, out-of-scope
requests, the resident's check and signature, the 22:00 / 10:00 return rule, the unsatisfied callback, the
callback and the month-end household-service register."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import (
    AuditEntry,
    CallOutcome,
    CallReason,
    CallTask,
    Channel,
    OrderState,
    ServiceKind,
    ServiceOrder,
)
from server.domain.errors import DomainError, Forbidden, NotFound
from server.domain.service import cleaning, history
from server.domain.service.intake import OrderRequest
from server.domain.service.processes import CLEANING
from tests.server.service.cleaning.conftest import PNG, SHANGHAI, Desk, actor, local

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def audit_actions(db: Session, order: ServiceOrder) -> list[str]:
    rows = db.scalars(select(AuditEntry).where(AuditEntry.entity == "cleaning", AuditEntry.entity_id == str(order.id)))
    return [r.action for r in rows]


def dispatched(db: Session, desk: Desk) -> ServiceOrder:
    order = desk.book(db)
    cleaning.dispatch(db, actor(desk.desk), order, local("2026-11-02 09:05"), by=desk.desk)
    return order


def finished(db: Session, desk: Desk, at: str, satisfied: bool = True) -> ServiceOrder:
    order = dispatched(db, desk)
    check = cleaning.Check("赵阿姨", "干净" if satisfied else "厨房没擦", satisfied, PNG)
    cleaning.finish(db, actor(desk.cleaner), order, check, local(at), by=desk.cleaner)
    return order


def test_r_cln_1_a_booking_from_the_price_list_is_dispatched_to_environment(db: Session, desk: Desk) -> None:
    order = desk.book(db)
    assert order.number.startswith("GH-QJ-202611-") and order.state == OrderState.new
    assert (order.paid, order.price_fen, order.category) == (True, 30000, "deep")
    cleaning.dispatch(db, actor(desk.desk), order, local("2026-11-02 09:05"), by=desk.desk)
    assert order.state == OrderState.dispatched
    assert order.appointment_start == local("2026-11-03 09:00")
    assert "cleaning.environment_told" in audit_actions(db, order)
    assert [s.transition for s in history.steps(db, CLEANING, order)] == ["open", "dispatch"]


def test_r_cln_1_bad_bookings_are_refused_and_change_nothing(db: Session, desk: Desk) -> None:
    from server.domain import registry
    from server.domain.actors import SYSTEM

    other = registry.create_estate(db, SYSTEM, "XS", "西山苑", "Xishan")
    far = registry.ensure_unit(db, SYSTEM, other, "1-1A")
    db.commit()
    before = db.scalar(select(func.count()).select_from(ServiceOrder))
    request = OrderRequest(ServiceKind.cleaning, Channel.desk, far.id, "外人", item_code="deep")
    with pytest.raises(NotFound) as wrong_estate:
        cleaning.book(db, actor(desk.desk), desk.estate, request, local("2026-11-02 09:00"), by=desk.desk)
    db.rollback()
    with pytest.raises(DomainError) as not_listed:
        desk.book(db, item_code="sofa")
    db.rollback()
    assert (wrong_estate.value.code, not_listed.value.code) == ("unit_not_found", "not_on_price_list")
    assert db.scalar(select(func.count()).select_from(ServiceOrder)) == before


def test_r_cln_3_nobody_home_leaves_a_call_task_and_rebooking_closes_it(db: Session, desk: Desk) -> None:
    order = dispatched(db, desk)
    task = cleaning.nobody_home(db, actor(desk.cleaner), order, local("2026-11-03 09:10"), by=desk.cleaner)
    assert order.state == OrderState.nobody_home
    assert (task.reason, task.opens_at, task.due_at) == (CallReason.cleaning_rebook, None, None)
    start, end = local("2026-11-05 14:00"), local("2026-11-05 17:00")
    cleaning.rebook(db, actor(desk.desk), order, start, end, local("2026-11-03 10:00"), by=desk.desk, note="改周四")
    assert order.state == OrderState.dispatched and order.appointment_start == start
    assert task.outcome == CallOutcome.rebooked and task.done_at is not None
    assert audit_actions(db, order).count("cleaning.environment_told") == 2  # dispatched, then rebooked


def test_r_cln_3_the_desk_cancels_after_nobody_home_and_environment_is_told(db: Session, desk: Desk) -> None:
    order = dispatched(db, desk)
    task = cleaning.nobody_home(db, actor(desk.cleaner), order, local("2026-11-03 09:10"), by=desk.cleaner)
    with pytest.raises(DomainError):
        cleaning.cancel(db, actor(desk.desk), order, local("2026-11-03 10:00"), by=desk.desk, reason=" ")
    cleaning.cancel(db, actor(desk.desk), order, local("2026-11-03 10:00"), by=desk.desk, reason="住户不需要了")
    assert order.state == OrderState.cancelled and task.outcome == CallOutcome.cancelled
    assert audit_actions(db, order).count("cleaning.environment_told") == 2


def test_r_cln_4_an_out_of_scope_request_is_recorded_and_escalated(db: Session, desk: Desk) -> None:
    order = dispatched(db, desk)
    with pytest.raises(Forbidden):  # on site it is the cleaner's to record
        cleaning.out_of_scope(db, actor(desk.desk), order, "搬家具", local("2026-11-03 09:30"), by=desk.desk)
    cleaning.out_of_scope(db, actor(desk.cleaner), order, "要求搬动钢琴", local("2026-11-03 09:30"), by=desk.cleaner)
    assert order.out_of_scope == "要求搬动钢琴" and order.state == OrderState.dispatched
    assert "cleaning.escalated" in audit_actions(db, order)
    assert cleaning.escalated(db, desk.estate) == [order]


def test_r_cln_5_the_resident_checks_and_signs_without_cash(db: Session, desk: Desk) -> None:
    order = dispatched(db, desk)
    steps = len(history.steps(db, CLEANING, order))
    for signature, code in (("", "missing_fields"), ("data:image/jpeg;base64,AAAA", "bad_signature")):
        with pytest.raises(DomainError) as refused:
            check = cleaning.Check("赵阿姨", "满意", True, signature)
            cleaning.finish(db, actor(desk.cleaner), order, check, local("2026-11-03 11:00"), by=desk.cleaner)
        assert refused.value.code == code
    assert order.state == OrderState.dispatched and len(history.steps(db, CLEANING, order)) == steps
    with pytest.raises(Forbidden):  # the desk does not sign off the cleaner's work
        check = cleaning.Check("赵阿姨", "满意", True, PNG)
        cleaning.finish(db, actor(desk.desk), order, check, local("2026-11-03 11:00"), by=desk.desk)
    check = cleaning.Check("赵阿姨", "满意", True, PNG)
    assert cleaning.finish(db, actor(desk.cleaner), order, check, local("2026-11-03 11:00"), by=desk.cleaner) is None
    assert order.state == OrderState.done and order.resident_signature == PNG
    assert order.price_fen == 30000 and order.actual_fen is None  # billed by finance, nothing collected


@pytest.mark.parametrize(
    ("done", "due"),
    [
        ("2026-11-03 21:59", "2026-11-03 22:00"),  # before 22:00: back the same day
        ("2026-11-03 22:00", "2026-11-04 10:00"),  # from 22:00: by 10:00 the next day
        ("2026-11-03 23:40", "2026-11-04 10:00"),
    ],
)
def test_r_cln_6_finished_before_22_00_back_the_same_day_else_by_10_00(
    db: Session, desk: Desk, done: str, due: str
) -> None:
    order = finished(db, desk, done)
    assert order.due_at is not None and order.due_at.astimezone(SHANGHAI) == local(due)


def test_r_cln_6_an_order_not_back_in_time_is_flagged_overdue(db: Session, desk: Desk) -> None:
    order = finished(db, desk, "2026-11-03 22:30")
    assert cleaning.overdue_returns(db, desk.estate, local("2026-11-04 10:00")) == []
    assert cleaning.overdue_returns(db, desk.estate, local("2026-11-04 10:01")) == [order]
    task = cleaning.return_order(db, actor(desk.desk), order, local("2026-11-04 10:30"), by=desk.desk)
    assert order.state == OrderState.returned and order.returned_at == local("2026-11-04 10:30")
    assert cleaning.overdue_returns(db, desk.estate, local("2026-11-04 11:00")) == []
    assert history.steps(db, CLEANING, order)[-1].note == "逾期回单"
    assert task.reason == CallReason.cleaning_callback


def test_r_cln_7_an_unsatisfied_resident_gets_an_immediate_callback(db: Session, desk: Desk) -> None:
    order = finished(db, desk, "2026-11-03 11:00", satisfied=False)
    task = db.scalar(select(CallTask).where(CallTask.order_id == order.id))
    assert task is not None and (task.reason, task.opens_at) == (CallReason.dissatisfied, None)
    assert order.satisfied is False
    outcome = CallOutcome.reached_unsatisfied
    cleaning.call(db, actor(desk.desk), task, outcome, local("2026-11-03 11:20"), by=desk.desk, note="约环境主管复查")
    assert task.done_at is not None and "cleaning.follow_up" in audit_actions(db, order)
    assert order.state == OrderState.done  # the call changes nothing of the order's own steps


def test_r_cln_8_called_back_orders_are_filed_in_the_household_service_register(db: Session, desk: Desk) -> None:
    paid = finished(db, desk, "2026-11-03 11:00")
    callback = cleaning.return_order(db, actor(desk.desk), paid, local("2026-11-03 15:00"), by=desk.desk)
    free = desk.book(db, item_code="window")
    cleaning.dispatch(db, actor(desk.desk), free, local("2026-11-03 09:05"), by=desk.desk)
    check = cleaning.Check("钱师傅", "好", True, PNG)
    cleaning.finish(db, actor(desk.cleaner), free, check, local("2026-11-20 16:00"), by=desk.cleaner)
    cleaning.return_order(db, actor(desk.desk), free, local("2026-11-20 17:00"), by=desk.desk)
    # no answer leaves the call owed
    cleaning.call(db, actor(desk.desk), callback, CallOutcome.no_answer, local("2026-11-03 19:30"), by=desk.desk)
    again = cleaning.open_task(db, paid, CallReason.cleaning_callback)
    assert again is not None and paid.state == OrderState.returned
    ok = CallOutcome.reached_satisfied
    cleaning.call(db, actor(desk.desk), again, ok, local("2026-11-04 19:30"), by=desk.desk, note="满意")
    assert paid.state == OrderState.called_back
    filed = cleaning.file_month(db, actor(desk.admin), desk.estate, date(2026, 11, 1), local("2026-11-30 18:00"),
                                by=desk.admin)  # fmt: skip
    assert filed == 1 and paid.state == OrderState.filed and free.state == OrderState.returned  # a call still owed
    rows = cleaning.register_rows(db, desk.estate, date(2026, 11, 1), local("2026-12-01 09:00"))
    assert [r["number"] for r in rows] == [paid.number, free.number]
    assert rows[0]["amount"] == "300.00" and rows[0]["service"] == "全屋深度保洁"
    assert [r["number"] for r in cleaning.finance_rows(rows)] == [paid.number]  # the finance copy: paid orders
