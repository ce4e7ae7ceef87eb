"""`estate demo`: realistic data once, the logins and the guard's PIN it prints work, the device tokens outlive a
re-run, the simulated hardware answers (on free ports here, so a demo running beside the tests does not matter),
and every process it starts stops with it."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import ImageGrab
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from devices.cabinet.driver import Cabinet
from devices.printing import open_printer, query_status
from devices.qr import load_image, make_decoder, to_grey
from estate_cli import demo_devices
from estate_cli.demo import CABINET_PORT, PRINTER_PORT
from server.cli.context import transaction
from server.db.models import (
    Device,
    Estate,
    Occupancy,
    OccupancyKind,
    PriceItem,
    ReleaseSlip,
    Role,
    StaffUser,
    StandardAnswer,
    Unit,
)
from server.demo import (
    CABINET_CARD,
    CABINET_PIN,
    CABINET_USERNAME,
    DEMO_ANSWERS,
    DEMO_PASSWORD,
    DEMO_PRICES,
    DEMO_SLIP_UNIT,
    GUARD_CARD,
    GUARD_PIN,
    demo_slip,
    seed,
)
from server.domain import guards
from server.domain.actors import SYSTEM, cli_actor
from tests.conftest import SCREENSHOTS, free_port, keyed, wait_until
from tests.display import NoVirtualDisplay, virtual_display


def _listening(port: int) -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


@pytest.fixture(autouse=True)
def demo_running_beside() -> Iterator[None]:
    """Every test here runs while the demo's default printer and cabinet ports are taken, as they are when someone
    runs `estate demo` on the machine that runs the tests."""
    with contextlib.ExitStack() as taken:
        for port in (PRINTER_PORT, CABINET_PORT):
            with contextlib.suppress(OSError):  # already taken: by a running demo, which is the point
                taken.enter_context(_listening(port))
        yield


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

    again = seed(db, SYSTEM, known_tokens=first.device_tokens)
    db.commit()
    assert not again.created and db.scalar(select(func.count()).select_from(Device)) == 3
    # A second run keeps the tokens of the first, so a kiosk or gate still running with them keeps working.
    assert again.device_tokens == first.device_tokens and again.reissued == []
    for kind, token in again.device_tokens.items():
        me = client.get("/api/v1/device", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["kind"] == kind
    assert "您好" in login(client, "frontdesk", DEMO_PASSWORD).text
    # The service desk has its price list and standard answers, made once, and the kiosk is offered its services.
    assert db.scalar(select(func.count()).select_from(PriceItem)) == len(DEMO_PRICES)
    assert db.scalar(select(func.count()).select_from(StandardAnswer)) == len(DEMO_ANSWERS)
    kiosk = {"Authorization": f"Bearer {first.device_tokens['kiosk']}"}
    catalogue = client.get("/api/v1/service/catalogue", headers=kiosk)
    assert catalogue.status_code == 200, catalogue.text
    assert set(catalogue.json()["offered"]) >= {"repair", "cleaning", "feedback"}


def test_a_demo_token_that_stopped_working_is_reissued_and_named(db: Session, client: TestClient) -> None:
    first = seed(db, SYSTEM)
    db.commit()
    stale = first.device_tokens | {"gate": "edt_not-a-token"}
    again = seed(db, SYSTEM, known_tokens=stale)
    db.commit()
    assert again.reissued == ["gate"] and again.device_tokens["gate"] != stale["gate"]
    assert again.device_tokens["kiosk"] == first.device_tokens["kiosk"]
    me = client.get("/api/v1/device", headers={"Authorization": f"Bearer {again.device_tokens['gate']}"})
    assert me.status_code == 200 and me.json()["kind"] == "gate"


def test_the_guard_signs_in_at_the_gate_with_the_printed_pin_and_card(db: Session, client: TestClient) -> None:
    tokens = seed(db, SYSTEM).device_tokens
    db.commit()
    gate = {"Authorization": f"Bearer {tokens['gate']}"}
    roster = client.get("/api/v1/gate/guards", headers=gate)
    assert roster.status_code == 200 and [g["username"] for g in roster.json()["guards"]] == ["guard"]
    for body in ({"pin": GUARD_PIN}, {"card": GUARD_CARD}):
        signed = client.post("/api/v1/gate/guards/sign-in", json=body, headers=keyed(gate))
        assert signed.status_code == 200 and signed.json()["display_name"] == "孙保安"


def test_a_demo_database_whose_guard_has_other_secrets_gets_the_printed_ones_back(
    db: Session, client: TestClient
) -> None:
    """A demo database made by a version that printed another PIN: the next run sets the PIN and card it prints."""
    tokens = seed(db, SYSTEM).device_tokens
    guard = db.scalars(select(StaffUser).where(StaffUser.role == Role.gate_guard)).one()
    estate = db.scalars(select(Estate)).one()
    guards.set_credentials(db, SYSTEM, estate, guard, pin="135790", card="OLD-CARD")
    db.commit()
    gate = {"Authorization": f"Bearer {tokens['gate']}"}
    stale = client.post("/api/v1/gate/guards/sign-in", json={"pin": GUARD_PIN}, headers=keyed(gate))
    assert stale.status_code == 401
    seed(db, SYSTEM, known_tokens=tokens)
    db.commit()
    for body in ({"pin": GUARD_PIN}, {"card": GUARD_CARD}):
        signed = client.post("/api/v1/gate/guards/sign-in", json=body, headers=keyed(gate))
        assert signed.status_code == 200 and signed.json()["display_name"] == "孙保安"


def test_a_rerun_reuses_the_unused_demo_slip_and_numbers_printouts_on(engine: Engine, tmp_path: Path) -> None:
    actor = cli_actor("demo")
    slips = []
    for run in (1, 2):  # each run as `estate demo` makes it: its own transaction, printing after it ended
        with transaction(engine) as session:
            seed(session, actor)
            estate = session.scalars(select(Estate)).one()
            slip = demo_slip(session, actor, estate, DEMO_SLIP_UNIT)
        slips.append(slip.number)
        hardware = demo_devices.start(tmp_path, printer_port=0, cabinet_port=0)
        try:
            demo_devices.film_slip(slip, estate, hardware.printer, tmp_path / "camera")
            assert [job.number for job in hardware.printer.jobs] == [run]
        finally:
            hardware.stop()
        if run == 1:
            kept = (tmp_path / "printer/job-1.png").read_bytes()
    assert slips[0] == slips[1]  # no second unused slip in the day's reconciliation
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(ReleaseSlip)) == 1
    assert (tmp_path / "printer/job-1.png").read_bytes() == kept
    assert (tmp_path / "printer/job-2.png").is_file()


def test_demo_hardware_answers_like_the_real_thing(tmp_path: Path) -> None:
    hardware = demo_devices.start(tmp_path, printer_port=0, cabinet_port=0)
    try:
        assert hardware.notes == []  # port 0 asked for free ports: no busy port to fall back from
        printer = open_printer(hardware.printer.url)
        status = query_status(printer)
        printer.close()
        assert status.online and status.paper.value == "ok"
        with Cabinet(hardware.cabinet_url, "xor485", [1, 2]) as cabinet:
            assert len(cabinet.query_board(1).doors_open) == len(cabinet.query_board(2).doors_open) > 0
            assert not any(cabinet.query_board(2).doors_open)
    finally:
        hardware.stop()


def test_a_busy_demo_port_falls_back_to_a_free_one_and_says_so(tmp_path: Path) -> None:
    with _listening(0) as printer_taken, _listening(0) as cabinet_taken:
        busy = printer_taken.getsockname()[1], cabinet_taken.getsockname()[1]
        hardware = demo_devices.start(tmp_path, printer_port=busy[0], cabinet_port=busy[1])
    try:
        assert hardware.notes == [
            f"port {busy[0]} is busy; the virtual printer took a free port",
            f"port {busy[1]} is busy; the cabinet simulator took a free port",
        ]
        assert hardware.printer.url.rsplit(":", 1)[1] not in {"0", str(busy[0])}
        with Cabinet(hardware.cabinet_url, "xor485", [1]) as cabinet:
            assert len(cabinet.query_board(1).doors_open) > 0
    finally:
        hardware.stop()


def test_demo_seed_only_prints_logins_and_writes_tokens(tmp_path: Path) -> None:
    env = os.environ | {"ESTATE_DATA_DIR": str(tmp_path), "ESTATE_DATABASE_URL": ""}
    run = subprocess.run(
        [sys.executable, "-m", "estate_cli", "demo", "--seed-only"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    assert "frontdesk" in run.stderr and DEMO_PASSWORD in run.stderr and "/console/" in run.stderr
    assert f"Gate sign-in for guard: PIN {GUARD_PIN} or card {GUARD_CARD}" in run.stderr
    assert "NEW DEVICE TOKENS" not in run.stderr
    tokens_file = tmp_path / "demo-devices.json"
    tokens = json.loads(tokens_file.read_text())
    assert set(tokens) == {"kiosk", "gate", "cabinet"}
    assert (tmp_path / "estate.db").is_file()
    # The gate's token stopped working (revoked in the console, say): the next run says so loudly, replaces only it.
    tokens_file.write_text(json.dumps(tokens | {"gate": "edt_no-longer-valid"}))
    again = subprocess.run(
        [sys.executable, "-m", "estate_cli", "demo", "--seed-only"],
        capture_output=True,
        text=True,
        env=env | {"COLUMNS": "300"},
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert again.returncode == 0, again.stderr
    assert "NEW DEVICE TOKENS for gate" in again.stderr and "restart it" in again.stderr
    kept = json.loads(tokens_file.read_text())
    assert kept["kiosk"] == tokens["kiosk"] and kept["cabinet"] == tokens["cabinet"]
    assert kept["gate"] not in (tokens["gate"], "edt_no-longer-valid")


def test_demo_runs_the_system_and_says_how_to_see_the_windows(tmp_path: Path) -> None:
    """`estate demo` on a machine with no display: server, virtual printer, cabinet simulator and agent run; the
    gate's camera frames are made from a slip the virtual printer printed; the kiosk and gate commands are shown."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"} | {
        "ESTATE_DATA_DIR": str(tmp_path),
        "ESTATE_DATABASE_URL": "",
        "COLUMNS": "300",
    }
    demo = subprocess.Popen(
        [sys.executable, "-m", "estate_cli", "demo", *_free_ports(port)],
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
        # The cabinet: the demo key set in the simulator, the agent configured for its boards, the staff sign-in.
        assert "18 tagged keys of the demo key set in their home slots" in text
        assert f"card {CABINET_CARD}, or type `pin {CABINET_USERNAME} {CABINET_PIN}`" in text
        assert "channels = 24" in (tmp_path / "cabinet" / "cabinet.toml").read_text(encoding="utf-8")
        frames = sorted((tmp_path / "demo-camera").glob("frame-*.png"))
        slip = re.search(r"Demo slip (GH-\d{8}-\d{4})", text)
        assert slip and frames
        decoder = make_decoder("zxing")
        decoded = {d.text for f in frames for d in decoder.decode_grey(to_grey(load_image(f)))}
        assert len(decoded) == 1 and decoded.pop().startswith("RS2:")
        health = httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=10)
        assert health.status_code == 200
        # The guard signs in with what the demo printed, as the gate window would, with the gate's demo token.
        printed = re.search(r"Gate sign-in for guard: PIN (\d+) or card (\S+)", text)
        assert printed, text
        gate = {"Authorization": f"Bearer {json.loads((tmp_path / 'demo-devices.json').read_text())['gate']}"}
        for body in ({"pin": printed[1]}, {"card": printed[2]}):
            signed = httpx.post(
                f"http://127.0.0.1:{port}/api/v1/gate/guards/sign-in", json=body, headers=keyed(gate), timeout=10
            )
            assert signed.status_code == 200 and signed.json()["display_name"] == "孙保安", signed.text
        console = httpx.get(f"http://127.0.0.1:{port}/console/", timeout=10, follow_redirects=True)
        assert console.status_code == 200 and "password" in console.text
    finally:
        demo.send_signal(signal.SIGINT)
        demo.wait(timeout=30)


