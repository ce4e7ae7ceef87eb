"""`estate cabinet`: events seen on real (simulated) lock boards reach the server's audit trail; nothing is lost
while the server is away, and nothing is recorded twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cabinet.agent import EventForwarder, open_outbox, to_wire
from devices.backoff import Backoff
from devices.cabinet.events import DoorHeldOpen, DoorOpenedWithoutCommand, KeyRemoved
from devices.cabinet.profiles import BoardProfile, protocol_by_name
from devices.cabinet.sim_model import SimCabinet
from devices.cabinet.simulator import CabinetSimulator
from server.contract.cabinet import CabinetEventsIn
from server.contract.client import ApiError, EstateClient
from server.db.models import AuditEntry
from tests.conftest import wait_until


def _cabinet_actions(db: Session) -> list[str]:
    db.expire_all()
    actions = [e.action for e in db.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    db.rollback()
    return [a for a in actions if a.startswith("cabinet.")]


@pytest.fixture
def simulator() -> Iterator[tuple[SimCabinet, str]]:
    sim = SimCabinet.stocked(BoardProfile.default(protocol_by_name("xor485")), boards=1, close_after=None)
    with CabinetSimulator(sim) as running:
        yield sim, running.url


def test_events_are_recorded_with_their_own_time_and_alerts_counted(
    client: TestClient, make_device, db: Session
) -> None:
    _device, token = make_device("cabinet", "钥匙柜 A")
    seen = datetime(2026, 11, 27, 1, 2, 3, tzinfo=UTC)
    events = [
        to_wire(DoorOpenedWithoutCommand(board=1, slot=4, at=seen)),
        to_wire(KeyRemoved(board=1, slot=4, tag="01ab")),
    ]
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "batch-0001"}
    first = client.post("/api/v1/cabinet/events", json={"events": events}, headers=headers)
    assert first.status_code == 201 and first.json() == {"recorded": 2, "alerts": 1}
    again = client.post("/api/v1/cabinet/events", json={"events": events}, headers=headers)
    assert again.json() == first.json()
    assert _cabinet_actions(db) == ["cabinet.door_opened_without_command", "cabinet.key_removed"]
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "cabinet.door_opened_without_command"))
    assert entry is not None and json.loads(entry.detail)["seen_at"].startswith("2026-11-27 01:02:03")


def test_bad_uploads_are_refused_clearly(client: TestClient, make_device) -> None:
    _cab, token = make_device("cabinet")
    _gate, gate_token = make_device("gate")
    good = {"events": [to_wire(DoorHeldOpen(board=1, slot=2, open_s=90))]}
    auth = {"Authorization": f"Bearer {token}", "Idempotency-Key": "batch-0002"}
    no_key = client.post("/api/v1/cabinet/events", json=good, headers={"Authorization": f"Bearer {token}"})
    assert no_key.json()["error"]["code"] == "idempotency_key_required"
    bad = client.post("/api/v1/cabinet/events", json={"events": [{"event": "DROP TABLE", "board": -1}]}, headers=auth)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "malformed"
    wrong = client.post(
        "/api/v1/cabinet/events",
        json=good,
        headers={"Authorization": f"Bearer {gate_token}", "Idempotency-Key": "batch-0003"},
    )
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "wrong_device_kind"


def test_nothing_is_lost_while_the_server_is_away(live_server: str, make_device, db: Session, tmp_path: Path) -> None:
    _device, token = make_device("cabinet")
    outbox = open_outbox(tmp_path / "outbox.db")
    with EstateClient("http://127.0.0.1:9", token, timeout=1) as down:  # nothing listens on the discard port
        away = EventForwarder(outbox, down.cabinet_events, Backoff(initial=30, maximum=60))
        for slot in (1, 2, 3):
            away.accept(DoorOpenedWithoutCommand(board=1, slot=slot))
        assert not away.flush_once() and away.failures == 1
    assert outbox.pending_count() == 3 and _cabinet_actions(db) == []
    outbox.close()

    reopened = open_outbox(tmp_path / "outbox.db")  # as after a restart of the agent
    with EstateClient(live_server, token) as up:
        back = EventForwarder(reopened, up.cabinet_events)
        assert back.flush_once()
    assert reopened.pending_count() == 0
    assert _cabinet_actions(db) == ["cabinet.door_opened_without_command"] * 3


def test_a_batch_whose_answer_was_lost_is_recorded_once(
    live_server: str, make_device, db: Session, tmp_path: Path
) -> None:
    _device, token = make_device("cabinet")
    outbox = open_outbox(tmp_path / "outbox.db")
    with EstateClient(live_server, token) as http:
        calls: list[str] = []

        def answer_lost(events: CabinetEventsIn, key: str):
            calls.append(key)
            http.cabinet_events(events, key)  # the server records it …
            raise ApiError(502, "bad_gateway", "the answer was lost on the way back")  # … the agent never hears

        lost = EventForwarder(outbox, answer_lost)
        lost.accept(DoorHeldOpen(board=1, slot=7, open_s=120))
        assert not lost.flush_once()
        assert EventForwarder(outbox, http.cabinet_events).flush_once()
    assert outbox.pending_count() == 0 and len(calls) == 1
    assert _cabinet_actions(db) == ["cabinet.door_held_open"]


def test_estate_cabinet_reports_a_forced_door_from_the_boards(
    live_server: str, make_device, db: Session, simulator: tuple[SimCabinet, str], tmp_path: Path
) -> None:
    sim, url = simulator
    _device, token = make_device("cabinet")
    agent = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "estate_cli",
            "cabinet",
            "--cabinet",
            url,
            "--protocol",
            "xor485",
            "--boards",
            "1",
            "--server",
            live_server,
            "--device-token",
            token,
            "--data-dir",
            str(tmp_path),
            "--poll-interval",
            "0.1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        wait_until(lambda: len(sim.received) >= 2)  # the agent is polling, and has seen every door shut
        sim.open_door(1, 3)  # nobody asked for slot 3: tamper
        assert agent.stdout is not None
        printed = [json.loads(agent.stdout.readline())["event"] for _ in range(2)]
        assert printed == ["door_opened", "door_opened_without_command"]
        wait_until(lambda: "cabinet.door_opened_without_command" in _cabinet_actions(db))
    finally:
        agent.send_signal(signal.SIGTERM)
        agent.wait(timeout=20)
    assert agent.returncode == 0


def test_bad_cabinet_settings_are_one_clear_error(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "estate_cli",
            "cabinet",
            "--cabinet",
            "socket://127.0.0.1:9",
            "--protocol",
            "modbus",
            "--server",
            "http://127.0.0.1:9",
            "--device-token",
            "x",
            "--data-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2 and "xor485" in run.stderr and "Traceback" not in run.stderr
