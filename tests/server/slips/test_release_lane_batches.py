"""The release lane on PostgreSQL: the releases of a batch run as one are written by one statement
(`lane._record_all`), with the same records as a release written alone (R-REL-6); the kiosk slips of a batch are
numbered and written together (`issuing._issue_all`, R-REL-4)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from server.db.engine import make_sessionmaker
from server.db.models import (
    ApplicantKind,
    AuditEntry,
    Device,
    DeviceKind,
    Estate,
    IdempotentAnswer,
    ReleaseSlip,
    SlipAttachment,
    SlipRelease,
    SlipState,
)
from server.db.plain import Plain, connect_reader
from server.db.writer import GroupCommitWriter, _Job
from server.domain import audit, clock, idempotency
from server.domain.actors import SYSTEM
from server.domain.slips import issuing, paper
from server.domain.slips.gate import lane
from server.domain.slips.gate.releases import Count
from tests.conftest import Household, keyed, wait_until

from .conftest import count_all, kiosk_slip, slip_request
from .test_release_lane import recorded, seen

pytestmark = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


def planned(engine: Engine, gate: dict, slip: dict) -> tuple[lane.Gate, Any]:
    """The lane's plan for releasing `slip` with every line counted, read as the lane reads it."""
    reader = connect_reader(engine)
    try:
        lookup = lane.look_up(gate["Authorization"].removeprefix("Bearer "), slip["token"])
        now = issuing.utcnow()
        found = lane.checked(reader.sqlite, lookup, lookup.run(reader), now)
    finally:
        reader.connection.close()
    assert found is not None
    caller, scanned = found
    counts = [Count(line["line"], line["counted"]) for line in count_all(slip)]
    return caller, lane.plan(caller, scanned, slip["token"], "张保安", counts, reason="", refuse=False, now=now)


def test_r_rel_6_a_batch_of_releases_is_written_as_one_and_a_slip_changed_meanwhile_is_left_alone(
    engine: Engine, db: Session, client: TestClient, estate: Estate, household: Household, kiosk: dict, gate_a: dict
) -> None:
    """Releases batched together (PostgreSQL) are one statement for the batch: each claimed slip is released with
    its counted lines, kept answer and audit entry; a slip cancelled after its read is not written, and only its
    caller hears so (the full route then answers `cancelled`); the chain verifies."""
    slips = [kiosk_slip(client, estate, kiosk) for _ in range(4)]
    seen(client, gate_a)
    plans = [planned(engine, gate_a, slip) for slip in slips]
    with make_sessionmaker(engine)() as session:
        cancelled = session.scalars(select(ReleaseSlip).where(ReleaseSlip.number == slips[2]["number"])).one()
        issuing.cancel(session, SYSTEM, cancelled, "住户取消")
        session.commit()
    writes = [
        idempotency.DeviceWrite(caller.id, f"lane-batch-{n:04d}", "releases.release", "{}")
        for n, (caller, _) in enumerate(plans)
    ]

    def release(n: int) -> Callable[[Plain], Any]:
        caller, plan = plans[n]
        return lambda c: lane.record(c, caller.actor("10.0.0.9"), plan, writes[n], f'{{"n": {n}}}')

    batch = [_Job(release(n), lambda: None, plain=True) for n in range(4)]
    writer = GroupCommitWriter(engine)
    writer._commit(batch)
    assert writer.batches == {"together": 1}
    assert [job.result for job in batch] == [(201, '{"n": 0}'), (201, '{"n": 1}'), None, (201, '{"n": 3}')]
    for n in (0, 1, 3):
        assert recorded(db, slips[n]["number"])["counted"] == [line["quantity"] for line in slips[n]["items"]]
    db.expire_all()
    kept = db.scalars(select(IdempotentAnswer.key).where(IdempotentAnswer.key.like("lane-batch-%"))).all()
    assert sorted(kept) == ["lane-batch-0000", "lane-batch-0001", "lane-batch-0003"]
    assert db.scalars(select(SlipRelease).where(SlipRelease.slip_id == cancelled.id)).all() == []
    assert audit.verify(db).ok