def test_sigterm_stops_the_demo_and_every_process_it_started(tmp_path: Path) -> None:
    """A service manager's SIGTERM to `estate demo` also ends its cabinet agent (no orphan polling the simulator)."""
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"} | {
        "ESTATE_DATA_DIR": str(tmp_path),
        "ESTATE_DATABASE_URL": "",
        "COLUMNS": "300",
    }
    demo = subprocess.Popen(
        [sys.executable, "-m", "estate_cli", "demo", *_free_ports(free_port())],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    agent = None
    try:
        assert demo.stderr is not None
        for line in demo.stderr:
            if started := re.match(r"started estate cabinet \(pid (\d+)\)", line):
                agent = int(started[1])
                break
        assert agent is not None and Path(f"/proc/{agent}").exists()
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=30)
        wait_until(lambda: not Path(f"/proc/{agent}").exists(), what="the cabinet agent's end")
    finally:
        if demo.poll() is None:
            demo.kill()
        if agent is not None and Path(f"/proc/{agent}").exists():
            os.kill(agent, signal.SIGKILL)


def _xdotool(display: str, *args: str) -> str:
    done = subprocess.run(
        ["xdotool", *args], env=os.environ | {"DISPLAY": display}, capture_output=True, text=True, timeout=30
    )
    return done.stdout


