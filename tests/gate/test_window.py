"""The gate in a real window under Xvfb (issue 8): its camera reads frames made from a slip the virtual printer
printed; the guard signs in, the checklist appears, a line is counted and the other tapped as matching, the
release is logged on the server with the guard and the time; a second look at the slip shows "already released".
Screenshots go to var/screenshots/gate-*.png. Kivy runs once per process, so the app runs in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import cv2
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.printing import print_slip
from devices.printing.slip import ApplicantKind, ReleaseSlipPrint, SlipItem
from devices.printing.virtual.server import VirtualPrinter
from devices.qr.synthetic import FrameFactory, load_slip
from server.db.models import ReleaseSlip, SlipRelease, StaffUser
from server.domain.slips import issuing

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var/screenshots"


def camera_folder(slip: ReleaseSlip, tmp_path: Path) -> Path:
    """Frames of the slip as the virtual printer printed it, held under the gate's camera."""
    printed = ReleaseSlipPrint(
        estate="观海台",
        slip_number=slip.number,
        unit=slip.unit_code,
        applicant=slip.applicant_name,
        applicant_kind=ApplicantKind.OWNER,
        issued_at=slip.issued_at,
        valid_until=slip.valid_until,
        items=tuple(SlipItem(i.name, i.quantity) for i in slip.items),
        qr_token=slip.token,
    )
    with VirtualPrinter(tmp_path / "printer") as printer:
        print_slip(printer.url, printed)
        (job,) = printer.wait_for_jobs(1)
    assert job.png_path is not None
    frames = FrameFactory(8, slip=load_slip(job.png_path, slip.token))
    folder = tmp_path / "camera"
    folder.mkdir()
    for n, frame in enumerate((frames.clean(0), frames.rotated(1), frames.degraded(2, 1))):
        cv2.imwrite(str(folder / f"frame-{n}.png"), frame.image)
    return folder


@pytest.mark.gui
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the server side runs on both elsewhere
def test_gate_window_scans_checks_and_releases(
    xvfb_display: str,
    live_server: str,
    make_device: Callable[..., tuple],
    guard: StaffUser,
    slip_maker: Callable[..., ReleaseSlip],
    db: Session,
    tmp_path: Path,
    database_url: str,
) -> None:
    slip = slip_maker()
    _device, token = make_device("gate", "东门")
    folder = camera_folder(slip, tmp_path)
    steps = [
        {"wait": "signed_out"},
        *({"tap": f"pin:{d}"} for d in "135791"),
        {"screenshot": str(SHOTS / "gate-signin.png")},
        {"tap": "signin"},
        {"wait": "checklist", "timeout": 60},
        {"screenshot": str(SHOTS / "gate-checklist.png")},
        {"tap": "count:2"},
        {"tap": "count:2"},
        {"tap": "count_ok"},
        {"tap": "match:1"},
        {"screenshot": str(SHOTS / "gate-checklist-counted.png")},
        {"tap": "release"},
        {"wait": "done"},
        {"screenshot": str(SHOTS / "gate-released.png")},
        {"tap": "next"},
        {"wait": "rejected", "timeout": 60},
        {"screenshot": str(SHOTS / "gate-already-released.png")},
        {"quit": True},
    ]
    script, log = tmp_path / "script.json", tmp_path / "driver.log"
    script.write_text(json.dumps(steps), encoding="utf-8")
    env = {
        **os.environ,
        "DISPLAY": xvfb_display,
        "ESTATE_GATE_TEST_SCRIPT": str(script),
        "ESTATE_GATE_TEST_LOG": str(log),
    }
    started = issuing.utcnow()
    command = [
        sys.executable, "-m", "server.cli", "gate",
        "--server", live_server, "--camera", f"images://{folder}?fps=4", "--device-token", token,
        "--data-dir", str(tmp_path / "gate"), "--gate-name", "东门", "--windowed", "--language", "zh",
    ]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=150, cwd=ROOT)
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    assert result.returncode == 0, result.stderr[-3000:]
    assert entries and all(e["ok"] for e in entries), entries
    reached = [e["state"] for e in entries if "wait" in e["step"]]
    assert reached == ["signed_out", "checklist", "done", "rejected"]
    assert [e["verdict"] for e in entries if "wait" in e["step"]][-1] == "already_released"
    db.expire_all()
    record = db.scalar(select(SlipRelease).where(SlipRelease.slip_id == slip.id))
    assert record is not None and record.outcome == "released" and not record.offline
    assert record.guard == "张保安" and record.gate == "东门"
    assert started - timedelta(seconds=1) <= record.at <= issuing.utcnow()
    for name in ("signin", "checklist", "checklist-counted", "released", "already-released"):
        assert (SHOTS / f"gate-{name}.png").stat().st_size > 10_000
