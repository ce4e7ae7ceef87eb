"""The gate keeps working when the server is away (issue 8): the server is stopped, the gate releases two slips and
refuses one, the server starts again, the outbox syncs, and the server has all three with their original times,
nothing lost and nothing doubled; a slip released at two offline gates ends as one release and one conflict."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gate.link import event_of
from gate.syncer import Syncer, SyncTiming
from server.db.models import AuditEntry, GateSyncEvent, ReleaseSlip, SlipConflict, SlipRelease, StaffUser
from tests.conftest import wait_until

from .conftest import GUARD_PIN, Gate, RestartableServer, build_gate


def signed_in(gate: Gate) -> Gate:
    gate.link.refresh_reference()
    for key in GUARD_PIN:
        gate.flow.signin_key(key)
    gate.flow.signin_submit()
    assert gate.flow.state == "ready"
    return gate


def decide(gate: Gate, token: str, counts: dict[int, int] | None = None, reason: str = "") -> None:
    flow = gate.flow
    assert flow.on_scan(token) and flow.state == "checklist" and flow.checklist is not None
    for line in flow.checklist.lines:
        flow.set_count(line.line, (counts or {}).get(line.line, line.quantity))
    if flow.checklist.can_release:
        flow.release()
    else:
        flow.refuse_open()
        flow.refuse(reason)
    assert flow.state == "done" and flow.decision is not None and flow.decision.queued
    flow.next()


def test_offline_releases_and_refusal_reach_the_server_once_with_original_times(
    restartable_server: RestartableServer,
    make_device: Callable[..., tuple],
    guard: StaffUser,
    slip_maker: Callable[..., ReleaseSlip],
    db: Session,
    tmp_path: Path,
) -> None:
    slips = [slip_maker() for _ in range(4)]
    gates = []
    for name in ("东门", "西门"):
        _device, token = make_device("gate", name)
        gates.append(signed_in(build_gate(tmp_path / name, restartable_server.url, token, name)))
    east, west = gates
    timing = SyncTiming(heartbeat_every=0.2, refresh_every=30.0, backoff_initial=0.1, backoff_max=0.5)
    syncers = [Syncer(g.link, timing) for g in gates]

    restartable_server.stop()
    decide(east, slips[0].token)
    decide(east, slips[1].token)
    decide(east, slips[2].token, {2: 1}, reason="少一个书架")
    decide(east, slips[3].token)
    decide(west, slips[3].token)  # the same slip at the other gate, which could not know
    assert not east.link.online and not west.link.online
    assert east.link.queue_length() == 4 and west.link.queue_length() == 1
    decided = {e.number: e.at for e in east.link.outbox.pending()}
    for syncer in syncers:
        syncer.start()  # retries with back-off while the server is away
    wait_until(lambda: all(s.failures >= 2 for s in syncers))
    assert east.link.queue_length() == 4

    restartable_server.start()
    try:
        wait_until(lambda: east.link.queue_length() == 0 and west.link.queue_length() == 0)
        wait_until(lambda: east.link.online and west.link.online)
    finally:
        for syncer in syncers:
            syncer.stop()

    db.expire_all()
    records = {r.slip_id: r for r in db.scalars(select(SlipRelease))}
    assert len(records) == 4  # one record per slip: nothing lost, nothing doubled
    for slip, outcome in zip(slips, ["released", "released", "refused", "released"], strict=True):
        record = records[slip.id]
        assert record.outcome == outcome and record.guard == "张保安" and record.offline
        if slip is not slips[3]:
            assert record.gate == "东门" and record.at == decided[slip.number]  # the original time
    assert "少一个书架" in records[slips[2].id].reason and "实点 1" in records[slips[2].id].reason
    conflicts = db.scalars(select(SlipConflict)).all()
    assert len(conflicts) == 1 and conflicts[0].slip_id == slips[3].id and conflicts[0].kind == "double_use"
    reported = east.link.conflicts() + west.link.conflicts()
    assert [e.number for e in reported] == [slips[3].number]  # the gate that synced second shows the conflict
    assert db.scalar(select(func.count()).select_from(GateSyncEvent)) == 5

    # an upload whose answer was lost is sent again: the nonces make it record nothing more
    again = east.client.sync([event_of(e) for e in east.link.outbox.all()])
    assert {r.result for r in again.results} == {"duplicate"}
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(SlipRelease)) == 4
    assert db.scalar(select(func.count()).select_from(SlipConflict)) == 1
    assert db.scalar(select(func.count()).select_from(GateSyncEvent)) == 5
    for gate in gates:
        gate.client.close()


def test_a_guard_who_signed_in_offline_is_on_record_after_the_sync(
    restartable_server: RestartableServer,
    make_device: Callable[..., tuple],
    guard: StaffUser,
    db: Session,
    tmp_path: Path,
) -> None:
    _device, token = make_device("gate", "南门")
    gate = build_gate(tmp_path / "south", restartable_server.url, token, "南门")
    gate.link.refresh_reference()  # the roster arrives while the server is up
    restartable_server.stop()
    for key in GUARD_PIN:
        gate.flow.signin_key(key)
    gate.flow.signin_submit()
    assert gate.flow.state == "ready" and not gate.link.online
    (queued,) = gate.link.outbox.pending()
    restartable_server.start()
    assert gate.link.upload() == 1
    db.expire_all()
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "guard.sign_in"))
    assert entry is not None and entry.entity_id == guard.username
    detail = json.loads(entry.detail)
    assert detail["offline"] is True and detail["at"].startswith(queued.at.strftime("%Y-%m-%d %H:%M:%S"))