def _no_window(pid: int, display: str, tmp_path: Path, said: str) -> str:
    """What a test waiting in vain for `pid`'s window can see: whether the process lives, the windows it has
    (visible or not), the free disk, and the last lines the demo wrote."""
    try:
        os.kill(pid, 0)
        alive = "running"
    except ProcessLookupError:
        alive = "gone"
    windows = _xdotool(display, "search", "--pid", str(pid)).split()
    free = shutil.disk_usage(tmp_path).free // 2**20
    tail = "\n".join(said.splitlines()[-15:])
    return f"process {pid} {alive}, its windows {windows or 'none'}, {free} MiB free; the demo said:\n{tail}"


def _window_of(pid: int, display: str) -> tuple[int, int, int, int] | None:
    """The visible window of process `pid` on `display` as x, y, width, height (None while it has none)."""
    found = _xdotool(display, "search", "--onlyvisible", "--pid", str(pid)).split()
    if not found:
        return None
    shell = _xdotool(display, "getwindowgeometry", "--shell", found[0])
    values = dict(line.split("=", 1) for line in shell.split())
    return int(values["X"]), int(values["Y"]), int(values["WIDTH"]), int(values["HEIGHT"])


@pytest.mark.gui
def test_the_windowed_demo_fits_a_small_screen_takes_the_printed_card_and_stops_cleanly(tmp_path: Path) -> None:
    """`estate demo` on a 1280×1024 screen: the kiosk and the gate open side by side, each whole on the screen; the
    guard's card as the demo printed it, typed by a card reader (real key presses through the X server) into the
    gate window, signs the guard in; Ctrl-C then stops the demo and every process it started, and no window dies
    with a C++ abort ("terminate called without an active exception")."""
    try:
        with virtual_display(1280, 1024) as display:
            _run_windowed_demo(display, tmp_path)
    except NoVirtualDisplay as exc:
        pytest.skip(str(exc))


