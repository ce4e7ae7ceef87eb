"""The slip lane: a kiosk's slip for a resident identified by card, checked on plain reads and written in plain
statements, gives the same answer and leaves the same records as the full route (R-REL-2/4), and hands everything
out of the ordinary to it: refusals (R-REL-2/5), which the full route records, unknown cards, a throttled kiosk, a
PIN, a retried key, bad input."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import AuditEntry, Estate, IdempotentAnswer, ReleaseSlip, SlipItem, SlipState
from server.domain import audit, registry
from server.domain.actors import SYSTEM
from tests.conftest import Household, notes_written

from .conftest import count_all, slip_request

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
PATH = "/api/v1/slips"
DIFFERS = {"id", "number", "seq", "token", "issued_at"}  # what two slips of one request differ in


def post(
    client: TestClient, kiosk: dict, estate: Estate, key: str | None = None, **changes: object
) -> tuple[int, dict]:
    headers = kiosk | {"Idempotency-Key": key or uuid.uuid4().hex}
    answer = client.post(PATH, json=slip_request(estate, **changes), headers=headers)
    return answer.status_code, answer.json()


def ready(app: FastAPI, client: TestClient, kiosk: dict, estate: Estate) -> None:
    """The kiosk seen within the minute and the estate's first slip issued (it makes the signing key and the
    catalogue), as on any working day: the lane serves from then on. Its counts start here."""
    assert client.get("/api/v1/kiosk/services", headers=kiosk).status_code == 200
    notes_written(app)  # the last-seen note may follow the answer
    assert post(client, kiosk, estate)[0] == 201
    assert app.state.release_lane.slip_counts["full_route"] == 1  # the first slip is the full route's
    app.state.release_lane.slip_counts.clear()


def alike(answer: dict) -> dict:
    """An answer without what differs between two slips of one request: number, token, issue time."""
    printed = {k: v for k, v in answer["print"].items() if k not in ("number", "qr_text")}
    return {k: v for k, v in answer.items() if k not in ("number", "token", "issued_at")} | {"print": printed}


def issued(db: Session, number: str) -> dict[str, Any]:
    """What an issue left: the slip's columns, its lines, its audit entry and the answer kept for its key."""
    db.expire_all()
    slip = db.scalars(select(ReleaseSlip).where(ReleaseSlip.number == number)).one()
    lines = db.execute(
        select(SlipItem.line, SlipItem.code, SlipItem.name, SlipItem.quantity, SlipItem.counted)
        .where(SlipItem.slip_id == slip.id)
        .order_by(SlipItem.line)
    ).all()
    entry = db.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == "slip", AuditEntry.entity_id == str(slip.id), AuditEntry.action == "slip.issue"
        )
    ).one()
    detail = json.loads(entry.detail)
    kept = db.execute(
        select(IdempotentAnswer.route, IdempotentAnswer.status).where(IdempotentAnswer.body.contains(number))
    )
    return {
        "slip": {c.key: getattr(slip, c.key) for c in ReleaseSlip.__table__.columns if c.key not in DIFFERS},
        "lines": [tuple(line) for line in lines],
        "audit": (
            entry.actor,
            entry.device_id,
            entry.estate_id,
            entry.ip,
            {k: v for k, v in detail.items() if k != "number"},
        ),
        "number_in_audit": detail["number"] == number,
        "kept": [tuple(row) for row in kept],
    }


def test_r_rel_2_a_slip_by_the_lane_answers_and_records_as_the_full_route_does(
    app: FastAPI, client: TestClient, db: Session, estate: Estate, household: Household, kiosk: dict, gate_a: dict
) -> None:
    """R-REL-2/4: the owner's slip lists each item's name and quantity, numbered for the day and signed; the lane's
    slip and the full route's are alike in all but number and token, and the lane's passes the gate."""
    lane = app.state.release_lane
    ready(app, client, kiosk, estate)
    status, by_lane = post(client, kiosk, estate)
    assert status == 201 and lane.slip_counts["answered"] == 1
    app.state.release_lane = None  # the same request, answered by the full route
    status, by_route = post(client, kiosk, estate)
    app.state.release_lane = lane
    assert status == 201 and lane.slip_counts["answered"] == 1

    assert by_lane.keys() == by_route.keys() and by_lane["print"].keys() == by_route["print"].keys()
    assert alike(by_lane) == alike(by_route)
    assert [(i["name"], i["name_en"], i["quantity"]) for i in by_lane["items"]] == [
        ("沙发", "sofa", 1),
        ("旧书架", "", 2),
    ]
    assert by_lane["print"]["qr_text"] == by_lane["token"] and by_lane["print"]["applicant"] == household.owner.name

    slips = db.scalars(select(ReleaseSlip.number).order_by(ReleaseSlip.id)).all()
    assert [int(n[-4:]) for n in slips] == [1, 2, 3]  # the day's numbers, in order, whichever path issued
    lane_rows, route_rows = issued(db, slips[1]), issued(db, slips[2])
    assert lane_rows == route_rows
    assert lane_rows["slip"]["state"] == SlipState.issued and lane_rows["number_in_audit"]
    assert lane_rows["kept"] == [("slips.request", 201)]
    assert audit.verify(db).ok  # the lane's entry is in the hash chain as a session's would be

    lane_slip = db.scalars(select(ReleaseSlip).where(ReleaseSlip.number == slips[1])).one()
    release = {"text": lane_slip.token, "guard": "张保安", "lines": count_all(by_lane)}
    answer = client.post("/api/v1/gate/releases", json=release, headers=gate_a | {"Idempotency-Key": uuid.uuid4().hex})
    assert answer.status_code == 201 and answer.json()["outcome"] == "released"


