"""The API's health, error form, and device-token authentication."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, inspect, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from server.db.migrate import head_revision
from server.db.models import Device
from server.db.writer import make_writer
from server.domain import devices
from server.domain.actors import SYSTEM
from tests.conftest import keyed, wait_until


def test_health_reports_database_and_schema(client: TestClient, database_url: str) -> None:
    body = client.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert body["database"] == database_url.split(":")[0].split("+")[0]
    assert body["schema_revision"] == head_revision()


def test_openapi_is_published(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert "/api/v1/device" in paths and "/api/v1/residents/identify" in paths


WRITES = {"post", "put", "patch", "delete"}


def test_every_device_write_declares_a_required_idempotency_key(client: TestClient) -> None:
    """ARCHITECTURE (API conventions): device writes carry an Idempotency-Key, so retries are safe."""
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    writes = [(m, p, op) for p, ops in paths.items() for m, op in ops.items() if m in WRITES]
    assert writes
    for method, path, op in writes:
        keys = [q for q in op.get("parameters", []) if q["in"] == "header" and q["name"] == "Idempotency-Key"]
        assert keys and keys[0]["required"], f"{method.upper()} {path}"


def test_a_device_write_without_a_key_or_with_a_bad_one_is_told_so(client: TestClient, make_device) -> None:
    _device, token = make_device("kiosk")
    auth = {"Authorization": f"Bearer {token}"}
    for headers in (auth, auth | {"Idempotency-Key": "short"}):
        response = client.post("/api/v1/device/heartbeat", json={"software": "1.0"}, headers=headers)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "idempotency_key_required"
        assert "Idempotency-Key" in error["message"] and "Idempotency-Key" in error["message_en"]
    assert client.post("/api/v1/device/heartbeat", json={"software": "1.0"}, headers=keyed(auth)).status_code == 204


def test_unknown_route_uses_the_json_error_form(client: TestClient) -> None:
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not Found"}}


def test_malformed_body_gets_422_in_the_json_error_form(client: TestClient, make_device) -> None:
    _device, token = make_device("kiosk")
    auth = {"Authorization": f"Bearer {token}"}
    response = client.post(
        "/api/v1/device/heartbeat", content=b"{not json", headers=keyed(auth | {"content-type": "application/json"})
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "malformed"
    response = client.post("/api/v1/device/heartbeat", json={"software": 42, "surprise": 1}, headers=keyed(auth))
    assert response.status_code == 422
    fields = {p["field"] for p in response.json()["error"]["problems"]}
    assert fields == {"software", "surprise"}
    assert "Traceback" not in response.text


def test_device_token_authenticates_and_revocation_takes_effect_at_once(
    client: TestClient, db: Session, make_device
) -> None:
    device, token = make_device("gate", "北门岗")
    auth = {"Authorization": f"Bearer {token}"}
    me = client.get("/api/v1/device", headers=auth)
    assert me.status_code == 200
    assert me.json()["kind"] == "gate" and me.json()["estate_code"] == "GH"

    devices.revoke(db, SYSTEM, db.merge(device))
    db.commit()
    again = client.get("/api/v1/device", headers=auth)
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "invalid_device_token"


def test_unknown_or_missing_device_token_is_401(client: TestClient) -> None:
    assert client.get("/api/v1/device", headers={"Authorization": "Bearer edt_forged"}).status_code == 401
    missing = client.get("/api/v1/device")
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_device_token"


def test_reissued_token_replaces_the_old_one(client: TestClient, db: Session, make_device) -> None:
    device, old = make_device("kiosk")
    new = devices.issue_token(db, SYSTEM, db.merge(device))
    db.commit()
    assert client.get("/api/v1/device", headers={"Authorization": f"Bearer {old}"}).status_code == 401
    assert client.get("/api/v1/device", headers={"Authorization": f"Bearer {new}"}).status_code == 200


def _last_seen(db: Session, device_id: int) -> datetime | None:
    db.rollback()  # a fresh snapshot
    return db.scalar(select(Device.last_seen_at).where(Device.id == device_id))


def test_last_seen_is_noted_without_a_write_on_every_request(client: TestClient, db: Session, make_device) -> None:
    device, token = make_device("gate")
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/device", headers=auth).status_code == 200
    wait_until(lambda: _last_seen(db, device.id) is not None, what="the last-seen note")  # it may follow the answer
    first = _last_seen(db, device.id)
    db.expire_all()
    assert client.get("/api/v1/device", headers=auth).status_code == 200
    db.expire_all()
    assert db.get(Device, device.id).last_seen_at == first  # within the minute: not written again


def test_a_change_that_fails_to_commit_is_never_reported_as_done(app: FastAPI, db: Session, make_device) -> None:
    """The request's transaction commits before its answer leaves: a failed commit is an error, not a 204."""
    device, token = make_device("kiosk")

    def refuse_status_change(session: Session) -> None:
        for obj in session.dirty:
            if isinstance(obj, Device) and inspect(obj).attrs.last_status.history.has_changes():
                raise OperationalError("COMMIT", {}, Exception("disk I/O error"))

    event.listen(app.state.sessionmaker, "before_commit", refuse_status_change)
    client = TestClient(app, raise_server_exceptions=False)
    response = client.post(
        "/api/v1/device/heartbeat",
        json={"software": "kiosk 1", "peripherals": {"printer": "ok"}},
        headers=keyed({"Authorization": f"Bearer {token}"}),
    )
    assert response.status_code == 500 and response.json()["error"]["code"] == "internal"
    db.expire_all()
    assert db.get(Device, device.id).last_status == "{}"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_device_is_answered_while_another_process_holds_the_databases_writer(
    client: TestClient, db: Session, engine: Engine, make_device
) -> None:
    """A gate's first request in a minute notes when it was seen; that note once waited for SQLite's writer, so a
    verify sent while an import wrote its chunks could wait for seconds. The note is now a write of its own that the
    request waits for only briefly: the request is answered while another connection holds the writer, and the
    note follows once it is free."""
    device, token = make_device("gate")
    other = sqlite3.connect(str(engine.url.database), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process's write transaction, as an import's chunk
        answered = client.get("/api/v1/device", headers={"Authorization": f"Bearer {token}"})
        assert answered.status_code == 200, answered.text
        assert _last_seen(db, device.id) is None  # not written while the writer is held
    finally:
        other.rollback()
        other.close()
    wait_until(lambda: _last_seen(db, device.id) is not None, what="the last-seen note")


def test_a_last_seen_note_keeps_the_contact_before_a_silence_and_never_moves_back(
    db: Session, engine: Engine, make_device
) -> None:
    """`note_seen` judges against the stored row: after more than five minutes of silence the last contact is kept
    (what an offline gate uploads cannot predate it), and a note older than the stored one changes nothing."""
    device, _token = make_device("gate")
    before = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    db.execute(update(Device).where(Device.id == device.id).values(last_seen_at=before, contact_lost_at=None))
    db.commit()
    writer = make_writer(engine)
    later = before + devices.CONTACT_GAP + timedelta(minutes=1)
    writer.run(lambda session: devices.note_seen(session, device.id, later))
    writer.run(lambda session: devices.note_seen(session, device.id, later - timedelta(seconds=30)))  # late note
    db.rollback()
    stored = db.execute(select(Device.last_seen_at, Device.contact_lost_at).where(Device.id == device.id)).one()
    assert tuple(stored) == (later, before)
    soon = later + timedelta(minutes=2)  # within the gap: the last contact stays as it was
    writer.run(lambda session: devices.note_seen(session, device.id, soon))
    db.rollback()
    stored = db.execute(select(Device.last_seen_at, Device.contact_lost_at).where(Device.id == device.id)).one()
    assert tuple(stored) == (soon, before)
