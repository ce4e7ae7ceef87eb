"""Escalating late service-desk work to the supervisor with the clock controlled (issue 17: "late items escalate to
the supervisor"): a repair not returned by the next handover (R-REP-7, 9) and then not called back in its window
(R-REP-8), a cleaning finished after 22:00 and not back by 10:00 (R-CLN-6), a feedback form not formed within 1
working day across a weekend (R-FB-3), a call task past its window. Each is escalated once for its deadline, by
one worker at a time, from the server's sweep and from `estate service sweep`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from server.cli import service as cli_service
from server.cli.app import app as cli_app
from server.config import Settings
from server.db.models import (
    AuditEntry,
    CallReason,
    CallTask,
    Channel,
    Estate,
    FeedbackCategory,
    FeedbackForm,
    Role,
    ServiceKind,
    ServiceOrder,
    StaffUser,
)
from server.domain import staff, sweeps, workflow
from server.domain.actors import SYSTEM
from server.domain.service import escalation, intake
from server.domain.service.processes import CALLBACK_WINDOW, CLEANING, REPAIR
from server.web.app import create_app, sweep_service
from tests.conftest import Household
from tests.server.service.service_world import Clock, price_list, quick_hashing

__all__ = ["quick_hashing"]

TUESDAY = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
SHANGHAI = timedelta(hours=8)


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """November `day`, 2026 at hour:minute in Shanghai, in UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - SHANGHAI


def entries(db: Session) -> list[AuditEntry]:
    db.commit()  # end the reader's snapshot: see what the app wrote
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == "service.escalated")))


def sweep(db: Session, at: datetime) -> list[escalation.Escalated]:
    found = escalation.escalate_all(db, SYSTEM, at)
    db.commit()
    return found


@pytest.fixture
def engineer(quick_hashing: None, db: Session, estate: Estate, household: Household) -> StaffUser:
    price_list(db, estate)
    user = staff.create_user(
        db, SYSTEM, username="eng", display_name="李师傅", role=Role.engineering, password="correct-horse-1",
        estates=[estate],
    )  # fmt: skip
    db.commit()
    return user


def finished_repair(
    db: Session, estate: Estate, household: Household, engineer: StaffUser, at: datetime
) -> ServiceOrder:
    request = intake.OrderRequest(ServiceKind.repair, Channel.phone, household.unit.id, "王建国", item_code="tap-leak")
    order = intake.open_order(db, SYSTEM, estate, request, at - timedelta(hours=6))
    for name, fields in (
        ("assign", {"assignee_id": engineer.id}),
        ("schedule", {"appointment_start": at - timedelta(hours=2), "appointment_end": at}),
        ("start", {}),
        ("finish", {"resident_opinion": "满意", "resident_signature": "data:image/png;base64,AA==",
                    "repairer_signed_by": "李师傅"}),
    ):  # fmt: skip
        workflow.step(db, SYSTEM, REPAIR, order, name, at, by=engineer, fields=fields)
    db.commit()
    return order


def test_a_repair_late_to_return_then_late_to_call_back_is_escalated_once_for_each(
    db: Session, estate: Estate, household: Household, engineer: StaffUser
) -> None:
    """R-REP-9: finished at 18:00, after the 17:30 handover: due back by the next day's 17:30. Escalated once
    after that; returned late, its callback window 19:00–22:00 is a new deadline, escalated again once missed."""
    order = finished_repair(db, estate, household, engineer, local(24, 18))
    assert order.due_at == local(25, 17, 30)
    assert sweep(db, local(25, 17, 29)) == []
    (first,) = sweep(db, local(25, 17, 31))
    assert (first.entity, first.number, first.due_at) == ("repair", order.number, local(25, 17, 30))
    assert sweep(db, local(25, 18)) == []  # once for the deadline
    assert len(entries(db)) == 1 and entries(db)[0].entity_id == str(order.id)
    workflow.step(db, SYSTEM, REPAIR, order, "return", local(25, 18), by=engineer,
                  fields={"supervisor_signed_by_id": engineer.id})  # fmt: skip
    db.commit()
    assert order.due_at == local(25, 22)
    assert sweep(db, local(25, 21)) == []
    (second,) = sweep(db, local(25, 22, 1))
    assert second.id == order.id and len(entries(db)) == 2