def test_r_rel_6_one_slip_twice_in_a_batch_is_released_once(
    engine: Engine, db: Session, client: TestClient, estate: Estate, household: Household, kiosk: dict, gate_a: dict
) -> None:
    """Two requests for one slip in the same batch (two guards scanning it at once): the batch's one statement
    fails, the batch runs again a write at a time, and the first is released while the second is not written
    (its caller then gets the full route's `already_released`)."""
    slip = kiosk_slip(client, estate, kiosk)
    seen(client, gate_a)
    caller, plan = planned(engine, gate_a, slip)
    writes = [idempotency.DeviceWrite(caller.id, f"lane-twice-{n:04d}", "releases.release", "{}") for n in range(2)]
    batch = [
        _Job(lambda c, w=w: lane.record(c, caller.actor(""), plan, w, "{}"), lambda: None, plain=True) for w in writes
    ]
    writer = GroupCommitWriter(engine)
    writer._commit(batch)
    assert writer.batches == {"write_by_write": 1}
    assert [job.result for job in batch] == [(201, "{}"), None]
    assert recorded(db, slip["number"])["state"] == SlipState.released
    assert audit.verify(db).ok


def drafted(db: Session, estate: Estate, household: Household, signature: bytes | None = None) -> issuing.Drafted:
    """An owner's kiosk slip (a sofa and three bookshelves) drafted as the slip lane drafts it, to be written."""
    draft = issuing.SlipDraft(
        [issuing.LineDraft("SOFA", None, 1), issuing.LineDraft(None, "旧书架", 3)],
        clock.local_day(estate, issuing.utcnow()),
    )
    approval = issuing.request_slip(
        db, SYSTEM, estate, household.unit, ApplicantKind.owner, household.owner, draft, channel="kiosk",
        signature=signature,
    )  # fmt: skip
    made = approval.drafted(db)
    assert made is not None
    return made


def answer(slip: ReleaseSlip) -> idempotency.Answer:
    return 201, json.dumps({"number": slip.number, "token": slip.token})


def test_r_rel_4_a_batch_of_kiosk_slips_is_numbered_in_turn_and_written_as_one(
    engine: Engine, db: Session, client: TestClient, estate: Estate, household: Household, kiosk: dict, gate_a: dict
) -> None:
    """Kiosk slips batched together (PostgreSQL) take the day's numbers in turn after the slips before them, once
    for the batch (R-REL-4): each is written with its lines, its signature from the pad, its audit entry and its
    kept answer, and its signed token verifies at the gate; a request whose key was answered already is not written
    (its caller then gets the kept answer from the full route)."""
    first = client.post("/api/v1/slips", json=slip_request(estate), headers=kiosk | {"Idempotency-Key": "issue-kept"})
    assert first.status_code == 201, first.text
    device = db.scalars(select(Device).where(Device.kind == DeviceKind.kiosk)).one()
    pad = b"\x89PNG\r\n\x1a\n a signature from the pad"
    keys = ["issue-batch-0", "issue-kept", "issue-batch-2", "issue-batch-3"]
    work = [
        (
            drafted(db, estate, household, pad if n == 2 else None),
            idempotency.DeviceWrite(device.id, key, "slips.request", "{}"),
        )
        for n, key in enumerate(keys)
    ]
    db.commit()

    def issue(n: int) -> Callable[[Plain], Any]:
        made, write = work[n]
        return lambda c: issuing.issue_plain(c, made, write, answer)

    batch = [_Job(issue(n), lambda: None, plain=True) for n in range(len(work))]
    writer = GroupCommitWriter(engine)
    writer._commit(batch)
    assert writer.batches == {"together": 1}
    assert batch[1].result is None  # answered already: nothing written for it
    answers = [json.loads(job.result[1]) for n, job in enumerate(batch) if n != 1]
    seq = int(first.json()["number"].rsplit("-", 1)[1])
    assert [int(a["number"].rsplit("-", 1)[1]) for a in answers] == [seq + 1, seq + 2, seq + 3]
    db.expire_all()
    for n, a in zip((0, 2, 3), answers, strict=True):
        verified = client.post("/api/v1/gate/verify", json={"text": a["token"]}, headers=keyed(gate_a))
        assert verified.status_code == 200, verified.text
        slip = verified.json()["slip"]
        assert slip["number"] == a["number"]
        assert [(i["name"], i["quantity"]) for i in slip["items"]][-1] == ("旧书架", 3)
        stored = db.scalars(select(ReleaseSlip).where(ReleaseSlip.number == a["number"])).one()
        signatures = db.scalars(
            select(SlipAttachment.data).where(
                SlipAttachment.slip_id == stored.id, SlipAttachment.kind == paper.SIGNATURE
            )
        ).all()
        assert signatures == ([pad] if n == 2 else [])
        kept = db.scalars(select(IdempotentAnswer).where(IdempotentAnswer.key == keys[n])).one()
        assert json.loads(kept.body) == a
    issued = db.scalars(select(AuditEntry).where(AuditEntry.action == "slip.issue")).all()
    assert [json.loads(e.detail)["number"] for e in issued][-3:] == [a["number"] for a in answers]
    assert audit.verify(db).ok


