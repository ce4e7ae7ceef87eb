"""Home cleaning in the console (R-CLN-1…8) with the app's clock controlled: booking from the price list, dispatch,
nobody home with the note and the desk's rebooking, out-of-scope requests, the resident's signature, the overdue
return flag, the unsatisfied callback, and the papers (dispatch order, note, the household-service register)."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.config import Settings
from server.db.models import CallReason, CallTask, Estate, OrderState, PriceItem, ServiceKind, ServiceOrder
from tests.conftest import Household
from tests.server.console.conftest import Account

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def signature_png() -> str:
    image = Image.new("RGB", (120, 40), "white")
    image.putpixel((10, 10), (0, 0, 0))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


class Clock:
    def __init__(self, app: FastAPI) -> None:
        self.now = datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI)
        app.state.clock = lambda: self.now

    def set(self, text: str) -> None:
        self.now = datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Sessions that outlast the days the clock is moved through."""
    return Settings(data_dir=tmp_path / "data", database_url=database_url, session_hours=24 * 30)


@pytest.fixture
def clock(app: FastAPI) -> Clock:
    return Clock(app)


@pytest.fixture
def priced(db: Session, estate: Estate, household: Household) -> None:
    db.add(PriceItem(estate_id=estate.id, kind=ServiceKind.cleaning, code="deep", category="deep",
                     name_zh="全屋深度保洁", price_fen=30000))  # fmt: skip
    db.commit()


def post(client: TestClient, url: str, csrf: str, **form: str) -> object:
    return client.post(url, data={"csrf_token": csrf, **form}, follow_redirects=False)


def order_id(location: str) -> int:
    match = re.search(r"/cleaning/(\d+)", location)
    assert match, location
    return int(match[1])


def test_r_cln_booking_dispatch_nobody_home_rebook_finish_and_return(
    db: Session,
    as_role: Callable[..., tuple[TestClient, Account]],
    page_csrf: Callable[[str], str],
    clock: Clock,
    priced: None,
) -> None:
    """R-CLN-1…8 through the pages; R-CLN-2: the dispatch order the cleaner brings to the door is printed."""
    desk, _ = as_role("front_desk")
    cleaner, _ = as_role("environment")
    page = desk.get("/console/service/cleaning/new")
    assert page.status_code == 200 and "全屋深度保洁" in page.text
    csrf = page_csrf(page.text)
    before = db.scalar(select(func.count()).select_from(ServiceOrder))
    refused = post(desk, "/console/service/cleaning/new", csrf, unit="9-9Z", contact_name="王", item="deep")
    assert refused.status_code == 404 and "9-9Z" in refused.text  # the form again, with the error
    db.commit()
    assert db.scalar(select(func.count()).select_from(ServiceOrder)) == before
    booked = post(desk, "/console/service/cleaning/new", csrf, unit="5-8B", contact_name="王建国", item="deep",
                  contact_phone="13800000001", start="2026-11-03T09:00", end="2026-11-03T12:00")  # fmt: skip
    assert booked.status_code == 303
    oid = order_id(booked.headers["location"])
    base = f"/console/service/cleaning/{oid}"
    assert post(desk, f"{base}/dispatch", csrf).status_code == 303  # R-CLN-1: the booked time
    assert desk.get(f"{base}/dispatch.pdf").content.startswith(b"%PDF")
    sheet = load_workbook(io.BytesIO(desk.get(f"{base}/dispatch.xlsx").content)).active
    lines = [row[:2] for row in sheet.iter_rows(values_only=True)]
    assert lines[0][0] == "《家居清洁服务派工单》" and ("房号", "5-8B") in lines and ("联系人", "王建国") in lines
    assert ("住户签名", None) in lines  # not signed yet

    clock.set("2026-11-03 09:15")
    cleaner_csrf = page_csrf(cleaner.get(base).text)
    assert post(desk, f"{base}/nobody-home", csrf).status_code == 403  # the cleaner's step
    assert post(cleaner, f"{base}/nobody-home", cleaner_csrf).status_code == 303  # R-CLN-3
    shown = desk.get(base)
    assert "rebook-form" in shown.text and "print-note" in shown.text
    assert desk.get(f"{base}/note.pdf").content.startswith(b"%PDF")
    note = load_workbook(io.BytesIO(desk.get(f"{base}/note.xlsx").content)).active
    assert note["A1"].value == "《留言条》" and ("房号", "5-8B") in [r[:2] for r in note.iter_rows(values_only=True)]
    rebooked = post(desk, f"{base}/rebook", csrf, start="2026-11-04T14:00", end="2026-11-04T16:00", note="改周三")
    assert rebooked.status_code == 303

    clock.set("2026-11-04 14:30")
    oos = post(cleaner, f"{base}/out-of-scope-on-site", cleaner_csrf, request_text="搬钢琴")  # R-CLN-4
    assert oos.status_code == 303
    listed = desk.get("/console/service/cleaning?out_of_scope=true")
    assert f'data-order="{oid}"' in listed.text
    clock.set("2026-11-04 22:10")
    bad = post(cleaner, f"{base}/finish", cleaner_csrf, worker_name="赵", opinion="好", satisfied="yes", signature="x")
    assert bad.status_code == 400  # R-CLN-5: no valid signature, nothing changed
    finished = post(cleaner, f"{base}/finish", cleaner_csrf, worker_name="赵", opinion="厨房没擦", satisfied="no",
                    signature=signature_png())  # fmt: skip
    assert finished.status_code == 303
    db.commit()
    order = db.get(ServiceOrder, oid)
    assert order is not None and order.state == OrderState.done
    assert order.due_at is not None and order.due_at.astimezone(SHANGHAI) == datetime(
        2026, 11, 5, 10, 0, tzinfo=SHANGHAI
    )
    tasks = {t.reason for t in db.scalars(select(CallTask).where(CallTask.order_id == oid))}
    assert tasks == {CallReason.cleaning_rebook, CallReason.dissatisfied}  # R-CLN-7: at once
    db.commit()

    clock.set("2026-11-05 10:30")  # R-CLN-6: after 10:00 the next day, not back
    overdue = desk.get("/console/service/cleaning?overdue=true")
    assert f'data-order="{oid}"' in overdue.text
    assert 'id="overdue"' in desk.get(base).text
    called = post(desk, f"{base}/call", csrf, reason="dissatisfied", outcome="reached_unsatisfied", note="主管复查")
    assert called.status_code == 303
    assert post(desk, f"{base}/return", csrf).status_code == 303
    shown = desk.get(base)
    assert 'id="overdue"' not in shown.text and "call-cleaning_callback" in shown.text
    assert shown.text.count('<tr><td class="when">') >= 7  # the history: every step

    register = desk.get("/console/service/cleaning/register.xlsx?month=2026-11")
    cells = [c for row in load_workbook(io.BytesIO(register.content)).active.iter_rows(values_only=True) for c in row]
    assert order.number in cells and "300.00" in cells
    finance = desk.get("/console/service/cleaning/register.pdf?month=2026-11&copy=finance")
    assert finance.status_code == 200 and finance.content.startswith(b"%PDF")
