"""A complaint through the console in headless Chromium (R-FB-1…4): the desk records it and fills in the form,
passes it to engineering with the director's assistant informed, the engineering user writes the reply, the
supervisor signs, the desk answers the resident and the CS admin files it (var/screenshots/feedback-filed.png)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import FeedbackForm, FeedbackState
from tests.conftest import Household, save_screenshot

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
PASSWORD = "pw-for-browser-1"


def sign_in(page: Page, make_user: Callable[..., Any], role: str) -> None:
    user = make_user(role, password=PASSWORD)
    page.context.clear_cookies()
    page.goto("/console/login")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/console/$"))


def test_r_fb_a_complaint_is_referred_replied_signed_answered_and_filed(
    page: Page, db: Session, make_user: Callable[..., Any], household: Household
) -> None:
    sign_in(page, make_user, "front_desk")
    page.goto("/console/service/feedback")
    page.get_by_role("link", name="登记客户意见").click()
    page.get_by_label("渠道").select_option("phone")
    page.get_by_label("类别").select_option("complaint")
    page.get_by_label("房号").fill("5-8B")
    page.get_by_label("住户").fill("王建国")
    page.get_by_label("意见内容").fill("楼道灯坏了")
    page.get_by_role("button", name="登记").click()
    expect(page.locator("#state")).to_have_text("已受理")
    url = page.url.split("?")[0]
    page.locator("#fill-form textarea[name=details]").fill("5 栋 8 层楼道灯三天不亮")
    page.get_by_role("button", name="填写处理单").click()
    page.get_by_label("责任部门").select_option("engineering")
    page.get_by_label("已同时报告主任助理").check()
    page.get_by_role("button", name="转交责任部门").click()
    expect(page.locator("#state")).to_have_text("已转部门")
    expect(page.locator("#department")).to_contain_text("已报主任助理")

    sign_in(page, make_user, "engineering")
    page.goto(url)
    page.locator("#reply-form textarea[name=reply]").fill("已更换灯泡，线路正常")
    page.get_by_role("button", name="提交书面答复").click()
    expect(page.locator("#reply")).to_contain_text("已更换灯泡")

    sign_in(page, make_user, "cs_manager")
    page.goto(url)
    page.get_by_role("button", name="主管签字").click()
    expect(page.locator("#state")).to_have_text("主管已签字")

    sign_in(page, make_user, "front_desk")
    page.goto(url)
    page.locator("#answer-form textarea[name=text]").fill("灯已修好，谢谢您的反映")
    page.get_by_role("button", name="已答复住户").click()
    expect(page.locator("#answer")).to_contain_text("灯已修好")

    sign_in(page, make_user, "records_admin")
    page.goto(url)
    page.get_by_role("button", name="归档").click()
    expect(page.locator("#state")).to_have_text("已归档")
    expect(page.locator("#history tbody tr")).to_have_count(7)
    save_screenshot(page, "feedback-filed")
    db.commit()
    form = db.scalar(select(FeedbackForm))
    assert form is not None and form.state == FeedbackState.filed and form.supervisor_signed_by_id is not None
