"""`estate demo`: realistic data once, the logins it prints work, and the simulated hardware answers."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from devices.cabinet.driver import Cabinet
from devices.printing import open_printer, query_status
from devices.qr import load_image, make_decoder, to_grey
from server.cli import demo_devices
from server.db.models import Device, Occupancy, OccupancyKind, Role, StaffUser, Unit
from server.demo import DEMO_PASSWORD, seed
from server.domain.actors import SYSTEM


def test_demo_estate_is_realistic_and_made_once(db: Session, client: TestClient, login) -> None:
    first = seed(db, SYSTEM)
    db.commit()
    assert first.created
    assert db.scalar(select(func.count()).select_from(Unit)) == 3 * 12 * 4
    kinds = set(db.scalars(select(Occupancy.kind)))
    assert kinds == {OccupancyKind.owner, OccupancyKind.tenant, OccupancyKind.family}
    in_arrears = db.scalar(select(Unit).where(Unit.arrears_fen > 0))
    assert in_arrears is not None and in_arrears.code == first.arrears_unit
    assert any(o.kind == OccupancyKind.tenant for o in in_arrears.occupancies)
    assert {u.role for u in db.scalars(select(StaffUser))} == set(Role)
    assert sorted(first.device_tokens) == ["cabinet", "gate", "kiosk"]

    again = seed(db, SYSTEM)
    db.commit()
    assert not again.created and db.scalar(select(func.count()).select_from(Device)) == 3
    # Tokens are stored hashed, so a second run issues fresh ones; the printed ones work.
    for kind, token in again.device_tokens.items():
        me = client.get("/api/v1/device", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["kind"] == kind
    assert "您好" in login(client, "frontdesk", DEMO_PASSWORD).text


def test_demo_hardware_answers_like_the_real_thing(tmp_path: Path) -> None:
    hardware = demo_devices.start(tmp_path)
    try:
        printer = open_printer(hardware.printer.url)
        status = query_status(printer)
        printer.close()
        assert status.online and status.paper.value == "ok"
        with Cabinet(hardware.cabinet_url, "xor485", [1, 2]) as cabinet:
            assert len(cabinet.query_board(1).doors_open) == len(cabinet.query_board(2).doors_open) > 0
            assert not any(cabinet.query_board(2).doors_open)
    finally:
        hardware.stop()


def test_demo_seed_only_prints_logins_and_writes_tokens(tmp_path: Path) -> None:
    env = os.environ | {"ESTATE_DATA_DIR": str(tmp_path), "ESTATE_DATABASE_URL": ""}
    run = subprocess.run(
        [sys.executable, "-m", "server.cli", "demo", "--seed-only"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "frontdesk" in run.stderr and DEMO_PASSWORD in run.stderr and "/console/" in run.stderr
    tokens = json.loads((tmp_path / "demo-devices.json").read_text())
    assert set(tokens) == {"kiosk", "gate", "cabinet"}
    assert (tmp_path / "estate.db").is_file()


def test_demo_runs_the_system_and_says_how_to_see_the_windows(tmp_path: Path) -> None:
    """`estate demo` on a machine with no display: server, virtual printer, cabinet simulator and agent run; the
    gate's camera frames are made from a slip the virtual printer printed; the kiosk and gate commands are shown."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"} | {
        "ESTATE_DATA_DIR": str(tmp_path),
        "ESTATE_DATABASE_URL": "",
        "COLUMNS": "300",
    }
    demo = subprocess.Popen(
        [sys.executable, "-m", "server.cli", "demo", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    try:
        assert demo.stderr is not None
        for line in demo.stderr:
            lines.append(line)
            if line.startswith("started estate cabinet"):
                break
        text = "".join(lines)
        assert "No display here" in text and "estate kiosk --server" in text and "estate gate --server" in text
        frames = sorted((tmp_path / "demo-camera").glob("frame-*.png"))
        slip = re.search(r"Demo slip (GH-\d{8}-\d{4})", text)
        assert slip and frames
        decoder = make_decoder("zxing")
        decoded = {d.text for f in frames for d in decoder.decode_grey(to_grey(load_image(f)))}
        assert len(decoded) == 1 and decoded.pop().startswith("RS2:")
        health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=10)
        assert health.status_code == 200
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
