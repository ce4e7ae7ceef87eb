"""The release lane on PostgreSQL: the releases of a batch run as one are written by one statement
(`lane._record_all`), with the same records as a release written alone (R-REL-6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from server.db.engine import make_sessionmaker
from server.db.models import Estate, IdempotentAnswer, ReleaseSlip, SlipRelease, SlipState
from server.db.plain import Plain, connect_reader
from server.db.writer import GroupCommitWriter, _Job
from server.domain import audit, idempotency
from server.domain.actors import SYSTEM
from server.domain.slips import issuing
from server.domain.slips.gate import lane
from server.domain.slips.gate.releases import Count
from tests.conftest import Household

from .conftest import count_all, kiosk_slip
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
