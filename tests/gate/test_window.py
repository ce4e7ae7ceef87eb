"""The gate in a real window under Xvfb (issue 8): its camera reads frames made from a slip the virtual printer
printed; the guard signs in, the checklist appears, a line is counted and the other tapped as matching, the
release is logged on the server with the guard and the time; after "继续" the slip still under the camera is
ignored, and a second look at it (its number typed) shows "already released".
Screenshots go to var/screenshots/gate-*.png. Kivy runs once per process, so the app runs in a subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.printing import print_slip
from devices.printing.slip import ApplicantKind, ReleaseSlipPrint, SlipItem
from devices.printing.virtual.server import VirtualPrinter
from devices.qr.synthetic import FrameFactory, load_slip
from server.db.models import Device, ReleaseSlip, SlipRelease, StaffUser
from server.domain import devices
from server.domain.actors import SYSTEM
from server.domain.slips import issuing
from tests.conftest import wait_until

from .conftest import RestartableServer

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var/screenshots"
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ \S+: ")  # terminal.logs' format


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
        {"wait_repeats": 1, "timeout": 60},  # the looping camera shows the slip again: it is ignored
        {"wait": "ready"},
        {"screenshot": str(SHOTS / "gate-after-next.png")},
        {"tap": "manual"},
        *({"tap": f"manual:{d}"} for d in str(slip.seq)),
        {"tap": "check"},
        {"wait": "rejected", "timeout": 60},
        {"screenshot": str(SHOTS / "gate-already-released.png")},
        {"quit": True},
    ]
    script, log = tmp_path / "script.json", tmp_path / "driver.log"
    script.write_text(json.dumps(steps), encoding="utf-8")
    env = {
        **os.environ,
        "DISPLAY": xvfb_display,
    }
    started = issuing.utcnow()
    command = [
        sys.executable, "-m", "tests.gate.run_scripted", str(script), str(log),
        "--server", live_server, "--camera", f"images://{folder}?fps=4", "--device-token", token,
        "--data-dir", str(tmp_path / "gate"), "--gate-name", "东门", "--windowed", "--language", "zh",
    ]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=150, cwd=ROOT)
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    assert result.returncode == 0, result.stderr[-3000:]
    assert entries and all(e["ok"] for e in entries), (entries[-3:], result.stderr[-3000:])
    reached = [e["state"] for e in entries if "wait" in e["step"]]
    assert reached == ["signed_out", "checklist", "done", "ready", "rejected"]
    assert [e["verdict"] for e in entries if "wait" in e["step"]][-1] == "already_released"
    db.expire_all()
    record = db.scalar(select(SlipRelease).where(SlipRelease.slip_id == slip.id))
    assert record is not None and record.outcome == "released" and not record.offline
    assert record.guard == "张保安" and record.gate == "东门"
    assert started - timedelta(seconds=1) <= record.at <= issuing.utcnow()
    for name in ("signin", "checklist", "checklist-counted", "released", "after-next", "already-released"):
        assert (SHOTS / f"gate-{name}.png").stat().st_size > 10_000


@pytest.mark.gui
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_gate_window_shows_a_refused_token_logs_and_stops_cleanly_on_sigterm(
    xvfb_display: str,
    live_server: str,
    make_device: Callable[..., tuple],
    guard: StaffUser,
    db: Session,
    tmp_path: Path,
    database_url: str,
) -> None:
    """The demo run again replaced the gate's token: the status bar says "device token refused — re-enrol"
    (设备令牌被拒绝，请重新登记), stderr has one line for each change of the link, the window is half the panel's
    size (--scale), and SIGTERM closes it as its own close would (no C++ abort, exit code 0)."""
    device, token = make_device("gate", "东门")
    devices.issue_token(db, SYSTEM, db.get(Device, device.id))
    db.commit()
    shot = SHOTS / "gate-token-refused.png"
    steps = [
        {"wait": "signed_out"},
        {"wait_link": "token_refused", "timeout": 60},
        {"texts": True},
        {"screenshot": str(shot)},
    ]
    script, log = tmp_path / "script.json", tmp_path / "driver.log"
    script.write_text(json.dumps(steps), encoding="utf-8")
    env = {
        **os.environ,
        "DISPLAY": xvfb_display,
    }
    stderr = tmp_path / "stderr.txt"
    command = [
        sys.executable, "-m", "tests.gate.run_scripted", str(script), str(log),
        "--server", live_server, "--camera", f"images://{tmp_path}?fps=4", "--device-token", token,
        "--data-dir", str(tmp_path / "gate"), "--windowed", "--scale", "0.5", "--language", "zh",
    ]  # fmt: skip
    with stderr.open("w") as err:
        gate = subprocess.Popen(command, env=env, stderr=err, cwd=ROOT)
    try:
        wait_until(lambda: log.exists() and len(log.read_text(encoding="utf-8").splitlines()) == 4, 120, "screenshot")
        gate.send_signal(signal.SIGTERM)
        assert gate.wait(timeout=30) == 0
    finally:
        if gate.poll() is None:
            gate.kill()
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert all(e["ok"] for e in entries), entries
    (shown,) = [[t["text"] for t in e["texts"]] for e in entries if "texts" in e["step"]]
    assert "设备令牌被拒绝，请重新登记" in shown and "● 在线" not in shown
    logged = stderr.read_text(encoding="utf-8")
    assert "terminate called" not in logged
    lines = [line for line in logged.splitlines() if "gate.link:" in line]
    assert len(lines) == 1 and "ERROR" in lines[0] and "device token (401)" in lines[0], logged
    assert "stopping on SIGTERM" in logged
    assert all(LOG_LINE.match(line) for line in logged.splitlines()), logged  # one line for each event
    image = cv2.imread(str(shot))
    assert image.shape[:2] == (960, 540)  # the 1080×1920 layout at half size
    status = image[:45].astype(int)  # the status bar: the refusal in the alert colour, no green "在线"
    alert = np.abs(status - (120, 128, 255)).sum(axis=2) < 60  # BGR of widgets.ALERT
    good = np.abs(status - (128, 217, 89)).sum(axis=2) < 60  # BGR of widgets.GOOD
    assert alert.sum() > 50 and good.sum() == 0


def status_colours(shot: Path) -> tuple[int, int]:
    """Pixels of the alert colour and of the "online" green in a full-size screenshot's status bar."""
    image = cv2.imread(str(shot))
    assert image.shape[:2] == (1920, 1080)
    status = image[:90].astype(int)
    alert = np.abs(status - (120, 128, 255)).sum(axis=2) < 60  # BGR of widgets.ALERT
    good = np.abs(status - (128, 217, 89)).sum(axis=2) < 60  # BGR of widgets.GOOD
    return int(alert.sum()), int(good.sum())