def test_r_rel_5_a_tenant_gets_a_slip_by_the_lane_only_without_arrears(
    app: FastAPI, client: TestClient, db: Session, estate: Estate, household: Household, kiosk: dict
) -> None:
    """R-REL-5: a tenant's slip needs the unit clear of arrears. With none the lane issues it; with arrears the
    full route refuses it with the amount and records the refusal, and no slip is made."""
    lane = app.state.release_lane
    ready(app, client, kiosk, estate)
    tenant = {"applicant": "tenant", "identity": {"card": household.tenant_card}}
    status, answer = post(client, kiosk, estate, **tenant)
    assert status == 201 and answer["applicant_kind"] == "tenant" and lane.slip_counts["answered"] == 1

    registry.set_arrears(db, SYSTEM, household.unit, 120_000)
    db.commit()
    slips = db.scalar(select(func.count()).select_from(ReleaseSlip))
    status, answer = post(client, kiosk, estate, **tenant)
    assert status == 403 and answer["error"]["code"] == "arrears_outstanding"
    assert answer["error"]["arrears_fen"] == 120_000
    assert lane.slip_counts["full_route"] == 1 and lane.slip_counts["answered"] == 1
    db.rollback()  # a fresh snapshot
    assert db.scalar(select(func.count()).select_from(ReleaseSlip)) == slips
    refusals = db.scalars(select(AuditEntry.detail).where(AuditEntry.action == "slip.request_refused")).all()
    assert [json.loads(r)["code"] for r in refusals] == ["arrears_outstanding"]


def test_r_rel_2_a_tenant_asking_as_owner_is_refused_by_the_full_route(
    app: FastAPI, client: TestClient, db: Session, estate: Estate, household: Household, kiosk: dict
) -> None:
    """R-REL-2: only a verified owner gets an owner's slip; the refusal is the full route's, recorded."""
    ready(app, client, kiosk, estate)
    status, answer = post(client, kiosk, estate, identity={"card": household.tenant_card})
    assert status == 403 and answer["error"]["code"] == "not_owner"
    assert app.state.release_lane.slip_counts["full_route"] == 1
    db.rollback()  # a fresh snapshot
    assert db.scalar(select(func.count()).where(AuditEntry.action == "slip.request_refused")) == 1


def test_unknown_cards_and_a_throttled_kiosk_are_the_full_routes(
    app: FastAPI, client: TestClient, db: Session, estate: Estate, household: Household, kiosk: dict
) -> None:
    """An unknown card is refused and counted; after ten in a minute even a known card waits, on either path."""
    ready(app, client, kiosk, estate)
    for n in range(registry.MAX_CARD_FAILURES):
        status, answer = post(client, kiosk, estate, identity={"card": f"GUESS{n:04d}"})
        assert status == 401 and answer["error"]["code"] == "unknown_card"
    status, answer = post(client, kiosk, estate)
    assert status == 429 and answer["error"]["code"] == "card_throttled"
    counts = app.state.release_lane.slip_counts
    assert counts["full_route"] == registry.MAX_CARD_FAILURES + 1 and counts["answered"] == 0


def test_a_retry_gets_the_first_answer_and_a_reused_key_is_refused(
    app: FastAPI, client: TestClient, db: Session, estate: Estate, household: Household, kiosk: dict
) -> None:
    ready(app, client, kiosk, estate)
    first = post(client, kiosk, estate, key="slip-lane-retry-01")
    assert first[0] == 201
    assert post(client, kiosk, estate, key="slip-lane-retry-01") == first
    status, answer = post(client, kiosk, estate, key="slip-lane-retry-01", note="另一单")
    assert status == 422 and answer["error"]["code"] == "idempotency_key_reused"
    assert db.scalar(select(func.count()).select_from(ReleaseSlip)) == 2  # the ready slip and the first one
    counts = app.state.release_lane.slip_counts
    assert counts["answered"] == 1 and counts["full_route"] == 2


def test_a_pin_bad_input_and_an_unseen_kiosk_go_the_full_route(
    app: FastAPI, client: TestClient, estate: Estate, household: Household, kiosk: dict
) -> None:
    """Identification by unit and PIN (a hash to check, attempts to count), an unknown item, a date out of range and
    a kiosk not seen within the minute are each answered by the full route, as they always were."""
    counts = app.state.release_lane.slip_counts
    status, _answer = post(client, kiosk, estate)
    assert status == 201 and counts["device"] == 1  # the kiosk's first call notes it as seen
    notes_written(app)  # the note may follow the answer
    status, answer = post(client, kiosk, estate, identity={"pin": household.owner_pin})
    assert status == 201 and answer["applicant_kind"] == "owner" and counts["unusual"] == 1
    status, answer = post(client, kiosk, estate, items=[{"code": "NOPE", "quantity": 1}])
    assert status == 400 and answer["error"]["code"] == "unknown_item" and counts["rejected"] == 1
    status, answer = post(client, kiosk, estate, planned_date="2001-01-01")
    assert status == 400 and answer["error"]["code"] == "bad_planned_date" and counts["rejected"] == 2
    assert counts["answered"] == 0
