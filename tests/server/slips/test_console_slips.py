"""Console pages for slips: issuing (proxy path, arrears refusal), the register with filters and exports, a slip's
detail and actions, the reconciliation with both sign-offs and its PDF/XLSX, and the dashboard's 17:30 flag."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import AuditEntry, Estate, ReleaseSlip
from server.domain import registry
from server.domain.actors import SYSTEM
from server.domain.slips import issuing, reconciliation
from tests.conftest import Household, keyed

from .conftest import direct_slip, today


def signed_in(client: TestClient, make_user: Callable[..., Any], login: Callable[..., Any], role: str) -> None:
    user = make_user(role, password="pw-for-tests-1")
    assert login(client, user.username, "pw-for-tests-1").status_code == 200


def form_for(estate: Estate, **changes: str) -> dict[str, str]:
    data = {
        "unit": "5-8B",
        "applicant": "owner",
        "applicant_name": "",
        "code_1": "WARD",
        "qty_1": "1",
        "name_2": "旧钢琴凳",
        "qty_2": "2",
        "planned_date": today(estate).isoformat(),
        "valid_days": "1",
    }
    data.update(changes)
    return data


def post_form(client: TestClient, page_csrf: Callable[[str], str], data: dict[str, str], **kw: Any) -> Any:
    token = page_csrf(client.get("/console/slips/new").text)
    return client.post("/console/slips/new", data=data | {"csrf_token": token}, follow_redirects=False, **kw)


def test_proxy_slip_at_the_console_needs_confirmation_and_id_copy_then_countersign(
    client: TestClient, estate: Estate, household: Household, make_user: Any, login: Any, page_csrf: Any, look: Any
) -> None:
    """R-REL-3: the console takes a proxy's request with the owner's phone confirmation and the ID copy; the owner
    countersigns later."""
    signed_in(client, make_user, login, "front_desk")
    proxy = form_for(
        estate,
        applicant="proxy",
        proxy_name="陈代办",
        proxy_phone="13900000003",
        confirmed_by="前台小周",
        confirmed_at=datetime.now(UTC).astimezone().strftime("%Y-%m-%dT%H:%M"),
        confirmation="业主电话确认：衣柜一个、钢琴凳两个",
    )
    refused = post_form(client, page_csrf, proxy)
    assert refused.status_code == 400 and "身份证" in refused.text
    image = {"id_image": ("id.png", b"\x89PNG\r\n\x1a\n fake", "image/png")}
    done = post_form(client, page_csrf, proxy, files=image)
    assert done.status_code == 303
    detail = client.get(done.headers["location"])
    assert "待业主补签" in detail.text and "陈代办" in detail.text and "前台小周" in detail.text
    slip = look(select(ReleaseSlip))
    assert slip.countersign_pending and slip.applicant_kind.value == "proxy"
    pending = client.get("/console/slips/countersign")
    assert slip.number in pending.text
    attachment = re.search(r'href="(/console/slips/\d+/attachments/\d+)"', detail.text)
    assert attachment and client.get(attachment[1]).content.startswith(b"\x89PNG")
    sign = client.post(
        f"/console/slips/{slip.id}/countersign", data={"csrf_token": page_csrf(detail.text)}, follow_redirects=False
    )
    assert sign.status_code == 303
    assert slip.number not in client.get("/console/slips/countersign").text
    assert "业主补签" in client.get(f"/console/slips/{slip.id}").text  # in the timeline


def test_tenant_in_arrears_is_refused_at_the_console_and_the_refusal_kept(
    client: TestClient,
    db: Session,
    estate: Estate,
    household: Household,
    make_user: Any,
    login: Any,
    page_csrf: Any,
    look: Any,
) -> None:
    registry.set_arrears(db, SYSTEM, household.unit, 5000)
    db.commit()
    signed_in(client, make_user, login, "front_desk")
    answer = post_form(client, page_csrf, form_for(estate, applicant="tenant", applicant_name="李租客"))
    assert answer.status_code == 403 and "欠费" in answer.text and "¥50.00" in answer.text
    assert look(select(AuditEntry).where(AuditEntry.action == "slip.request_refused")) is not None
    assert look(select(ReleaseSlip)) is None


def test_register_filters_exports_and_keyset_pages(
    client: TestClient,
    db: Session,
    estate: Estate,
    household: Household,
    make_user: Any,
    login: Any,
    page_csrf: Any,
) -> None:
    slips = [direct_slip(db, estate, household) for _ in range(30)]
    signed_in(client, make_user, login, "records_admin")
    first = client.get("/console/slips")
    assert slips[-1].number in first.text and slips[0].number not in first.text  # 25 a page, newest first
    more = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert more
    second = client.get(more[1].replace("&amp;", "&"))
    assert slips[0].number in second.text and slips[-1].number not in second.text
    one = client.get("/console/slips", params={"number": slips[3].number})
    assert one.text.count("/console/slips/" + str(slips[3].id) + '"') == 1 and slips[4].number not in one.text
    assert "没有符合条件" in client.get("/console/slips", params={"unit": "1-1A"}).text
    assert "没有符合条件" in client.get("/console/slips", params={"state": "released"}).text
    fragment = client.get(
        "/console/slips", params={"kind": "owner"}, headers={"HX-Request": "true", "HX-Target": "results"}
    )
    assert "<html" not in fragment.text and slips[-1].number in fragment.text
    csv_text = client.get("/console/slips/export.csv").content.decode("utf-8-sig")
    assert csv_text.count("\n") == 31 and "沙发×1" in csv_text
    book = load_workbook(io.BytesIO(client.get("/console/slips/export.xlsx", params={"unit": "5-8B"}).content))
    rows = list(book.active.iter_rows(values_only=True))
    assert len(rows) == 31 and rows[1][0] == slips[0].number


def test_reconciliation_sign_off_by_each_side_with_pdf_and_xlsx(
    client: TestClient,
    db: Session,
    estate: Estate,
    household: Household,
    make_user: Any,
    login: Any,
    page_csrf: Any,
) -> None:
    direct_slip(db, estate, household)
    signed_in(client, make_user, login, "front_desk")
    page = client.get("/console/slips/reconciliation")
    assert page.status_code == 200 and 'id="sign-security"' not in page.text
    refused = client.post(
        "/console/slips/reconciliation/sign",
        data={"csrf_token": page_csrf(page.text), "day": today(estate).isoformat(), "side": "security"},
    )
    assert refused.status_code == 403
    for role, side in (("security_captain", "security"), ("records_admin", "records")):
        client.cookies.clear()
        signed_in(client, make_user, login, role)
        page = client.get("/console/slips/reconciliation")
        assert f'id="sign-{side}"' in page.text
        done = client.post(
            "/console/slips/reconciliation/sign",
            data={"csrf_token": page_csrf(page.text), "day": today(estate).isoformat(), "side": side},
        )
        assert done.status_code == 200 and "已签核" in done.text
    pdf = client.get("/console/slips/reconciliation.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    book = load_workbook(io.BytesIO(client.get("/console/slips/reconciliation.xlsx").content))
    values = [r for r in book.active.iter_rows(values_only=True)]
    assert ("开具", 1) in values


@pytest.mark.parametrize("hour_utc,flagged", [(9, False), (10, True)])
def test_dashboard_flags_a_day_not_signed_off_by_1730(
    client: TestClient,
    estate: Estate,
    make_user: Any,
    login: Any,
    monkeypatch: pytest.MonkeyPatch,
    hour_utc: int,
    flagged: bool,
) -> None:
    # 09:00 UTC is 17:00 in Shanghai; 10:00 UTC is 18:00.
    monkeypatch.setattr(reconciliation, "utcnow", lambda: datetime(2026, 11, 27, hour_utc, tzinfo=UTC))
    signed_in(client, make_user, login, "security_captain")
    page = client.get("/console/")
    assert ('id="slip-reconciliation-overdue"' in page.text) is flagged


def test_in_english_the_console_shows_item_names_and_refusals_in_english_only(
    client: TestClient,
    db: Session,
    estate: Estate,
    household: Household,
    make_user: Any,
    login: Any,
    page_csrf: Any,
) -> None:
    """The register and a slip's page name catalogue items by their English names; a domain refusal (R-REL-5
    here) reads in English alone, with no Chinese half."""
    slip = direct_slip(db, estate, household, lines=[issuing.LineDraft("SOFA", None, 1)])
    signed_in(client, make_user, login, "front_desk")
    client.cookies.set("estate_lang", "en")
    register_page = client.get("/console/slips").text
    assert "sofa×1" in register_page and "沙发" not in register_page
    detail = client.get(f"/console/slips/{slip.id}").text
    assert "sofa" in detail and "沙发" not in detail
    exported = client.get("/console/slips/export.csv").content.decode("utf-8-sig")
    assert "sofa×1" in exported and "沙发" not in exported
    registry.set_arrears(db, SYSTEM, household.unit, 5000)
    db.commit()
    answer = post_form(client, page_csrf, form_for(estate, applicant="tenant", applicant_name="李租客"))
    assert answer.status_code == 403 and "owes ¥50.00" in answer.text
    assert "欠费" not in answer.text and "财务" not in answer.text  # no Chinese half
    client.cookies.set("estate_lang", "zh")
    answer = post_form(client, page_csrf, form_for(estate, applicant="tenant", applicant_name="李租客"))
    assert "欠费" in answer.text and "owes" not in answer.text


@pytest.mark.parametrize("name", ["=1+1", "+SUM(A1)", "-2+3", "@cmd", "\t=1+1", "\r=1+1"])
def test_register_exports_keep_formula_like_names_as_text(
    client: TestClient,
    db: Session,
    estate: Estate,
    household: Household,
    make_user: Any,
    login: Any,
    name: str,
) -> None:
    """A resident named like a formula stays text in both exports: a spreadsheet shows it, never evaluates it."""
    household.owner.name = name
    db.commit()
    slip = direct_slip(db, estate, household)
    assert slip.applicant_name == name
    signed_in(client, make_user, login, "records_admin")
    rows = list(csv.reader(io.StringIO(client.get("/console/slips/export.csv").content.decode("utf-8-sig"))))
    assert rows[1][4] == "'" + name
    book = load_workbook(io.BytesIO(client.get("/console/slips/export.xlsx").content))
    cell = book.active["E2"]
    assert cell.data_type == "s" and cell.value == "'" + name.replace("\r", "\n")  # XML reads CR as LF


def test_the_reconciliation_sheet_keeps_formula_like_text_from_the_gate_as_text(
    client: TestClient,
    db: Session,
    estate: Estate,
    household: Household,
    make_user: Any,
    login: Any,
    gate_a: dict[str, str],
) -> None:
    """What a gate sends (here the guard's name) reaches the reconciliation's XLSX as text, as in the register's
    exports: no cell of the sheet is a formula."""
    slip = direct_slip(db, estate, household)
    refusal = {"text": slip.token, "guard": "=1+1", "lines": [{"line": 1, "counted": 0}], "reason": "@SUM(A1)"}
    answer = client.post("/api/v1/gate/releases", json=refusal, headers=keyed(gate_a))
    assert answer.status_code == 201 and answer.json()["outcome"] == "refused"
    signed_in(client, make_user, login, "security_captain")
    book = load_workbook(io.BytesIO(client.get("/console/slips/reconciliation.xlsx").content))
    (row,) = [r for r in book.active.iter_rows() if r[0].value == slip.number]
    assert (row[3].value, row[3].data_type) == ("'=1+1", "s") and "@SUM(A1)" in row[5].value
    formulas = [c.coordinate for r in book.active.iter_rows() for c in r if c.data_type == "f"]
    assert formulas == []
