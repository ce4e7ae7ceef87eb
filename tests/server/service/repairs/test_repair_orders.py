"""A repair order's steps (R-REP-1…8) on the REPAIR process, with the clock set by each test: priced from the list
or quoted, the quote accepted before work starts, a dispute routed to engineering's duty lead, unfinished work with
its next visit, the resident's signature, the supervisor's sign-off opening the evening callback, the callback
only inside 19:00–22:00, failures back to the supervisor. Refused requests change nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import (
    AuditEntry,
    CallOutcome,
    CallReason,
    Channel,
    OrderState,
    ServiceKind,
    StepHistory,
)
from server.domain import registry
from server.domain.actors import SYSTEM
from server.domain.errors import DomainError
from server.domain.service import intake, prices, repair_registers, repairs, tracking
from server.domain.service.intake import OrderRequest, Quote
from tests.conftest import make_household

from .conftest import Desk, actor, counts, local, png_data_url

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def refused(db: Session, code: str, action: object, *args: object, **kwargs: object) -> None:
    """`action` is refused with `code` and leaves every table as it was."""
    before = counts(db)
    with pytest.raises(DomainError) as caught:
        action(*args, **kwargs)  # type: ignore[operator]
    db.rollback()
    assert caught.value.code == code, caught.value
    assert counts(db) == before


def test_r_rep_3_the_price_list_adds_edits_and_retires_lines(service_desk: Desk, db: Session) -> None:
    d, admin = service_desk, actor(service_desk.admin)
    at = local("2026-11-02 10:00")
    line = prices.PriceLine(ServiceKind.repair, "door-lock", "doors", "门锁更换", 8000, name_en="Door lock")
    item = prices.add_item(db, admin, d.estate, line, at)
    prices.edit_item(db, admin, d.estate, item.id, prices.PriceLine(**{**line.__dict__, "price_fen": 9000}), at)
    assert item.price_fen == 9000 and prices.categories(db, d.estate, ServiceKind.repair) == [
        "doors", "electrical", "plumbing",
    ]  # fmt: skip
    db.commit()
    refused(db, "code_taken", prices.add_item, db, admin, d.estate, line, at)
    refused(
        db,
        "bad_price",
        prices.add_item,
        db,
        admin,
        d.estate,
        prices.PriceLine(**{**line.__dict__, "code": "x", "price_fen": -1}),
        at,
    )
    prices.set_active(db, admin, d.estate, item.id, False, at)
    db.commit()
    assert item not in prices.items(db, d.estate, ServiceKind.repair, active_only=True)
    refused(db, "not_on_price_list", d.order, at, item="door-lock")  # a retired line prices no new order


def test_r_rep_3_a_paid_repair_off_the_list_needs_a_quote(service_desk: Desk, db: Session) -> None:
    d = service_desk
    request = OrderRequest(
        kind=ServiceKind.repair, channel=Channel.desk, unit_id=d.household.unit.id, contact_name="王先生",
        category="plumbing", paid=True,
    )  # fmt: skip
    refused(
        db,
        "quote_required",
        intake.open_order,
        db,
        actor(d.desk),
        d.estate,
        request,
        local("2026-11-02 10:00"),
        by=d.desk,
    )
    quoted = d.order(local("2026-11-02 10:00"), quote=Quote(2000, 5000))
    assert (quoted.paid, quoted.price_fen, quoted.number) == (True, 7000, "GH-WX-202611-0001")


def test_r_rep_1_an_order_for_another_estates_unit_is_refused(service_desk: Desk, db: Session) -> None:
    d = service_desk
    other = registry.create_estate(db, SYSTEM, "XS", "西山苑")
    theirs = make_household(db, other, "1-1A", credentials=False)
    request = OrderRequest(
        kind=ServiceKind.repair, channel=Channel.desk, unit_id=theirs.unit.id, contact_name="王先生",
        item_code="tap-leak",
    )  # fmt: skip
    refused(
        db,
        "unit_not_found",
        intake.open_order,
        db,
        actor(d.desk),
        d.estate,
        request,
        local("2026-11-02 10:00"),
        by=d.desk,
    )
    order = d.order(local("2026-11-02 10:00"))
    db.commit()
    with pytest.raises(DomainError) as caught:
        repairs.get_order(db, other, order.id)
    assert caught.value.code == "order_not_found"


def test_r_rep_4_work_waits_for_the_accepted_quote_and_a_dispute_goes_to_the_duty_lead(
    service_desk: Desk, db: Session
) -> None:
    d, e = service_desk, service_desk.engineer
    at = local("2026-11-02 10:00")
    order = d.order(at, quote=Quote(2000, 5000))
    repairs.assign(db, actor(e), order, e.id, at, by=e)
    repairs.schedule(db, actor(e), order, local("2026-11-02 14:00"), local("2026-11-02 16:00"), at, by=e)
    db.commit()
    refused(db, "quote_not_accepted", repairs.start, db, actor(e), order, at, by=e)
    repairs.dispute_price(db, actor(d.desk), order, "住户认为人工费太高", at, by=d.desk, lead=d.lead)
    db.commit()
    assert repairs.disputed(db, order)
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "repair.price_dispute"))
    assert entry is not None and str(d.lead.id) in entry.detail
    refused(db, "quote_not_accepted", repairs.start, db, actor(e), order, at, by=e)
    repairs.accept_quote(db, actor(e), order, local("2026-11-02 14:05"), by=e)
    repairs.start(db, actor(e), order, local("2026-11-02 14:10"), by=e)
    db.commit()
    assert order.state == OrderState.in_progress and not repairs.disputed(db, order)
    steps = [h.transition for h in repairs.history(db, order)]
    assert steps == ["open", "assign", "schedule", "price_dispute", "accept_quote", "start"]


def test_r_rep_5_unfinished_work_records_why_and_the_next_visit(service_desk: Desk, db: Session) -> None:
    """R-REP-5: work that cannot be finished on the spot records why, and the next visit is booked."""
    d, e = service_desk, service_desk.engineer
    at = local("2026-11-02 10:00")
    order = d.order(at)
    repairs.assign(db, actor(e), order, e.id, at, by=e)
    repairs.schedule(db, actor(e), order, local("2026-11-02 14:00"), local("2026-11-02 15:00"), at, by=e)
    repairs.start(db, actor(e), order, local("2026-11-02 14:00"), by=e)
    db.commit()
    refused(db, "missing_fields", repairs.unfinished, db, actor(e), order, " ", at, by=e)
    repairs.unfinished(
        db, actor(e), order, "缺配件，需订货", local("2026-11-02 15:00"), by=e,
        next_start=local("2026-11-04 09:00"), next_end=local("2026-11-04 10:00"),
    )  # fmt: skip
    db.commit()
    assert order.state == OrderState.scheduled and order.unfinished_reason == "缺配件，需订货"
    assert order.appointment_start == local("2026-11-04 09:00")


def test_r_rep_7_8_9_signatures_sign_off_once_and_a_callback_only_in_its_window(
    service_desk: Desk, db: Session
) -> None:
    d, e = service_desk, service_desk.engineer
    order = d.order(local("2026-11-02 10:00"))
    repairs.assign(db, actor(e), order, e.id, local("2026-11-02 10:00"), by=e)
    repairs.schedule(
        db, actor(e), order, local("2026-11-02 14:00"), local("2026-11-02 15:00"), local("2026-11-02 10:00"), by=e
    )
    repairs.start(db, actor(e), order, local("2026-11-02 14:00"), by=e)
    db.commit()
    no_signature = repairs.Completion("修好了", True, "data:image/png;base64,bm90IGEgcG5n", "李师傅")
    refused(db, "bad_signature", repairs.finish, db, actor(e), order, no_signature, local("2026-11-02 15:00"), by=e)
    done = repairs.Completion("修好了，很满意", True, png_data_url(), "李师傅")
    repairs.finish(db, actor(e), order, done, local("2026-11-02 15:00"), by=e)
    assert order.due_at == local("2026-11-02 17:30")  # back by the day's handover (R-REP-9)
    task = repairs.sign_off(db, actor(d.lead), order, local("2026-11-02 17:00"), by=d.lead)
    db.commit()
    assert (task.reason, task.opens_at, task.due_at) == (
        CallReason.repair_callback, local("2026-11-02 19:00"), local("2026-11-02 22:00"),
    )  # fmt: skip
    assert order.supervisor_signed_by_id == d.lead.id
    refused(db, "wrong_state", repairs.sign_off, db, actor(d.lead), order, local("2026-11-02 17:05"), by=d.lead)
    for too_early_or_late, code in ((local("2026-11-02 18:59"), "outside_call_window"),
                                    (local("2026-11-02 22:01"), "call_window_closed")):  # fmt: skip
        refused(db, code, repairs.record_callback, db, actor(d.desk), task, CallOutcome.reached_satisfied,
                too_early_or_late, by=d.desk)  # fmt: skip
    repairs.record_callback(
        db, actor(d.desk), task, CallOutcome.reached_satisfied, local("2026-11-02 19:30"), by=d.desk
    )
    db.commit()
    assert order.state == OrderState.called_back and task.outcome == CallOutcome.reached_satisfied


def test_r_rep_8_a_failed_callback_goes_back_to_the_supervisor(service_desk: Desk, db: Session) -> None:
    d = service_desk
    order = d.done(local("2026-11-02 15:00"))
    task = repairs.sign_off(db, actor(d.lead), order, local("2026-11-02 16:00"), by=d.lead)
    db.commit()
    refused(db, "missing_fields", repairs.record_callback, db, actor(d.desk), task, CallOutcome.no_answer,
            local("2026-11-02 20:00"), by=d.desk)  # fmt: skip
    repairs.record_callback(
        db, actor(d.desk), task, CallOutcome.no_answer, local("2026-11-02 20:00"), by=d.desk, note="无人接听"
    )
    db.commit()
    assert order.state == OrderState.returned and repairs.callback_failed(db, order)
    again = repairs.call_again(db, actor(d.supervisor), order, local("2026-11-02 21:00"), by=d.supervisor)
    assert again.opens_at == local("2026-11-02 19:00") and again.due_at == local("2026-11-02 22:00")
    repairs.record_callback(
        db, actor(d.desk), again, CallOutcome.reached_unsatisfied, local("2026-11-02 21:30"), by=d.desk, note="仍漏水"
    )
    repairs.reopen(db, actor(d.supervisor), order, "回访不满意，返修", local("2026-11-02 21:40"), by=d.supervisor)
    db.commit()
    assert order.state == OrderState.reopened
    e = d.engineer
    repairs.assign(db, actor(e), order, e.id, local("2026-11-03 09:00"), by=e)  # back to engineering
    db.commit()
    failed = db.scalars(select(StepHistory.transition).where(StepHistory.record_id == order.id)).all()
    assert failed.count("callback_failed") == 2 and "call_again" in failed


def test_r_rep_2_the_visit_is_at_the_time_agreed_and_work_starts_only_once_booked(
    service_desk: Desk, db: Session
) -> None:
    """R-REP-2: the repairer visits at the time agreed with the resident: no start before the visit is booked, and a
    booking needs a time that ends after it starts; the booked time is the order's appointment."""
    d, e = service_desk, service_desk.engineer
    at = local("2026-11-03 09:00")
    order = d.order(at)
    repairs.assign(db, actor(e), order, e.id, at, by=e)
    db.commit()
    refused(db, "wrong_state", repairs.start, db, actor(e), order, at, by=e)
    agreed = local("2026-11-03 14:00")
    refused(db, "bad_appointment", repairs.schedule, db, actor(e), order, agreed, agreed, at, by=e)
    repairs.schedule(db, actor(e), order, agreed, local("2026-11-03 16:00"), at, by=e)
    db.commit()
    assert (order.state, order.appointment_start) == (OrderState.scheduled, agreed)
    repairs.start(db, actor(e), order, local("2026-11-03 14:05"), by=e)
    assert order.state == OrderState.in_progress