def test_a_cleaning_finished_after_22_is_late_only_after_10_the_next_day(
    db: Session, estate: Estate, household: Household, engineer: StaffUser
) -> None:
    """R-CLN-6: finished at 22:30 → back by 10:00 the next day; escalated at 10:01, not at 09:59."""
    request = intake.OrderRequest(ServiceKind.cleaning, Channel.desk, household.unit.id, "王建国", item_code="deep-3h")
    order = intake.open_order(db, SYSTEM, estate, request, local(24, 9))
    cleaner = staff.create_user(db, SYSTEM, username="env", display_name="张阿姨", role=Role.environment,
                                password="correct-horse-1", estates=[estate])  # fmt: skip
    desk = staff.create_user(db, SYSTEM, username="desk", display_name="前台", role=Role.front_desk,
                             password="correct-horse-1", estates=[estate])  # fmt: skip
    workflow.step(db, SYSTEM, CLEANING, order, "dispatch", local(24, 9), by=desk,
                  fields={"appointment_start": local(24, 19), "appointment_end": local(24, 22)})  # fmt: skip
    workflow.step(db, SYSTEM, CLEANING, order, "finish", local(24, 22, 30), by=cleaner,
                  fields={"resident_opinion": "好", "resident_signature": "x", "worker_name": "张阿姨"})  # fmt: skip
    db.commit()
    assert order.due_at == local(25, 10)
    assert sweep(db, local(25, 9, 59)) == []
    assert [e.number for e in sweep(db, local(25, 10, 1))] == [order.number]


def test_feedback_received_on_friday_is_late_only_after_monday_and_a_call_after_its_window(
    db: Session, estate: Estate, household: Household, engineer: StaffUser
) -> None:
    """R-FB-3: a form received on Friday is due by the end of Monday (the weekend is not counted); a callback task
    is late after 22:00 (R-REP-9)."""
    from server.domain.service import calls

    request = intake.FeedbackRequest(Channel.phone, FeedbackCategory.complaint, "王建国", "楼道灯不亮")
    form = intake.open_feedback(db, SYSTEM, estate, request, local(27, 10), by=None)
    task = calls.open_task(db, SYSTEM, estate, CallReason.repair_callback, local(30, 12), window=CALLBACK_WINDOW)
    db.commit()
    assert sweep(db, local(30, 21, 59)) == []  # Sunday passed; Monday not over
    assert {(e.entity, e.id) for e in sweep(db, local(30, 22, 1))} == {("call_task", task.id)}
    assert sweep(db, local(30, 23, 59)) == []  # the form: due by the end of Monday
    found = sweep(db, datetime(2026, 11, 30, 16, 1, tzinfo=UTC))  # Tuesday 00:01 in Shanghai
    assert [(e.entity, e.id) for e in found] == [("feedback", form.id)]
    db.expire_all()
    assert db.get(FeedbackForm, form.id).escalated_at is not None  # type: ignore[union-attr]
    assert db.get(CallTask, task.id).escalated_at == local(30, 22, 1)  # type: ignore[union-attr]


def test_only_the_holder_of_the_lease_sweeps_and_the_server_sweeps_by_its_clock(
    db: Session, estate: Estate, household: Household, engineer: StaffUser, settings: Settings, engine: object
) -> None:
    """Several workers: while another holds the sweep's lease this one escalates nothing; the server's sweep
    (run from its lifespan) escalates by the app's clock and then finds nothing more."""
    finished_repair(db, estate, household, engineer, local(24, 18))
    late = local(25, 18)

    def run(work):  # type: ignore[no-untyped-def]
        result = work(db)
        db.commit()
        return result

    assert sweeps.take_lease(db, escalation.SWEEP, "other-worker", late, escalation.HOLD)
    db.commit()
    assert escalation.sweep(run, run, "this-worker", SYSTEM, late) == []
    assert entries(db) == []
    app = create_app(settings.model_copy(update={"service_sweep_seconds": 0}), engine, clock=Clock(late))  # type: ignore[arg-type]
    assert sweep_service(app) == 0  # the other worker's lease has not lapsed
    app.state.clock = Clock(late + escalation.HOLD + timedelta(seconds=1))
    assert sweep_service(app) == 1
    assert sweep_service(app) == 0
    assert len(entries(db)) == 1


def test_estate_service_sweep_escalates_from_the_command_line(
    db: Session, estate: Estate, household: Household, engineer: StaffUser, engine: Engine,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """`estate service sweep` (in-process, on the test's database): each escalated record a JSON line, once."""
    order = finished_repair(db, estate, household, engineer, datetime.now(UTC) - timedelta(days=3))
    monkeypatch.setattr(cli_service, "open_engine", lambda: engine)
    first = CliRunner().invoke(cli_app, ["service", "sweep"])
    assert first.exit_code == 0, first.output
    (line,) = [json.loads(x) for x in first.stdout.splitlines()]
    assert (line["entity"], line["number"]) == ("repair", order.number)
    again = CliRunner().invoke(cli_app, ["service", "sweep"])
    assert again.stdout == "" and "0 late record(s) escalated" in again.stderr
