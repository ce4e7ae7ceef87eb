"""The "due today / late" boards per role (issue 17, item 5) and the paid-service tracking sheet (R-REP-1, R-CLN-1):
each figure counts what the role must do now or what is late (a query on `due_at` and the state), links to the
list it counts, and shows the first records; each role sees its own board; the sheet lists every repair and
cleaning order of the month with its filters."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from server.db.models import (
    CallOutcome,
    CallReason,
    CallTask,
    Channel,
    Estate,
    FeedbackCategory,
    FeedbackForm,
    FeedbackState,
    OrderState,
    Role,
    ServiceKind,
    ServiceOrder,
    StaffUser,
)
from server.domain.service import boards
from tests.conftest import Household, sign_in
from tests.server.service.service_world import price_list, quick_hashing

__all__ = ["quick_hashing"]

NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # Wednesday 12:00 in Shanghai
HOUR = timedelta(hours=1)


class World:
    def __init__(self, db: Session, estate: Estate, household: Household) -> None:
        self.db, self.estate, self.unit = db, estate, household.unit
        self.n = 0

    def order(self, kind: ServiceKind, state: OrderState, **fields: Any) -> ServiceOrder:
        self.n += 1
        code = "WX" if kind is ServiceKind.repair else "QJ"
        fields.setdefault("created_at", NOW - 2 * HOUR)
        order = ServiceOrder(
            estate_id=self.estate.id, kind=kind, number=f"GH-{code}-202611-{self.n:04d}", state=state,
            channel=Channel.desk, unit_id=self.unit.id, contact_name=f"住户{self.n}", category="plumbing",
            created_by="test", **fields,
        )  # fmt: skip
        self.db.add(order)
        self.db.flush()
        return order

    def form(self, state: FeedbackState, **fields: Any) -> FeedbackForm:
        self.n += 1
        form = FeedbackForm(
            estate_id=self.estate.id, number=f"GH-YJ-202611-{self.n:04d}", state=state, channel=Channel.phone,
            category=FeedbackCategory.complaint, contact_name="住户", subject="噪音", received_at=NOW - 30 * HOUR,
            created_by="test", **fields,
        )  # fmt: skip
        self.db.add(form)
        self.db.flush()
        return form

    def task(self, **fields: Any) -> CallTask:
        fields.setdefault("reason", CallReason.repair_callback)
        task = CallTask(estate_id=self.estate.id, **fields)
        self.db.add(task)
        self.db.flush()
        return task


@pytest.fixture
def world(quick_hashing: None, db: Session, estate: Estate, household: Household) -> World:
    """A day's work at 12:00 on a Wednesday, some of it late."""
    price_list(db, estate)
    w = World(db, estate, household)
    R, C, S = ServiceKind.repair, ServiceKind.cleaning, OrderState
    w.order(C, S.new)
    w.order(C, S.nobody_home)
    w.order(C, S.dispatched, appointment_start=NOW + 2 * HOUR, appointment_end=NOW + 4 * HOUR)
    w.order(C, S.dispatched, appointment_start=NOW + 26 * HOUR, appointment_end=NOW + 28 * HOUR)  # tomorrow
    w.order(C, S.done, due_at=NOW + 10 * HOUR)  # back by 22:00
    w.order(C, S.done, due_at=NOW - 2 * HOUR, escalated_at=NOW - HOUR)  # R-CLN-6: not back by 10:00
    w.order(R, S.new)
    w.order(R, S.reopened)
    w.order(R, S.assigned)
    w.order(R, S.scheduled, appointment_start=NOW + HOUR, appointment_end=NOW + 3 * HOUR)
    w.order(R, S.done, due_at=NOW + 5 * HOUR)
    w.order(R, S.done, due_at=NOW - 20 * HOUR)  # not returned by yesterday's handover
    w.order(R, S.done, due_at=NOW - 20 * HOUR, unreturned_reason="等配件")
    returned = w.order(R, S.returned, due_at=NOW + 10 * HOUR)
    # a stale due time of an earlier step is not lateness: called back, filed
    w.order(R, S.called_back, due_at=NOW - 40 * HOUR)
    w.order(R, S.filed, due_at=NOW - 400 * HOUR, created_at=NOW - 40 * 24 * HOUR)
    w.form(FeedbackState.received, due_at=NOW + 11 * HOUR)  # due by the end of today
    w.form(FeedbackState.received, due_at=NOW - 12 * HOUR)  # late
    w.form(FeedbackState.referred, due_at=NOW + 30 * HOUR, department="engineering")
    w.form(FeedbackState.replied, due_at=NOW - 40 * HOUR)  # replied: no longer late, waits for a signature
    w.form(FeedbackState.signed)
    w.task(opens_at=NOW - HOUR, due_at=NOW + 9 * HOUR)  # open now
    w.task(opens_at=NOW + 7 * HOUR, due_at=NOW + 10 * HOUR)  # tonight's window: not open yet
    w.task(opens_at=NOW - 20 * HOUR, due_at=NOW - 14 * HOUR)  # missed last night
    w.task(order_id=returned.id, done_at=NOW - HOUR, outcome=CallOutcome.reached_unsatisfied)  # R-REP-8
    db.commit()
    return w


