"""The duty pages through the test client: the log is read only with log.read (R-DUTY-3); entries written, routed
(a role that does not exist refused, nothing changed) and closed; the handover acknowledged before working
(R-DUTY-4); missing checks shown (R-DUTY-6); the daily check sheet refuses 300 °C and alarms at 27 °C (R-DUTY-8);
calls counted per day and put in the log (R-PHONE); the log and the sheet as PDF and XLSX."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.base import utcnow
from server.db.models import CallTopic, Estate, Role, StaffUser
from server.db.models.dutylog import DaySheet, LogEntry
from server.domain.actors import SYSTEM
from server.domain.service import phone
from tests.conftest import Household, csrf_of
from tests.server.slips.pdf_text import pdf_text

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PASSWORD = "correct-horse-1"


@pytest.fixture
def signed_in(app: Any, make_user: Callable[..., StaffUser], login: Callable[..., Any]) -> Callable[..., Any]:
    clients: list[TestClient] = []

    def _as(role: Role) -> tuple[TestClient, int]:
        user = make_user(role)
        client = TestClient(app)
        clients.append(client)
        assert login(client, user.username, PASSWORD).status_code == 200
        return client, user.id

    yield _as
    for c in clients:
        _TOKENS.pop(id(c), None)
        c.close()


_TOKENS: dict[int, str] = {}


def post(client: TestClient, path: str, data: dict[str, str], page: str = "/console/duty/log") -> Any:
    """A form sent with the session's CSRF token (read once per client from `page`)."""
    if id(client) not in _TOKENS:
        _TOKENS[id(client)] = csrf_of(client.get(page).text)
    return client.post(path, data=data | {"csrf_token": _TOKENS[id(client)]}, follow_redirects=False)


def count(db: Session, model: type) -> int:
    db.commit()
    found = int(db.scalar(select(func.count()).select_from(model)) or 0)
    db.commit()  # no read left open: SQLite would make the app wait for it
    return found


def test_R_DUTY_3_the_log_pages_write_route_and_close_and_only_log_readers_see_them(
    db: Session, estate: Estate, household: Household, signed_in: Callable[..., Any]
) -> None:
    desk, _ = signed_in(Role.front_desk)
    engineer, _ = signed_in(Role.engineering)
    director, _ = signed_in(Role.general_manager)
    assert engineer.get("/console/duty/log").status_code == 403  # internal and confidential
    done = post(desk, "/console/duty/log", {"urgency": "urgent", "category": "漏水", "unit": "5-8B",
                                             "reporter": "王先生", "summary": "厨房漏水"})  # fmt: skip
    assert done.status_code == 303
    entry_id = db.scalar(select(LogEntry.id))
    db.commit()
    assert entry_id is not None
    page = desk.get(f"/console/duty/log/{entry_id}")
    assert page.status_code == 200 and "厨房漏水" in page.text
    refused = post(desk, f"/console/duty/log/{entry_id}/route", {"role": "plumber"}, f"/console/duty/log/{entry_id}")
    assert refused.status_code == 400 and "plumber" in refused.text
    db.commit()
    assert db.scalar(select(LogEntry.routed_role)) == ""
    db.commit()
    assert post(desk, f"/console/duty/log/{entry_id}/route", {"role": "engineering"}).status_code == 303
    assert post(desk, f"/console/duty/log/{entry_id}/escalate", {"level": "major"}).status_code == 303  # R-DUTY-2
    mine = director.get("/console/duty/log?mine=1").text
    assert f'id="entry-{entry_id}"' in mine and "重大" in mine
    assert post(desk, f"/console/duty/log/{entry_id}/close", {"note": "已修好"}).status_code == 303
    db.commit()
    assert db.scalar(select(LogEntry.state)).value == "closed"
    for fmt in ("pdf", "xlsx"):
        got = desk.get(f"/console/duty/log/export.{fmt}")
        assert got.status_code == 200
    book = load_workbook(io.BytesIO(desk.get("/console/duty/log/export.xlsx").content))
    assert "厨房漏水" in [c.value for row in book.active.iter_rows() for c in row]  # type: ignore[union-attr]


