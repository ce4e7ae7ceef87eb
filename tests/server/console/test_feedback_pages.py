"""Feedback in the console (R-FB-1…5) with the app's clock controlled: recording, the library of standard answers
and a same-day answer from it, a complaint through the department's reply (only that department's), the
supervisor's signature, the answer, filing, a reply refused once filed, the printed form and the monthly summary."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.config import Settings
from server.db.models import FeedbackForm, FeedbackState, StandardAnswer, StepHistory
from tests.conftest import Household
from tests.server.console.conftest import Account

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, session_hours=24 * 30)


@pytest.fixture
def set_clock(app: FastAPI) -> Callable[[str], None]:
    moment = {"now": datetime(2026, 11, 6, 9, 0, tzinfo=SHANGHAI)}
    app.state.clock = lambda: moment["now"]

    def move(text: str) -> None:
        moment["now"] = datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)

    return move


def post(client: TestClient, url: str, csrf: str, **form: str) -> Response:
    return client.post(url, data={"csrf_token": csrf, **form}, follow_redirects=False)


def form_id(response: Response) -> int:
    match = re.search(r"/feedback/(\d+)", response.headers["location"])
    assert match, response.headers
    return int(match[1])


def test_r_fb_the_library_answers_a_question_the_same_day(
    db: Session, as_role: Callable[..., tuple[TestClient, Account]], page_csrf: Callable[[str], str],
    set_clock: Callable[[str], None], household: Household,
) -> None:  # fmt: skip
    admin, _ = as_role("records_admin")
    desk, _ = as_role("front_desk")
    csrf, desk_csrf = page_csrf(admin.get("/console/service/answers").text), page_csrf(desk.get("/console/").text)
    assert post(desk, "/console/service/answers", desk_csrf, topic="x", question="y", answer="z").status_code == 403
    assert post(admin, "/console/service/answers", csrf, topic="", question="", answer="").status_code == 400
    added = post(admin, "/console/service/answers", csrf, topic="停车", question="月卡怎么办？", answer="前台办理")
    assert added.status_code == 303
    db.commit()
    answer = db.scalar(select(StandardAnswer))
    assert answer is not None and "月卡怎么办？" in desk.get("/console/service/answers").text
    recorded = post(desk, "/console/service/feedback/new", desk_csrf, channel="phone", category="question",
                    unit="5-8B", contact_name="王建国", subject="停车月卡")  # fmt: skip
    assert recorded.status_code == 303  # R-FB-1
    fid = form_id(recorded)
    answered = post(desk, f"/console/service/feedback/{fid}/answer-standard", desk_csrf, answer_id=str(answer.id))
    assert answered.status_code == 303  # R-FB-2
    db.commit()
    form = db.get(FeedbackForm, fid)
    assert form is not None and form.state == FeedbackState.answered and form.answer_to_resident == "前台办理"
    db.commit()
    retired = post(
        admin, f"/console/service/answers/{answer.id}", csrf, topic="停车", question="月卡怎么办？", answer="前台办理"
    )  # fmt: skip  (active unticked: retired)
    assert retired.status_code == 303
    db.expire_all()
    assert db.get(StandardAnswer, answer.id).active is False  # type: ignore[union-attr]


def test_r_fb_a_complaint_through_its_written_reply_and_the_summary(
    db: Session, as_role: Callable[..., tuple[TestClient, Account]], page_csrf: Callable[[str], str],
    set_clock: Callable[[str], None], household: Household,
) -> None:  # fmt: skip
    desk, _ = as_role("front_desk")
    engineer, _ = as_role("engineering")
    cleaner, _ = as_role("environment")
    supervisor, _ = as_role("cs_manager")
    filer, _ = as_role("records_admin")
    csrf = {name: page_csrf(c.get("/console/").text) for name, c in
            (("desk", desk), ("eng", engineer), ("env", cleaner), ("sup", supervisor), ("file", filer))}  # fmt: skip
    recorded = post(desk, "/console/service/feedback/new", csrf["desk"], channel="phone", category="complaint",
                    unit="5-8B", contact_name="王建国", subject="楼道灯不亮")  # fmt: skip
    fid = form_id(recorded)
    base = f"/console/service/feedback/{fid}"
    shown = desk.get(base)
    assert "2026-11-09 23:59" in shown.text  # Friday's form is due on Monday (R-FB-3)
    assert post(desk, f"{base}/form", csrf["desk"], details="三天了").status_code == 303
    untold = post(desk, f"{base}/refer", csrf["desk"], department="engineering")
    assert untold.status_code == 400 and "主任助理" in untold.text
    referred = post(desk, f"{base}/refer", csrf["desk"], department="engineering", assistant_informed="true")
    assert referred.status_code == 303
    assert 'id="reply-form"' not in cleaner.get(base).text
    assert post(cleaner, f"{base}/reply", csrf["env"], reply="不是我们").status_code == 403
    set_clock("2026-11-10 08:00")  # Monday passed: late
    assert 'id="late"' in desk.get(base).text
    assert f'data-form="{fid}"' in desk.get("/console/service/feedback?late=true").text
    assert post(engineer, f"{base}/reply", csrf["eng"], reply="已更换灯泡").status_code == 303
    assert post(desk, f"{base}/sign", csrf["desk"]).status_code == 403
    assert post(supervisor, f"{base}/sign", csrf["sup"]).status_code == 303
    assert post(desk, f"{base}/answer", csrf["desk"], text="灯已修好").status_code == 303
    assert post(filer, f"{base}/file", csrf["file"]).status_code == 303
    db.commit()
    steps = db.scalar(select(func.count()).select_from(StepHistory))
    db.commit()
    again = post(engineer, f"{base}/reply", csrf["eng"], reply="补充")
    assert again.status_code == 409 and "已归档" in again.text  # nothing changed
    db.commit()
    assert db.scalar(select(func.count()).select_from(StepHistory)) == steps
    form = db.get(FeedbackForm, fid)
    assert form is not None and form.reply == "已更换灯泡" and form.state == FeedbackState.filed
    db.commit()
    assert desk.get(f"{base}/form.pdf").content.startswith(b"%PDF")
    sheet = load_workbook(io.BytesIO(desk.get(f"{base}/form.xlsx").content)).active
    lines = [row[:2] for row in sheet.iter_rows(values_only=True)]
    assert lines[0][0] == "《客户意见处理单》" and ("编号", form.number) in lines
    summary = desk.get("/console/service/feedback/summary?month=2026-11")
    assert "2026-11-29 23:59" in summary.text and form.number in summary.text  # R-FB-5
    sheet = desk.get("/console/service/feedback/summary.xlsx?month=2026-11")
    cells = [c for row in load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True) for c in row]
    assert form.number in cells and "逾期" in cells and "投诉" in cells
    assert desk.get("/console/service/feedback/summary.pdf?month=2026-11").content.startswith(b"%PDF")
