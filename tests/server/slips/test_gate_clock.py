"""Offline gate uploads are bounded by what the server knows of time (R-REL-6): a release at a time the gate
cannot have decided it, and a queued release that finds the slip used elsewhere, become conflicts for the security
captain — never a silent release, never silently dropped."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.db.models import Device, Estate, ReleaseSlip, SlipConflict, SlipRelease
from server.domain import clock
from server.domain.slips import issuing
from tests.conftest import Household, keyed

from .conftest import STAFF, count_all, direct_slip, kiosk_slip


def _sync(client: TestClient, gate: dict, slip: ReleaseSlip | dict, at: datetime) -> dict:
    token = slip["token"] if isinstance(slip, dict) else slip.token
    lines = [{"line": 1, "counted": 1}] if not isinstance(slip, dict) else count_all(slip)
    event = {"nonce": uuid.uuid4().hex, "kind": "release", "text": token, "at": at.isoformat(), "lines": lines}
    response = client.post("/api/v1/gate/sync", json={"events": [event]}, headers=keyed(gate))
    assert response.status_code == 200, response.text
    return response.json()["results"][0]


def _last_seen(db: Session, name: str, at: datetime) -> None:
    """The gate named `name` last talked to the server at `at`, and has been silent since."""
    db.execute(update(Device).where(Device.name == name).values(last_seen_at=at))
    db.commit()


def test_r_rel_6_an_expired_slip_back_dated_before_its_expiry_is_a_conflict(
    client: TestClient, look: Callable[[Any], Any], db: Session, estate: Estate, household: Household, gate_a: dict
) -> None:
    now = datetime.now(UTC)
    stale = direct_slip(db, estate, household, now=now - timedelta(days=3))
    assert stale.valid_until < now - timedelta(days=1)
    _last_seen(db, "东门", now - timedelta(days=1))  # the gate was online after the slip expired
    result = _sync(client, gate_a, stale, stale.valid_until - timedelta(hours=1))
    assert (result["result"], result["code"]) == ("conflict", "clock_suspect")
    conflict = look(select(SlipConflict))
    assert conflict is not None and conflict.kind == "clock_suspect" and conflict.resolved_at is None


def test_r_rel_6_a_cancelled_slip_back_dated_before_its_cancellation_is_a_conflict(
    client: TestClient, look: Callable[[Any], Any], db: Session, estate: Estate, household: Household, gate_a: dict
) -> None:
    now = datetime.now(UTC)
    # moving out today (local): issued four hours ago, the slip is still valid even just after the estate's midnight
    slip = direct_slip(db, estate, household, now=now - timedelta(hours=4), planned=clock.local_day(estate, now))
    issuing.cancel(db, STAFF, slip, "住户取消搬家")
    db.commit()
    _last_seen(db, "东门", now - timedelta(hours=1))  # it downloaded the revocation list after the cancellation
    result = _sync(client, gate_a, slip, now - timedelta(hours=3))
    assert (result["result"], result["code"]) == ("conflict", "clock_suspect")
    assert look(select(func.count()).select_from(SlipConflict)) == 1


def test_r_rel_6_times_before_the_issue_or_in_the_future_are_conflicts(
    client: TestClient, db: Session, estate: Estate, household: Household, gate_a: dict
) -> None:
    early = direct_slip(db, estate, household)
    assert _sync(client, gate_a, early, early.issued_at - timedelta(days=2))["code"] == "clock_suspect"
    ahead = direct_slip(db, estate, household)
    assert _sync(client, gate_a, ahead, datetime.now(UTC) + timedelta(hours=2))["code"] == "clock_suspect"
    honest = direct_slip(db, estate, household)
    result = _sync(client, gate_a, honest, datetime.now(UTC) + timedelta(minutes=3))  # within the skew
    assert (result["result"], result["code"]) == ("recorded", "released")


def test_r_rel_6_a_queued_release_that_finds_the_slip_released_elsewhere_is_a_conflict(
    client: TestClient,
    look: Callable[[Any], Any],
    estate: Estate,
    household: Household,
    kiosk: dict,
    gate_a: dict,
    gate_b: dict,
) -> None:
    """Gate A's release timed out (the guard saw "released"); gate B then released the same slip online; gate A
    re-sends its queued release with the original time: the goods left twice, so it is a conflict."""
    slip = kiosk_slip(client, estate, kiosk)
    decided = datetime.now(UTC) - timedelta(minutes=2)
    body = {"text": slip["token"], "guard": "东门老陈", "lines": count_all(slip)}
    online = client.post("/api/v1/gate/releases", json=body, headers=gate_b | {"Idempotency-Key": "gate-b-0001"})
    assert online.status_code == 201
    queued = dict(body, decided_at=decided.isoformat())
    again = client.post("/api/v1/gate/releases", json=queued, headers=gate_a | {"Idempotency-Key": "gate-a-0001"})
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict_recorded"
    conflict = look(select(SlipConflict))
    assert conflict is not None and conflict.kind == "double_use" and conflict.guard == "东门老陈"
    retry = client.post("/api/v1/gate/releases", json=queued, headers=gate_a | {"Idempotency-Key": "gate-a-0001"})
    assert retry.status_code == 409 and look(select(func.count()).select_from(SlipConflict)) == 1
    assert look(select(func.count()).select_from(SlipRelease)) == 1


def test_a_queued_release_of_an_unused_slip_is_recorded_with_its_original_time(
    client: TestClient, look: Callable[[Any], Any], estate: Estate, household: Household, kiosk: dict, gate_a: dict
) -> None:
    slip = kiosk_slip(client, estate, kiosk)
    decided = datetime.now(UTC) - timedelta(minutes=2)
    body = {"text": slip["token"], "guard": "东门老陈", "lines": count_all(slip), "decided_at": decided.isoformat()}
    answer = client.post("/api/v1/gate/releases", json=body, headers=gate_a | {"Idempotency-Key": "gate-a-0002"})
    assert answer.status_code == 201 and answer.json()["outcome"] == "released"
    record = look(select(SlipRelease))
    assert record.offline and abs((record.at - decided).total_seconds()) < 1


def test_r_rel_6_an_offline_sign_in_is_recorded_only_for_a_guard_on_the_estates_roster(
    client: TestClient, db: Session, estate: Estate, make_user: Callable[..., Any], gate_a: dict
) -> None:
    from server.db.models import AuditEntry, Role
    from server.domain import guards
    from server.domain.actors import SYSTEM

    guard = make_user(Role.gate_guard, username="laochen")
    guards.set_credentials(db, SYSTEM, estate, guard, pin="135791")
    clerk = make_user(Role.front_desk, username="xiaoli")
    db.commit()
    now = datetime.now(UTC).isoformat()
    events = [
        {"nonce": uuid.uuid4().hex, "kind": "sign_in", "text": name, "at": now, "guard": name[:40]}
        for name in ("laochen", clerk.username, "nobody", "长" * 41)
    ]
    out = client.post("/api/v1/gate/sync", json={"events": events}, headers=keyed(gate_a))
    assert out.status_code == 200, out.text
    assert [(r["result"], r["code"]) for r in out.json()["results"]] == [
        ("recorded", ""),
        ("rejected", "unknown_guard"),
        ("rejected", "unknown_guard"),
        ("rejected", "unknown_guard"),
    ]
    signed = db.scalars(select(AuditEntry.entity_id).where(AuditEntry.action == "guard.sign_in")).all()
    assert signed == ["laochen"]
