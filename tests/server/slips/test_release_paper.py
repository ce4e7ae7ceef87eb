"""The release slip's paper trail: the applicant's signature kept with the slip and shown on its page and in the
register export (R-REL-2), the owner's countersign on the pad (R-REL-3), refusals for reasons other than counts and
goods stopped with no slip in the gate release log (R-REL-6), and a reconciliation whose figures change after the
sign-off (R-REL-7). Bad input is refused with a clear error and changes nothing."""

from __future__ import annotations

import base64
import csv
import io
import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import AuditEntry, DeviceKind, Estate, GateStop, ReleaseSlip, SlipAttachment, SlipRelease
from server.domain import devices
from server.domain.errors import Conflict
from server.domain.slips import paper, reconciliation
from server.domain.slips.gate.conflicts import record_conflict
from tests.conftest import Household, keyed

from .conftest import STAFF, count_all, direct_slip, kiosk_slip, slip_request, today
from .pdf_text import pdf_text
from .test_console_slips import form_for, post_form, signed_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def png(width: int = 300, height: int = 100) -> bytes:
    image = Image.new("1", (width, height), 1)
    for x in range(10, width - 10):
        image.putpixel((x, height // 2 + (x % 17) - 8), 0)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def oversized_png() -> bytes:
    """A real PNG over 200 KB: noise does not compress."""
    image = Image.frombytes("L", (520, 520), os.urandom(520 * 520))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    data = buffer.getvalue()
    assert len(data) > paper.MAX_SLIP_SIGNATURE
    return data


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def release(client: TestClient, gate: dict, slip: dict, **body: object) -> Any:
    payload = {"text": slip["token"], "guard": "张保安", "lines": count_all(slip), **body}
    return client.post("/api/v1/gate/releases", json=payload, headers=gate | {"Idempotency-Key": uuid.uuid4().hex})


def test_the_kiosk_signature_is_kept_with_the_slip_shown_on_its_page_and_in_the_export_r_rel_2(
    client: TestClient, estate: Estate, household: Household, kiosk: dict, make_user: Any, login: Any, look: Any
) -> None:
    """R-REL-2: the owner's signature from the kiosk's pad is stored as a PNG with the slip; the slip page shows it
    and the register's export says the slip was signed."""
    signature = png()
    slip = kiosk_slip(client, estate, kiosk, signature_png_b64=base64.b64encode(signature).decode())
    slip_id = look(select(ReleaseSlip.id).where(ReleaseSlip.number == slip["number"]))
    kind = SlipAttachment.kind == "signature"
    stored = look(select(SlipAttachment.data).where(SlipAttachment.slip_id == slip_id, kind))
    assert stored == signature
    signed_in(client, make_user, login, "records_admin")
    page = client.get(f"/console/slips/{slip_id}")
    assert 'id="slip-signature"' in page.text
    image_id = look(select(SlipAttachment.id).where(SlipAttachment.slip_id == slip_id))
    shown = client.get(f"/console/slips/{slip_id}/attachments/{image_id}")
    assert shown.headers["content-type"] == "image/png" and shown.content == signature
    rows = list(csv.reader(io.StringIO(client.get("/console/slips/export.csv").content.decode("utf-8-sig"))))
    assert rows[0][-1] == "签名" and rows[1][0] == slip["number"] and rows[1][-1] == "申请人已签名"


def test_a_signature_over_200_kb_is_refused_and_nothing_is_issued(
    client: TestClient,
    estate: Estate,
    household: Household,
    kiosk: dict,
    make_user: Any,
    login: Any,
    page_csrf: Any,
    look: Any,
) -> None:
    """Bad input (R-REL-2): a signature over 200 KB, from the kiosk or the console's pad, is a clear error; no slip,
    no number and no audit entry are written. A signature that is not a PNG is refused the same way."""
    big = oversized_png()
    audits = look(select(func.count()).select_from(AuditEntry))
    body = slip_request(estate, signature_png_b64=base64.b64encode(big).decode())
    answer = client.post("/api/v1/slips", json=body, headers=keyed(kiosk))
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "signature_too_large" and "200 KB" in error["message"] and "200 KB" in error["message_en"]
    not_png = slip_request(estate, signature_png_b64=base64.b64encode(b"GIF89a not a png").decode())
    assert client.post("/api/v1/slips", json=not_png, headers=keyed(kiosk)).json()["error"]["code"] == "bad_signature"
    signed_in(client, make_user, login, "front_desk")
    page = post_form(client, page_csrf, form_for(estate, signature=data_url(big)))
    assert page.status_code == 400 and "签名图片超过 200 KB" in page.text
    assert look(select(func.count()).select_from(ReleaseSlip)) == 0
    assert look(select(func.count()).select_from(SlipAttachment)) == 0
    assert look(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "slip.issue")) == 0
    assert look(select(func.count()).select_from(AuditEntry)) > audits  # only the sign-in and the refusal pages


def test_the_front_desk_pad_signs_a_proxy_slip_and_the_owner_countersigns_on_it_r_rel_3(
    client: TestClient, estate: Estate, household: Household, make_user: Any, login: Any, page_csrf: Any, look: Any
) -> None:
    """R-REL-2/3: at the front desk the proxy signs on the page's pad, and the owner's later countersign is captured
    on the pad the same way; both are kept with the slip and shown on its page."""
    signed_in(client, make_user, login, "front_desk")
    proxy = form_for(
        estate,
        applicant="proxy",
        proxy_name="陈代办",
        proxy_phone="13800000000",
        confirmed_by="前台小周",
        confirmed_at=datetime.now(UTC).astimezone().strftime("%Y-%m-%dT%H:%M"),
        confirmation="业主电话确认衣柜一个、旧钢琴凳两个",
        signature=data_url(png()),
    )
    files = {"id_image": ("id.png", png(), "image/png")}
    done = post_form(client, page_csrf, proxy, files=files)
    assert done.status_code == 303, done.text
    slip_id = look(select(ReleaseSlip.id))
    page = client.get(f"/console/slips/{slip_id}")
    assert 'id="slip-signature"' in page.text and "data-signature-pad" in page.text
    countersign = client.post(
        f"/console/slips/{slip_id}/countersign",
        data={"csrf_token": page_csrf(page.text), "signature": data_url(png(200, 80))},
    )
    assert countersign.status_code == 200 and 'id="slip-countersign"' in countersign.text
    kinds = look(select(func.group_concat(SlipAttachment.kind)).where(SlipAttachment.slip_id == slip_id))
    assert sorted(kinds.split(",")) == ["countersign", "proxy_id", "signature"]


def test_the_guard_refuses_with_a_reason_although_the_counts_match_r_rel_6(
    client: TestClient, estate: Estate, household: Household, kiosk: dict, gate_a: dict, look: Any
) -> None:
    """R-REL-6: an item not on the slip or damaged goods: refused with the reason even when every count matches;
    such a refusal without a reason is refused and records nothing."""
    slip = kiosk_slip(client, estate, kiosk)
    missing = release(client, gate_a, slip, refuse=True)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "reason_missing"
    assert look(select(func.count()).select_from(SlipRelease)) == 0
    refused = release(client, gate_a, slip, refuse=True, reason="有物品不在放行条上")
    assert refused.status_code == 201, refused.text
    assert refused.json()["outcome"] == "refused" and refused.json()["reason"] == "有物品不在放行条上"


def test_goods_stopped_with_no_slip_online_and_offline_are_in_the_gate_log_r_rel_6(
    client: TestClient,
    estate: Estate,
    household: Household,
    kiosk: dict,
    gate_a: dict,
    gate_b: dict,
    make_user: Any,
    login: Any,
    look: Any,
) -> None:
    """R-REL-6: the gate release log 《物品放行登记》 of a day holds the releases with guard, time and counted lines,
    the refusals with their reasons, and goods stopped with no slip (sent at once, or uploaded by an offline gate),
    by gate; a stop without its goods or reason is refused and records nothing. R-REL-1: large goods leaving with no
    slip are stopped and on record. R-REL-8: security logs the releases, the log is the security captain's page."""
    slip = kiosk_slip(client, estate, kiosk)
    photo = base64.b64encode(b"\xff\xd8\xff\xe0 a frame \xff\xd9").decode()
    assert release(client, gate_a, slip, photo_jpeg_b64=photo).status_code == 201
    stop = {"goods": "冰箱", "reason": "无放行条搬出大件物品", "guard": "张保安", "photo_jpeg_b64": photo}
    assert client.post("/api/v1/gate/stops", json=stop, headers=keyed(gate_a)).status_code == 201
    bad = client.post("/api/v1/gate/stops", json=stop | {"goods": "  "}, headers=keyed(gate_a))
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "missing_fields"
    assert look(select(func.count()).select_from(GateStop)) == 1
    offline = {"nonce": "stop-offline-0001", "kind": "stop", "text": "电动车", "at": slip["issued_at"],
               "guard": "李保安", "reason": "无放行条搬出大件物品"}  # fmt: skip
    synced = client.post("/api/v1/gate/sync", json={"events": [offline]}, headers=keyed(gate_b)).json()
    assert synced["results"][0]["result"] == "recorded"
    signed_in(client, make_user, login, "security_captain")
    page = client.get("/console/slips/gate-log", params={"day": today(estate).isoformat()})
    assert page.status_code == 200
    for text in (slip["number"], "沙发 1/1", "张保安", "冰箱", "电动车", "无条拦下", "离线", 'class="gate-photo"'):
        assert text in page.text, text
    east = client.get("/console/slips/gate-log", params={"day": today(estate).isoformat(), "gate": "东门"}).text
    assert "冰箱" in east and "电动车" not in east
    stop_id = look(select(GateStop.id).where(GateStop.goods == "冰箱"))
    assert client.get(f"/console/slips/gate-log/stops/{stop_id}/photo").content.startswith(b"\xff\xd8")
    book = load_workbook(io.BytesIO(client.get("/console/slips/gate-log.xlsx").content))
    values = [c for row in book.active.iter_rows(values_only=True) for c in row if c]
    assert "物品放行登记" in values[0] and slip["number"] in values and "无放行条" in values
    pdf = pdf_text(client.get("/console/slips/gate-log.pdf").content)
    assert "物品放行登记" in pdf and "治安队长" in pdf and "电动车" in pdf


def test_a_release_after_the_sign_off_makes_it_stale_on_the_page_the_dashboard_and_the_pdf_r_rel_7(
    client: TestClient,
    db: Session,
    estate: Estate,
    household: Household,
    kiosk: dict,
    gate_a: dict,
    make_user: Any,
    login: Any,
    page_csrf: Any,
) -> None:
    """R-REL-7: both sides sign the day off; then one more slip is released at the gate. The reconciliation page,
    the dashboard and the PDF say the sign-off is stale, and each side signs again, after which it holds."""
    first = kiosk_slip(client, estate, kiosk)
    second = kiosk_slip(client, estate, kiosk)
    assert release(client, gate_a, first).status_code == 201
    day = today(estate)
    for side in reconciliation.SIDES:
        reconciliation.sign_off(db, STAFF, estate, day, side, f"{side} 签核人")
    db.commit()
    signed_in(client, make_user, login, "security_captain")
    page = client.get("/console/slips/reconciliation")
    before = pdf_text(client.get("/console/slips/reconciliation.pdf").content)
    assert 'id="recon-stale"' not in page.text and "签核人" in before and "签核后数字已变化" not in before
    assert release(client, gate_a, second).status_code == 201
    page = client.get("/console/slips/reconciliation")
    assert 'id="recon-stale"' in page.text and 'id="stale-security"' in page.text and 'id="stale-records"' in page.text
    printed = pdf_text(client.get("/console/slips/reconciliation.pdf").content)
    assert "签核后数字已变化" in printed and "双方须重新核对签字" in printed
    assert 'id="slip-reconciliation-stale"' in client.get("/console/").text
    again = client.post(
        "/console/slips/reconciliation/sign",
        data={"csrf_token": page_csrf(page.text), "day": day.isoformat(), "side": "security"},
    )
    assert again.status_code == 200 and 'id="stale-security"' not in again.text and 'id="stale-records"' in again.text
    db.expire_all()
    reconciliation.sign_off(db, STAFF, estate, day, "records", "records 签核人")
    db.commit()
    assert 'id="recon-stale"' not in client.get("/console/slips/reconciliation").text
    assert 'id="slip-reconciliation-stale"' not in client.get("/console/").text
    with pytest.raises(Conflict):
        reconciliation.sign_off(db, STAFF, estate, day, "records", "records 签核人")


def test_a_conflict_from_an_offline_upload_also_makes_the_sign_off_stale_r_rel_7(
    db: Session, estate: Estate, household: Household
) -> None:
    """R-REL-7: the figures each side signed are kept; a stop, refusal or conflict found later changes them."""
    slip = direct_slip(db, estate, household)
    day = slip.day
    reconciliation.sign_off(db, STAFF, estate, day, "security", "治安队长")
    row = reconciliation.get(db, estate, day)
    assert reconciliation.stale_sides(row, reconciliation.report(db, STAFF, estate, day).figures()) == []
    gate = devices.enrol(db, STAFF, estate, DeviceKind.gate, "北门")
    record_conflict(db, STAFF, gate, slip, at=slip.issued_at + timedelta(minutes=5), guard="张", kind="double_use",
                    detail="offline")  # fmt: skip
    assert reconciliation.stale_sides(row, reconciliation.report(db, STAFF, estate, day).figures()) == ["security"]