@pytest.mark.gui
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_gate_window_status_follows_the_server_away_and_back_with_no_scan(
    xvfb_display: str,
    restartable_server: RestartableServer,
    make_device: Callable[..., tuple],
    tmp_path: Path,
    database_url: str,
) -> None:
    """The status bar is driven by the heartbeat: with nobody scanning, it turns from 在线 to 离线 once the server
    stops and back to 在线 once it returns, and each change is one line on the gate's stderr."""
    _device, token = make_device("gate", "东门")
    shots = {name: SHOTS / f"gate-link-{name}.png" for name in ("online", "offline", "back")}
    steps = [
        {"wait": "signed_out"},
        {"wait_link": "online", "timeout": 60},
        {"texts": True},
        {"screenshot": str(shots["online"])},
        {"wait_link": "offline", "timeout": 60},  # the test stops the server after the screenshot above
        {"texts": True},
        {"screenshot": str(shots["offline"])},
        {"wait_link": "online", "timeout": 60},  # the test starts it again after the screenshot above
        {"texts": True},
        {"screenshot": str(shots["back"])},
        {"quit": True},
    ]
    script, log, stderr = tmp_path / "script.json", tmp_path / "driver.log", tmp_path / "stderr.txt"
    script.write_text(json.dumps(steps), encoding="utf-8")
    # The minute's refresh put off for an hour: only the heartbeat can notice the server going away.
    env = {**os.environ, "DISPLAY": xvfb_display, "ESTATE_GATE_TIMING__REFRESH_EVERY": "3600"}
    command = [
        sys.executable, "-m", "tests.gate.run_scripted", str(script), str(log),
        "--server", restartable_server.url, "--camera", f"images://{tmp_path}?fps=4", "--device-token", token,
        "--data-dir", str(tmp_path / "gate"), "--windowed", "--language", "zh",
    ]  # fmt: skip

    def driver_lines(count: int) -> bool:
        return log.exists() and len(log.read_text(encoding="utf-8").splitlines()) >= count

    with stderr.open("w") as err:
        gate = subprocess.Popen(command, env=env, stderr=err, cwd=ROOT)
    try:
        wait_until(lambda: driver_lines(4) or gate.poll() is not None, 120, "the online screenshot")
        restartable_server.stop()
        wait_until(lambda: driver_lines(7) or gate.poll() is not None, 120, "the offline screenshot")
        restartable_server.start()
        assert gate.wait(timeout=120) == 0
    finally:
        if gate.poll() is None:
            gate.kill()
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert len(entries) == len(steps) and all(e["ok"] for e in entries), (entries[-3:], stderr.read_text()[-3000:])
    shown = [[t["text"] for t in e["texts"]] for e in entries if "texts" in e["step"]]
    assert ["● 在线" in texts for texts in shown] == [True, False, True]
    assert ["● 离线" in texts for texts in shown] == [False, True, False]
    (_, good_online), (alert_away, good_away), (_, good_back) = map(status_colours, shots.values())
    assert good_online > 50 and good_away == 0 and alert_away > 50 and good_back > 50
    logged = stderr.read_text(encoding="utf-8")
    assert all(LOG_LINE.match(line) for line in logged.splitlines()), logged  # one line for each event
    changes = [line.split("gate.link: ", 1)[1] for line in logged.splitlines() if "gate.link: " in line]
    assert changes == [
        "gate link: online (was offline)",
        "gate link: offline (was online)",
        "gate link: online (was offline)",
    ]


