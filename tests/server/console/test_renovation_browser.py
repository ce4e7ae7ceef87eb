"""One renovation through the console in headless Chromium, the app's clock moved by the test (R-REN-1…9): the
desk receives the application, it goes late when engineering has not decided in 3 working days, engineering
approves, the desk notifies the owner and the owner signs the agreement on the pad, finance records fee and deposit,
the desk issues a worker's pass with a photo and prints it on the desk's (virtual) ESC/POS printer, acceptance is
applied for, booked and given, the refund falls due 10 working days later and finance records it paid.
Screenshots: var/screenshots/renovation-*.png."""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.printing.virtual.server import VirtualPrinter
from server.db.models import DeviceKind, Estate, Role
from server.db.models.renovation import Renovation, RenovationState, WorkerPass
from server.domain import devices
from server.domain.actors import SYSTEM
from tests.conftest import Household, save_screenshot
from tests.server.renovation.conftest import at

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

PASSWORD = "pw-for-browser-1"


class Clock:
    def __init__(self, app: FastAPI, now: datetime) -> None:
        self.now = now
        app.state.clock = lambda: self.now


def sign_in(page: Page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/console/$"))


def sign(page: Page) -> None:
    box = page.locator("[data-signature-pad] canvas").bounding_box()
    assert box is not None
    x, y = box["x"] + 20, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(x + step * 25, y + (15 if step % 2 else -15), steps=3)
    page.mouse.up()


def step(page: Page, form: str, **fields: str) -> None:
    for name, value in fields.items():
        page.locator(f"#{form} [name={name}]").fill(value)
    page.locator(f"#{form} button[type=submit]").click()


def test_r_ren_one_renovation_from_application_to_refund(
    page: Page, app: FastAPI, db: Session, estate: Estate, household: Household, make_user: Callable[..., Any],
    tmp_path: Path,
) -> None:  # fmt: skip
    clock = Clock(app, at("2026-11-02 09:00"))  # a Monday
    desk, engineer, finance = (make_user(role, password=PASSWORD) for role in (Role.front_desk, Role.engineering,
                                                                                 Role.finance))  # fmt: skip
    state = page.locator("#renovation-state")

    sign_in(page, desk.username)  # R-REN-1
    page.goto("/console/renovations")
    step(page, "renovation-new", unit="5-8B", owner_name="王业主", owner_phone="13800000001", contractor="好家装饰",
         scope="厨房改造、铺地板", starts_on="2026-11-09", ends_on="2026-11-30")  # fmt: skip
    expect(state).to_have_text("待工程部审批")
    expect(page.locator("#approval-due")).to_contain_text("2026-11-05")
    url = page.url.split("?")[0]
    clock.now = at("2026-11-06 09:00")  # R-REN-2: 3 working days have passed
    sign_in(page, engineer.username)
    page.goto(url)
    expect(page.locator("#renovation-late")).to_be_visible()
    save_screenshot(page, "renovation-late")
    step(page, "approve-form", note="不得改动承重墙")
    expect(state).to_have_text("已批准")

    sign_in(page, desk.username)  # R-REN-3, 4
    page.goto(url)
    step(page, "notify-form", note="电话通知业主")
    expect(state).to_have_text("已通知业主")
    page.locator("#agree-form button[type=submit]").click()  # unsigned: refused, nothing changed
    expect(page.get_by_role("alert")).to_contain_text("签名")
    expect(state).to_have_text("已通知业主")
    sign(page)
    page.locator("#agree-form button[type=submit]").click()
    expect(state).to_have_text("已签协议")
    expect(page.locator("#signature-image")).to_be_visible()

    sign_in(page, finance.username)  # R-REN-5
    page.goto(url)
    step(page, "pay-form", fee="300", deposit="2000", receipt_no="SK-20261106-01")
    expect(state).to_have_text("施工中")
    expect(page.locator("#fees")).to_contain_text("¥2,000.00")

    clock.now = at("2026-11-09 08:30")
    sign_in(page, desk.username)  # R-REN-6: a pass with the worker's photo, printed at the desk
    page.goto(url)
    photo = tmp_path / "worker.png"
    Image.new("RGB", (400, 500), (190, 160, 130)).save(photo)
    form = page.locator("#pass-form")
    form.locator("[name=worker_name]").fill("李师傅")
    form.locator("input[type=file]").set_input_files(photo)
    expect(form.locator("img.photo")).to_be_visible()
    form.locator("button[type=submit]").click()
    expect(page.locator("#passes-table")).to_contain_text("李师傅")
    expect(page.locator("#passes-table img.photo")).to_be_visible()
    with VirtualPrinter(tmp_path / "printer") as printer:
        devices.enrol(db, SYSTEM, estate, DeviceKind.printer, "前台热敏打印机", "服务中心", url=printer.url)
        db.commit()
        page.reload()
        page.locator("#passes-table button[data-print]").click()
        expect(page.get_by_role("status")).to_contain_text("出入证已打印")
        (job,) = printer.wait_for_jobs(1)
    assert job.png_path is not None and job.png_path.stat().st_size > 1000
    save_screenshot(page, "renovation-pass")

    clock.now = at("2026-11-27 10:00")  # R-REN-8
    sign_in(page, desk.username)
    page.goto(url)
    step(page, "request-acceptance-form")
    expect(state).to_have_text("已申请验收")
    sign_in(page, engineer.username)
    page.goto(url)
    step(page, "book-form", inspection_at="2026-11-30T10:00")
    expect(state).to_have_text("已预约验收")
    clock.now = at("2026-11-30 11:00")
    sign_in(page, engineer.username)
    page.goto(url)
    step(page, "accept-form", note="验收合格")
    expect(state).to_have_text("已验收，待退押金")
    expect(page.locator("#refund-due")).to_contain_text("2026-12-14")  # R-REN-9: 10 working days on

    sign_in(page, finance.username)
    page.goto(url)
    step(page, "refund-form", reference="TK-20261210-01")
    expect(state).to_have_text("已退押金")
    expect(page.locator("#refunded")).to_contain_text("¥2,000.00")
    save_screenshot(page, "renovation-refunded")
    register = page.request.get("/console/renovations/export.xlsx")
    assert register.ok and register.body()[:2] == b"PK"

    db.expire_all()
    record = db.scalar(select(Renovation))
    assert record is not None and record.state is RenovationState.refunded
    item = db.scalar(select(WorkerPass))
    assert item is not None and item.photo.startswith("data:image/jpeg;base64,") and item.printed_at is not None
    assert item.withdrawn_at is not None  # the works were accepted: the pass ended with them
    sent = Image.open(io.BytesIO(base64.b64decode(item.photo.split(",", 1)[1], validate=True)))
    assert max(sent.size) == 320  # scaled down in the browser before it was sent
