"""Workers' passes at an offline gate (R-REN-6), through the gate API with the app's clock set by each test: the
revocation list carries passes withdrawn, suspended or ended (a reinstated one drops off it), and movements the gate
recorded offline are judged at their own time — valid then is recorded even after the works ended; invalid then, or
at an impossible time, is recorded and becomes a conflict for the security captain; forged is refused and kept in
the upload log. Re-uploads change nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from server.contract import slip_token, worker_pass
from server.db.models import AuditEntry, Device, Estate, GateSyncEvent, SlipConflict, StaffUser
from server.db.models.renovation import PassMovement, Renovation, WorkerPass
from server.domain.renovation import passes, records
from tests.server.renovation.conftest import Staff, Walk, at

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


class Gate:
    """The gate 东门 talking to the app, whose clock the test sets."""

    def __init__(self, app: FastAPI, client: TestClient, token: str) -> None:
        self.app, self.client = app, client
        self.headers = {"Authorization": f"Bearer {token}"}

    def now(self, when: str) -> None:
        moment = at(when)
        self.app.state.clock = lambda: moment

    def revocations(self) -> dict[str, Any]:
        response = self.client.get("/api/v1/gate/revocations", headers=self.headers)
        assert response.status_code == 200, response.text
        return response.json()

    def listed(self) -> dict[str, tuple[str, str]]:
        found = self.revocations()["passes"]
        return {p["number"]: (p["state"], datetime.fromisoformat(p["since"])) for p in found}

    def upload(self, text: str, when: str, direction: str = "in", key: str | None = None) -> tuple[int, dict]:
        body = {"text": text, "direction": direction, "guard": "门岗甲", "at": at(when).isoformat()}
        headers = self.headers | {"Idempotency-Key": key or uuid.uuid4().hex}
        response = self.client.post("/api/v1/gate/passes/movements", json=body, headers=headers)
        return response.status_code, response.json()


@pytest.fixture
def gate(app: FastAPI, client: TestClient, make_device: Callable[..., tuple[Device, str]]) -> Gate:
    _device, token = make_device("gate", "东门")
    return Gate(app, client, token)


def _issue(db: Session, people: Staff, record: Renovation, name: str, when: str) -> WorkerPass:
    item = passes.issue(db, people.actor(people.desk), people.desk, record, passes.Worker(name), at(when))
    db.commit()
    return item


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _counts(db: Session) -> dict[str, int]:
    db.rollback()  # a fresh read: what the app committed since
    models = (PassMovement, SlipConflict, GateSyncEvent, AuditEntry)
    return {m.__name__: db.scalar(select(func.count()).select_from(m)) or 0 for m in models}


def test_r_ren_6_gate_sync_lists_suspended_withdrawn_and_ended_passes_and_drops_a_reinstated_one(
    db: Session, walk: Walk, people: Staff, gate: Gate
) -> None:
    """R-REN-6: the revocation list keeps its slip fields and adds each pass an offline gate must refuse, with the
    time from which it is not valid; after the suspension is lifted the pass is no longer listed."""
    record = walk("paid")
    desk, actor = people.desk, people.actor(people.desk)
    item = _issue(db, people, record, "李师傅", "2026-11-05 09:00")
    gate.now("2026-11-05 10:00")
    first = gate.revocations()
    assert (first["estate"], first["revoked"], first["released"], first["passes"]) == ("GH", [], [], [])

    records.suspend(db, actor, desk, record, "噪音投诉", at("2026-11-06 09:00"))
    db.commit()
    gate.now("2026-11-06 10:00")
    [entry] = gate.revocations()["passes"]
    assert (entry["number"], entry["state"], entry["reason"]) == (item.number, "suspended", "噪音投诉")
    assert datetime.fromisoformat(entry["since"]) == at("2026-11-06 09:00")

    records.resume(db, actor, desk, record, at("2026-11-07 09:00"))
    db.commit()
    gate.now("2026-11-07 10:00")
    assert gate.listed() == {}  # reinstated: accepted again from the next sync

    records.extend(db, actor, desk, record, date(2026, 12, 10), "工期延长", at("2026-11-20 09:00"))
    db.commit()
    [renewed] = passes.active(db, record)
    gate.now("2026-11-20 10:00")
    assert gate.listed() == {item.number: ("withdrawn", at("2026-11-20 09:00"))}

    records.request_acceptance(db, actor, desk, record, at("2026-11-25 09:00"))
    db.commit()
    gate.now("2026-11-25 10:00")
    ended = gate.listed()
    assert ended[renewed.number] == ("ended", at("2026-11-25 09:00"))
    assert ended[item.number][0] == "withdrawn"


def test_r_ren_6_offline_movements_are_judged_at_the_time_they_happened(
    db: Session,
    walk: Walk,
    people: Staff,
    gate: Gate,
    make_user: Callable[..., StaffUser],
    login: Callable[..., Any],
    page_csrf: Callable[[str], str],
) -> None:
    """R-REN-6: uploaded after the works ended and the pass was withdrawn, a movement made while the pass was good is
    recorded as valid; one made while the works were suspended, after they ended or after the withdrawal is recorded
    and becomes a conflict; a re-upload with the same key records nothing more."""
    record = walk("paid")
    desk, eng, actor = people.desk, people.engineer, people.actor(people.desk)
    item = _issue(db, people, record, "李师傅", "2026-11-05 09:00")
    records.suspend(db, actor, desk, record, "噪音投诉", at("2026-11-10 09:00"))
    records.resume(db, actor, desk, record, at("2026-11-12 09:00"))
    records.request_acceptance(db, actor, desk, record, at("2026-11-25 09:00"))
    records.book_inspection(db, people.actor(eng), eng, record, at("2026-11-27 10:00"), at("2026-11-25 10:00"))
    records.accept(db, people.actor(eng), eng, record, "合格", at("2026-11-27 11:00"))  # withdraws the pass
    db.commit()
    gate.now("2026-12-02 10:00")  # the gate comes back online long after the end

    # uploaded oldest first, as the gate's outbox sends them
    kinds = {}
    for when, direction in (("2026-11-11 08:00", "in"), ("2026-11-13 08:00", "in"), ("2026-11-20 08:00", "out")):
        status, body = gate.upload(item.token, when, direction)
        kinds[when] = body["error"]["kind"] if status == 409 else (status, body["direction"], _moment(body["at"]))
    valid_key = uuid.uuid4().hex
    status, body = gate.upload(item.token, "2026-11-20 18:00", key=valid_key)
    assert status == 201 and body["number"] == item.number, body
    for when in ("2026-11-26 08:00", "2026-11-28 08:00"):
        status, body = gate.upload(item.token, when)
        assert status == 409 and body["error"]["code"] == "conflict_recorded", body
        kinds[when] = body["error"]["kind"]
    assert kinds == {
        "2026-11-11 08:00": "used_when_suspended",
        "2026-11-13 08:00": (201, "in", at("2026-11-13 08:00")),  # lifted by then
        "2026-11-20 08:00": (201, "out", at("2026-11-20 08:00")),
        "2026-11-26 08:00": "used_when_ended",
        "2026-11-28 08:00": "used_when_revoked",
    }
    db.rollback()
    movements = db.scalars(select(PassMovement).where(PassMovement.pass_id == item.id)).all()
    assert len(movements) == 6 and all(m.offline for m in movements)
    conflicts = db.scalars(select(SlipConflict).order_by(SlipConflict.id)).all()
    assert [(c.pass_id, c.slip_id, c.kind) for c in conflicts] == [
        (item.id, None, "used_when_suspended"),
        (item.id, None, "used_when_ended"),
        (item.id, None, "used_when_revoked"),
    ]
    assert all(c.resolved_at is None and c.guard == "门岗甲" for c in conflicts)

    before = _counts(db)
    assert gate.upload(item.token, "2026-11-20 18:00", key=valid_key)[0] == 201
    assert _counts(db) == before
    assert before["GateSyncEvent"] == 6

    # the security captain sees them beside the slips' conflicts, and resolves one with a note
    captain = make_user("security_captain", password="pw-for-tests-1")
    login(gate.client, captain.username, "pw-for-tests-1")
    page = gate.client.get("/console/slips/conflicts")
    assert item.number in page.text and "停工期间使用" in page.text and "装修工人出入证 · 李师傅" in page.text
    done = gate.client.post(
        f"/console/slips/conflicts/{conflicts[0].id}/resolve",
        data={"csrf_token": page_csrf(page.text), "note": "已核实：停工期间进场取工具"},
    )
    assert done.status_code == 200 and "已核实" in done.text
    db.rollback()
    assert db.get_one(SlipConflict, conflicts[0].id).resolved_at is not None


def test_r_ren_6_forged_or_back_dated_offline_movements_are_refused_or_conflicts_and_kept(
    db: Session, walk: Walk, people: Staff, gate: Gate, estate: Estate
) -> None:
    """R-REN-6 bad input: a forged pass is refused with its code (nothing recorded as a movement, the upload kept in
    the gate's upload log and the audit trail, a retry answered the same); a time before the pass was issued, before
    the gate's last contact or ahead of the server's clock is recorded and becomes a clock conflict."""
    record = walk("paid")
    item = _issue(db, people, record, "李师傅", "2026-11-05 09:00")
    gate.now("2026-11-08 10:00")
    claims = worker_pass.decode(item.token).claims
    forged = worker_pass.encode(
        worker_pass.PassClaims(**{**vars(claims), "valid_until": date(2027, 12, 31)}),
        slip_token.Ed25519PrivateKey.generate(),
    )
    before = _counts(db)
    key = uuid.uuid4().hex
    status, body = gate.upload(forged, "2026-11-07 08:00", key=key)
    assert (status, body["error"]["code"]) == (422, "bad_signature")
    after = _counts(db)
    assert (after["PassMovement"], after["SlipConflict"]) == (before["PassMovement"], before["SlipConflict"])
    assert after["GateSyncEvent"] == before["GateSyncEvent"] + 1
    kept = db.scalar(select(GateSyncEvent))  # (read after _counts' rollback)
    assert kept is not None and (kept.result, kept.code, kept.kind) == ("rejected", "bad_signature", "pass_in")
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "gate.sync_rejected")) is not None
    assert gate.upload(forged, "2026-11-07 08:00", key=key) == (status, body)
    assert _counts(db) == after

    # before the issue (beyond the 10-minute skew), ahead of the server's clock, before the gate's last contact
    assert gate.upload(item.token, "2026-11-05 08:30")[1]["error"]["kind"] == "clock_suspect"
    assert gate.upload(item.token, "2026-11-08 11:00")[1]["error"]["kind"] == "clock_suspect"
    db.rollback()
    db.execute(update(Device).where(Device.name == "东门").values(contact_lost_at=at("2026-11-07 12:00")))
    db.commit()
    status, body = gate.upload(item.token, "2026-11-07 09:00")
    assert (status, body["error"]["kind"]) == (409, "clock_suspect")
    assert gate.upload(item.token, "2026-11-08 10:05")[0] == 201  # within the skew
    db.rollback()
    assert db.scalar(select(func.count()).select_from(PassMovement)) == 4
    assert [c.kind for c in db.scalars(select(SlipConflict))] == ["clock_suspect"] * 3