def test_r_rep_1_a_request_passed_on_by_another_department_goes_on_the_tracking_sheet(
    service_desk: Desk, db: Session
) -> None:
    """R-REP-1: a repair that reaches the centre from another department (security saw a leak on a round) is entered
    by the desk with that channel, gets its 《工程维修单》 number and is a line of the month's paid-service tracking
    sheet 《有偿服务跟踪记录单》 like a call or a visit."""
    d = service_desk
    at = local("2026-10-20 10:00")
    passed_on = d.order(at, channel=Channel.department)
    at_desk = d.order(at + timedelta(minutes=5))
    db.commit()
    assert passed_on.channel == Channel.department and passed_on.number != at_desk.number
    sheet = tracking.all_orders(db, d.estate, tracking.parse_filter(d.estate, at, "2026-10", "repair", ""))
    assert [o.number for o in sheet] == [passed_on.number, at_desk.number]
    line = tracking.rows(db, d.estate, [passed_on])[0]
    assert line["number"] == passed_on.number and line["unit"] == d.household.unit.code


def test_r_rep_3_no_cash_at_the_door_a_listed_repair_is_billed_by_finance_at_its_price(
    service_desk: Desk, db: Session
) -> None:
    """R-REP-3: repairers take no cash. The repairer's sign-off carries no money; a listed repair cannot be given
    another "actual" amount at the door (refused, nothing changed), and finance bills the listed price."""
    d = service_desk
    at = local("2026-10-21 10:00")
    order = d.order(at)
    e = d.engineer
    repairs.assign(db, actor(e), order, e.id, at, by=e)
    repairs.schedule(db, actor(e), order, at, at + timedelta(hours=2), at, by=e)
    repairs.start(db, actor(e), order, at, by=e)
    db.commit()
    taken = repairs.Completion("修好了", True, png_data_url(), "李师傅", actual_fen=5000)
    refused(db, "actual_not_quoted", repairs.finish, db, actor(e), order, taken, at, by=e)
    done = repairs.Completion("修好了", True, png_data_url(), "李师傅")
    repairs.finish(db, actor(e), order, done, at, by=e)
    db.commit()
    assert order.state == OrderState.done and order.actual_fen is None
    assert order.paid and order.price_fen and repair_registers.billed_fen(order) == order.price_fen