def figures(world: World, role: str) -> dict[str, int]:
    return {f.key: f.count for f in boards.board(world.db, world.estate, role, NOW).figures}


def test_each_roles_board_counts_what_is_due_and_what_is_late(world: World) -> None:
    assert figures(world, "desk") == {
        "to_dispatch": 1, "nobody_home": 1, "calls_open": 1, "calls_late": 1, "forms_due_today": 1,
        "forms_late": 1, "answers_owed": 1,
    }  # fmt: skip
    assert figures(world, "engineering") == {
        "to_assign": 2, "to_schedule": 1, "visits_today": 1, "not_returned": 1, "returns_late": 2,
        "reasons_due": 1, "replies_due": 1,
    }  # fmt: skip
    assert figures(world, "environment") == {
        "cleaning_today": 1, "returns_due": 1, "returns_overdue": 1, "nobody_home": 1, "replies_due": 0,
    }  # fmt: skip
    assert figures(world, "supervisor") == {
        "repairs_late": 2, "cleaning_late": 1, "forms_late": 1, "calls_late": 1, "repairs_escalated": 0,
        "cleaning_escalated": 1, "forms_escalated": 0, "callbacks_failed": 1, "replies_to_sign": 1,
    }  # fmt: skip


def test_a_figure_lists_its_first_records_and_links_to_its_filtered_list(world: World) -> None:
    figure = {f.key: f for f in boards.board(world.db, world.estate, "engineering", NOW).figures}["returns_late"]
    assert figure.link == "/console/service/repairs?state=done&late=1"
    assert len(figure.lines) == 2 and all(line.late for line in figure.lines)
    page = boards.orders_page(
        world.db, world.estate, boards.OrderFilter(ServiceKind.repair, OrderState.done, True), NOW
    )
    assert page.total == figure.count and [o.number for o in page.items] == [line.number for line in figure.lines]


def test_staff_see_the_boards_of_the_work_they_do() -> None:
    assert boards.roles_for(Role.front_desk) == ["desk"]
    assert boards.roles_for(Role.engineering) == ["engineering"]
    assert boards.roles_for(Role.environment) == ["environment"]
    assert boards.roles_for(Role.cs_manager) == ["desk", "supervisor"]
    assert boards.roles_for(Role.general_manager) == ["supervisor"]  # views only
    assert boards.roles_for(Role.gate_guard) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_console_board_and_tracking_sheet(
    world: World, client: TestClient, make_user: Callable[..., StaffUser]
) -> None:
    """Every figure on the page is a link to its filtered list; the tracking sheet shows the month's orders (R-REP-1,
    R-CLN-1), filtered by kind and paid or free."""
    client.app.state.clock = lambda: NOW  # type: ignore[attr-defined]
    user = make_user(Role.engineering)
    sign_in(client, user.username, "correct-horse-1")
    page = client.get("/console/service")
    assert page.status_code == 200, page.text
    assert 'id="engineering-returns_late" href="/console/service/repairs?state=done&amp;late=1"' in page.text
    assert 'data-count="2"' in page.text and "board-desk" not in page.text
    sheet = client.get("/console/service/tracking", params={"month": "2026-11", "kind": "repair"})
    assert sheet.status_code == 200
    assert "GH-WX-202611-0007" in sheet.text and "GH-QJ-202611-0001" not in sheet.text
    assert "GH-WX-202611-0016" not in sheet.text  # opened in October
    october = client.get("/console/service/tracking", params={"month": "2026-10"})
    assert "GH-WX-202611-0016" in october.text
    sheet = client.get("/console/service/tracking/export.xlsx", params={"month": "2026-11", "paid": "free"})
    assert sheet.status_code == 200 and sheet.headers["content-type"].startswith("application/vnd.openxml")
    cells = [row for row in load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True)]
    assert cells[0][0] == "《有偿服务跟踪记录单》 · 观海台 · 2026-11" and cells[1][0] == "单号"
    assert len(cells) == 2 + 15 and all(row[8] == "无偿" for row in cells[2:])  # every November order is free here
    printed = client.get("/console/service/tracking/export.pdf", params={"month": "2026-11"})
    assert printed.status_code == 200 and printed.content.startswith(b"%PDF")
