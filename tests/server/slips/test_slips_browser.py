"""Slip pages in headless Chromium (Playwright): the front desk issues a proxy slip, finds it in the register;
the security captain and the CS admin sign off the day's reconciliation. Screenshots: var/screenshots/slips-*.png.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from server.db.models import Estate
from tests.conftest import Household, save_screenshot

# The browser drives the pages; the domain and API beneath them run on both databases in their own tests.
pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

PASSWORD = "pw-for-browser-1"


def shot(page: Page, name: str) -> None:
    save_screenshot(page, f"slips-{name}")


def sign_in(page: Page, make_user: Callable[..., Any], role: str) -> None:
    user = make_user(role, password=PASSWORD)
    page.context.clear_cookies()
    page.goto("/console/login")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/console/$"))


def test_issue_a_proxy_slip_find_it_and_sign_off_the_day(
    page: Page, make_user: Callable[..., Any], estate: Estate, household: Household
) -> None:
    sign_in(page, make_user, "front_desk")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="放行条", exact=True).click()
    page.get_by_role("link", name="开具放行条").click()
    form = page.locator("#slip-form")
    form.get_by_label("房号").fill("5-8B")
    form.get_by_label("申请人类型").select_option("proxy")
    form.get_by_label("代办人姓名").fill("陈代办")
    form.get_by_label("代办人电话").fill("13900000003")
    form.get_by_label("业主确认内容").fill("业主电话确认：沙发一张、纸箱五个")
    form.get_by_label("代办人身份证图片").set_input_files(
        {"name": "id.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n proxy id copy"}
    )
    form.get_by_label("常用物品 1", exact=True).select_option("SOFA")
    form.get_by_label("数量 1", exact=True).fill("1")
    form.get_by_label("常用物品 2").select_option("BOX")
    form.get_by_label("数量 2").fill("5")
    shot(page, "issue-proxy-form")
    form.get_by_role("button", name="开具").click()
    expect(page.get_by_role("status")).to_contain_text("放行条已开具")
    expect(page.locator("#countersign-pending")).to_have_text("待业主补签")
    number = page.locator("#slip-number").inner_text()
    assert re.fullmatch(r"GH-\d{8}-0001", number)
    shot(page, "issued-proxy-slip")

    page.get_by_role("link", name="放行条记录单").first.click()
    page.get_by_role("searchbox", name="房号").fill("5-8B")
    page.get_by_label("申请人类型").select_option("proxy")
    row = page.locator("#slips-table tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(number)
    expect(row).to_contain_text("陈代办")
    expect(row).to_contain_text("沙发×1、纸箱×5")
    shot(page, "register")
    row.get_by_role("link", name=number).click()
    expect(page.locator("#slip-items")).to_contain_text("纸箱")

    for role, side in (("security_captain", "security"), ("records_admin", "records")):
        sign_in(page, make_user, role)
        page.goto("/console/slips/reconciliation")
        expect(page.locator("#recon-figures")).to_contain_text("1")
        page.locator(f"#sign-{side}").click()
        expect(page.get_by_role("status")).to_contain_text("已签核")
    expect(page.locator("#recon-signatures")).not_to_contain_text("未签核")
    shot(page, "reconciliation-signed")
