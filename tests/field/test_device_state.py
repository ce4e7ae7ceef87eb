"""What the console's devices page learns from the field: the gate's camera state (live, frozen, no device) from
its heartbeat, and each device's software version against the one the server expects."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from gate.runtime import GateConfig, GateRuntime
from server.db.models import Role
from tests.conftest import sign_in, wait_until

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_gate_camera_state_reaches_the_devices_page_with_the_software_version(
    tmp_path: Path,
    live_server: str,
    app: FastAPI,
    client: TestClient,
    db: Session,
    make_device: Callable[..., tuple],
    make_user: Callable[..., object],
) -> None:
    device, token = make_device("gate", "东门")
    folder = tmp_path / "camera"
    runtime = GateRuntime(
        GateConfig(server=live_server, camera=f"images://{folder}?fps=2", device_token=token, data_dir=tmp_path / "g")
    )
    runtime.frozen_after = 0.2  # a frame every 0.5 s: between two, the picture counts as frozen
    states: set[str] = set()
    runtime.scanner.start()
    try:
        wait_until(lambda: runtime.camera_state() == "no_device", what="no camera (no folder)")
        runtime.link.heartbeat()
        db.refresh(device)
        assert json.loads(device.last_status)["camera"] == "no_device"

        folder.mkdir()
        cv2.imwrite(str(folder / "frame-0.png"), np.full((120, 160, 3), 128, np.uint8))
        wait_until(lambda: states.add(runtime.camera_state()) or {"live", "frozen"} <= states, what="live, frozen")
        runtime.frozen_after = 60.0
        wait_until(lambda: runtime.camera_state() == "live", what="live")
        runtime.link.heartbeat()  # a changed state is reported at once
    finally:
        runtime.stop()
    db.commit()  # a fresh read, past the snapshot of the first one
    db.refresh(device)
    status = json.loads(device.last_status)
    assert status["camera"] == "live" and status["software"].startswith("gate ")
    running = status["software"].split()[-1]

    manager = make_user(Role.cs_manager, password="correct-horse-1")
    sign_in(client, manager.username, "correct-horse-1")
    page = client.get("/console/devices").text
    assert "摄像头: 正常" in page and f'<td class="software">{running}</td>' in page

    app.state.settings.device_version = "9.9.9"
    answer = client.get("/api/v1/device", headers={"Authorization": f"Bearer {token}"}).json()
    assert answer["expected_version"] == "9.9.9"
    page = client.get("/console/devices").text
    assert "data-outdated" in page and f"{running}（应为 9.9.9：estate install … --upgrade）" in page
