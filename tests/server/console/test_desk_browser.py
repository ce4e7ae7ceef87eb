"""The front desk in headless Chromium: a proxy slip issued at the desk prints on the workstation's ESC/POS printer
(the virtual one; its code read from the printout verifies at the gate) and as the office PDF with both copies;
a tenant's move-out is recorded, and a resident gets a card and a PIN, then identifies at the kiosk with each.
Screenshots: var/screenshots/desk-*.png."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from devices.printing.virtual import VirtualPrinter
from devices.qr import load_image, make_decoder
from server.db.models import DeviceKind, Estate, OccupancyKind
from server.domain import clock, devices, registry
from server.domain.actors import SYSTEM
from tests.conftest import Household, keyed, save_screenshot
from tests.server.slips.test_desk_printing import pdf_images

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

PASSWORD = "pw-for-browser-1"


@pytest.fixture
def virtual(tmp_path: Path) -> Iterator[VirtualPrinter]:
    with VirtualPrinter(tmp_path / "printer") as printer:
        yield printer


def sign_in(page: Page, make_user: Callable[..., Any], role: str) -> None:
    user = make_user(role, password=PASSWORD)
    page.context.clear_cookies()
    page.goto("/console/login")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/console/$"))


def bearer(token: str) -> dict[str, str]:
    return keyed({"Authorization": f"Bearer {token}"})


def test_a_proxy_slip_from_the_desk_prints_on_the_desk_printer_and_as_a_pdf_r_rel_4(
    page: Page,
    make_user: Callable[..., Any],
    make_device: Callable[..., tuple],
    client: TestClient,
    db: Session,
    estate: Estate,
    household: Household,
    virtual: VirtualPrinter,
) -> None:
    """R-REL-3/4: the proxy leaves with the printed slip; the stub and the customer copy carry the same code."""
    devices.enrol(db, SYSTEM, estate, DeviceKind.printer, "前台热敏打印机", "服务中心", url=virtual.url)
    db.commit()
    _gate, gate = make_device("gate", "东门")
    sign_in(page, make_user, "front_desk")
    page.goto("/console/slips/new")
    form = page.locator("#slip-form")
    form.get_by_label("房号").fill("5-8B")
    form.get_by_label("申请人类型").select_option("proxy")
    form.get_by_label("代办人姓名").fill("陈代办")
    form.get_by_label("代办人电话").fill("13900000003")
    form.get_by_label("业主确认内容").fill("业主电话确认：沙发一张")
    form.get_by_label("代办人身份证图片").set_input_files(
        {"name": "id.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n proxy id copy"}
    )
    form.get_by_label("常用物品 1", exact=True).select_option("SOFA")
    form.get_by_label("数量 1", exact=True).fill("1")
    form.get_by_role("button", name="开具").click()
    expect(page.get_by_role("status")).to_contain_text("放行条已开具")
    number = page.locator("#slip-number").inner_text()

    page.get_by_label("打印机").select_option(label="前台热敏打印机 · 服务中心")
    page.locator("#print-slip").click()
    expect(page.get_by_role("status")).to_contain_text("放行条已打印")
    expect(page.locator("#slip-timeline")).to_contain_text("打印 · ")
    expect(page.locator("#slip-timeline")).to_contain_text("前台热敏打印机")
    save_screenshot(page, "desk-slip-printed")
    job = virtual.wait_for_jobs(1)[0]
    assert job.png_path is not None
    (text,) = [d.text for d in make_decoder("zxing").decode(load_image(job.png_path))]
    verified = client.post("/api/v1/gate/verify", json={"text": text}, headers=bearer(gate))
    assert verified.status_code == 200 and verified.json()["slip"]["number"] == number

    page.get_by_label("打印机").select_option("pdf")
    with page.expect_download() as download:
        page.locator("#print-slip").click()
    pdf = Path(download.value.path()).read_bytes()
    decoder = make_decoder("zxing")
    codes = [[d.text for d in decoder.decode_grey(np.ascontiguousarray(i))] for i in pdf_images(pdf)]
    assert codes == [[text], [text]]  # the stub and the customer copy: the slip's one token
    page.goto(page.url)  # the workstation keeps its choice, and the reprint went into the timeline
    expect(page.get_by_label("打印机")).to_have_value("pdf")
    expect(page.locator("#slip-timeline")).to_contain_text("补打")

    virtual.state = virtual.state.OUT  # out of paper: said on the page, nothing printed, nothing logged
    page.get_by_label("打印机").select_option(label="前台热敏打印机 · 服务中心")
    page.locator("#print-slip").click()
    expect(page.get_by_role("alert")).to_contain_text("缺纸")
    expect(page.locator("#slip-timeline li")).to_have_count(3)
    save_screenshot(page, "desk-printer-out-of-paper")


def test_a_tenant_moves_out_and_a_resident_gets_a_card_and_a_pin_for_the_kiosk_r_rel_5(
    page: Page,
    make_user: Callable[..., Any],
    make_device: Callable[..., tuple],
    client: TestClient,
    db: Session,
    estate: Estate,
    household: Household,
) -> None:
    """R-REL-5: once the move-out is recorded, the tenant's slip waits for finance's arrears check."""
    registry.set_arrears(db, SYSTEM, household.unit, 88000, "物业费")
    newcomer = registry.add_person(db, SYSTEM, estate, "赵新来", "13500000005")
    registry.add_occupancy(db, SYSTEM, household.unit, newcomer, OccupancyKind.family, clock.today(estate))
    db.commit()
    _kiosk, kiosk = make_device("kiosk")

    sign_in(page, make_user, "records_admin")
    page.goto("/console/residents?q=李租客")
    page.get_by_role("link", name="李租客").click()
    move_out = page.locator("#occupancies tbody tr").first.locator("form[action$='/end']")
    move_out.get_by_label("搬出日期").fill(clock.today(estate).isoformat())
    move_out.get_by_role("button", name="登记搬出").click()
    expect(page.get_by_role("status")).to_contain_text("搬出日期已登记")
    save_screenshot(page, "desk-move-out")
    sign_in(page, make_user, "front_desk")
    page.goto("/console/slips/new")
    form = page.locator("#slip-form")
    form.get_by_label("房号").fill("5-8B")
    form.get_by_label("申请人类型").select_option("tenant")
    form.get_by_label("业主/住户姓名").fill("李租客")
    form.get_by_label("常用物品 1", exact=True).select_option("SOFA")
    form.get_by_label("数量 1", exact=True).fill("1")
    form.get_by_role("button", name="开具").click()
    expect(page.get_by_role("alert")).to_contain_text("尚有欠费 ¥880.00")

    page.goto("/console/residents?q=赵新来")
    page.get_by_role("link", name="赵新来").click()
    card = page.get_by_label("卡号")
    card.fill("0007781234")
    card.press("Enter")  # the desk reader types the number and Enter
    expect(page.get_by_role("status")).to_contain_text("住户卡已登记")
    page.get_by_role("button", name="设置 / 重置 PIN").click()
    pin = page.locator("#pin-value").inner_text()
    assert re.fullmatch(r"\d{6}", pin)
    expect(page.locator("#print-pin")).to_be_visible()
    save_screenshot(page, "desk-new-pin")
    page.goto(f"/console/people/{newcomer.id}")  # the PIN was shown once
    expect(page.locator("#pin-state")).to_have_text("已设置")
    expect(page.locator("#pin-value")).to_have_count(0)

    by_card = client.post("/api/v1/residents/identify", json={"card": "0007781234"}, headers=bearer(kiosk))
    by_pin = client.post("/api/v1/residents/identify", json={"unit": "5-8B", "pin": pin}, headers=bearer(kiosk))
    assert by_card.status_code == by_pin.status_code == 200
    assert by_card.json()["person_id"] == by_pin.json()["person_id"] == newcomer.id