def _run_windowed_demo(display: str, tmp_path: Path) -> None:
    env = os.environ | {
        "DISPLAY": display,
        "ESTATE_DATA_DIR": str(tmp_path),
        "ESTATE_DATABASE_URL": "",
        "COLUMNS": "300",
        "KIVY_HOME": str(tmp_path / "kivy"),
    }
    stderr = tmp_path / "demo-stderr.txt"  # the demo's and, inherited, its children's
    with stderr.open("w") as err:
        demo = subprocess.Popen(
            [sys.executable, "-m", "estate_cli", "demo", *_free_ports(free_port())],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    children: dict[str, int] = {}

    def said() -> str:
        return stderr.read_text(encoding="utf-8", errors="replace")

    try:
        wait_until(lambda: len(re.findall(r"started estate \w+ \(pid \d+\)", said())) == 3, 300, "three programs")
        children = {name: int(pid) for name, pid in re.findall(r"started estate (\w+) \(pid (\d+)\)", said())}
        assert set(children) == {"cabinet", "kiosk", "gate"}
        for program in ("kiosk", "gate"):
            pid = children[program]
            try:
                wait_until(lambda pid=pid: _window_of(pid, display) is not None, 180, f"the {program} window")
            except pytest.fail.Exception as missing:  # say what was there instead, for the next look at it
                pytest.fail(f"{missing}: {_no_window(pid, display, tmp_path, said())}")
        kiosk, gate = _window_of(children["kiosk"], display), _window_of(children["gate"], display)
        assert kiosk is not None and gate is not None
        for x, y, width, height in (kiosk, gate):
            assert x >= 0 and y >= 0 and x + width <= 1280 and y + height <= 1024, (kiosk, gate)
            assert height > 900  # scaled to the screen's height, not a postage stamp
        assert kiosk[0] + kiosk[2] < gate[0]  # side by side, not on top of each other

        def drawn() -> bool:
            """Both windows show their screens (not the black of a window mapped but not yet drawn)."""
            grey = np.asarray(ImageGrab.grab(xdisplay=display).convert("L"))
            return all(grey[y : y + h, x : x + w].std() > 10 for x, y, w, h in (kiosk, gate))

        wait_until(drawn, 120, "both windows drawn")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        before = ImageGrab.grab(xdisplay=display)
        before.save(SCREENSHOTS / "demo-windows-1280x1024.png")
        x, y, width, height = gate
        keypad_area = (x, y + height // 2, x + width, y + height)  # below the camera preview, which keeps moving

        def gate_screen_changed() -> bool:
            now = np.asarray(ImageGrab.grab(xdisplay=display).crop(keypad_area).convert("L")).astype(int)
            return float(np.abs(now - np.asarray(before.crop(keypad_area).convert("L")).astype(int)).mean()) > 5

        printed = re.search(r"Gate sign-in for guard: PIN (\d+) or card (\S+)", said())
        assert printed, said()
        window = _xdotool(display, "search", "--onlyvisible", "--pid", str(children["gate"])).split()[0]
        _xdotool(display, "windowfocus", "--sync", window)
        _xdotool(display, "type", "--delay", "20", printed[2])
        _xdotool(display, "key", "Return")
        wait_until(lambda: "gate: guard guard signed in" in said(), 60, "the guard signed in by card")
        wait_until(gate_screen_changed, 60, "the gate's sign-in screen gone")
        ImageGrab.grab(xdisplay=display).save(SCREENSHOTS / "demo-windows-guard-signed-in.png")

        demo.send_signal(signal.SIGINT)  # Ctrl-C in the demo's terminal
        assert demo.wait(timeout=60) == 130  # the exit status of a program ended by Ctrl-C, after its clean-up
        for name, pid in children.items():
            wait_until(lambda pid=pid: not Path(f"/proc/{pid}").exists(), 30, f"the end of estate {name}")
    finally:
        if demo.poll() is None:
            demo.kill()
        for pid in children.values():
            if Path(f"/proc/{pid}").exists():
                os.kill(pid, signal.SIGKILL)
    logged = said()
    assert "terminate called" not in logged and "Traceback" not in logged, logged[-3000:]
    assert logged.count("stopping on SIGTERM") == 2  # the kiosk and the gate closed as their own close would


def _free_ports(port: int) -> list[str]:
    """The demo on a free port, its virtual printer and cabinet simulator on any free ports."""
    return ["--port", str(port), "--printer-port", "0", "--cabinet-port", "0"]
