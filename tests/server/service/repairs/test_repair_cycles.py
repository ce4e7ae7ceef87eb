"""The repair desk's cycles (R-REP-9…12) and the phone script (R-PHONE), with the clock set by each test: the 17:30
handover of the day's completed orders, the Wednesday closing totals, the unreturned-order register due by Friday,
the monthly filing by order number and finance's copy of paid orders; a call logged only when taken by the script,
a repair call opening its order."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import CallOutcome, CallTopic, Channel, OrderState, PhoneCall
from server.domain.errors import DomainError
from server.domain.service import phone, repairs
from server.domain.service import repair_registers as reg
from server.domain.service.intake import Quote

from .conftest import Desk, actor, counts, local

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_r_rep_9_the_1730_handover_lists_the_days_completed_orders_and_whether_returned(
    service_desk: Desk, db: Session
) -> None:
    d = service_desk
    back = d.done(local("2026-11-02 10:00"))
    repairs.sign_off(db, actor(d.lead), back, local("2026-11-02 17:20"), by=d.lead)
    not_back = d.done(local("2026-11-02 11:00"))
    evening = d.done(local("2026-11-02 18:30"))  # after the handover: due back by the next day's
    d.done(local("2026-11-01 16:00"))  # another day
    db.commit()
    assert evening.due_at == local("2026-11-03 17:30")
    lines = reg.handover(db, d.estate, date(2026, 11, 2), local("2026-11-02 17:45"))
    assert [(line.order.number, line.returned, line.late) for line in lines] == [
        (back.number, True, False),
        (not_back.number, False, True),  # past 17:30 and not back
        (evening.number, False, False),
    ]


def test_r_rep_10_wednesday_closing_totals_the_week_for_engineering(service_desk: Desk, db: Session) -> None:
    """R-REP-10: Wednesday is closing day: the repair records of the week to Wednesday, totalled for engineering."""
    d = service_desk
    paid = d.done(local("2026-10-29 10:00"))  # Thursday: the first day of the week closing on 4 November
    repairs.sign_off(db, actor(d.lead), paid, local("2026-10-29 11:00"), by=d.lead)
    quoted = d.done(local("2026-11-04 09:00"), quote=Quote(1000, 2500))  # the closing Wednesday itself
    d.done(local("2026-11-03 10:00"), item="bulb")  # free
    d.order(local("2026-11-04 11:00"))  # received, still open
    d.done(local("2026-10-28 10:00"))  # the week before
    db.commit()
    for day in (date(2026, 11, 4), date(2026, 11, 10)):  # on the Wednesday, and the next Tuesday: the same week
        closing = reg.closing_totals(db, d.estate, day)
        assert (closing.since, closing.until) == (date(2026, 10, 29), date(2026, 11, 4))
    total = closing.total
    assert (total.received, total.done, total.returned, total.open, total.paid) == (4, 3, 1, 1, 2)
    assert total.billed_fen == 3000 + quoted.price_fen
    assert [line.category for line in closing.lines] == ["electrical", "plumbing"]
    assert reg.closing_totals(db, d.estate, date(2026, 11, 11)).since == date(2026, 11, 5)


def test_r_rep_11_the_unreturned_register_wants_engineerings_reasons_by_friday(service_desk: Desk, db: Session) -> None:
    """R-REP-11: orders not returned this week go on the unreturned-order register; engineering's reasons by Friday."""
    d = service_desk
    first = d.done(local("2026-11-02 10:00"))
    second = d.done(local("2026-11-03 10:00"))
    back = d.done(local("2026-11-03 11:00"))
    repairs.sign_off(db, actor(d.lead), back, local("2026-11-03 12:00"), by=d.lead)
    db.commit()
    thursday = reg.unreturned(db, d.estate, local("2026-11-05 09:00"))
    assert thursday.reasons_due == local("2026-11-06 23:59:59")  # Friday
    assert [(line.order.number, line.reason_late) for line in thursday.lines] == [
        (first.number, False), (second.number, False),
    ]  # fmt: skip
    repairs.unreturned_reason(
        db, actor(d.engineer), first, "住户外出，未能签字", local("2026-11-06 16:00"), by=d.engineer
    )
    db.commit()
    saturday = reg.unreturned(db, d.estate, local("2026-11-07 09:00"))
    assert [(line.order.unreturned_reason, line.reason_late) for line in saturday.lines] == [
        ("住户外出，未能签字", False), ("", True),
    ]  # fmt: skip
    with pytest.raises(DomainError) as caught:
        repairs.unreturned_reason(db, actor(d.engineer), back, "x", local("2026-11-06 16:00"), by=d.engineer)
    assert caught.value.code == "wrong_state"


