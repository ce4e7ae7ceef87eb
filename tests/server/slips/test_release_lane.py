"""The release lane: the everyday gate release answered in plain statements on the embedded database gives the same
answer and leaves the same records as the full route (R-REL-6), and hands everything out of the ordinary to it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from server.db.engine import make_sessionmaker
from server.db.models import AuditEntry, Estate, IdempotentAnswer, ReleaseSlip, SlipItem, SlipRelease, SlipState
from server.db.plain import Plain, connect_reader, settled
from server.domain import audit, idempotency
from server.domain.actors import SYSTEM
from server.domain.slips import issuing
from server.domain.slips.gate import lane
from server.domain.slips.gate.releases import Count
from tests.conftest import Household, notes_written

from .conftest import count_all, kiosk_slip

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
PATH = "/api/v1/gate/releases"


def post(client: TestClient, gate: dict, slip: dict, key: str | None = None, **body: object) -> tuple[int, dict]:
    payload = {"text": slip["token"], "guard": "张保安", "lines": count_all(slip), **body}
    answer = client.post(PATH, json=payload, headers=gate | {"Idempotency-Key": key or uuid.uuid4().hex})
    return answer.status_code, answer.json()


def seen(client: TestClient, gate: dict) -> None:
    """A first call, so the gate's last-seen time is fresh (a gate due for a new last-seen goes the full route);
    the note may follow the answer."""
    assert client.get("/api/v1/gate/keys", headers=gate).status_code == 200
    notes_written(client.app)  # type: ignore[arg-type]


def recorded(db: Session, number: str) -> dict[str, Any]:
    """What a release left: the slip's state, the release row, the counted lines and the audit entry."""
    db.expire_all()
    slip = db.scalars(select(ReleaseSlip).where(ReleaseSlip.number == number)).one()
    release = db.scalars(select(SlipRelease).where(SlipRelease.slip_id == slip.id)).one()
    counted = db.scalars(select(SlipItem.counted).where(SlipItem.slip_id == slip.id).order_by(SlipItem.line)).all()
    entry = db.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == "slip", AuditEntry.entity_id == str(slip.id), AuditEntry.action.like("slip.re%")
        )
    ).one()
    detail = json.loads(entry.detail)
    return {
        "state": slip.state,
        "release": (release.gate, release.guard, release.outcome, release.reason, release.offline),
        "times": release.at == release.recorded_at,
        "counted": list(counted),
        "audit": (entry.action, entry.actor, entry.device_id, entry.estate_id, sorted(detail)),
        "detail": (detail["guard"], detail["reason"]),
    }


def test_r_rel_6_a_release_by_the_lane_answers_and_records_as_the_full_route_does(
    app: FastAPI, client: TestClient, db: Session, estate: Estate, household: Household, kiosk: dict, gate_a: dict
) -> None:
    lane_state = app.state.release_lane
    assert lane_state is not None
    by_lane, by_route = kiosk_slip(client, estate, kiosk), kiosk_slip(client, estate, kiosk)
    seen(client, gate_a)

    status, lane_answer = post(client, gate_a, by_lane)
    assert status == 201 and lane_state.counts["answered"] == 1
    app.state.release_lane = None  # the same request, answered by the full route
    status, route_answer = post(client, gate_a, by_route)
    app.state.release_lane = lane_state
    assert status == 201 and lane_state.counts["answered"] == 1

    assert lane_answer.keys() == route_answer.keys()
    assert [lane_answer[k] for k in ("outcome", "state", "reason")] == ["released", "released", ""]
    assert [route_answer[k] for k in ("outcome", "state", "reason")] == ["released", "released", ""]
    lane_rows, route_rows = recorded(db, by_lane["number"]), recorded(db, by_route["number"])
    assert lane_rows == route_rows
    assert lane_rows["state"] == SlipState.released and lane_rows["counted"] == [1, 2]
    assert audit.verify(db).ok  # the lane's entry is in the hash chain as a session's would be


def test_r_rel_6_counts_that_differ_are_refused_by_the_lane_with_the_differences(
    app: FastAPI, client: TestClient, db: Session, estate: Estate, household: Household, kiosk: dict, gate_a: dict
) -> None:
    slip = kiosk_slip(client, estate, kiosk)
    seen(client, gate_a)
    lines = [{"line": 1, "counted": 1}, {"line": 2, "counted": 3}]
    status, out = post(client, gate_a, slip, lines=lines, reason="多了一箱")
    assert status == 201 and app.state.release_lane.counts["answered"] == 1
    assert out["outcome"] == "refused" and out["state"] == "refused"
    assert "条上 2 / 实点 3" in out["reason"] and out["reason"].endswith("多了一箱")
    rows = recorded(db, slip["number"])
    assert rows["state"] == SlipState.refused and rows["counted"] == [1, 3]
    assert rows["audit"][0] == "slip.refused"


def test_a_retry_and_a_reused_key_are_answered_by_the_full_route(
    app: FastAPI, client: TestClient, estate: Estate, household: Household, kiosk: dict, gate_a: dict
) -> None:
    slip, other = kiosk_slip(client, estate, kiosk), kiosk_slip(client, estate, kiosk)
    seen(client, gate_a)
    first = post(client, gate_a, slip, key="lane-retry-01")
    assert post(client, gate_a, slip, key="lane-retry-01") == first
    status, body = post(client, gate_a, other, key="lane-retry-01")
    assert status == 422 and body["error"]["code"] == "idempotency_key_reused"
    counts = app.state.release_lane.counts
    assert counts["answered"] == 1 and counts["rejected"] == 1 and counts["not_written"] == 1


