"""One repair through the console in headless Chromium (Playwright), the app's clock moved by the test: a phone call
taken by the script (R-PHONE) opens the order (R-REP-1), engineering assigns it, books the visit, starts and
finishes it with the resident's signature drawn on the pad (R-REP-7), the supervisor signs it off, and the desk
calls back inside the 19:00–22:00 window (R-REP-8, 9). Screenshots: var/screenshots/repairs-*.png."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Estate, OrderState, Role, ServiceKind, ServiceOrder
from server.domain.actors import SYSTEM
from server.domain.service import prices
from tests.conftest import Household, save_screenshot
from tests.server.service.repairs.conftest import local

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

PASSWORD = "pw-for-browser-1"


class Clock:
    def __init__(self, app: FastAPI, at: datetime) -> None:
        self.at = at
        app.state.clock = lambda: self.at


def sign_in(page: Page, username: str) -> None:
    page.context.clear_cookies()
    page.goto("/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/console/$"))


def sign(page: Page) -> None:
    """The resident signs on the pad: a stroke drawn with the mouse."""
    box = page.locator("[data-signature-pad] canvas").bounding_box()
    assert box is not None
    x, y = box["x"] + 20, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(x + step * 25, y + (15 if step % 2 else -15), steps=3)
    page.mouse.up()


def test_r_rep_a_phone_repair_signed_on_the_pad_and_called_back_in_its_window(
    page: Page, app: FastAPI, db: Session, estate: Estate, household: Household, make_user: Callable[..., Any]
) -> None:
    clock = Clock(app, local("2026-11-02 09:30"))
    prices.add_item(
        db, SYSTEM, estate, prices.PriceLine(ServiceKind.repair, "tap-leak", "plumbing", "水龙头维修", 3000), clock.at
    )
    db.commit()
    desk = make_user(Role.front_desk, password=PASSWORD)
    engineer = make_user(Role.engineering, password=PASSWORD)

    sign_in(page, desk.username)  # R-PHONE: the call by the script
    page.goto("/console/service/phone")
    form = page.locator("#phone-form")
    form.get_by_label("请问您的房号？").fill("5-8B")
    form.get_by_label("请问您贵姓？").fill("王")
    form.get_by_label("联系电话", exact=True).fill("13800000001")
    form.get_by_label("内容和位置").fill("卫生间水龙头漏水")
    form.get_by_label("价目表项目").select_option("tap-leak")
    form.get_by_label("位置", exact=True).fill("卫生间")
    form.get_by_label("告诉来电人将如何处理").fill("今天下午工程部上门，先电话预约")
    form.get_by_label("已询问“请问还有其他需要吗？”").check()
    form.get_by_role("button", name="记录来电").click()
    expect(page.get_by_role("alert")).to_contain_text("复述")  # the read-back was left out: refused
    page.get_by_label("已复述，来电人确认无误").check()
    page.get_by_role("button", name="记录来电").click()
    expect(page.locator("#order-state")).to_have_text("新建")
    number = page.locator("h1").inner_text().split()[1]
    order_url = page.url.split("?")[0]
    save_screenshot(page, "repairs-opened")

    sign_in(page, engineer.username)  # engineering: assign, book, start, finish with the signature
    page.goto(order_url)
    page.locator("#assign-form select").select_option(str(engineer.id))
    page.locator("#assign-form").get_by_role("button").click()
    page.locator("#schedule-form input[name=start]").fill("2026-11-02T14:00")
    page.locator("#schedule-form input[name=end]").fill("2026-11-02T15:00")
    page.locator("#schedule-form").get_by_role("button").click()
    expect(page.locator("#order-state")).to_have_text("已预约")
    clock.at = local("2026-11-02 14:05")
    page.locator("#start-form").get_by_role("button").click()
    expect(page.locator("#order-state")).to_have_text("维修中")
    clock.at = local("2026-11-02 15:00")
    finish = page.locator("#finish-form")
    finish.locator("input[name=opinion]").fill("修好了，很满意")
    finish.get_by_label("是", exact=True).check()
    sign(page)
    expect(page.locator("[data-signature-pad]")).to_have_class(re.compile("signed"))
    finish.locator("input[name=repairer]").fill("李师傅")
    save_screenshot(page, "repairs-signature")
    finish.get_by_role("button", name="完工").click()
    expect(page.locator("#order-state")).to_have_text("已完工")
    expect(page.locator("#signature-image")).to_be_visible()
    clock.at = local("2026-11-02 17:10")  # the supervisor's sign-off before the 17:30 handover
    page.locator("#sign-off-form").get_by_role("button").click()
    expect(page.locator("#order-state")).to_have_text("已返回")

    sign_in(page, desk.username)  # the callback: not before 19:00, then inside the window
    page.goto("/console/service/calls")
    expect(page.locator("#queue-table")).to_contain_text("未到回访时段")
    clock.at = local("2026-11-02 19:40")
    page.reload()
    row = page.locator("#queue-table tr", has_text=number)
    row.locator("select[name=outcome]").select_option("reached_satisfied")
    row.locator("input[name=note]").fill("住户表示满意")
    row.get_by_role("button", name="记录").click()
    expect(page.locator("#made-table")).to_contain_text("已接通，满意")
    page.goto(order_url)
    expect(page.locator("#order-state")).to_have_text("已回访")
    save_screenshot(page, "repairs-called-back")
    db.commit()
    order = db.scalar(select(ServiceOrder).where(ServiceOrder.number == number))
    assert order is not None and order.state == OrderState.called_back
    assert order.resident_signature.startswith("data:image/png;base64,") and len(order.resident_signature) > 500
    assert order.channel.value == "phone" and order.returned_at == local("2026-11-02 17:10")