def test_r_rep_12_the_months_orders_are_filed_by_number_on_the_1st_and_finance_gets_the_paid_ones(
    service_desk: Desk, db: Session
) -> None:
    d = service_desk
    orders = [d.done(local(f"2026-10-{day} 10:00")) for day in (20, 21)]
    orders.append(d.done(local("2026-10-22 10:00"), item="bulb"))
    for order in orders:
        task = repairs.sign_off(
            db, actor(d.lead), order, local(order.done_at.strftime("%Y-%m-%d") + " 12:00"), by=d.lead
        )  # type: ignore[union-attr]
        repairs.record_callback(db, actor(d.desk), task, CallOutcome.reached_satisfied, task.opens_at, by=d.desk)  # type: ignore[arg-type]
    pending = d.done(local("2026-10-30 10:00"))  # never returned: not filed
    db.commit()
    before = counts(db)
    with pytest.raises(DomainError) as caught:
        reg.file_month(db, actor(d.admin), d.estate, date(2026, 10, 1), local("2026-10-31 20:00"), by=d.admin)
    db.rollback()
    assert caught.value.code == "month_not_over" and counts(db) == before
    filed = reg.file_month(db, actor(d.admin), d.estate, date(2026, 10, 1), local("2026-11-01 09:00"), by=d.admin)
    db.commit()
    assert [o.number for o in filed] == sorted(o.number for o in orders)
    assert all(o.state == OrderState.filed for o in orders) and pending.state == OrderState.done
    assert [o.number for o in reg.filed(db, d.estate, date(2026, 10, 1))] == [o.number for o in filed]
    paid = reg.paid_orders(db, d.estate, date(2026, 10, 1))
    assert [o.number for o in paid] == [orders[0].number, orders[1].number, pending.number]  # the bulb is free


def script(**changes: object) -> phone.Call:
    values: dict[str, object] = {
        "room": "5-8B", "surname": "王", "phone": "13800000001", "topic": CallTopic.repair,
        "summary": "卫生间水龙头漏水", "read_back": True, "handling": "今天下午工程部上门，先电话预约",
        "anything_else_asked": True, "item_code": "tap-leak", "location": "卫生间",
    }  # fmt: skip
    return phone.Call(**{**values, **changes})  # type: ignore[arg-type]


def test_r_phone_a_call_is_logged_only_when_taken_by_the_script_and_a_repair_call_opens_its_order(
    service_desk: Desk, db: Session
) -> None:
    d, at = service_desk, local("2026-11-02 10:00")
    left_outs = [({"room": ""}, "room"), ({"read_back": False}, "read_back"),
                 ({"anything_else_asked": False}, "anything_else_asked"), ({"handling": " "}, "handling")]  # fmt: skip
    for left_out, field in left_outs:
        before = counts(db)
        with pytest.raises(DomainError) as caught:
            phone.log_call(db, actor(d.desk), d.estate, script(**left_out), at, by=d.desk)
        db.rollback()
        assert (caught.value.code, caught.value.detail["fields"]) == ("script_incomplete", [field])
        assert counts(db) == before
    with pytest.raises(DomainError) as caught:
        phone.log_call(db, actor(d.desk), d.estate, script(room="9-9Z"), at, by=d.desk)
    db.rollback()
    assert caught.value.code == "unit_not_found"
    call = phone.log_call(db, actor(d.desk), d.estate, script(), at, by=d.desk)
    enquiry = script(topic=CallTopic.enquiry, room="", outcome="answered", summary="问停车费")
    phone.log_call(db, actor(d.desk), d.estate, enquiry, at, by=d.desk)
    db.commit()
    order = repairs.get_order(db, d.estate, call.order_id or 0)
    assert (order.channel, order.contact_name, order.location, call.outcome) == (
        Channel.phone, "王", "卫生间", "order_opened",
    )  # fmt: skip
    day = phone.calls_of_day(db, d.estate, date(2026, 11, 2))
    assert [(c.topic, c.outcome) for c in day] == [(CallTopic.repair, "order_opened"), (CallTopic.enquiry, "answered")]
    assert db.scalar(select(PhoneCall).where(PhoneCall.order_id.is_(None))).read_back  # type: ignore[union-attr]
