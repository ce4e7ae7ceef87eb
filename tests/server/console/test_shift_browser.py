"""A full front-desk shift in headless Chromium (R-DUTY-3, 4): the desk signs in, writes three entries of the
information log of different urgency, hands over with one open item and its owner; the incoming person signs in,
is refused a log entry until they acknowledge, sees the open item with its owner, and acknowledges.
Screenshot: var/screenshots/duty-shift-*.png."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Role, StaffUser
from server.db.models.dutylog import Handover, LogEntry
from tests.conftest import Household, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

PASSWORD = "pw-for-browser-1"


def sign_in(page: Page, user: StaffUser) -> None:
    page.context.clear_cookies()
    page.goto("/console/login")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/console/$"))


def write_entry(page: Page, urgency: str, category: str, summary: str, unit: str = "") -> None:
    form = page.locator("#entry-form")
    form.get_by_label("紧急程度").select_option(urgency)
    form.get_by_label("类别").fill(category)
    form.get_by_label("房号", exact=True).fill(unit)
    form.get_by_label("内容").fill(summary)
    form.get_by_role("button", name="记录").click()
    expect(page.locator(".flash").first).to_contain_text("已记录")


def test_r_duty_3_4_a_full_shift_logged_handed_over_and_acknowledged(
    page: Page, db: Session, household: Household, make_user: Callable[..., Any]
) -> None:
    outgoing = make_user(Role.front_desk, password=PASSWORD)
    incoming = make_user(Role.front_desk, password=PASSWORD)
    owner = make_user(Role.engineering, password=PASSWORD)
    sign_in(page, outgoing)
    page.goto("/console/duty/log")
    write_entry(page, "urgent", "漏水", "5-8B 厨房漏水", unit="5-8B")
    write_entry(page, "normal", "噪音", "楼上装修噪音")
    write_entry(page, "low", "快递", "快递放前台")
    rows = page.locator("#log-table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_have_attribute("data-urgency", "urgent")  # the most urgent first
    save_screenshot(page, "duty-shift-log")

    page.goto("/console/duty/handover")
    form = page.locator("#handover-form")
    form.get_by_label("接班人").select_option(str(incoming.id))
    form.get_by_label("本班处理结果").fill("噪音、快递已办结；漏水待工程处理")
    form.get_by_label("事项 1").fill("5-8B 漏水待工程回复")
    form.get_by_label("负责人 1").select_option(str(owner.id))
    form.get_by_role("button", name="交班").click()
    expect(page.locator(".flash").first).to_contain_text("已交班")

    sign_in(page, incoming)
    page.goto("/console/duty/log")
    expect(page.locator("#pending-handover")).to_contain_text("先确认交接")
    write_entry_refused = page.locator("#entry-form")
    write_entry_refused.get_by_label("类别").fill("咨询")
    write_entry_refused.get_by_label("内容").fill("询问停车")
    write_entry_refused.get_by_role("button", name="记录").click()
    expect(page.get_by_role("alert").first).to_contain_text("先确认交接")

    page.goto("/console/duty/handover")
    pending = page.locator("#pending-handover")
    expect(pending.locator(".open-items li")).to_have_count(1)
    expect(pending.locator(".open-items li")).to_contain_text("5-8B 漏水待工程回复")
    expect(pending.locator(".open-items .owner")).to_have_text(owner.display_name)
    save_screenshot(page, "duty-shift-handover")
    pending.get_by_role("button", name="确认交接").click()
    expect(page.locator(".flash").first).to_contain_text("已确认交接")
    expect(page.locator("#pending-handover")).to_have_count(0)

    page.goto("/console/duty/log")
    write_entry(page, "normal", "咨询", "询问停车")
    db.commit()
    assert db.scalar(select(Handover.acknowledged_at)) is not None
    assert len(list(db.scalars(select(LogEntry)))) == 4
