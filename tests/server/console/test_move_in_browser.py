"""One whole move-in through the console in headless Chromium (R-MOVE), the app's clock fixed: the desk gives the
owner a ticket, scans the ID copies and the bank-book copy with the page's file field (a PDF refused as a scan) and
checks the papers, has the family photos scanned (one too many deleted) and the documents signed on the pad;
finance takes the fees with the change worked out; the pack is handed over; engineering walks the unit with the
facilities acceptance form — a water reading below the takeover's is refused with nothing changed — reads the
meters and the owner signs; the desk issues the keys through the key register keeping a door key for the
rectification, and files the move-in."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from openpyxl import load_workbook
from PIL import Image
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Estate, KeyLoan, LoanPurpose, Role
from server.db.models.lifecycle import MeterReading, MoveIn, MoveInScan, MoveInState, ScanKind, Vacancy
from server.domain.actors import SYSTEM
from server.domain.lifecycle import vacancy
from server.domain.lifecycle.vacancy import ItemResult, TakeoverSigning
from tests.conftest import Household
from tests.server.console.key_cabinet import build_cabinet
from tests.server.console.test_repair_browser import PASSWORD, Clock, sign, sign_in
from tests.server.service.repairs.conftest import local

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]
PNG = (  # a 1x1 PNG
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
)


def pad(page: Page) -> None:
    """The owner signs on the pad, scrolled into view first (the mouse draws where the page shows it)."""
    page.locator("[data-signature-pad] canvas").scroll_into_view_if_needed()
    sign(page)


def step(page: Page, form: str, button: str = "完成此步") -> None:
    page.locator(form).get_by_role("button", name=button).click()


def image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 80), (210, 190, 160)).save(out, fmt)
    return out.getvalue()


def scan(page: Page, kind: str, *images: bytes) -> None:
    """Scans of `kind` taken at the desk with the page's file field (a tablet's camera), sent together."""
    form = page.locator("#scan-form")
    form.get_by_label("种类").select_option(label=kind)
    files = [{"name": f"scan-{n}.img", "mimeType": "image/jpeg", "buffer": data} for n, data in enumerate(images)]
    form.locator("input[type=file]").set_input_files(files)  # type: ignore[arg-type]
    form.get_by_role("button", name="保存扫描件").click()


def test_r_move_a_whole_move_in_with_the_facilities_form_and_meter_readings(
    page: Page, app: FastAPI, db: Session, estate: Estate, household: Household, make_user: Callable[..., Any]
) -> None:
    Clock(app, local("2026-11-30 10:00"))
    desk, cashier, inspector = (
        make_user(r, password=PASSWORD) for r in (Role.front_desk, Role.finance, Role.engineering)
    )
    cabinet = build_cabinet(db, estate, make_user(Role.records_admin))
    takeover = vacancy.open_takeover(
        db,
        SYSTEM,
        estate,
        unit_id=household.unit.id,
        developer="海湾置业",
        developer_rep="陈经理",
        by=inspector,
        now=local("2026-10-08 10:00"),
    )
    vacancy.record_items(
        db,
        SYSTEM,
        takeover,
        {c: ItemResult(True) for c in vacancy.CATEGORIES},
        by=inspector,
        now=local("2026-10-08 10:00"),
    )
    signing = TakeoverSigning(PNG, PNG, water="10")
    vacancy.sign_takeover(db, SYSTEM, estate, takeover, signing, by=inspector, now=local("2026-10-08 11:00"))
    db.commit()

    sign_in(page, desk.username)
    page.goto("/console/move-in")
    page.locator("#ticket-form input[name=unit]").fill("5-8B")
    page.locator("#ticket-form").get_by_role("button", name="签到取号").click()
    expect(page.locator("#ticket")).to_contain_text("1")
    record_url = page.url.split("?")[0]
    scan(page, "身份证复印件", image("JPEG"), image("PNG"))  # the ID's two sides, from the tablet's camera
    scan(page, "银行存折复印件", b"%PDF-1.4 a scanner's PDF")  # not an image: refused, nothing kept
    expect(page.get_by_role("alert")).to_contain_text("JPEG 或 PNG")
    expect(page.locator("#scans li[data-scan]")).to_have_count(2)
    scan(page, "银行存折复印件", image("JPEG"))
    expect(page.locator("#scans li[data-scan=bank_book]")).to_have_count(1)
    page.locator("#check-form input[name=notice_no]").fill("GH-2026-118")
    page.get_by_label("已查验身份证或护照原件").check()
    step(page, "#check-form")
    expect(page.locator("#move-in-state")).to_have_text("已验资料")
    shown = page.request.get(page.locator("#scans li[data-scan=id_copy] a").nth(1).get_attribute("href") or "")
    assert shown.ok and shown.headers["content-type"] == "image/png"
    assert shown.headers["cache-control"] == "private, no-store"
    scan(page, "家庭成员照片", image("JPEG"), image("JPEG"), image("JPEG"))
    page.locator("#scans li[data-scan=family_photo]").last.get_by_role("button", name="删除").click()  # one too many
    expect(page.locator("#scans li[data-scan=family_photo]")).to_have_count(2)
    for box in page.locator("#sign-form input[name=documents]").all():
        box.check()
    page.get_by_label("家庭成员人数（含业主）").fill("2")
    page.get_by_label("1 寸照片（张）").fill("6")
    pad(page)
    step(page, "#sign-form")
    expect(page.locator("#move-in-state")).to_have_text("已签约")

    sign_in(page, cashier.username)
    page.goto(record_url)
    page.get_by_label("物业管理费（预收）").fill("1500")
    page.get_by_label("水费周转金").fill("200")
    page.get_by_label("实收").fill("2000")
    page.get_by_label("收据号").fill("SK-0001")
    step(page, "#pay-form")
    expect(page.get_by_role("alert")).to_contain_text("唱收")  # the total not read back: refused
    page.get_by_label("物业管理费（预收）").fill("1500")
    page.get_by_label("水费周转金").fill("200")
    page.get_by_label("实收").fill("2000")
    page.get_by_label("收据号").fill("SK-0001")
    page.get_by_label("已唱收唱付，业主确认金额").check()
    step(page, "#pay-form")
    expect(page.locator("#change")).to_have_text("¥300.00")

    sign_in(page, desk.username)
    page.goto(record_url)
    for box in page.locator("#pack-form input[name=items]").all():
        box.check()
    step(page, "#pack-form")
    expect(page.locator("#move-in-state")).to_have_text("已领资料袋")

    sign_in(page, inspector.username)
    page.goto(record_url)

    def fill_facilities(water: str) -> None:
        for row in page.locator("#facilities tbody tr").all():
            row.locator("input[value=pass]").check()
        page.get_by_label("墙面、天花 不合格").check()
        page.get_by_label("墙面、天花 整改项目").fill("客厅墙面裂缝")
        page.locator("#inspect-form input[name=water]").fill(water)
        page.locator("#inspect-form input[name=electricity]").fill("305.2")
        pad(page)

    fill_facilities("9.5")
    step(page, "#inspect-form")
    expect(page.get_by_role("alert")).to_contain_text("低于上次读数")  # below the takeover's 10 m³
    expect(page.locator("#move-in-state")).to_have_text("已领资料袋")
    db.commit()
    assert db.scalars(select(MeterReading.source)).all() == ["takeover"]  # nothing changed
    db.commit()
    fill_facilities("12.5")
    step(page, "#inspect-form")
    expect(page.locator("#move-in-state")).to_have_text("已验房")
    expect(page.locator("#meters")).to_contain_text("12.5")
    expect(page.locator("#move-in-facts")).to_contain_text("客厅墙面裂缝")
    pdf = page.request.get(record_url + "/acceptance.pdf")
    assert pdf.ok and pdf.body().startswith(b"%PDF")
    sheet = load_workbook(io.BytesIO(page.request.get(record_url + "/acceptance.xlsx").body())).active
    lines = [row[:2] for row in sheet.iter_rows(values_only=True)]
    assert lines[0][0] == "《单元设施验收确认表》" and ("整改项目《项目整改表》", "客厅墙面裂缝") in lines

    sign_in(page, desk.username)
    page.goto(record_url)
    page.get_by_label("《钥匙签领表》编号").fill("YS-0001")
    page.locator("#keys-form select[name=kept_key]").select_option(str(cabinet.key("5-8B 入户门")))
    page.get_by_label("整改钥匙回执号").fill("ZG-0001")
    pad(page)
    step(page, "#keys-form")
    expect(page.locator("#keys-issued")).to_contain_text("ZG-0001")
    for box in page.locator("#file-form input[name=done]").all():
        box.check()
    step(page, "#file-form")
    expect(page.locator("#move-in-state")).to_have_text("已归档")
    register = load_workbook(io.BytesIO(page.request.get("/console/move-in/export.xlsx").body()))
    rows = list(register.active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert rows[1][3] == "房号" and rows[2][3:6] == ("5-8B", "王建国", "已归档") and rows[2][10] == 1

    db.commit()
    record = db.scalars(select(MoveIn)).one()
    assert record.state == MoveInState.filed and record.change_fen == 30000 and record.water_milli == 12500
    kept = db.scalars(select(MoveInScan).where(MoveInScan.move_in_id == record.id)).all()
    assert sorted((s.kind, s.media_type) for s in kept) == [
        (ScanKind.bank_book, "image/jpeg"), (ScanKind.family_photo, "image/jpeg"),
        (ScanKind.family_photo, "image/jpeg"), (ScanKind.id_copy, "image/jpeg"), (ScanKind.id_copy, "image/png"),
    ]  # fmt: skip
    assert (record.id_copies, record.bank_copies) == (2, 1)
    assert record.owner_signature.startswith("data:image/png;base64,") and len(record.acceptance_signature) > 500
    issued = db.scalars(select(KeyLoan).where(KeyLoan.purpose == LoanPurpose.move_in)).all()
    assert [(loan.key_id, loan.payment_proof) for loan in issued] == [(cabinet.key("5-8B 信箱"), "SK-0001")]
    assert db.scalar(select(Vacancy.ends_on).where(Vacancy.unit_id == household.unit.id)) is not None
    db.commit()
