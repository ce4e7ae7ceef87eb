"""The console in headless Chromium (Playwright), as issue 2 accepts it: log in, wrong password, permission refused
for a role, CSRF-less form post refused, resident search, import with errors shown.

Runs on both database backends; the browser is launched once for the module. Screenshots go to
var/screenshots/console-*.png for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import ArrearsChange, Person, Unit
from tests.conftest import save_screenshot

# The browser drives the pages; the domain and API beneath them run on both databases in their own tests.
pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def shot(page: Page, name: str) -> None:
    save_screenshot(page, f"console-{name}")


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/console/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()


def signed_in_as(page: Page, make_user: Callable, password: str, role: str) -> None:
    user = make_user(role)
    sign_in(page, user.username, password)
    expect(page).to_have_url(re.compile(r"/console/$"))


def test_sign_in_refuses_a_wrong_password_then_lets_the_right_one_in(
    page: Page, make_user: Callable, password: str
) -> None:
    user = make_user("front_desk", username="xiao.li")
    sign_in(page, "xiao.li", "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
    expect(page.get_by_label("用户名")).to_have_value("xiao.li")
    shot(page, "login-wrong-password")

    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/console/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(f"您好，{user.display_name}")
    expect(page.get_by_role("navigation", name="主导航").get_by_role("link", name="住户")).to_be_visible()
    shot(page, "dashboard")


def test_a_role_without_the_permission_is_refused(page: Page, make_user: Callable, password: str) -> None:
    signed_in_as(page, make_user, password, "gate_guard")
    expect(page.get_by_role("navigation", name="主导航").get_by_role("link", name="住户")).to_have_count(0)
    response = page.goto("/console/residents")
    assert response is not None and response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("您的角色无权进行此操作")
    expect(page.locator("#residents-table")).to_have_count(0)
    shot(page, "permission-refused")


def test_a_form_posted_without_its_csrf_token_is_refused(
    page: Page, make_user: Callable, password: str, populated, db: Session
) -> None:
    signed_in_as(page, make_user, password, "finance")
    unit_id = populated.unit_ids["1-2A"]
    page.goto(f"/console/units/{unit_id}")
    form = page.locator("form[action$='/arrears']")
    form.locator("input[name=csrf_token]").evaluate("field => field.remove()")
    page.get_by_label("欠费总额（元）").fill("0")
    form.get_by_role("button", name="保存").click()
    expect(page.get_by_role("alert")).to_contain_text("表单已失效，请刷新页面后重试")
    shot(page, "csrf-refused")
    db.expire_all()
    assert db.get(Unit, unit_id).arrears_fen == 128050
    assert db.scalar(select(func.count()).select_from(ArrearsChange).where(ArrearsChange.unit_id == unit_id)) == 1
    db.commit()


def test_resident_search_updates_the_table_in_place(page: Page, make_user: Callable, password: str, populated) -> None:
    signed_in_as(page, make_user, password, "front_desk")
    page.goto("/console/residents")
    rows = page.locator("#residents-table tbody tr")
    expect(rows).to_have_count(5)
    page.evaluate("window.stillTheSamePage = true")

    page.get_by_label("查找").press_sequentially("李娜")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("1-2A")
    expect(page).to_have_url(re.compile(r"/console/residents\?q=%E6%9D%8E%E5%A8%9C"))
    assert page.evaluate("window.stillTheSamePage") is True, "HTMX swapped the table; the page was not reloaded"

    page.get_by_label("查找").fill("1-2A")
    expect(rows).to_have_count(2)
    page.get_by_label("只看现住户").check()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("李娜")
    shot(page, "resident-search")


def test_an_import_with_bad_rows_shows_each_problem_and_imports_nothing(
    page: Page, make_user: Callable, password: str, db: Session
) -> None:
    signed_in_as(page, make_user, password, "records_admin")
    page.goto("/console/residents/import")
    sheet = (
        "房号,姓名,电话,身份,起始日期\n"
        "5-8B,赵敏,13811112222,业主,2021-03-01\n"
        "58B,钱多,,业主,2021-03-01\n"
        "6-1A,孙丽,,房东,2021-13-01\n"
    ).encode()
    page.get_by_label("表格文件").set_input_files({"name": "住户登记.csv", "mimeType": "text/csv", "buffer": sheet})
    page.get_by_role("button", name="检查并导入").click()

    problems = page.locator("#problems tbody tr")
    expect(problems).to_have_count(3)
    expect(problems.nth(0)).to_contain_text("3")
    expect(problems.nth(0)).to_contain_text("房号")
    expect(problems.nth(1)).to_contain_text("身份")
    expect(problems.nth(2)).to_contain_text("起始日期")
    expect(page.locator("#import-problems")).to_contain_text("没有导入任何数据")
    shot(page, "import-errors")
    assert db.scalar(select(func.count()).select_from(Person)) == 0
    db.commit()
