"""A renovation worker's pass at the gate in a real window under Xvfb (R-REN-6): the pass printed at the front
desk on the virtual ESC/POS printer, its frames under the gate's camera; the guard signs in, the pass shows the
worker's name, photo, company, unit and valid days, the guard logs the worker in, and the entry is on the server
with the guard. Screenshots go to var/screenshots/gate-pass-*.png. The app runs in a subprocess (Kivy once a
process)."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import cv2
import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.printing.job import send_job
from devices.printing.virtual.server import VirtualPrinter
from devices.printing.worker_pass import WorkerPassPrint, pass_bytes
from devices.qr.synthetic import FrameFactory, load_slip
from server.db.models import Estate, Role, StaffUser
from server.db.models.renovation import PassMovement, Renovation, RenovationState, WorkerPass
from server.domain import clock
from server.domain.actors import Actor
from server.domain.renovation import passes
from server.domain.slips import issuing
from tests.conftest import Household

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var/screenshots"


def photo() -> str:
    image = Image.new("RGB", (120, 160), (200, 170, 140))
    for x in range(40, 80):
        for y in range(40, 90):
            image.putpixel((x, y), (60, 40, 30))
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def issued_pass(db: Session, estate: Estate, household: Household, desk: StaffUser) -> WorkerPass:
    """A pass of a renovation of the household's unit whose fees and deposit are paid, running today."""
    now = issuing.utcnow()
    today = clock.local_day(estate, now)
    record = Renovation(
        estate_id=estate.id, number="GH-ZX-202611-0001", state=RenovationState.paid, unit_id=household.unit.id,
        owner_name="王业主", scope="厨房改造", contractor="好家装饰", starts_on=today - timedelta(days=1),
        ends_on=today + timedelta(days=10), received_at=now, deposit_fen=200000,
    )  # fmt: skip
    db.add(record)
    db.flush()
    worker = passes.Worker("李师傅", "好家装饰", "1234", photo())
    item = passes.issue(db, Actor("user", desk.id, desk.username), desk, record, worker, now)
    db.commit()
    return item


def camera_folder(item: WorkerPass, estate: Estate, tmp_path: Path) -> Path:
    """Frames of the pass as the desk's printer printed it, held under the gate's camera."""
    paper = WorkerPassPrint(
        estate.name, item.number, "5-8B", item.worker_name, item.company, item.valid_from, item.valid_until,
        item.token, "GH-ZX-202611-0001",
    )  # fmt: skip
    with VirtualPrinter(tmp_path / "printer") as printer:
        send_job(printer.url, pass_bytes(paper))
        (job,) = printer.wait_for_jobs(1)
    assert job.png_path is not None
    frames = FrameFactory(8, slip=load_slip(job.png_path, item.token))
    folder = tmp_path / "camera"
    folder.mkdir()
    for n, frame in enumerate((frames.clean(0), frames.rotated(1))):
        cv2.imwrite(str(folder / f"frame-{n}.png"), frame.image)
    return folder


@pytest.mark.gui
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_gate_window_scans_a_worker_pass_and_logs_the_entry(
    xvfb_display: str,
    live_server: str,
    make_device: Callable[..., tuple],
    make_user: Callable[..., StaffUser],
    guard: StaffUser,
    household: Household,
    estate: Estate,
    db: Session,
    tmp_path: Path,
) -> None:
    """R-REN-6: a worker pass scanned at the gate shows name, photo, company, unit and dates; the entry is logged."""
    item = issued_pass(db, estate, household, make_user(Role.front_desk, "desk"))
    _device, token = make_device("gate", "东门")
    folder = camera_folder(item, estate, tmp_path)
    steps = [
        {"wait": "signed_out"},
        *({"tap": f"pin:{d}"} for d in "135791"),
        {"tap": "signin"},
        {"wait": "worker_pass", "timeout": 60},
        {"texts": True},
        {"screenshot": str(SHOTS / "gate-pass.png")},
        {"tap": "pass_in"},
        {"wait": "pass_logged"},
        {"screenshot": str(SHOTS / "gate-pass-logged.png")},
        {"quit": True},
    ]
    script, log = tmp_path / "script.json", tmp_path / "driver.log"
    script.write_text(json.dumps(steps), encoding="utf-8")
    command = [
        sys.executable, "-m", "tests.gate.run_scripted", str(script), str(log),
        "--server", live_server, "--camera", f"images://{folder}?fps=4", "--device-token", token,
        "--data-dir", str(tmp_path / "gate"), "--gate-name", "东门", "--windowed", "--language", "zh",
    ]  # fmt: skip
    env = {**os.environ, "DISPLAY": xvfb_display}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=150, cwd=ROOT)
    entries = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()] if log.exists() else []
    assert result.returncode == 0, result.stderr[-3000:]
    assert entries and all(e["ok"] for e in entries), (entries[-3:], result.stderr[-3000:])
    (shown,) = [[t["text"] for t in e["texts"]] for e in entries if "texts" in e["step"]]
    assert "李师傅" in shown and "单位：好家装饰" in shown and "房号 5-8B" in shown
    assert f"有效期 {item.valid_from} 至 {item.valid_until}" in shown
    assert "无照片（离线核验或未拍照），请核对证件" not in shown  # checked online: the photo is on screen
    db.expire_all()
    movement = db.scalar(select(PassMovement).where(PassMovement.pass_id == item.id))
    assert movement is not None and movement.direction == "in" and movement.guard == "张保安"
    for name in ("pass", "pass-logged"):
        assert (SHOTS / f"gate-{name}.png").stat().st_size > 10_000
