"""One archive loan through the console in headless Chromium (R-ARC), the app's clock moved by the test: the desk
lends a file within the day with the "no copying" tick and the borrower's signature drawn on the pad; the next day
the loan shows overdue; it is returned late, and the return records the lateness."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Estate, Role
from server.db.models.archive import ArchiveLoan, ArchiveLoanState
from server.domain.actors import SYSTEM
from server.domain.archive import files
from tests.conftest import save_screenshot
from tests.server.console.test_repair_browser import PASSWORD, Clock, sign, sign_in
from tests.server.service.repairs.conftest import local

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def test_r_arc_an_archive_loan_signed_on_the_pad_overdue_next_day_and_returned_late(
    page: Page, app: FastAPI, db: Session, estate: Estate, make_user: Callable[..., Any]
) -> None:
    clock = Clock(app, local("2026-11-30 10:00"))
    keeper = make_user(Role.records_admin, password=PASSWORD)
    fields = files.FileFields("contract", "电梯维保合同", "C-4", date(2025, 3, 1), 10, "internal")
    file = files.create(db, SYSTEM, estate, fields, by=keeper, now=clock.at)
    db.commit()
    desk = make_user(Role.front_desk, password=PASSWORD)

    sign_in(page, desk.username)
    page.goto(f"/console/archive/loans/new?file={file.id}")
    form = page.locator("#loan-form")
    form.locator("select[name=staff_id]").select_option(str(desk.id))
    form.locator("input[name=due_at]").fill("2026-11-30T17:00")
    form.locator("input[name=purpose]").fill("核对维保条款")
    form.get_by_role("button", name="借出").click()
    expect(page.get_by_role("alert")).to_contain_text("不得复印")  # the acknowledgement left out: refused
    page.locator("#no-copying").check()
    sign(page)
    expect(page.locator("[data-signature-pad]")).to_have_class(re.compile("signed"))
    save_screenshot(page, "archive-loan-signature")
    page.get_by_role("button", name="借出").click()
    expect(page.locator("#loan-state")).to_contain_text("借出中")
    expect(page.locator("#signature-image")).to_be_visible()
    loan_url = page.url.split("?")[0]

    clock.at = local("2026-12-01 09:00")  # the next day (the session has expired overnight): overdue
    sign_in(page, desk.username)
    page.goto("/console/archive")
    expect(page.locator("#loans-out")).to_contain_text("逾期未还")
    page.goto(loan_url)
    expect(page.locator("#loan-overdue")).to_be_visible()
    page.locator("#return-form").get_by_role("button", name="归还").click()
    expect(page.locator("#loan-state")).to_contain_text("已归还")
    expect(page.locator("#returned-late")).to_be_visible()
    save_screenshot(page, "archive-returned-late")
    db.commit()
    loan = db.scalars(select(ArchiveLoan)).one()
    assert loan.state == ArchiveLoanState.returned and loan.returned_late and loan.no_copying
    assert loan.borrower_signature.startswith("data:image/png;base64,") and len(loan.borrower_signature) > 500
    assert loan.returned_at == local("2026-12-01 09:00")
