"""The release slip's paper trail in headless Chromium: the owner signs a slip on the front desk's pad (pointer
events on the page's canvas) and the signature is on the slip page; the gate releases it with a photo, refuses
another with a reason and stops goods with no slip; the security captain opens the gate release log 《物品放行登记》
for the day and gate and exports it as XLSX and PDF. Screenshots: var/screenshots/gate-log-*.png."""

from __future__ import annotations

import base64
import io
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from server.db.models import Estate
from tests.conftest import Household, keyed, save_screenshot

from .conftest import count_all, kiosk_slip, today
from .pdf_text import pdf_text
from .test_slips_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

PHOTO = base64.b64encode(b"\xff\xd8\xff\xe0 the frame the guard decided on \xff\xd9").decode()


def release(client: TestClient, gate: dict, slip: dict, **body: object) -> None:
    payload = {"text": slip["token"], "guard": "张保安", "lines": count_all(slip), **body}
    answer = client.post("/api/v1/gate/releases", json=payload, headers=gate | {"Idempotency-Key": uuid.uuid4().hex})
    assert answer.status_code == 201, answer.text


def test_a_slip_signed_on_the_desk_pad_and_the_captains_gate_log_with_exports_r_rel_6(
    page: Page,
    client: TestClient,
    make_user: Callable[..., Any],
    estate: Estate,
    household: Household,
    kiosk: dict,
    gate_a: dict,
    gate_b: dict,
) -> None:
    """R-REL-2: the owner signs on the desk's pad; R-REL-6: the captain's log of the day at the east gate holds the
    release with its guard, time, counted lines and photo, the refusal with its reason and the goods stopped with no
    slip, and both exports carry them."""
    sign_in(page, make_user, "front_desk")
    page.goto("/console/slips/new")
    form = page.locator("#slip-form")
    form.get_by_label("房号").fill("5-8B")
    form.get_by_label("常用物品 1", exact=True).select_option("BED")
    form.get_by_label("数量 1", exact=True).fill("1")
    pad = form.get_by_label("签名板")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + 30, box["y"] + 100)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 30 + step * 30, box["y"] + 100 - (step % 3) * 25)
    page.mouse.up()
    expect(form.locator("input[name=signature]")).to_have_value(re.compile("^data:image/png;base64,"))
    form.get_by_role("button", name="开具").click()
    expect(page.get_by_role("status")).to_contain_text("放行条已开具")
    expect(page.locator("#slip-signature")).to_be_visible()
    assert page.locator("#slip-signature").evaluate("img => img.naturalWidth") > 100
    number = page.locator("#slip-number").inner_text()
    save_screenshot(page, "gate-log-signed-slip")

    signed = next(s for s in client.get("/api/v1/gate/slips", headers=gate_a).json()["slips"] if s["number"] == number)
    release(client, gate_a, signed, photo_jpeg_b64=PHOTO)
    refused = kiosk_slip(client, estate, kiosk)
    release(client, gate_a, refused, refuse=True, reason="物品有损坏")
    stop = {"goods": "冰箱", "reason": "无放行条搬出大件物品", "guard": "李保安"}
    assert client.post("/api/v1/gate/stops", json=stop, headers=keyed(gate_b)).status_code == 201

    sign_in(page, make_user, "security_captain")
    page.goto("/console/slips")
    page.get_by_role("link", name="物品放行登记").click()
    filters = page.locator("#gate-log-filters")
    filters.locator("input[name=day]").fill(today(estate).isoformat())
    filters.get_by_label("门岗").select_option("东门")
    filters.get_by_role("button").click()
    rows = page.locator("#gate-log tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(number)
    expect(rows.nth(0)).to_contain_text("床 1/1")
    expect(rows.nth(0)).to_contain_text("张保安")
    expect(rows.nth(0).locator("img.gate-photo")).to_be_visible()
    expect(rows.nth(1)).to_contain_text("物品有损坏")
    expect(page.locator("#gate-log")).not_to_contain_text("冰箱")  # stopped at the west gate
    save_screenshot(page, "gate-log-east")
    filters.get_by_label("门岗").select_option("")
    filters.get_by_role("button").click()
    expect(rows).to_have_count(3)
    expect(page.locator("#gate-log")).to_contain_text("无条拦下")

    with page.expect_download() as download:
        page.locator("#export-xlsx").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    book = load_workbook(io.BytesIO(download.value.path().read_bytes()))
    cells = [c for row in book.active.iter_rows(values_only=True) for c in row if c]
    assert "物品放行登记" in cells[0] and number in cells and "物品有损坏" in cells and "冰箱" in cells
    href = page.locator("#export-pdf").get_attribute("href")
    assert href is not None and re.search(r"day=\d{4}-\d{2}-\d{2}", href)
    printed = page.request.get(href)
    assert printed.headers["content-type"] == "application/pdf"
    text = pdf_text(printed.body())
    assert number in text and "冰箱" in text and "治安队长" in text
    assert printed.body().startswith(b"%PDF")
