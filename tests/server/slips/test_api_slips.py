"""The kiosk's slip request (R-REL-2/3/5) and reprint, through the device API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.contract import slip_token
from server.db.models import ApplicantKind, AuditEntry, Estate, ReleaseSlip
from server.domain import registry
from server.domain.actors import SYSTEM
from server.domain.errors import DomainError
from server.domain.slips import eligibility
from tests.conftest import OWNER_PIN, Household, keyed

from .conftest import kiosk_slip, slip_request, today


def test_owner_gets_a_numbered_signed_slip_with_print_data(
    client: TestClient, estate: Estate, household: Household, kiosk: dict
) -> None:
    body = kiosk_slip(client, estate, kiosk)
    day = today(estate)
    assert body["number"] == f"GH-{day:%Y%m%d}-0001"
    assert body["state"] == "issued" and body["applicant_kind"] == "owner"
    assert [(i["code"], i["name"], i["quantity"]) for i in body["items"]] == [("SOFA", "沙发", 1), (None, "旧书架", 2)]
    claims = slip_token.decode(body["token"]).claims
    assert claims.number == body["number"] and claims.unit == "5-8B" and claims.estate == "GH"
    assert [(i.label, i.quantity, i.free_text) for i in claims.items] == [("SOFA", 1, False), ("旧书架", 2, True)]
    assert body["print"]["qr_text"] == body["token"] and body["print"]["copies"] == ["存根联", "客户联"]
    assert "粤B12345" in " ".join(body["print"]["notes"])
    second = kiosk_slip(client, estate, kiosk, identity={"pin": OWNER_PIN})
    assert second["number"] == f"GH-{day:%Y%m%d}-0002"


def test_tenant_without_arrears_gets_a_slip(
    client: TestClient, estate: Estate, household: Household, kiosk: dict
) -> None:
    body = kiosk_slip(client, estate, kiosk, applicant="tenant", identity={"card": "CARD0002"})
    assert body["applicant_kind"] == "tenant"


def test_tenant_with_arrears_is_refused_and_the_refusal_is_recorded(
    client: TestClient, look: Callable[[Any], Any], db: Session, estate: Estate, household: Household, kiosk: dict
) -> None:
    registry.set_arrears(db, SYSTEM, household.unit, 120000, "物业费")
    db.commit()
    response = client.post(
        "/api/v1/slips",
        json=slip_request(estate, applicant="tenant", identity={"card": "CARD0002"}),
        headers=keyed(kiosk),
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "arrears_outstanding"
    assert "¥1,200.00" in error["message"] and "财务" in error["message"]
    # Each language apart, so a device or the console shows only its reader's one.
    assert "¥1,200.00" in error["message_en"] and "finance" in error["message_en"]
    assert "finance" not in error["message"] and "财务" not in error["message_en"]
    refusal = look(select(AuditEntry).where(AuditEntry.action == "slip.request_refused"))
    assert refusal is not None and "arrears_outstanding" in refusal.detail
    assert look(select(ReleaseSlip)) is None
    # R-REL-5 is about non-owners: the owner of the same unit still gets a slip.
    assert kiosk_slip(client, estate, kiosk)["applicant_kind"] == "owner"


def test_refusals_carry_their_reason_codes(
    client: TestClient, estate: Estate, household: Household, kiosk: dict, gate_a: dict
) -> None:
    cases = [
        ({"applicant": "tenant"}, 403, "not_resident"),  # the owner's card, claiming to be the tenant
        ({"identity": {"card": "CARD0002"}}, 403, "not_owner"),
        ({"applicant": "proxy"}, 403, "proxy_console_only"),
        ({"identity": {"card": "NOPE9"}}, 401, "unknown_card"),
        ({"identity": {"pin": "0000"}}, 401, "wrong_pin"),
        ({"unit": "9-9Z"}, 404, "unknown_unit"),
        ({"items": [{"code": "ROCKET", "quantity": 1}]}, 400, "unknown_item"),
        ({"planned_date": (today(estate) - timedelta(days=1)).isoformat()}, 400, "bad_planned_date"),
        ({"items": []}, 422, "malformed"),
        ({"items": [{"code": "SOFA", "name": "沙发", "quantity": 1}]}, 422, "malformed"),
    ]
    for change, status, code in cases:
        response = client.post("/api/v1/slips", json=slip_request(estate, **change), headers=keyed(kiosk))
        assert (response.status_code, response.json()["error"]["code"]) == (status, code), change
    response = client.post("/api/v1/slips", json=slip_request(estate), headers=keyed(gate_a))
    assert response.json()["error"]["code"] == "wrong_device_kind"


def test_reprint_reuses_the_token_and_is_logged(
    client: TestClient, look: Callable[[Any], Any], db: Session, estate: Estate, household: Household, kiosk: dict
) -> None:
    body = kiosk_slip(client, estate, kiosk)
    url = f"/api/v1/slips/{body['number']}/reprint"
    someone_else = client.post(url, json={"identity": {"card": household.tenant_card}}, headers=keyed(kiosk))
    assert someone_else.status_code == 403 and someone_else.json()["error"]["code"] == "not_your_slip"
    unproven = client.post(url, json={}, headers=keyed(kiosk))
    assert unproven.status_code == 422
    again = client.post(url, json={"unit": "5-8B", "identity": {"pin": household.owner_pin}}, headers=keyed(kiosk))
    assert again.status_code == 200 and again.json()["token"] == body["token"]
    slip = look(select(ReleaseSlip))
    assert slip is not None and slip.reprints == 1
    assert look(select(AuditEntry).where(AuditEntry.action == "slip.reprint")) is not None


def test_openapi_documents_the_slip_and_gate_routes(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in ("/api/v1/slips", "/api/v1/gate/verify", "/api/v1/gate/releases", "/api/v1/gate/sync"):
        assert path in paths
    assert "/api/v1/gate/keys" in paths and "/api/v1/gate/revocations" in paths


def test_identify_tells_the_kiosk_of_a_refusal_before_items_are_picked(
    client: TestClient, db: Session, estate: Estate, household: Household, kiosk: dict
) -> None:
    """R-REL-5 decided once (eligibility.resident_refusal): identify says what a slip request would answer."""
    registry.set_arrears(db, SYSTEM, household.unit, 120000, "物业费")
    db.commit()
    tenant = client.post("/api/v1/residents/identify", json={"card": "CARD0002"}, headers=keyed(kiosk)).json()
    (unit,) = tenant["units"]
    assert unit["unit"] == "5-8B" and unit["applicant"] == "tenant"
    refusal = unit["slip_refusal"]
    assert refusal["code"] == "arrears_outstanding" and refusal["detail"] == {"arrears_fen": 120000}
    asked = client.post(
        "/api/v1/slips",
        json=slip_request(estate, applicant="tenant", identity={"card": "CARD0002"}),
        headers=keyed(kiosk),
    ).json()["error"]
    assert (refusal["message"], refusal["message_en"]) == (asked["message"], asked["message_en"])
    owner = client.post("/api/v1/residents/identify", json={"card": "CARD0001"}, headers=keyed(kiosk)).json()
    assert owner["units"] == [{"unit": "5-8B", "kind": "owner", "applicant": "owner", "slip_refusal": None}]
    registry.set_arrears(db, SYSTEM, db.merge(household.unit), 0, "结清")
    db.commit()
    cleared = client.post("/api/v1/residents/identify", json={"card": "CARD0002"}, headers=keyed(kiosk)).json()
    assert cleared["units"][0]["slip_refusal"] is None


def test_the_kiosk_learns_the_estates_unit_letters(
    client: TestClient, db: Session, estate: Estate, household: Household, kiosk: dict
) -> None:
    for code in ("5-8A", "5-12D", "T2-3K"):
        registry.ensure_unit(db, SYSTEM, estate, code)
    db.commit()
    services = client.get("/api/v1/kiosk/services", headers=kiosk).json()
    assert services["unit_letters"] == ["A", "B", "D", "K", "T"]


def test_slip_lines_carry_the_catalogues_english_name(
    client: TestClient, estate: Estate, household: Household, kiosk: dict, gate_a: dict
) -> None:
    """The kiosk (its slip, my slips) and the gate (verify, the day's slips) get each line's English name."""
    slip = kiosk_slip(client, estate, kiosk)
    expected = [("SOFA", "沙发", "sofa"), (None, "旧书架", "")]
    assert [(i["code"], i["name"], i["name_en"]) for i in slip["items"]] == expected
    mine = client.post("/api/v1/kiosk/my-slips", json={"identity": {"card": "CARD0001"}}, headers=keyed(kiosk)).json()
    assert [(i["code"], i["name"], i["name_en"]) for i in mine["slips"][0]["items"]] == expected
    verified = client.post("/api/v1/gate/verify", json={"text": slip["token"]}, headers=keyed(gate_a)).json()
    assert [(i["code"], i["name"], i["name_en"]) for i in verified["slip"]["items"]] == expected
    day = client.get("/api/v1/gate/slips", headers=gate_a).json()
    assert [(i["code"], i["name"], i["name_en"]) for i in day["slips"][0]["items"]] == expected


def test_domain_errors_carry_each_language_apart(
    client: TestClient, db: Session, estate: Estate, household: Household, kiosk: dict, gate_a: dict
) -> None:
    """Every refusal leaves with `message` in Chinese and `message_en` in English, neither holding the other."""
    wrong_device = client.post("/api/v1/residents/identify", json={"card": "CARD0001"}, headers=keyed(gate_a)).json()
    assert wrong_device["error"]["message"] == "只有大堂自助机可以使用"
    assert wrong_device["error"]["message_en"] == "only kiosks use this"
    second = registry.add_person(db, SYSTEM, estate, "张家人", "13800000009")
    registry.add_occupancy(db, SYSTEM, db.merge(household.unit), second, registry.OccupancyKind.family, today(estate))
    db.commit()
    with pytest.raises(DomainError) as ambiguous:
        eligibility.find_person(db.merge(household.unit), ApplicantKind.tenant, "", today(estate))
    assert (ambiguous.value.zh, ambiguous.value.en) == ("请填写住户姓名", "name the occupant")


def test_names_too_long_together_for_a_full_size_code_are_refused_before_a_number_is_taken(
    client: TestClient, look: Callable[[Any], Any], estate: Estate, household: Household, kiosk: dict
) -> None:
    """R-REL-2 lines that the slip's QR code could only hold at a size a gate camera cannot read."""
    names = [{"name": f"红木雕花大衣柜带穿衣镜和抽屉{n}号", "quantity": 1} for n in range(10)]
    response = client.post("/api/v1/slips", json=slip_request(estate, items=names), headers=keyed(kiosk))
    assert response.status_code in (400, 422) and response.json()["error"]["code"] == "items_too_long"
    assert look(select(ReleaseSlip)) is None
    body = kiosk_slip(client, estate, kiosk, items=[*names[:9], {"code": "SOFA", "quantity": 1}])
    assert len(body["token"]) <= slip_token.MAX_TOKEN_CHARS
