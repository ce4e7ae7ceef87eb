"""Vacant units' console pages through the test client (R-VAC-1…6): a takeover opened, its items recorded, signing
with a failure not agreed with the developer refused with a clear error and nothing changed, agreed and signed
with the form as PDF; the unit's page with a patrol (a repair order for the non-warranty finding), a cleaning round
and a sales-viewing loan from the key register; the vacancy filter on units; the monthly statistics as a page, PDF
and XLSX; the developer repair register with its filters and export, and a repair's steps on the unit's page."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from PIL import Image, ImageDraw
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import Estate, KeyLoan, LoanPurpose, Role, ServiceOrder, StaffUser
from server.db.models.lifecycle import (
    DeveloperRepair,
    DeveloperRepairState,
    TakeoverCategory,
    TakeoverInspection,
    TakeoverState,
    Vacancy,
)
from server.domain.actors import SYSTEM
from server.domain.lifecycle import developer_repairs
from tests.conftest import Household, csrf_of, sign_in
from tests.server.console.key_cabinet import build_cabinet

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PASSWORD = "correct-horse-1"
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai


def _pad_png() -> str:
    """A stroke on a white pad, as the signature pad sends it (a real PNG: the form's PDF draws it)."""
    image = Image.new("RGB", (120, 40), "white")
    ImageDraw.Draw(image).line((5, 30, 60, 8, 115, 32), fill="black", width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


SIGNATURE = _pad_png()
ITEMS = ("structure", "roof_floor", "decoration", "electrical", "water", "fire", "bathroom", "ancillary")


def post(client: TestClient, path: str, data: dict[str, object]) -> object:
    token = csrf_of(client.get("/console/vacant").text)
    return client.post(path, data=data | {"csrf_token": token}, follow_redirects=False)


def test_r_vac_takeover_patrol_cleaning_viewing_and_statistics_in_the_console(
    app: FastAPI, db: Session, estate: Estate, household: Household, make_user: Callable[..., StaffUser]
) -> None:
    """R-VAC-1…6 through the pages, each role on its own step."""
    app.state.clock = lambda: NOW
    engineer, cleaner, keeper = (make_user(r) for r in (Role.engineering, Role.environment, Role.records_admin))
    cabinet = build_cabinet(db, estate, keeper)
    with TestClient(app) as eng, TestClient(app) as env, TestClient(app) as admin:
        for client, user in ((eng, engineer), (env, cleaner), (admin, keeper)):
            sign_in(client, user.username, PASSWORD)
        takeover = {"unit": "5-8b", "developer": "海湾置业", "developer_rep": "陈"}
        opened = post(eng, "/console/vacant/takeovers", takeover)
        assert opened.status_code == 303, opened.text
        form_url = opened.headers["location"].split("?")[0]
        results = {f"result_{c}": "pass" for c in ITEMS} | {"result_bathroom": "fail", "defect_bathroom": "地漏反水"}
        assert post(eng, form_url + "/items", results).status_code == 303
        signing = {"engineering_signature": SIGNATURE, "developer_signature": SIGNATURE, "water": "8"}
        refused = post(eng, form_url + "/sign", signing)
        assert refused.status_code == 400 and "不合格项未与发展商商定维修" in refused.text
        db.commit()
        assert db.scalar(select(TakeoverInspection.state)) == TakeoverState.open
        assert db.scalar(select(func.count()).select_from(Vacancy)) == 0
        db.commit()
        agreed = results | {"agreement_bathroom": "发展商 12 月 10 日前返修"}
        assert post(eng, form_url + "/items", agreed).status_code == 303
        assert post(eng, form_url + "/sign", signing).status_code == 303
        pdf = eng.get(form_url + "/form.pdf")
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        sheet = load_workbook(io.BytesIO(eng.get(form_url + "/form.xlsx").content)).active
        lines = [row[:2] for row in sheet.iter_rows(values_only=True)]
        assert lines[0][0] == "《物业接管验收表》" and ("房号", household.unit.code) in lines
        assert [line[1][:2] for line in lines[-2:]] == ["已签", "已签"]  # both signed

        unit_url = f"/console/vacant/units/{household.unit.id}"
        patrol = {"category_0": "water", "problem_0": "厨房水管渗漏", "warranty_0": "true",
                  "category_1": "electrical", "problem_1": "阳台灯泡损坏"}  # fmt: skip
        assert post(eng, unit_url + "/patrol", patrol).status_code == 303
        short = post(env, unit_url + "/clean", {"parts": ["floors"]})
        assert short.status_code == 400 and "清洁还缺" in short.text
        parts = ["ceilings", "floors", "walls", "bathroom", "windows", "airing"]
        assert post(env, unit_url + "/clean", {"parts": parts}).status_code == 303
        viewing = {"key_id": str(cabinet.key("5-8B 信箱")), "keeper_id": str(keeper.id), "visitor": "售楼处 刘"}
        assert post(admin, unit_url + "/viewing", viewing).status_code == 303
        page = admin.get(unit_url)
        assert "阳台灯泡损坏" in page.text and "已报发展商" in page.text
        assert "5-8B 信箱" in page.text.split('id="viewings"')[1]

        vacant = admin.get("/console/units?vacant=true")
        assert "5-8B" in vacant.text and "2-5C" not in vacant.text
        stats = admin.get("/console/vacant/statistics?month=2026-11")
        assert stats.status_code == 200 and "5-8B" in stats.text and "月末空置 1 套" in stats.text
        sheet = load_workbook(io.BytesIO(admin.get("/console/vacant/statistics.xlsx?month=2026-11").content))
        rows = list(sheet.active.iter_rows(values_only=True))  # type: ignore[union-attr]
        assert rows[1][1] == "房号" and rows[2][1] == "5-8B" and rows[2][6:10] == (1, 2, 1, 1)
        assert admin.get("/console/vacant/statistics.pdf?month=2026-11").content.startswith(b"%PDF")
        assert admin.get("/console/vacant/statistics?month=2026-13").status_code == 400
    db.commit()
    order = db.scalars(select(ServiceOrder)).one()
    assert order.description == "阳台灯泡损坏"
    loan = db.scalars(select(KeyLoan)).one()
    assert loan.purpose == LoanPurpose.sales_viewing and loan.accompanied_by_id == keeper.id
    db.commit()


def test_r_vac_2_developer_repairs_register_and_steps_in_the_console(
    app: FastAPI, db: Session, estate: Estate, household: Household, make_user: Callable[..., StaffUser]
) -> None:
    """R-VAC-2: the developer repair register lists open and overdue repairs with filters and exports them as XLSX;
    the unit's page takes the steps — verifying before the developer reports it repaired is refused with a clear
    error and nothing changed — and a verified repair leaves the open list."""
    engineer = make_user(Role.engineering)
    repair = developer_repairs.report(
        db, SYSTEM, estate, household.unit, category=TakeoverCategory.water, description="厨房水管渗漏",
        developer="海湾置业", by=engineer, now=NOW,
    )  # fmt: skip
    db.commit()
    late = repair.due_at + timedelta(minutes=1)
    app.state.clock = lambda: late
    step_url = f"/console/vacant/units/{household.unit.id}/developer-repairs/{repair.id}"
    with TestClient(app) as eng:
        sign_in(eng, engineer.username, PASSWORD)
        overdue = eng.get("/console/vacant/developer-repairs?show=overdue&unit=5-8b&item=water")
        assert overdue.status_code == 200 and repair.number in overdue.text and "逾期" in overdue.text
        assert repair.number not in eng.get("/console/vacant/developer-repairs?item=fire").text
        assert eng.get("/console/vacant/developer-repairs?show=late").status_code == 400
        sheet = load_workbook(io.BytesIO(eng.get("/console/vacant/developer-repairs.xlsx?show=overdue").content))
        rows = list(sheet.active.iter_rows(values_only=True))  # type: ignore[union-attr]
        assert (
            rows[0][0].startswith("《开发商返修跟踪表》 · ")
            and "逾期" in rows[0][0]
            and rows[2][:2] == (repair.number, "5-8B")
        )
        early = post(eng, step_url + "/verify", {"text": ""})
        assert early.status_code == 409 and "尚未报修复完成" in early.text  # type: ignore[attr-defined]
        db.commit()
        assert db.scalar(select(DeveloperRepair.state)) == DeveloperRepairState.reported
        for step, text in (("acknowledge", "陈经理"), ("repair", "更换水管"), ("verify", "")):
            assert post(eng, step_url + f"/{step}", {"text": text}).status_code == 303  # type: ignore[attr-defined]
        page = eng.get(f"/console/vacant/units/{household.unit.id}")
        assert "已验收" in page.text.split('id="developer-repairs"')[1]
        assert repair.number not in eng.get("/console/vacant/developer-repairs").text
    db.commit()
    assert db.scalar(select(DeveloperRepair.state)) == DeveloperRepairState.verified
