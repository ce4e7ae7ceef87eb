"""One resident at a time in the console: a new person and move-in, the move-out date R-REL-5 reads, a kiosk card
and PIN (shown once, hashed), the lock-out lifted — and the refusals that change nothing."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import AuditEntry, Estate, Occupancy, OccupancyKind, Person, ResidentCredential
from server.domain import clock, registry, throttle
from server.domain.actors import SYSTEM
from tests.conftest import OWNER_CARD, Household, csrf_of, keyed

# The console's handling; the registry's rules beneath them are database-neutral domain code.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def post(client: TestClient, path: str, page: str, **form: str):
    token = csrf_of(client.get(page).text)
    return client.post(path, data=form | {"csrf_token": token}, follow_redirects=True)


def audit_count(db: Session) -> int:
    db.expire_all()
    return db.scalar(select(func.count()).select_from(AuditEntry)) or 0


def credential(db: Session, person_id: int) -> ResidentCredential | None:
    db.expire_all()
    return db.scalar(select(ResidentCredential).where(ResidentCredential.person_id == person_id))


def identify(client: TestClient, kiosk: str, body: dict[str, str]):
    return client.post("/api/v1/residents/identify", json=body, headers=keyed({"Authorization": f"Bearer {kiosk}"}))


def test_a_new_resident_gets_a_card_and_a_random_pin_shown_once_and_identifies_with_each(
    as_role: Callable, client: TestClient, db: Session, estate: Estate, make_device: Callable
) -> None:
    registry.ensure_unit(db, SYSTEM, estate, "3-8B")
    db.commit()
    admin, _ = as_role("records_admin")
    made = post(
        admin, "/console/people/new", "/console/people/new",
        name="周新", phone="13600000008", id_tail="123x", unit="3-8b", kind="owner", starts_on="2024-03-01",
    )  # fmt: skip
    assert made.status_code == 200 and "住户已登记" in made.text
    person_id = int(re.search(r"/console/people/(\d+)", str(made.url))[1])  # type: ignore[index]
    person = db.get(Person, person_id)
    assert person is not None and person.id_tail == "123X"
    assert [(o.unit.code, o.kind) for o in person.occupancies] == [("3-8B", OccupancyKind.owner)]

    desk, _ = as_role("front_desk")
    page = f"/console/people/{person_id}"
    carded = post(desk, f"{page}/card", page, card=" 0004417285 ")  # spaces around, as a reader may type it
    assert "住户卡已登记" in carded.text and "已发卡" in carded.text
    answered = post(desk, f"{page}/pin", page, pin="")
    assert answered.status_code == 200 and answered.headers["cache-control"] == "no-store"
    pin = re.search(r'id="pin-value">(\d{6})<', answered.text)[1]  # type: ignore[index]
    cred = credential(db, person_id)
    assert cred is not None and cred.pin_hash is not None and cred.pin_hash.startswith("$argon2")
    assert pin not in cred.pin_hash and pin not in desk.get(page).text  # shown once, never stored in clear

    _kiosk, kiosk = make_device("kiosk")
    by_card = identify(client, kiosk, {"card": "0004417285"})
    by_pin = identify(client, kiosk, {"unit": "3-8B", "pin": pin})
    assert by_card.status_code == by_pin.status_code == 200
    assert by_card.json()["person_id"] == by_pin.json()["person_id"] == person_id


def test_wrong_pins_lock_the_pin_and_the_desk_unlocks_it(
    as_role: Callable, client: TestClient, db: Session, household: Household, make_device: Callable
) -> None:
    _kiosk, kiosk = make_device("kiosk")
    for _ in range(throttle.LOCK_OUT.max_failures):
        assert identify(client, kiosk, {"unit": "5-8B", "pin": "000000"}).json()["error"]["code"] == "wrong_pin"
    locked = identify(client, kiosk, {"unit": "5-8B", "pin": household.owner_pin})
    assert locked.json()["error"]["code"] == "pin_locked"
    desk, _ = as_role("front_desk")
    page = f"/console/people/{household.owner.id}"
    assert "输错次数过多" in desk.get(page).text
    unlocked = post(desk, f"{page}/unlock", page)
    assert "PIN 已解除锁定" in unlocked.text and 'id="unlock"' not in unlocked.text
    assert identify(client, kiosk, {"unit": "5-8B", "pin": household.owner_pin}).status_code == 200
    assert audit_count(db) and db.scalar(select(func.count()).where(AuditEntry.action == "resident.unlock")) == 1


def test_a_short_pin_a_card_of_someone_else_and_a_move_out_before_the_move_in_are_refused_changing_nothing(
    as_role: Callable, db: Session, household: Household
) -> None:
    admin, _ = as_role("records_admin")  # who may also give cards and PINs
    owner, tenant = f"/console/people/{household.owner.id}", f"/console/people/{household.tenant.id}"
    pin_before, card_before = credential(db, household.owner.id), credential(db, household.tenant.id)
    assert pin_before is not None and card_before is not None
    hashed, digest, entries = pin_before.pin_hash, card_before.card_digest, audit_count(db)

    for short in ("12345", "1234", "12a456"):
        refused = post(admin, f"{owner}/pin", owner, pin=short)
        assert refused.status_code == 400 and "PIN 应为 6–8 位数字" in refused.text
        assert 'id="pin-value"' not in refused.text

    taken = post(admin, f"{tenant}/card", tenant, card=OWNER_CARD)
    assert taken.status_code == 409 and "该卡已登记给其他住户" in taken.text

    occupancy = next(o for o in household.tenant.occupancies if o.kind == OccupancyKind.tenant)
    early = post(admin, f"/console/occupancies/{occupancy.id}/end", tenant, ends_on="2023-12-31")
    assert early.status_code == 400 and "搬出日期 2023-12-31 早于入住日期 2024-01-01" in early.text
    bad = post(admin, f"/console/occupancies/{occupancy.id}/end", tenant, ends_on="31/12/2026")
    assert bad.status_code == 400 and "不对，应如 2026-12-01" in bad.text

    pin_after, card_after = credential(db, household.owner.id), credential(db, household.tenant.id)
    assert pin_after is not None and pin_after.pin_hash == hashed
    assert card_after is not None and card_after.card_digest == digest
    assert db.get(Occupancy, occupancy.id).ends_on is None  # type: ignore[union-attr]
    assert audit_count(db) == entries


def test_a_tenant_moving_out_gets_the_slip_only_once_finance_confirms_no_arrears_r_rel_5(
    as_role: Callable, client: TestClient, db: Session, estate: Estate, household: Household, make_device: Callable
) -> None:
    """R-REL-5: the desk records the tenant's move-out; the move-out slip waits for the arrears check."""
    registry.set_arrears(db, SYSTEM, household.unit, 45000, "物业费")
    db.commit()
    today = clock.today(estate)
    occupancy = next(o for o in household.tenant.occupancies if o.kind == OccupancyKind.tenant)
    admin, _ = as_role("records_admin")
    page = f"/console/people/{household.tenant.id}"
    ended = post(admin, f"/console/occupancies/{occupancy.id}/end", page, ends_on=today.isoformat())
    assert "搬出日期已登记" in ended.text
    _kiosk, kiosk = make_device("kiosk")
    units = identify(client, kiosk, {"card": household.tenant_card}).json()["units"]
    assert [u["slip_refusal"]["code"] for u in units] == ["arrears_outstanding"]
    registry.set_arrears(db, SYSTEM, household.unit, 0, "已结清")
    db.commit()
    assert identify(client, kiosk, {"card": household.tenant_card}).json()["units"][0]["slip_refusal"] is None
    # After the move-out date the tenant is no longer a resident of the unit at all.
    moved = post(
        admin, f"/console/occupancies/{occupancy.id}/end", page, ends_on=(today - timedelta(days=1)).isoformat()
    )
    assert moved.status_code == 200
    assert identify(client, kiosk, {"card": household.tenant_card}).json()["units"] == []


def test_the_desk_may_give_cards_and_pins_but_not_edit_the_registry(as_role: Callable, household: Household) -> None:
    desk, _ = as_role("front_desk")
    page = desk.get(f"/console/people/{household.owner.id}").text
    assert 'id="card-form"' in page and 'id="pin-form"' in page
    assert 'id="person-form"' not in page and "/end" not in page
    refused = desk.post(f"/console/people/{household.owner.id}", data={"name": "x", "csrf_token": csrf_of(page)})
    assert refused.status_code == 403
