"""`estate doctor` against the emulators: the virtual printer with scripted paper, camera sources, the lock-board
simulator on a pty and a test server; each failure is the exact line the technician reads, and a failure exits 1."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from devices.cabinet.profiles import BoardProfile
from devices.cabinet.sim_model import SimCabinet
from devices.cabinet.simulator import CabinetSimulator
from devices.printing.virtual import VirtualPrinter
from devices.printing.virtual.status import PrinterState
from estate_cli.main import app
from server.domain import devices
from server.domain.actors import SYSTEM

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
REFUSED = "FAIL token     refused by the server (401): issue a new token in the console's 设备 Devices page"


def doctor(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(app, ["doctor", *args])
    return result.exit_code, result.output.splitlines()


def _line(lines: list[str], name: str) -> str:
    return next(line for line in lines if line[5:].startswith(name + " "))


@pytest.fixture
def kiosk(live_server: str, make_device: Callable[..., tuple]) -> tuple[str, object, str]:
    device, token = make_device("kiosk", "大堂自助机")
    return live_server, device, token


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[VirtualPrinter]:
    with VirtualPrinter(tmp_path / "printer") as virtual:
        yield virtual


@SQLITE
def test_kiosk_all_well_then_out_of_paper_then_token_revoked(
    kiosk: tuple[str, object, str], printer: VirtualPrinter, db: Session
) -> None:
    server, device, token = kiosk
    args = ("kiosk", "--server", server, "--device-token", token, "--printer", printer.url)
    code, lines = doctor(*args)
    assert code == 0, lines
    assert [line[:14].split()[1] for line in lines] == [
        "server",
        "clock",
        "token",
        "version",
        "printer",
        "font",
        "disk",
    ]
    assert _line(lines, "token") == "OK   token     accepted: kiosk 大堂自助机 of 观海台"
    assert _line(lines, "printer") == f"OK   printer   {printer.url}: paper ok, cover closed"

    printer.state = PrinterState.OUT
    code, lines = doctor(*args)
    assert code == 1
    assert _line(lines, "printer") == f"FAIL printer   {printer.url}: paper out: load a new roll (缺纸)"

    devices.revoke(db, SYSTEM, device)
    db.commit()
    code, lines = doctor(*args, "--json")
    report = json.loads(lines[0])
    assert code == 1 and report["ok"] is False
    token_check = next(c for c in report["checks"] if c["name"] == "token")
    assert token_check == {"name": "token", "status": "fail", "detail": REFUSED[15:]}


def test_server_unreachable_is_one_line_and_the_token_is_not_checked(printer: VirtualPrinter) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, lines = doctor(
        "kiosk", "--server", f"http://127.0.0.1:{port}", "--device-token", "edt_x", "--printer", printer.url
    )
    assert code == 1
    assert lines[:2] == [
        f"FAIL server    cannot reach http://127.0.0.1:{port}: connection refused (服务器无法连接)",
        "FAIL token     not checked: no server",
    ]


@SQLITE
def test_gate_camera_frames_and_camera_gone(
    live_server: str, make_device: Callable[..., tuple], tmp_path: Path
) -> None:
    _device, token = make_device("gate", "东门")
    frames = tmp_path / "frames"
    frames.mkdir()
    cv2.imwrite(str(frames / "0001.png"), np.full((480, 640, 3), 200, np.uint8))
    base = ("gate", "--server", live_server, "--device-token", token, "--data-dir", str(tmp_path / "gate"))
    code, lines = doctor(*base, "--camera", f"images://{frames}?fps=0")
    assert code == 0, "\n".join(lines)
    assert _line(lines, "camera").startswith(f"OK   camera    images://{frames}?fps=0: 640x480, ")
    assert "one decode" in _line(lines, "camera") and "(0 code(s) seen)" in _line(lines, "camera")
    assert _line(lines, "outbox").startswith("OK   outbox    empty")

    code, lines = doctor(*base, "--camera", "v4l2://57")
    assert code == 1
    assert _line(lines, "camera") == (
        "FAIL camera    没有摄像头 / no camera at /dev/video57 (v4l2://57): check that it is plugged in, or pick "
        "another number"
    )


@SQLITE
def test_cabinet_a_silent_board(live_server: str, make_device: Callable[..., tuple], tmp_path: Path) -> None:
    _device, token = make_device("cabinet", "钥匙柜")
    sim = SimCabinet(BoardProfile.default("xor485", channels=24), [1], 24)
    with CabinetSimulator(sim) as simulator:
        url = simulator.url
        code, lines = doctor(
            "cabinet",
            "--server",
            live_server,
            "--device-token",
            token,
            "--cabinet",
            url,
            "--protocol",
            "xor485",
            "--boards",
            "1,2",
            "--data-dir",
            str(tmp_path),
        )
    assert code == 1
    assert _line(lines, "board 1") == "OK   board 1   xor485, 24 slots answer"
    assert _line(lines, "board 2").startswith(f"FAIL board 2   {url}: silent (")
