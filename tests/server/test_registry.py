"""Estate registry rules: unit codes, occupancies, arrears history, resident credentials and kiosk identification."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import ArrearsChange, Estate, OccupancyKind, ResidentCredential
from server.domain import registry, throttle
from server.domain.actors import SYSTEM
from server.domain.errors import DomainError, Unauthorized
from tests.conftest import keyed


@pytest.mark.parametrize(
    ("code", "expected"),
    [("5-8B", ("5", 8, "B")), ("12-21A", ("12", 21, "A")), (" ５－８ｂ ", ("5", 8, "B")), ("A-3C", ("A", 3, "C"))],
)
def test_unit_codes_parse(code: str, expected: tuple[str, int, str]) -> None:
    parsed = registry.parse_unit_code(code)
    assert (parsed.building, parsed.floor, parsed.label) == expected


@pytest.mark.parametrize("code", ["", "5", "5-B", "5-0B", "5-8", "5/8B", "5-8B-1", "五-8B"])
def test_bad_unit_codes_are_refused_with_an_example(code: str) -> None:
    with pytest.raises(DomainError) as exc:
        registry.parse_unit_code(code)
    assert exc.value.code == "bad_unit_code" and "5-8B" in exc.value.zh and "5-8B" in exc.value.en


@given(st.text(max_size=3, alphabet="0123456789AB"), st.integers(1, 999), st.sampled_from(["A", "B", "CD"]))
def test_unit_code_round_trips(building: str, floor: int, label: str) -> None:
    if not building:
        return
    parsed = registry.parse_unit_code(f"{building}-{floor}{label}")
    assert str(parsed) == f"{building}-{floor}{label}"


def test_units_and_buildings_are_created_once(db: Session, estate: Estate) -> None:
    first = registry.ensure_unit(db, SYSTEM, estate, "5-8B")
    again = registry.ensure_unit(db, SYSTEM, estate, "5-8b")
    other = registry.ensure_unit(db, SYSTEM, estate, "5-12A")
    assert first.id == again.id and first.building_id == other.building_id
    assert first.building.floors == 12


def test_arrears_changes_keep_history(db: Session, estate: Estate) -> None:
    unit = registry.ensure_unit(db, SYSTEM, estate, "2-5C")
    registry.set_arrears(db, SYSTEM, unit, 128_000, "7–10 月物业费")
    registry.set_arrears(db, SYSTEM, unit, 0, "已缴清")
    history = db.scalars(select(ArrearsChange).order_by(ArrearsChange.id)).all()
    assert [(h.previous_fen, h.balance_fen) for h in history] == [(0, 128_000), (128_000, 0)]
    assert unit.arrears_fen == 0
    with pytest.raises(DomainError):
        registry.set_arrears(db, SYSTEM, unit, -1)


def test_occupancy_dates_are_checked(db: Session, estate: Estate) -> None:
    unit = registry.ensure_unit(db, SYSTEM, estate, "1-1A")
    person = registry.add_person(db, SYSTEM, estate, "张三")
    with pytest.raises(DomainError):
        registry.add_occupancy(db, SYSTEM, unit, person, OccupancyKind.tenant, date(2026, 5, 1), date(2026, 4, 1))


def test_credentials_are_stored_hashed(db: Session, estate: Estate) -> None:
    person = registry.add_person(db, SYSTEM, estate, "李四")
    registry.set_credentials(db, SYSTEM, person, card="88001234", pin="246810")
    cred = db.scalar(select(ResidentCredential))
    assert cred is not None
    assert "88001234" not in (cred.card_digest or "") and "246810" not in (cred.pin_hash or "")
    assert cred.pin_hash and cred.pin_hash.startswith("$argon2")
    assert registry.identify(db, estate, card="88001234", kiosk_id=1).id == person.id


def test_a_card_cannot_belong_to_two_residents(db: Session, estate: Estate) -> None:
    a = registry.add_person(db, SYSTEM, estate, "甲")
    b = registry.add_person(db, SYSTEM, estate, "乙")
    registry.set_credentials(db, SYSTEM, a, card="C100")
    with pytest.raises(DomainError) as exc:
        registry.set_credentials(db, SYSTEM, b, card="C100")
    assert exc.value.code == "card_taken"


def _resident(db: Session, estate: Estate, unit_code: str = "3-8B", pin: str = "135790") -> int:
    unit = registry.ensure_unit(db, SYSTEM, estate, unit_code)
    person = registry.add_person(db, SYSTEM, estate, "王小明", "13800000000")
    registry.add_occupancy(db, SYSTEM, unit, person, OccupancyKind.owner, date.today() - timedelta(days=10))
    registry.set_credentials(db, SYSTEM, person, card="30808B1", pin=pin)
    db.commit()
    return person.id


def test_wrong_pins_lock_the_pin_and_the_count_survives_the_refusal(
    client: TestClient, db: Session, estate: Estate, make_device
) -> None:
    person_id = _resident(db, estate)
    _kiosk, token = make_device("kiosk")
    auth = {"Authorization": f"Bearer {token}"}
    for _ in range(throttle.LOCK_OUT.max_failures):
        wrong = client.post("/api/v1/residents/identify", json={"unit": "3-8B", "pin": "000000"}, headers=keyed(auth))
        assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "wrong_pin"
    locked = client.post("/api/v1/residents/identify", json={"unit": "3-8B", "pin": "135790"}, headers=keyed(auth))
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "pin_locked"
    db.expire_all()
    cred = db.scalar(select(ResidentCredential).where(ResidentCredential.person_id == person_id))
    assert cred is not None and cred.locked_until is not None


def test_kiosk_identifies_by_card_or_pin_and_masks_the_name(
    client: TestClient, db: Session, estate: Estate, make_device
) -> None:
    person_id = _resident(db, estate)
    _kiosk, token = make_device("kiosk")
    auth = {"Authorization": f"Bearer {token}"}
    by_card = client.post("/api/v1/residents/identify", json={"card": "30808B1"}, headers=keyed(auth)).json()
    by_pin = client.post(
        "/api/v1/residents/identify", json={"unit": "3-8b", "pin": "135790"}, headers=keyed(auth)
    ).json()
    assert (
        by_card
        == by_pin
        == {
            "person_id": person_id,
            "display_name": "王*明",
            "units": [{"unit": "3-8B", "kind": "owner", "applicant": "owner", "slip_refusal": None}],
        }
    )
    unknown = client.post("/api/v1/residents/identify", json={"card": "nope"}, headers=keyed(auth))
    assert unknown.status_code == 401 and unknown.json()["error"]["code"] == "unknown_card"
    both = client.post(
        "/api/v1/residents/identify", json={"card": "x", "unit": "3-8B", "pin": "1234"}, headers=keyed(auth)
    )
    assert both.status_code == 422


def test_only_kiosks_identify_residents(client: TestClient, db: Session, estate: Estate, make_device) -> None:
    _resident(db, estate)
    _gate, token = make_device("gate")
    response = client.post(
        "/api/v1/residents/identify", json={"card": "30808B1"}, headers=keyed({"Authorization": f"Bearer {token}"})
    )
    assert response.status_code == 403 and response.json()["error"]["code"] == "wrong_device_kind"


def test_identification_is_scoped_to_the_kiosks_estate(
    client: TestClient, db: Session, estate: Estate, make_device
) -> None:
    _resident(db, estate)
    other = registry.create_estate(db, SYSTEM, "HW", "海湾花园")
    db.commit()
    with pytest.raises(Unauthorized):
        registry.identify(db, other, card="30808B1", kiosk_id=1)
