"""The move-in fee list 《入伙费用一览表》 through the test client (R-MOVE): finance sets a line's standard amount,
adds a line, moves and retires lines; a negative amount or a line without a name is refused with a clear error and
the list unchanged; the desk reads the list but cannot change it; the fee step offers the active lines at their
amounts."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Estate, Role, StaffUser
from server.db.models.lifecycle import MoveIn, MoveInFeeItem, ScanKind
from server.domain.actors import SYSTEM
from server.domain.lifecycle import move_in as desk
from server.domain.lifecycle import move_in_scans as scans
from tests.conftest import Household, csrf_of, sign_in
from tests.server.lifecycle.conftest import SIGNATURE
from tests.server.slips.pdf_text import pdf_text

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
PASSWORD = "correct-horse-1"


def _list(db: Session) -> list[tuple[str, str, int, bool]]:
    db.rollback()  # a fresh read of what the requests committed
    rows = db.scalars(select(MoveInFeeItem).order_by(MoveInFeeItem.position))
    return [(i.code, i.name_zh, i.amount_fen, i.active) for i in rows]


def test_r_move_the_fee_list_page_edits_the_estates_list(
    app: FastAPI, db: Session, estate: Estate, household: Household, make_user: Callable[..., StaffUser]
) -> None:
    finance, front = make_user(Role.finance), make_user(Role.front_desk)
    with TestClient(app) as cashier, TestClient(app) as reader:
        sign_in(cashier, finance.username, PASSWORD)
        sign_in(reader, front.username, PASSWORD)
        page = cashier.get("/console/move-in/fees")
        assert page.status_code == 200 and "物业管理费（预收）" in page.text
        token = csrf_of(page.text)
        ids = {code: i for code, i in db.execute(select(MoveInFeeItem.code, MoveInFeeItem.id))}

        def post(path: str, data: dict[str, str]) -> Response:
            return cashier.post(path, data=data | {"csrf_token": token}, follow_redirects=False)

        done = post(f"/console/move-in/fees/{ids['management']}", {"name_zh": "物业管理费", "price": "1,500.00"})
        assert done.status_code == 303
        before = _list(db)
        for data, message in (({"name_zh": "物业管理费", "price": "-1"}, "不是有效金额"),
                              ({"name_zh": " ", "price": "1"}, "请填写项目名称")):  # fmt: skip
            refused = post(f"/console/move-in/fees/{ids['management']}", data)
            assert refused.status_code in (400, 422) and message in refused.text
            assert _list(db) == before
        added = post("/console/move-in/fees", {"code": "parking_card", "name_zh": "停车卡", "price": "50"})
        assert added.status_code == 303
        post(f"/console/move-in/fees/{ids['access_cards']}/move", {"to": "up"})
        post(f"/console/move-in/fees/{ids['water_deposit']}/active", {"active": "false"})
        assert _list(db) == [
            ("management", "物业管理费", 150000, True), ("water_deposit", "水费周转金", 0, False),
            ("power_deposit", "电费周转金", 0, True), ("access_cards", "门禁卡工本费", 0, True),
            ("renovation_waste", "装修垃圾清运费", 0, True), ("parking_card", "停车卡", 5000, True),
        ]  # fmt: skip
        shown = reader.get("/console/move-in/fees")
        assert (
            shown.status_code == 200
            and "¥1,500.00" in shown.text
            and 'action="/console/move-in/fees"' not in shown.text
        )
        # The list as printed for the counter: active lines in their order, the retired one left out.
        printed = pdf_text(reader.get("/console/move-in/fees/export.pdf").content)
        assert "《入伙费用一览表》" in printed and "停车卡" in printed and "水费周转金" not in printed
        assert printed.index("物业管理费") < printed.index("门禁卡工本费") < printed.index("停车卡")
        sheet = load_workbook(io.BytesIO(cashier.get("/console/move-in/fees/export.xlsx").content)).active
        assert sheet is not None
        assert next(r[2:4] for r in sheet.iter_rows(min_row=3, values_only=True)) == ("物业管理费", "¥1,500.00")
        forbidden = reader.post(
            "/console/move-in/fees", data={"code": "x", "name_zh": "x", "csrf_token": csrf_of(shown.text)}
        )
        assert forbidden.status_code == 403

        record = _signed_move_in(db, estate, household, front)
        form = cashier.get(f"/console/move-in/{record.id}").text
        assert re.search(r'name="fee_management"[^>]*value="1500.00"', form)
        assert re.search(r'name="fee_parking_card"[^>]*value="50.00"', form)
        assert re.search(r'name="fee_power_deposit"[^>]*value=""', form) and "fee_water_deposit" not in form


def _signed_move_in(db: Session, estate: Estate, household: Household, by: StaffUser) -> MoveIn:
    """The owner's move-in with the papers checked and the documents signed: at the fee step."""
    now = datetime.now(UTC)
    record = desk.queue(db, SYSTEM, estate, unit_id=household.unit.id, owner_id=household.owner.id, by=by, now=now)
    jpeg = io.BytesIO()
    Image.new("RGB", (40, 30)).save(jpeg, "JPEG")
    for kind, n in ((ScanKind.id_copy, 2), (ScanKind.bank_book, 1), (ScanKind.family_photo, 1)):
        scans.add(db, SYSTEM, record, kind, [jpeg.getvalue()] * n, by=by, now=now)
    desk.check_papers(db, SYSTEM, record, notice_no="N1", id_checked=True, by=by, now=now)
    desk.sign_documents(
        db, SYSTEM, record, documents=list(desk.DOCUMENTS), family_members=1, photos=3, signature=SIGNATURE, by=by,
        now=now,
    )  # fmt: skip
    db.commit()
    return record
