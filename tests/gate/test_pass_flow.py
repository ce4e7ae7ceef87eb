"""Workers' passes through the gate's state machine against the real server app in-process (R-REN-6): online the
worker's photo is shown and a suspended renovation refuses the pass; offline the token alone is checked and the
entry waits in the outbox until the network is back; a release slip still goes to the checklist."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from gate.verifier import Reference
from server.db.models import Estate, Role, StaffUser
from server.db.models.renovation import PassMovement, Renovation, RenovationState, WorkerPass
from server.domain import clock
from server.domain.actors import Actor
from server.domain.renovation import passes, records
from tests.conftest import Household
from tests.server.renovation.conftest import png_data_url

from .conftest import GUARD_PIN, Gate, issue_slip, now_utc

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def worker_pass(db: Session, estate: Estate, household: Household, desk: StaffUser) -> WorkerPass:
    now = now_utc()
    today = clock.local_day(estate, now)
    record = Renovation(
        estate_id=estate.id, number="GH-ZX-202611-0001", state=RenovationState.paid, unit_id=household.unit.id,
        owner_name="王业主", scope="刷墙", contractor="好家装饰", starts_on=today, ends_on=today + timedelta(days=5),
        received_at=now, deposit_fen=100000,
    )  # fmt: skip
    db.add(record)
    db.flush()
    item = passes.issue(db, Actor("user", desk.id, desk.username), desk, record,
                        passes.Worker("李师傅", "", "", png_data_url()), now)  # fmt: skip
    db.commit()
    return item


def signed_in(gate: Gate) -> None:
    gate.link.refresh_reference()
    for key in GUARD_PIN:
        gate.flow.signin_key(key)
    gate.flow.signin_submit()
    assert gate.flow.state == "ready"


def test_r_ren_6_pass_online_photo_in_and_out_and_refused_when_suspended(
    make_gate: Callable[..., Gate], guard: StaffUser, db: Session, estate: Estate, household: Household,
    make_user: Callable[..., StaffUser],
) -> None:  # fmt: skip
    desk = make_user(Role.front_desk, "desk")
    item = worker_pass(db, estate, household, desk)
    gate = make_gate()
    signed_in(gate)
    flow = gate.flow
    assert flow.on_scan(item.token) and flow.state == "worker_pass"
    shown = flow.pass_verdict.pass_ if flow.pass_verdict else None
    assert shown is not None and shown.worker == "李师傅" and shown.company == "好家装饰" and shown.unit == "5-8B"
    assert shown.photo.startswith("data:image/png;base64,")
    flow.pass_move("in")
    assert flow.state == "pass_logged" and flow.pass_logged is not None and not flow.pass_logged.queued
    flow.next()
    assert not flow.on_scan(item.token)  # the pass just logged, still under the camera, is ignored for a while
    gate.clock.advance(60)
    record = db.get_one(Renovation, item.renovation_id)
    records.suspend(db, Actor("user", desk.id, "desk"), desk, record, "噪音投诉", now_utc())
    db.commit()
    assert flow.on_scan(item.token) and flow.state == "rejected"
    assert flow.verdict is not None and flow.verdict.code == "suspended"
    db.expire_all()
    assert [m.direction for m in db.scalars(select(PassMovement))] == ["in"]


def test_r_ren_6_pass_offline_checked_by_the_token_and_the_exit_uploaded_later(
    make_gate: Callable[..., Gate], guard: StaffUser, db: Session, estate: Estate, household: Household,
    make_user: Callable[..., StaffUser],
) -> None:  # fmt: skip
    item = worker_pass(db, estate, household, make_user(Role.front_desk, "desk"))
    slip = issue_slip(db, estate, household)
    gate = make_gate()
    signed_in(gate)
    assert gate.switch is not None
    gate.switch.down = True
    with pytest.raises(httpx.TransportError):
        gate.link.refresh_reference()
    flow = gate.flow
    assert flow.on_scan(item.token) and flow.state == "worker_pass"
    assert flow.pass_verdict is not None and not flow.pass_verdict.online
    flow.pass_move("out")
    assert flow.pass_logged is not None and flow.pass_logged.queued and gate.link.queue_length() == 1
    flow.next()
    assert flow.on_scan(slip.token) and flow.state == "checklist"  # slips are still slips
    flow.next()
    gate.switch.down = False
    assert gate.link.upload() == 1 and gate.link.queue_length() == 0
    db.expire_all()
    assert [(m.direction, m.guard) for m in db.scalars(select(PassMovement))] == [("out", "张保安")]


class Moment:
    """The one clock the server app, the gate's link and its day share in a test, moved by hand."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at

    def advance(self, minutes: int) -> datetime:
        self.at += timedelta(minutes=minutes)
        return self.at


