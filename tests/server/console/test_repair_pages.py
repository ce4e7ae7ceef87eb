"""The console's repair, call, phone and price pages through the test client, with the app's clock set by the test:
a repair from the front desk to its callback (R-REP-1…9), the registers and their files (R-REP-9…12), the price
list (R-REP-3) and the phone script (R-PHONE). Bad input — another estate's unit, a paid repair off the list
without a quote, a callback outside its window, a second sign-off — shows a clear error and changes nothing."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import (
    CallReason,
    CallTask,
    Channel,
    Estate,
    OrderState,
    PriceItem,
    Role,
    ServiceKind,
    ServiceOrder,
)
from server.domain import registry, staff
from server.domain.actors import SYSTEM
from server.domain.service import calls, intake, prices
from server.domain.service.intake import OrderRequest
from tests.conftest import Household, csrf_of, make_household
from tests.server.service.repairs.conftest import counts, local, png_data_url

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self, app: FastAPI, at: datetime) -> None:
        self.at = at
        app.state.clock = lambda: self.at


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    return Clock(app, local("2026-11-02 09:00"))  # a Monday


@pytest.fixture
def price_list(db: Session, estate: Estate, household: Household) -> None:
    line = prices.PriceLine(ServiceKind.repair, "tap-leak", "plumbing", "水龙头维修", 3000)
    prices.add_item(db, SYSTEM, estate, line, local("2026-11-01 09:00"))
    db.commit()


def post(client: TestClient, path: str, data: dict[str, Any], page: str) -> Any:
    return client.post(path, data=data | {"csrf_token": csrf_of(client.get(page).text)}, follow_redirects=False)


def snapshot(db: Session) -> dict[str, int]:
    db.commit()  # end the reader's snapshot: what the app wrote is seen
    return counts(db)


def unchanged(db: Session, before: dict[str, int]) -> bool:
    return snapshot(db) == before


def order_of(db: Session, number: str | None = None) -> ServiceOrder:
    db.commit()
    query = select(ServiceOrder).order_by(ServiceOrder.id.desc())
    found = db.scalar(query.where(ServiceOrder.number == number) if number else query)
    assert found is not None
    db.refresh(found)
    return found


def test_r_rep_1_to_9_a_repair_from_the_desk_to_its_callback(
    as_role: Callable[..., Any], db: Session, clock: Clock, price_list: None, estate: Estate
) -> None:
    desk, _ = as_role("front_desk")
    engineer, eng = as_role("engineering")
    new = "/console/service/repairs/new"
    form = {"channel": "desk", "room": "5-8B", "contact_name": "王先生", "contact_phone": "13800000001",
            "category": "plumbing", "description": "水管漏水", "location": "厨房"}  # fmt: skip
    before = snapshot(db)
    refused = post(desk, new, form | {"paid": "true"}, new)  # R-REP-3: paid, off the list, no quote
    assert refused.status_code == 400 and "报价" in refused.text and unchanged(db, before)
    other = registry.create_estate(db, SYSTEM, "XS", "西山苑")
    make_household(db, other, "9-9A", credentials=False)
    before = snapshot(db)
    refused = post(desk, new, form | {"room": "9-9A"}, new)  # a unit of another estate is not this estate's
    assert refused.status_code == 404 and "9-9A" in refused.text and unchanged(db, before)
    opened = post(desk, new, form | {"paid": "true", "materials": "20", "labour": "50"}, new)
    assert opened.status_code == 303
    order = order_of(db)
    assert (order.price_fen, order.quote_materials_fen, order.channel.value) == (7000, 2000, "desk")
    page = f"/console/service/repairs/{order.id}"
    assert post(engineer, f"{page}/assign", {"engineer": str(eng.id)}, page).status_code == 303
    booked = {"start": "2026-11-02T14:00", "end": "2026-11-02T15:00"}
    assert post(engineer, f"{page}/schedule", booked, page).status_code == 303
    before = snapshot(db)
    early = post(engineer, f"{page}/start", {}, page)  # R-REP-4: not before the resident accepts the quote
    assert early.status_code == 400 and "尚未接受报价" in early.text and unchanged(db, before)
    assert post(desk, f"{page}/dispute", {"note": "人工费太高"}, page).status_code == 303
    assert "工程部值班负责人" in desk.get(page).text
    assert post(desk, f"{page}/accept-quote", {}, page).status_code == 303
    clock.at = local("2026-11-02 14:00")
    # R-REP-6: the repairer starting the work is reminded how to work on site (printed on the order as well)
    assert "不吸烟、不闲聊" in engineer.get(page).text.split('id="conduct"', 1)[1].split("</p>", 1)[0]
    assert post(engineer, f"{page}/start", {}, page).status_code == 303
    clock.at = local("2026-11-02 15:00")
    done = {"opinion": "修好了", "satisfied": "yes", "signature": png_data_url(), "repairer": "李师傅", "actual": "65"}
    assert post(engineer, f"{page}/finish", done, page).status_code == 303
    clock.at = local("2026-11-02 17:00")
    assert post(engineer, f"{page}/sign-off", {}, page).status_code == 303
    before = snapshot(db)
    twice = post(engineer, f"{page}/sign-off", {}, page)
    assert twice.status_code == 409 and unchanged(db, before)
    shown = desk.get(page).text
    assert 'id="signature-image"' in shown and "已返回" in shown and "¥65.00" in shown
    pdf = desk.get(f"{page}/form.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    sheet = load_workbook(io.BytesIO(desk.get(f"{page}/form.xlsx").content)).active  # the same order as XLSX
    lines = [row[:2] for row in sheet.iter_rows(values_only=True)]
    assert lines[0][0] == "工程维修单" and ("单号", order.number) in lines and ("维修内容", "水管漏水") in lines
    assert ("住户签名", "已签 2026-11-02 15:00") in lines  # the resident signed on finishing
    db.commit()
    task = db.scalar(select(CallTask).where(CallTask.order_id == order.id))
    assert task is not None
    queue = "/console/service/calls"
    assert "未到回访时段" in desk.get(queue).text
    before = snapshot(db)
    refused = post(desk, f"{queue}/{task.id}", {"outcome": "reached_satisfied"}, queue)  # R-REP-9: before 19:00
    assert refused.status_code == 400 and "未到回访时段" in refused.text and unchanged(db, before)
    clock.at = local("2026-11-02 19:30")
    assert post(desk, f"{queue}/{task.id}", {"outcome": "reached_satisfied", "note": "满意"}, queue).status_code == 303
    assert order_of(db, order.number).state == OrderState.called_back
    assert "已接通，满意" in desk.get(queue).text  # among today's calls with its outcome


def test_r_rep_9_to_12_the_registers_as_pages_and_files(
    as_role: Callable[..., Any], db: Session, clock: Clock, price_list: None
) -> None:
    desk, _ = as_role("front_desk")
    engineer, eng = as_role("engineering")
    admin, _ = as_role("records_admin")
    new = "/console/service/repairs/new"
    form = {"channel": "letter", "room": "5-8B", "contact_name": "王先生", "item_code": "tap-leak"}
    assert post(desk, new, form, new).status_code == 303
    order = order_of(db)
    page = f"/console/service/repairs/{order.id}"
    post(engineer, f"{page}/assign", {"engineer": str(eng.id)}, page)
    post(engineer, f"{page}/schedule", {"start": "2026-11-02T10:00", "end": "2026-11-02T11:00"}, page)
    post(engineer, f"{page}/start", {}, page)
    finished = {"opinion": "好", "satisfied": "yes", "signature": png_data_url(), "repairer": "李师傅"}
    assert post(engineer, f"{page}/finish", finished, page).status_code == 303
    clock.at = local("2026-11-02 18:00")  # past the handover, not returned
    handover = desk.get("/console/service/repairs/handover")
    assert order.number in handover.text and "未返回" in handover.text
    listed = desk.get("/console/service/repairs?late=true")
    assert order.number in listed.text
    unreturned = "/console/service/repairs/unreturned"
    assert post(engineer, f"{page}/unreturned-reason", {"reason": "住户外出未签"}, unreturned).status_code == 303
    assert "住户外出未签" in desk.get(unreturned).text
    book = load_workbook(io.BytesIO(desk.get("/console/service/repairs/unreturned.xlsx").content))
    cells = [c for row in book.active.iter_rows(values_only=True) for c in row]
    assert "未返回维修单记录表" in str(cells[0]) and order.number in cells and "住户外出未签" in cells
    for path in ("handover.pdf", "closing.pdf", "closing.xlsx", "filing.xlsx"):
        assert desk.get(f"/console/service/repairs/{path}").status_code == 200, path
    assert "合计" in desk.get("/console/service/repairs/closing?day=2026-11-04").text
    clock.at = local("2026-11-02 18:30")
    post(engineer, f"{page}/sign-off", {}, page)
    db.commit()
    task = db.scalar(select(CallTask).where(CallTask.order_id == order.id))
    assert task is not None
    clock.at = local("2026-11-02 20:00")
    post(desk, f"/console/service/calls/{task.id}", {"outcome": "reached_satisfied"}, "/console/service/calls")
    filing = "/console/service/repairs/filing?month=2026-11"
    before = snapshot(db)
    early = post(admin, "/console/service/repairs/filing", {"month": "2026-11"}, filing)  # R-REP-12: from the 1st
    assert early.status_code == 400 and unchanged(db, before)
    clock.at = local("2026-12-01 09:00")  # a new day's sign-in: yesterday's sessions have ended
    admin, _ = as_role("records_admin")
    finance, _ = as_role("finance")
    desk, _ = as_role("front_desk")
    assert post(admin, "/console/service/repairs/filing", {"month": "2026-11"}, filing).status_code == 303
    assert order_of(db, order.number).state == OrderState.filed and order.number in admin.get(filing).text
    copy = finance.get("/console/service/repairs/finance.xlsx?month=2026-11")
    rows = list(load_workbook(io.BytesIO(copy.content)).active.iter_rows(values_only=True))
    assert rows[2][0] == order.number and "¥30.00" in rows[2]
    assert desk.get("/console/service/repairs/finance.xlsx").status_code == 403


def test_r_rep_3_the_price_list_is_kept_by_the_cs_admin(as_role: Callable[..., Any], db: Session, clock: Clock) -> None:
    admin, _ = as_role("records_admin")
    desk, _ = as_role("front_desk")
    page = "/console/service/prices"
    line = {"kind": "repair", "code": "door-lock", "category": "doors", "name_zh": "门锁更换", "price": "80"}
    assert post(admin, page, line, page).status_code == 303
    before = snapshot(db)
    again = post(admin, page, line, page)
    assert again.status_code == 409 and unchanged(db, before)
    item = db.scalar(select(PriceItem).where(PriceItem.code == "door-lock"))
    assert item is not None
    edit = {"category": "doors", "name_zh": "门锁更换", "unit_zh": "把", "price": "95.50"}
    assert post(admin, f"{page}/{item.id}", edit, page).status_code == 303
    assert "¥95.50" in desk.get(page).text and 'action="/console/service/prices"' not in desk.get(page).text
    assert post(desk, page, line | {"code": "x"}, page).status_code == 403
    assert post(admin, f"{page}/{item.id}/active", {"active": "false"}, page).status_code == 303
    assert "门锁更换" not in desk.get(page).text
    book = load_workbook(io.BytesIO(desk.get(f"{page}/export.xlsx").content))
    assert "便民服务一览表" in str(next(book.active.iter_rows(values_only=True))[0])
    assert desk.get(f"{page}/export.pdf").content.startswith(b"%PDF")


def test_r_phone_the_phone_intake_follows_the_script_and_logs_every_call(
    as_role: Callable[..., Any], db: Session, clock: Clock, price_list: None
) -> None:
    desk, _ = as_role("front_desk")
    page = "/console/service/phone"
    call = {"room": "5-8B", "surname": "王", "phone_number": "13800000001", "topic": "repair",
            "summary": "卫生间水龙头漏水", "item_code": "tap-leak", "location": "卫生间",
            "handling": "今天下午工程部上门", "anything_else": "true"}  # fmt: skip
    before = snapshot(db)
    skipped = post(desk, page, call, page)  # the read-back left out
    assert skipped.status_code == 400 and "复述" in skipped.text and unchanged(db, before)
    assert re.search(r'name="summary"[^>]*>卫生间水龙头漏水<', skipped.text)  # the form keeps what was typed
    taken = post(desk, page, call | {"read_back": "true"}, page)
    assert taken.status_code == 303 and "/console/service/repairs/" in taken.headers["location"]
    assert order_of(db).channel.value == "phone"
    enquiry = {**call, "topic": "enquiry", "room": "", "read_back": "true", "outcome": "answered", "summary": "问停车"}
    assert post(desk, page, enquiry, page).status_code == 303
    log = desk.get(page).text
    assert log.count("13800000001") >= 2 and "已当场答复" in log


def test_the_call_queue_lists_other_areas_calls_with_a_link_to_their_pages(
    as_role: Callable[..., Any], db: Session, clock: Clock, estate: Estate, household: Household
) -> None:
    """Every open call of the estate is in the queue; a cleaning's or a feedback form's call is made on its page."""
    request = OrderRequest(ServiceKind.cleaning, Channel.desk, household.unit.id, "王女士", category="deep")
    cleaning = intake.open_order(db, SYSTEM, estate, request, clock.at, by=make_user_of(db, estate))
    task = calls.open_task(db, SYSTEM, estate, CallReason.cleaning_rebook, clock.at, order=cleaning)
    db.commit()
    desk, _ = as_role("front_desk")
    queue = desk.get("/console/service/calls").text
    assert f'href="/console/service/cleaning/{cleaning.id}"' in queue and "清洁改约" in queue
    before = snapshot(db)
    elsewhere = post(desk, f"/console/service/calls/{task.id}", {"outcome": "rebooked"}, "/console/service/calls")
    assert elsewhere.status_code == 400 and "单据页面" in elsewhere.text and unchanged(db, before)


def make_user_of(db: Session, estate: Estate) -> Any:
    return staff.create_user(
        db, SYSTEM, username="desk_cleaning", display_name="前台", role=Role.front_desk, password="x-horse-12345",
        estates=[estate],
    )  # fmt: skip