def relative_luminance(rgba: list[float]) -> float:
    """WCAG 2.x relative luminance of an sRGB colour given as 0–1 channels."""
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgba[:3]]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(text: list[float], background: list[float]) -> float:
    lighter, darker = sorted((relative_luminance(text), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def test_wcag_contrast_formula() -> None:
    assert contrast([1, 1, 1, 1], [0, 0, 0, 1]) == pytest.approx(21.0)
    assert contrast([0.62, 0.10, 0.08, 1], [0.16, 0.19, 0.23, 1]) < 2  # the old dark red on dark grey


@pytest.mark.gui
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_gate_window_in_english_names_items_reasons_and_keeps_its_keypads_still(
    xvfb_display: str,
    live_server: str,
    make_device: Callable[..., tuple],
    guard: StaffUser,
    slip_maker: Callable[..., ReleaseSlip],
    db: Session,
    tmp_path: Path,
    database_url: str,
) -> None:
    """In the English UI a catalogue item shows its English name; the checklist shows the applicant printed on the
    slip; a refusal (R-REL-6) shows the differing line readably (WCAG AA contrast, measured on every label) and the
    final screen repeats the reason and the difference; the keypads do not move when an error or a preview line
    appears under the PIN or the typed number."""
    slip = slip_maker()
    _device, token = make_device("gate", "东门")
    folder = camera_folder(slip, tmp_path)
    steps = [
        {"wait": "signed_out"},
        {"wait_link": "online", "timeout": 60},  # the server answers for the PIN, not an unsynced roster
        {"where": "pin:1"},
        *({"tap": f"pin:{d}"} for d in "999999"),
        {"tap": "signin"},
        {"wait_text": "Unknown PIN or card"},
        {"where": "pin:1"},
        {"texts": True},
        {"screenshot": str(SHOTS / "gate-en-signin-error.png")},
        *({"tap": f"pin:{d}"} for d in "135791"),
        {"tap": "signin"},
        {"wait": "checklist", "timeout": 60},
        {"tap": "count:2"},
        {"tap": "count:1"},
        {"tap": "count_ok"},
        {"tap": "match:1"},
        {"texts": True},
        {"screenshot": str(SHOTS / "gate-en-checklist-difference.png")},
        {"tap": "refuse"},
        {"wait": "refusing"},
        {"texts": True},
        {"screenshot": str(SHOTS / "gate-en-refusing.png")},
        {"tap": "reason:reason_quantity"},
        {"wait": "done"},
        {"texts": True},
        {"screenshot": str(SHOTS / "gate-en-refused.png")},
        {"tap": "next"},
        {"tap": "manual"},
        {"wait": "manual"},
        {"where": "manual:1"},
        {"tap": "manual:1"},
        {"where": "manual:1"},
        {"texts": True},
        {"quit": True},
    ]
    script, log = tmp_path / "script.json", tmp_path / "driver.log"
    script.write_text(json.dumps(steps), encoding="utf-8")
    env = {
        **os.environ,
        "DISPLAY": xvfb_display,
    }
    command = [
        sys.executable, "-m", "tests.gate.run_scripted", str(script), str(log),
        "--server", live_server, "--camera", f"images://{folder}?fps=4", "--device-token", token,
        "--data-dir", str(tmp_path / "gate"), "--gate-name", "东门", "--windowed", "--language", "en",
    ]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=150, cwd=ROOT)
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    assert result.returncode == 0, result.stderr[-3000:]
    assert entries and all(e["ok"] for e in entries), (entries[-3:], result.stderr[-3000:])
    places = [e["pos"] for e in entries if "where" in e["step"]]
    assert places[0] == places[1], "the PIN keypad moved when the error appeared"
    assert places[2] == places[3], "the number keypad moved when the preview appeared"
    shown = [[t["text"] for t in e["texts"]] for e in entries if "texts" in e["step"]]
    signin, checklist, refusing, done, manual = shown
    assert "Unknown PIN or card" in signin
    assert f"Applicant {slip.applicant_name}" in checklist
    assert "1. sofa · 沙发" in checklist and "2. 旧书架" in checklist  # a free-text name has no English one
    difference = "2. 旧书架".removeprefix("2. ") + ": On slip 2 / Counted 1"
    assert difference in refusing
    assert "Refused: Quantities differ" in done and difference in done
    assert any(text.startswith("GH-") for text in manual)  # the preview line of the typed number
    for entry in (e for e in entries if "texts" in e["step"]):
        for label in entry["texts"]:
            ratio = contrast(label["color"], label["background"])
            assert ratio >= 4.5, f"{label['text']!r}: contrast {ratio:.2f}:1 is below WCAG AA"
    db.expire_all()
    record = db.scalar(select(SlipRelease).where(SlipRelease.slip_id == slip.id))
    assert record is not None and record.outcome == "refused" and "Quantities" not in record.reason