def test_r_ren_6_offline_gate_refuses_a_suspended_pass_after_sync_and_accepts_it_again_after_reinstatement(
    make_gate: Callable[..., Gate], guard: StaffUser, db: Session, estate: Estate, household: Household,
    make_user: Callable[..., StaffUser], client: TestClient,
) -> None:  # fmt: skip
    """R-REN-6: the gate syncs the suspension (with its time and reason) into its cache; offline, the pass is refused
    with that reason; after the suspension is lifted and the next sync, it is accepted offline again, and the entry
    uploaded later is recorded at the time it happened."""
    now = Moment(datetime(2026, 11, 5, 2, 0, tzinfo=UTC))  # 10:00 in Shanghai
    client.app.state.clock = now  # type: ignore[attr-defined]
    desk = make_user(Role.front_desk, "desk")
    actor = Actor("user", desk.id, "desk")
    record = Renovation(
        estate_id=estate.id, number="GH-ZX-202611-0001", state=RenovationState.paid, unit_id=household.unit.id,
        owner_name="王业主", scope="刷墙", contractor="好家装饰", starts_on=date(2026, 11, 5),
        ends_on=date(2026, 11, 20), received_at=now(), deposit_fen=100000,
    )  # fmt: skip
    db.add(record)
    db.flush()
    item = passes.issue(db, actor, desk, record, passes.Worker("李师傅"), now())
    db.commit()
    gate = make_gate()
    gate.link.clock = now
    gate.flow._today = lambda: clock.local_day(estate, now())
    signed_in(gate)
    flow, switch = gate.flow, gate.switch
    assert switch is not None

    suspended_at = now.advance(5)
    records.suspend(db, actor, desk, record, "噪音投诉", suspended_at)
    db.commit()
    now.advance(1)
    gate.link.refresh_reference()  # the sync carries the suspension
    switch.down = True
    with pytest.raises(httpx.TransportError):
        gate.link.refresh_reference()
    cached = Reference.load(gate.link.store).passes[item.number]  # kept in the gate's cache
    assert (cached.state, cached.since, cached.reason) == ("suspended", suspended_at, "噪音投诉")
    assert flow.on_scan(item.token) and flow.state == "rejected"
    verdict = flow.verdict
    assert verdict is not None and not verdict.online
    assert (verdict.code, verdict.since, verdict.note) == ("suspended", suspended_at, "噪音投诉")
    flow.next()
    gate.clock.advance(60)

    switch.down = False
    records.resume(db, actor, desk, record, now.advance(30))
    db.commit()
    gate.link.refresh_reference()  # the next sync: no longer listed
    switch.down = True
    with pytest.raises(httpx.TransportError):
        gate.link.refresh_reference()
    assert item.number not in gate.link.verifier.reference.passes
    assert flow.on_scan(item.token) and flow.state == "worker_pass"
    assert flow.pass_verdict is not None and not flow.pass_verdict.online
    entered = now.advance(2)
    flow.pass_move("in")
    assert flow.pass_logged is not None and flow.pass_logged.queued

    now.advance(60)
    switch.down = False
    assert gate.link.upload() == 1 and gate.link.conflicts() == []
    db.expire_all()
    [movement] = db.scalars(select(PassMovement))
    assert (movement.direction, movement.at, movement.offline) == ("in", entered, True)
