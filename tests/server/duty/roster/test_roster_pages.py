"""The duty pages in the console (R-DUTY-1, R-DUTY-7): the landing page with 上岗/下岗 and the relief alert, the
week's roster with the supervisor's edits and its PDF and XLSX, leave and swap requests with the supervisor's
queue. The app's clock is set by the test."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import Estate, Role, StaffUser
from server.db.models.duty import DutyRequest, RequestState, Shift
from server.domain import secrets
from server.web.app import sweep_duty

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PASSWORD = "correct-horse-1"
MONDAY = date(2026, 12, 7)


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "_hasher", PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))


def local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC) - timedelta(hours=8)  # Asia/Shanghai


def csrf(page: Response) -> str:
    import re

    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match
    return match[1]


class Desk:
    def __init__(self, app: FastAPI, db: Session, make_user: Callable[..., StaffUser], login: Callable) -> None:  # type: ignore[type-arg]
        self.app, self.db, self.at = app, db, local(MONDAY, 7) - timedelta(days=7)
        app.state.clock = lambda: self.at
        self.clients: dict[str, TestClient] = {}
        self.ids = {name: make_user(role, name).id for name, role in
                    (("boss", Role.cs_manager), ("ann", Role.front_desk), ("bob", Role.front_desk))}  # fmt: skip
        self.login = login
        self.sign_all_in()

    def sign_all_in(self) -> None:
        """Every account signed in afresh at the clock's time (a console session lasts a working day)."""
        self.close()
        for name in self.ids:
            client = TestClient(self.app)
            assert self.login(client, name, PASSWORD).url.path == "/console/"
            self.clients[name] = client

    def move_to(self, at: datetime) -> None:
        self.at = at
        self.sign_all_in()

    def post(self, who: str, path: str, page: str, **form: object) -> Response:
        client = self.clients[who]
        token = csrf(client.get(page))
        return client.post(path, data={"csrf_token": token, **{k: str(v) for k, v in form.items()}})

    def count(self, model: type) -> int:
        self.db.commit()
        return self.db.scalar(select(func.count()).select_from(model)) or 0

    def close(self) -> None:
        for client in self.clients.values():
            client.close()


@pytest.fixture
def desk(app: FastAPI, db: Session, estate: Estate, make_user: Callable[..., StaffUser], login: Callable) -> Desk:  # type: ignore[type-arg]
    d = Desk(app, db, make_user, login)
    yield d  # type: ignore[misc]
    d.close()


def test_r_duty_1_roster_edits_overlap_refused_sign_in_late_and_missing_relief_alert(desk: Desk) -> None:
    roster = "/console/duty/roster"
    for pattern, who in (("early", "ann"), ("late", "bob")):
        done = desk.post("boss", "/console/duty/roster/assign", roster, day=MONDAY, pattern=pattern,
                         staff_id=desk.ids[who])  # fmt: skip
        assert done.status_code == 200 and "班次已添加" in done.text
    before = desk.count(Shift)
    twice = desk.post(
        "boss", "/console/duty/roster/assign", roster, day=MONDAY, pattern="early", staff_id=desk.ids["ann"]
    )
    assert twice.status_code == 409 and "班次重叠" in twice.text
    assert desk.count(Shift) == before
    # a front-desk member cannot edit the roster
    refused = desk.post("ann", "/console/duty/roster/generate", "/console/duty", week=MONDAY)
    assert refused.status_code == 403
    week = desk.clients["boss"].get(f"{roster}?week={MONDAY}")
    assert "测试front_desk" in week.text or "ann" in week.text
    xlsx = desk.clients["ann"].get(f"{roster}/export.xlsx?week={MONDAY}")
    cells = [str(c) for row in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True) for c in row]
    assert "排班表" in "".join(cells) and "早班" in cells
    pdf = desk.clients["ann"].get(f"{roster}/export.pdf?week={MONDAY}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")

    desk.move_to(local(MONDAY, 8, 12))
    signed = desk.post("ann", "/console/duty/sign", "/console/duty", action="in")
    assert signed.status_code == 200 and "已上岗" in signed.text
    desk.at = local(MONDAY, 15, 35)
    stay = desk.post("ann", "/console/duty/sign", "/console/duty", action="out")
    assert stay.status_code == 409 and "接班人员尚未上岗" in stay.text
    alert = desk.clients["boss"].get("/console/duty")
    assert 'id="relief-alerts"' in alert.text and "迟到 12 分钟" in alert.text
    desk.db.commit()
    shift = desk.db.scalars(select(Shift).where(Shift.staff_id == desk.ids["ann"])).one()
    assert shift.signed_out_at is None and shift.relief_alerted_at is not None
    assert desk.post("bob", "/console/duty/sign", "/console/duty", action="in").status_code == 200
    assert "已下岗" in desk.post("ann", "/console/duty/sign", "/console/duty", action="out").text


def test_r_duty_7_requests_same_day_refused_and_the_supervisor_approves_a_swap(desk: Desk) -> None:
    roster, requests = "/console/duty/roster", "/console/duty/requests"
    desk.post("boss", "/console/duty/roster/generate", roster, week=MONDAY)
    desk.db.commit()
    tuesday = MONDAY + timedelta(days=1)
    mine = desk.db.scalars(select(Shift).where(Shift.staff_id == desk.ids["ann"], Shift.day == tuesday)).first()
    assert mine is not None
    desk.move_to(local(tuesday, 0, 5))
    late = desk.post("ann", requests, requests, shift_id=mine.id, kind="swap", colleague_id=desk.ids["bob"])
    assert late.status_code == 409 and "至少提前一天" in late.text
    assert desk.count(DutyRequest) == 0
    desk.move_to(local(MONDAY, 20))
    asked = desk.post("ann", requests, requests, shift_id=mine.id, kind="swap", colleague_id=desk.ids["bob"],
                      reason="家中有事")  # fmt: skip
    assert asked.status_code == 200 and "申请已提交主管" in asked.text
    desk.db.commit()
    (request,) = desk.db.scalars(select(DutyRequest)).all()
    assert desk.post("bob", "/console/duty/requests/decide", requests, request_id=request.id,
                     decision="approve").status_code == 403  # fmt: skip
    queue = desk.clients["boss"].get(requests)
    assert f'data-request="{request.id}"' in queue.text
    english = desk.clients["boss"].get(f"/console/lang?to=en&next={requests}")
    assert "Waiting for approval" in english.text and "Swap" in english.text
    assert "Generate the week by rotation" in desk.clients["boss"].get(roster).text
    assert "On duty now" in desk.clients["boss"].get("/console/duty").text
    approved = desk.post("boss", "/console/duty/requests/decide", requests, request_id=request.id, decision="approve")
    assert "Approved: the roster is changed" in approved.text
    desk.db.commit()
    desk.db.expire_all()
    assert desk.db.get_one(DutyRequest, request.id).state == RequestState.approved
    assert desk.db.get_one(Shift, mine.id).staff_id == desk.ids["bob"]
    # the app's duty sweep records the week's absences by its clock, once
    desk.at = local(tuesday, 23, 30)
    assert sweep_duty(desk.app) == 1
    assert sweep_duty(desk.app) == 0