def test_r_rel_4_a_batch_appends_to_the_audit_chain_last_so_a_worker_issuing_meanwhile_never_deadlocks(
    engine: Engine, db: Session, client: TestClient, estate: Estate, household: Household, kiosk: dict, gate_a: dict
) -> None:
    """A batch holding a release and a kiosk slip (R-REL-4, R-REL-6) while another worker's transaction holds the
    day's slip counter and then wants the audit chain's lock, as every slip issue does: the batch waits for the
    counter without holding the chain's lock (its appends come after every other statement), so the other
    transaction gets the lock at once and both commit; no deadlock, no write lost."""
    slip = kiosk_slip(client, estate, kiosk)  # the day's counter row exists
    seen(client, gate_a)
    caller, plan = planned(engine, gate_a, slip)
    device = db.scalars(select(Device).where(Device.kind == DeviceKind.kiosk)).one()
    made = drafted(db, estate, household)
    db.commit()
    release_write = idempotency.DeviceWrite(caller.id, "lock-order-release", "releases.release", "{}")
    issue_write = idempotency.DeviceWrite(device.id, "lock-order-issue", "slips.request", "{}")
    batch = [
        _Job(lambda c: lane.record(c, caller.actor(""), plan, release_write, "{}"), lambda: None, plain=True),
        _Job(lambda c: issuing.issue_plain(c, made, issue_write, answer), lambda: None, plain=True),
    ]
    writer = GroupCommitWriter(engine)
    with engine.connect() as other:
        other.execute(text("SET lock_timeout = '20s'"))
        other.execute(text("UPDATE slip_counters SET last = last WHERE estate_id = :e"), {"e": estate.id})
        writing = threading.Thread(target=writer._commit, args=(batch,))
        writing.start()
        try:
            wait_until(lambda: _waiting_for_a_lock(engine), 30, "the batch waiting for the day's counter")
            other.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": audit._PG_AUDIT_LOCK})
            other.commit()
        finally:
            if other.in_transaction():
                other.rollback()
            writing.join(60)
    assert writer.batches == {"together": 1}
    assert batch[0].result == (201, "{}")
    assert batch[1].result is not None and batch[1].result[0] == 201
    assert recorded(db, slip["number"])["state"] == SlipState.released
    assert audit.verify(db).ok


def _waiting_for_a_lock(engine: Engine) -> bool:
    with engine.connect() as look:
        waiting = look.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    return waiting > 0
