"""Hostile input at the device API answers a clear 4xx and stores nothing: control characters and lone surrogates in
text, NUL (which PostgreSQL cannot store), and dates and times no estate has dealt with."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.db.models import AuditEntry, Device, Estate, GateSyncEvent, ReleaseSlip
from tests.conftest import Household, keyed

from .conftest import slip_request


def _raw(client: TestClient, path: str, text: str, headers: dict) -> Any:
    """POST a JSON text as is (json= would refuse to encode a lone surrogate)."""
    return client.post(path, content=text.encode(), headers=headers | {"Content-Type": "application/json"})


@pytest.mark.parametrize("card", ["CARD\\u00000001", "CARD\\u00070001", "CARD\\ud800"])  # as JSON escapes
def test_control_characters_and_lone_surrogates_in_a_card_are_refused(
    client: TestClient, household: Household, kiosk: dict, card: str
) -> None:
    answer = _raw(client, "/api/v1/residents/identify", '{"card": "' + card + '"}', keyed(kiosk))
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "malformed"
    assert "card" in answer.json()["error"]["message"]


def test_a_slip_note_with_control_characters_is_refused_and_nothing_issued(
    client: TestClient, look: Callable[[Any], Any], estate: Estate, household: Household, kiosk: dict
) -> None:
    for note in ("搬家\x00", "搬家\x1b[2J", "line\u0085break"):
        answer = client.post("/api/v1/slips", json=slip_request(estate, note=note), headers=keyed(kiosk))
        assert answer.status_code == 422, answer.text
    item = {"name": "旧\x0b书架", "quantity": 1}
    assert (
        client.post("/api/v1/slips", json=slip_request(estate, items=[item]), headers=keyed(kiosk)).status_code == 422
    )
    assert look(select(func.count()).select_from(ReleaseSlip)) == 0


@pytest.mark.parametrize(
    "peripherals", ['{"\\ud800": "ok"}', '{"printer": "\\udfff"}', '{"printer": "ok\\u0000"}', '{"p\\u0007": "ok"}']
)
def test_a_heartbeat_with_bad_text_in_its_keys_or_values_is_refused(
    client: TestClient, look: Callable[[Any], Any], kiosk: dict, peripherals: str
) -> None:
    answer = _raw(
        client, "/api/v1/device/heartbeat", '{"software": "1.0", "peripherals": ' + peripherals + "}", keyed(kiosk)
    )
    assert answer.status_code == 422, answer.text
    assert look(select(Device.last_status)) == "{}"


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_a_gate_asking_for_the_slips_of_an_impossible_day_is_told_so(
    client: TestClient, gate_a: dict, day: str
) -> None:
    answer = client.get("/api/v1/gate/slips", params={"day": day}, headers=gate_a)
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "malformed"


@pytest.mark.parametrize("planned", ["0001-01-01", "9999-12-31"])
def test_a_slip_planned_on_an_impossible_day_is_refused(
    client: TestClient, estate: Estate, household: Household, kiosk: dict, planned: str
) -> None:
    answer = client.post("/api/v1/slips", json=slip_request(estate, planned_date=planned), headers=keyed(kiosk))
    assert answer.status_code == 422


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:00:00-05:00"])
def test_a_sync_time_no_database_can_hold_is_refused_whole(
    client: TestClient, look: Callable[[Any], Any], gate_a: dict, at: str
) -> None:
    event = {"nonce": uuid.uuid4().hex, "kind": "reject", "text": "garbage", "at": at, "code": "malformed"}
    answer = client.post("/api/v1/gate/sync", json={"events": [event]}, headers=keyed(gate_a))
    assert answer.status_code == 422 and "at" in answer.json()["error"]["message"]
    assert look(select(func.count()).select_from(GateSyncEvent)) == 0


def test_a_sync_event_with_nul_in_its_text_is_refused(client: TestClient, gate_a: dict) -> None:
    event = {"nonce": "nonce-nul-01", "kind": "reject", "text": "a\x00b", "at": "2026-11-30T08:00:00Z"}
    answer = _raw(client, "/api/v1/gate/sync", json.dumps({"events": [event]}), keyed(gate_a))
    assert answer.status_code == 422


def test_nul_in_a_path_parameter_is_refused(client: TestClient, household: Household, kiosk: dict) -> None:
    body = {"unit": "5-8B", "identity": {"card": "CARD0001"}}
    answer = client.post("/api/v1/slips/GH-20261130-0001%00/reprint", json=body, headers=keyed(kiosk))
    assert answer.status_code == 422


def test_unknown_cards_are_throttled_per_kiosk(
    client: TestClient, household: Household, kiosk: dict, make_device: Callable[..., Any]
) -> None:
    """Card numbers cannot be guessed at speed: after ten unknown cards in a minute the kiosk must wait."""
    for n in range(10):
        answer = client.post("/api/v1/residents/identify", json={"card": f"GUESS{n:04d}"}, headers=keyed(kiosk))
        assert answer.status_code == 401 and answer.json()["error"]["code"] == "unknown_card"
    again = client.post("/api/v1/residents/identify", json={"card": household.owner_card}, headers=keyed(kiosk))
    assert again.status_code == 429 and again.json()["error"]["code"] == "card_throttled"
    _device, token = make_device("kiosk", "二号自助机")
    other = client.post(
        "/api/v1/residents/identify",
        json={"card": household.owner_card},
        headers=keyed({"Authorization": f"Bearer {token}"}),
    )
    assert other.status_code == 200


def test_a_sign_in_event_naming_a_guard_of_over_forty_characters_is_a_plain_refusal(
    client: TestClient, look: Callable[[Any], Any], gate_a: dict
) -> None:
    """Fuzzing found a server error here (PostgreSQL: the name did not fit the audit entry): a name no guard can
    have is refused like any name not on the roster, and nothing is recorded as signed in."""
    at = "2026-11-30T08:00:00Z"
    events = [
        {"nonce": uuid.uuid4().hex, "kind": "sign_in", "text": text, "at": at} for text in ("长" * 41, "x" * 2000)
    ]
    answer = client.post("/api/v1/gate/sync", json={"events": events}, headers=keyed(gate_a))
    assert answer.status_code == 200, answer.text
    assert [(r["result"], r["code"]) for r in answer.json()["results"]] == [("rejected", "unknown_guard")] * 2
    assert look(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "guard.sign_in")) == 0