def test_R_DUTY_4_the_incoming_person_acknowledges_on_the_handover_page_before_working(
    db: Session, estate: Estate, signed_in: Callable[..., Any]
) -> None:
    out, out_id = signed_in(Role.front_desk)
    inc, inc_id = signed_in(Role.front_desk)
    written = post(out, "/console/duty/handover", {"incoming_id": str(inc_id), "results": "三件已办结",
                                                    "item_0": "3-2A 漏水待回复", "owner_0": str(out_id)},
                   "/console/duty/handover")  # fmt: skip
    assert written.status_code == 303
    refused = post(inc, "/console/duty/log", {"urgency": "low", "category": "x", "summary": "y"})
    assert refused.status_code == 409 and "先确认交接" in refused.text and count(db, LogEntry) == 0
    page = inc.get("/console/duty/handover").text
    assert "3-2A 漏水待回复" in page
    handover_id = re.search(r"/console/duty/handover/(\d+)/acknowledge", page)
    assert handover_id
    assert (
        post(inc, f"/console/duty/handover/{handover_id[1]}/acknowledge", {}, "/console/duty/handover").status_code
        == 303
    )
    assert post(inc, "/console/duty/log", {"urgency": "low", "category": "x", "summary": "y"}).status_code == 303
    # The day's handover record 《交接班》 for the binder and the office: who, results, open items with their owner.
    sheet = load_workbook(io.BytesIO(inc.get("/console/duty/handover/export.xlsx").content)).active
    assert sheet is not None
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "三件已办结" in cells and any(c.startswith("3-2A 漏水待回复（") for c in cells)
    printed = inc.get("/console/duty/handover/export.pdf")
    assert printed.headers["content-type"] == "application/pdf" and "交接班记录" in pdf_text(printed.content)


def test_R_DUTY_6_8_checks_flagged_and_the_day_sheet_alarms_and_refuses_300(
    db: Session, estate: Estate, signed_in: Callable[..., Any]
) -> None:
    desk, _ = signed_in(Role.front_desk)
    manager, _ = signed_in(Role.cs_manager)
    page = manager.get("/console/duty/checks").text
    assert 'data-missing="daily"' in page and 'data-missing="weekly"' in page
    assert post(manager, "/console/duty/checks", {"kind": "weekly", "findings": "抽查无误"},
                "/console/duty/checks").status_code == 303  # fmt: skip
    assert 'data-missing="weekly"' not in manager.get("/console/duty/checks").text
    assert desk.post("/console/duty/checks", data={"kind": "daily", "findings": "x",
                     "csrf_token": csrf_of(desk.get("/console/duty/checks").text)}).status_code == 403  # fmt: skip
    refused = post(desk, "/console/duty/daysheet", {"temp_am": "300", "no_smoking": "true"}, "/console/duty/daysheet")
    assert refused.status_code == 400 and "300" in refused.text and count(db, DaySheet) == 0
    assert post(desk, "/console/duty/daysheet", {"temp_am": "27"}, "/console/duty/daysheet").status_code == 303
    assert 'id="temperature-alarm"' in desk.get("/console/duty/daysheet").text
    assert post(desk, "/console/duty/daysheet/defects", {"text": "灯管闪烁", "fix": "已更换"},
                "/console/duty/daysheet").status_code == 303  # fmt: skip
    assert post(manager, "/console/duty/daysheet/sign", {}, "/console/duty/daysheet").status_code == 303
    assert 'id="signed"' in desk.get("/console/duty/daysheet").text
    for fmt in ("pdf", "xlsx"):
        assert desk.get(f"/console/duty/daysheet/export.{fmt}").status_code == 200


def test_R_PHONE_calls_are_counted_per_day_and_put_in_the_log(
    db: Session, estate: Estate, household: Household, make_user: Callable[..., StaffUser],
    signed_in: Callable[..., Any],
) -> None:  # fmt: skip
    desk, _ = signed_in(Role.front_desk)
    taker = make_user(Role.front_desk)
    script = phone.Call(
        room="5-8B", surname="王", phone="13800000001", topic=CallTopic.enquiry, summary="询问停水时间",
        read_back=True, handling="查询后回电", anything_else_asked=True, outcome="callback_promised",
    )  # fmt: skip
    call = phone.log_call(db, SYSTEM, estate, script, utcnow(), by=taker)
    db.commit()
    page = desk.get("/console/duty/log").text
    assert "询问停水时间" in page and re.search(r'id="calls-per-day".*<td>1</td></tr>', page, re.S)
    assert post(desk, f"/console/duty/log/calls/{call.id}", {"urgency": "normal"}).status_code == 303
    db.commit()
    assert db.scalar(select(LogEntry.phone_call_id)) == call.id
