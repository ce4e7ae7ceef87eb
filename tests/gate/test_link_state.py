"""The gate's link state on its status bar: a heartbeat notices within seconds that the server went away or came
back, with no scan needed; a 401 (the device token revoked or replaced) is shown as "device token refused" while
the gate keeps checking slips on its own; each change of the link or the camera is one log line."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy.orm import Session

from gate.runtime import GateConfig, GateRuntime
from gate.syncer import Syncer
from server.db.models import Device, ReleaseSlip, StaffUser
from server.domain import devices
from server.domain.actors import SYSTEM
from tests.conftest import wait_until

from .conftest import GUARD_PIN, RestartableServer, build_gate

PROMISE_S = 5.0  # the guard sees a change of the link within this many seconds


def test_default_timing_keeps_the_five_second_promise() -> None:
    """The worst case of the defaults: a heartbeat (or, while offline, a retry) is due, then waits its timeout."""
    config = GateConfig()
    assert config.timing.heartbeat_every + config.timeout_s <= PROMISE_S
    assert config.timing.backoff_max + config.timeout_s <= PROMISE_S


def test_the_status_follows_the_server_with_no_scan(
    restartable_server: RestartableServer,
    make_device: Callable[..., tuple],
    slip_maker: Callable[..., ReleaseSlip],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _device, token = make_device("gate", "东门")
    gate = build_gate(tmp_path / "gate", restartable_server.url, token, "东门")
    syncer = Syncer(gate.link, GateConfig().timing)  # the timing a real gate runs with
    caplog.set_level(logging.INFO, logger="gate")
    syncer.start()
    try:
        wait_until(lambda: gate.link.state == "online", what="online")
        restartable_server.stop()
        wait_until(lambda: gate.link.state == "offline", what="offline without a scan")
        slip = slip_maker()  # issued at the front desk while the gate could not hear of it
        restartable_server.start()
        wait_until(lambda: gate.link.state == "online", what="online again without a scan")
        # resynced at once on the server's return, not at the next minute's refresh
        wait_until(lambda: slip.number in gate.link.verifier.reference.slips, what="the new slip synced")
    finally:
        syncer.stop()
        gate.client.close()
    changes = [r.getMessage() for r in caplog.records if r.name == "gate.link"]
    assert changes == [
        "gate link: online (was offline)",
        "gate link: offline (was online)",
        "gate link: online (was offline)",
    ]


def test_a_refused_device_token_is_shown_and_the_gate_checks_on_its_own(
    live_server: str,
    make_device: Callable[..., tuple],
    guard: StaffUser,
    slip_maker: Callable[..., ReleaseSlip],
    db: Session,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    device, token = make_device("gate", "东门")
    slip = slip_maker()
    gate = build_gate(tmp_path / "gate", live_server, token, "东门")
    gate.link.refresh_reference()
    assert gate.link.state == "online"
    devices.issue_token(db, SYSTEM, db.get(Device, device.id))  # e.g. the demo run again: the old token is dead
    db.commit()
    caplog.set_level(logging.INFO, logger="gate")
    syncer = Syncer(gate.link, GateConfig().timing)
    syncer.start()
    try:
        wait_until(lambda: gate.link.state == "token_refused", what="token refused")
    finally:
        syncer.stop()
    assert not gate.link.online
    assert any("device token (401)" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)
    for key in GUARD_PIN:
        gate.flow.signin_key(key)
    gate.flow.signin_submit()
    assert gate.flow.state == "ready"  # from the roster it keeps
    assert "gate: guard zhang_guard signed in" in [r.getMessage() for r in caplog.records]
    assert gate.flow.on_scan(slip.token) and gate.flow.state == "checklist"
    assert gate.flow.verdict is not None and not gate.flow.verdict.online
    gate.client.close()


def test_the_camera_is_logged_when_it_gives_no_picture_and_when_it_is_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One line each way; a folder of frames that ends and starts again (the demo's camera) logs nothing more."""
    folder = tmp_path / "camera"
    runtime = GateRuntime(
        GateConfig(
            server="http://127.0.0.1:9",  # nothing listens: the camera is what this test watches
            camera=f"images://{folder}?fps=20",
            device_token="edt_test",
            data_dir=tmp_path / "gate",
        )
    )
    caplog.set_level(logging.INFO, logger="gate")

    def camera_lines() -> list[str]:
        return [r.getMessage() for r in caplog.records if r.name == "gate.runtime"]

    runtime.scanner.start()
    try:
        wait_until(lambda: len(camera_lines()) == 1, what="the camera's loss logged")
        folder.mkdir()
        cv2.imwrite(str(folder / "frame-0.png"), np.full((120, 160, 3), 128, np.uint8))
        wait_until(lambda: len(camera_lines()) == 2, what="the camera's return logged")
        first = runtime.scanner.capture.latest()
        assert first is not None
        wait_until(lambda: runtime.scanner.capture.latest().number > first.number + 5, what="the folder looping")
    finally:
        runtime.stop()
    lost, back = camera_lines()
    assert lost.startswith("gate camera: no picture (image folder not found") and "streaming again" in back
    assert all(r.levelname in ("WARNING", "INFO") for r in caplog.records if r.name == "gate.runtime")
    assert len(camera_lines()) == 2


def test_a_wrong_pin_answered_by_the_server_leaves_the_link_online(
    live_server: str,
    make_device: Callable[..., tuple],
    guard: StaffUser,
    tmp_path: Path,
) -> None:
    """The server answers an unknown PIN with 401 guard_unknown: that is the guard's mistake, not a refused device
    token, so the gate stays online and shows the guard's error, not "device token refused"."""
    _device, token = make_device("gate", "东门")
    gate = build_gate(tmp_path / "gate", live_server, token, "东门")
    try:
        gate.link.refresh_reference()
        assert gate.link.state == "online"
        for key in "999999":
            gate.flow.signin_key(key)
        gate.flow.signin_submit()
        assert gate.flow.state == "signed_out" and gate.flow.signin.state.error == "guard_unknown"
        assert gate.link.state == "online"
    finally:
        gate.client.close()
