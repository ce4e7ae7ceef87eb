"""Renovation pages without a browser: bad input at the desk is refused with the reason in the reader's language and
changes nothing (R-REN-1, R-REN-6), and the gate's pass routes answer in the API's error form."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import AuditEntry
from server.db.models.renovation import Renovation, WorkerPass
from tests.conftest import Household, csrf_of, keyed

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def rows(db: Session) -> tuple[int, ...]:
    db.expire_all()
    return tuple(db.scalar(select(func.count()).select_from(m)) or 0 for m in (Renovation, WorkerPass, AuditEntry))


def post(client: TestClient, path: str, data: dict[str, str]) -> Any:
    token = csrf_of(client.get("/console/renovations").text)
    return client.post(path, data=data | {"csrf_token": token}, follow_redirects=False)


def test_r_ren_6_console_pass_for_a_unit_without_an_approved_renovation_is_refused(
    as_role: Callable[..., tuple[TestClient, Any]], db: Session, household: Household
) -> None:
    """R-REN-6 bad input: a pass for 5-8B, which has no approved renovation: the reason shown, nothing written."""
    client, _account = as_role("front_desk")
    before = rows(db)
    answer = post(client, "/console/renovations/passes", {"unit": "5-8B", "worker_name": "李师傅"})
    assert answer.status_code == 409
    assert "5-8B 没有已批准并交费的装修，不能办理工人出入证" in answer.text
    assert rows(db) == before


def test_r_ren_1_console_application_with_a_bad_period_is_refused(
    as_role: Callable[..., tuple[TestClient, Any]], db: Session, household: Household
) -> None:
    """R-REN-1 bad input: an application ending before it starts: the form again with the reason, nothing written."""
    client, _account = as_role("front_desk")
    before = rows(db)
    form = {"unit": "5-8B", "owner_name": "王业主", "scope": "刷墙", "starts_on": "2026-11-10", "ends_on": "2026-11-01"}
    answer = post(client, "/console/renovations", form)
    assert answer.status_code == 400 and "装修结束日期须在开始日期之后" in answer.text
    assert 'value="王业主"' in answer.text  # what was typed is kept
    assert rows(db) == before


def test_r_ren_6_gate_check_of_a_forged_pass_is_an_error_body(
    client: TestClient, make_device: Callable[..., tuple], household: Household
) -> None:
    """R-REN-6: a pass that is no pass is refused in the API's error form."""
    _device, token = make_device("gate", "东门")
    answer = client.post(
        "/api/v1/gate/passes/check", json={"text": "WP1:NOTAPASS"}, headers=keyed({"Authorization": f"Bearer {token}"})
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "malformed" and answer.json()["error"]["message_en"]


def test_r_ren_1_application_form_exports_as_xlsx_with_typed_formulas_kept_as_text(
    as_role: Callable[..., tuple[TestClient, Any]], household: Household
) -> None:
    """R-REN-1: the application received at the desk prints as 《装修申请表》 in PDF and XLSX from the same values;
    a contractor typed as a formula stays text in the workbook, and the unsigned owner's box is empty."""
    client, _account = as_role("front_desk")
    form = {"unit": "5-8B", "owner_name": "王业主", "scope": "刷墙", "starts_on": "2026-11-10", "ends_on": "2026-11-20",
            "contractor": '=HYPERLINK("http://x","y")'}  # fmt: skip
    received = post(client, "/console/renovations", form)
    assert received.status_code == 303
    page = received.headers["location"].split("?")[0]
    assert 'id="form-xlsx"' in client.get(page).text
    assert client.get(f"{page}/form.pdf").content.startswith(b"%PDF")
    answer = client.get(f"{page}/form.xlsx")
    assert answer.status_code == 200 and answer.headers["content-disposition"].endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(answer.content)).active
    assert sheet is not None and sheet.title == "renovation-application"
    lines = [row[:2] for row in sheet.iter_rows(values_only=True)]
    assert lines[0][0] == "《装修申请表》" and ("房号", "5-8B") in lines and ("业主", "王业主") in lines
    assert ("装修单位", '\'=HYPERLINK("http://x","y")') in lines
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert lines[-4:] == [("业主", None), ("客服中心", None), ("工程部", None), ("财务部", None)]