def test_rejections_are_the_full_routes_answers(
    app: FastAPI,
    client: TestClient,
    engine: Engine,
    estate: Estate,
    household: Household,
    kiosk: dict,
    gate_a: dict,
    make_device: Callable[..., tuple],
) -> None:
    """A used, forged or cancelled slip, a typed number of another estate, a kiosk's token, an unknown token, a
    photo: each passed on, each answered with the full route's rejection."""
    used, cancelled = kiosk_slip(client, estate, kiosk), kiosk_slip(client, estate, kiosk)
    seen(client, gate_a)
    assert post(client, gate_a, used)[0] == 201
    status, body = post(client, gate_a, used)
    assert status == 409 and body["error"]["code"] == "already_released" and body["error"]["gate"] == "东门"
    forged = used | {"token": used["token"][:-6] + ("AAAAAA" if not used["token"].endswith("AAAAAA") else "BBBBBB")}
    status, body = post(client, gate_a, forged)
    assert status == 422 and body["error"]["code"] in {"bad_signature", "malformed"}
    with make_sessionmaker(engine)() as session:
        slip = session.scalars(select(ReleaseSlip).where(ReleaseSlip.number == cancelled["number"])).one()
        issuing.cancel(session, SYSTEM, slip, "住户取消")
        session.commit()
    status, body = post(client, gate_a, cancelled)
    assert status == 410 and body["error"]["code"] == "cancelled"
    status, body = post(client, gate_a, used | {"token": "ZZ-20260101-0001"})
    assert status == 403 and body["error"]["code"] == "wrong_estate"
    status, body = post(client, kiosk, used)
    assert status == 403 and body["error"]["code"] == "wrong_device_kind"
    status, body = post(client, {"Authorization": "Bearer nobody-knows-this"}, used)
    assert status == 401
    counts = app.state.release_lane.counts
    assert counts["answered"] == 1 and counts["rejected"] == 4 and counts["device"] == 2


def test_a_slip_changed_between_the_lanes_read_and_its_write_is_not_written(
    engine: Engine, app: FastAPI, client: TestClient, estate: Estate, household: Household, kiosk: dict, gate_a: dict
) -> None:
    """The lane's write claims the slip only while it is still unused and not revoked: a cancel that committed
    after the read leaves the write undone (the full route then answers `cancelled`)."""
    slip = kiosk_slip(client, estate, kiosk)
    seen(client, gate_a)
    reader = connect_reader(engine)
    lookup = lane.look_up(gate_a["Authorization"].removeprefix("Bearer "), slip["token"])
    now = issuing.utcnow()
    found = lane.checked(reader.sqlite, lookup, lookup.run(reader), now)
    reader.connection.close()
    assert found is not None
    caller, scanned = found
    counts = [Count(line["line"], line["counted"]) for line in count_all(slip)]
    plan = lane.plan(caller, scanned, slip["token"], "张保安", counts, reason="", refuse=False, now=now)
    with make_sessionmaker(engine)() as session:
        cancelled = session.scalars(select(ReleaseSlip).where(ReleaseSlip.number == slip["number"])).one()
        issuing.cancel(session, SYSTEM, cancelled, "住户取消")
        session.commit()
    write = idempotency.DeviceWrite(caller.id, "lane-late-0001", "releases.release", "{}")
    with engine.begin() as connection:
        db = Plain(connection.connection.driver_connection, engine.dialect.name)
        assert settled(lane.record(db, caller.actor(""), plan, write, "{}")) is None
        db.finish()  # the audit entry, queued before the claim's outcome was read, is left out
    with make_sessionmaker(engine)() as session:
        assert session.scalars(select(SlipRelease)).all() == []
        assert session.scalars(select(AuditEntry).where(AuditEntry.action == "slip.released")).all() == []
        assert session.scalars(select(IdempotentAnswer).where(IdempotentAnswer.key == write.key)).all() == []


def test_hostile_or_malformed_requests_get_the_full_routes_answers(
    app: FastAPI, client: TestClient, estate: Estate, household: Household, kiosk: dict, gate_a: dict
) -> None:
    """Broken JSON, a missing or malformed Idempotency-Key, a body that is not JSON, unknown fields, a body larger
    than the lane takes: each is passed on and answered by the full route, and nothing is released."""
    slip = kiosk_slip(client, estate, kiosk)
    seen(client, gate_a)
    good = {"text": slip["token"], "guard": "张保安", "lines": count_all(slip)}
    keyed = gate_a | {"Idempotency-Key": uuid.uuid4().hex}
    answer = client.post(PATH, content=b'{"text": "RS2:', headers=keyed | {"Content-Type": "application/json"})
    assert answer.status_code == 422
    answer = client.post(PATH, json=good, headers=gate_a)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "idempotency_key_required"
    answer = client.post(PATH, json=good, headers=gate_a | {"Idempotency-Key": "short"})
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "idempotency_key_required"
    answer = client.post(PATH, content=json.dumps(good), headers=keyed | {"Content-Type": "text/plain"})
    assert answer.status_code == 422
    answer = client.post(PATH, json=good | {"admin": True}, headers=keyed)
    assert answer.status_code == 422
    answer = client.post(PATH, json=good | {"reason": "x" * 20_000}, headers=keyed)
    assert answer.status_code == 422
    counts = app.state.release_lane.counts
    assert counts["answered"] == 0
    assert counts["request"] == 2 and counts["key"] == 2 and counts["body"] == 2
    status, out = post(client, gate_a, slip)  # the slip is still unused
    assert status == 201 and out["outcome"] == "released" and counts["answered"] == 1
