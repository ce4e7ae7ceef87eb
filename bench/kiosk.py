"""Kiosk benchmark: confirm → first byte of the printed job at the printer (p95, server on localhost) for each
service — the release slip, a repair request, a cleaning booking, a feedback form — and touch → next screen drawn
in a real window under Xvfb (p95), through the release screens and the service desk's. Prints one JSON line."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(ROOT / "var/cache/escpos"))

import uvicorn  # noqa: E402

from devices.printing.virtual import VirtualPrinter  # noqa: E402
from kiosk.flows.kiosk_flow import KioskFlow  # noqa: E402
from kiosk.flows.state import Screen, Service  # noqa: E402
from kiosk.printer import UrlPrinter  # noqa: E402
from server.config import Settings  # noqa: E402
from server.contract.client import EstateClient  # noqa: E402
from server.db.engine import make_engine, make_sessionmaker  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.db.models import DeviceKind, OccupancyKind, PriceItem, ServiceKind  # noqa: E402
from server.domain import devices, registry  # noqa: E402
from server.domain.actors import SYSTEM  # noqa: E402
from server.web.app import create_app  # noqa: E402
from tests.display import virtual_display  # noqa: E402

RUNS = 40
DESK_RUNS = 20  # a cleaning slot takes 2 visits: 5 days of 3 slots hold 30
PRICE_LIST = (
    (ServiceKind.repair, "tap-leak", "plumbing", "水龙头漏水", "Leaking tap", 3000),
    (ServiceKind.cleaning, "deep-3h", "deep", "深度清洁（3小时）", "Deep clean (3 h)", 18000),
)
STATUS_QUERY = re.compile(rb"\x10\x04[\x01\x02\x04]")


class FirstByteProxy:
    """Forwards to the printer and notes when the first byte of a print job (not a status query) arrives."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.first: list[float] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self._pipe, args=(conn,), daemon=True).start()

    def _pipe(self, conn: socket.socket) -> None:
        upstream = socket.create_connection(self.target)

        def back() -> None:
            with contextlib.suppress(OSError):  # either side closed
                while data := upstream.recv(65536):
                    conn.sendall(data)

        threading.Thread(target=back, daemon=True).start()
        noted = False
        with contextlib.suppress(OSError):
            while data := conn.recv(65536):
                if not noted and STATUS_QUERY.sub(b"", data):
                    self.first.append(time.perf_counter())
                    noted = True
                upstream.sendall(data)
        upstream.close()
        conn.close()


def p95(values: list[float]) -> float:
    return round(statistics.quantiles(values, n=20)[18], 1) if len(values) >= 2 else round(values[0], 1)


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    url = f"sqlite:///{work / 'estate.db'}"
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as session:
        estate = registry.create_estate(session, SYSTEM, "GH", "观海台", "Guanhaitai")
        unit = registry.ensure_unit(session, SYSTEM, estate, "5-8B")
        owner = registry.add_person(session, SYSTEM, estate, "王建国", "13800000001")
        registry.add_occupancy(session, SYSTEM, unit, owner, OccupancyKind.owner, date(2020, 1, 1))
        registry.set_credentials(session, SYSTEM, owner, card="CARD0001", pin="246802")
        for kind, code, category, zh, en, fen in PRICE_LIST:
            session.add(PriceItem(estate_id=estate.id, kind=kind, code=code, category=category, name_zh=zh,
                                  name_en=en, price_fen=fen))  # fmt: skip
        token = devices.issue_token(session, SYSTEM, devices.enrol(session, SYSTEM, estate, DeviceKind.kiosk, "kiosk"))
        session.commit()
    app = create_app(Settings(data_dir=work / "data", database_url=url), engine)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{port}"
    confirm_ms: list[float] = []
    with VirtualPrinter(work / "printer") as printer, EstateClient(base, token) as client:
        proxy = FirstByteProxy(printer.address)
        flow = KioskFlow(client, UrlPrinter(proxy.url), idle_seconds=600)
        flow.start()
        for _ in range(RUNS):
            flow.choose(Service.ITEM_RELEASE)
            for char in "CARD0001":
                flow.card_key(char)
            flow.card_enter()
            flow.add("SOFA")
            flow.review()
            before = len(proxy.first)
            started = time.perf_counter()
            flow.confirm()  # on to signing
            flow.sign_stroke([(0.1, 0.4), (0.5, 0.7), (0.8, 0.3)])
            flow.confirm()
            assert flow.state.screen is Screen.DONE, flow.state.message
            confirm_ms.append((proxy.first[before] - started) * 1000)
            flow.home()
        touch = touch_latencies(base, token, printer.url, work)  # before the bookings fill the first slots
        desk = {service.value: desk_confirms(flow, proxy, service) for service in DESK}
    server.should_exit = True
    figures = {
        "bench": "kiosk",
        "confirm_to_first_byte_p95_ms": p95(confirm_ms),
        "confirm_to_first_byte_median_ms": round(statistics.median(confirm_ms), 1),
        "confirms": len(confirm_ms),
        **{f"{name}_confirm_to_first_byte_p95_ms": p95(ms) for name, ms in desk.items()},
        **{f"{name}_confirms": len(ms) for name, ms in desk.items()},
        "touch_to_next_screen_p95_ms": p95(touch) if touch else None,
        "touches": len(touch),
    }
    print(json.dumps(figures))
    shutil.rmtree(work, ignore_errors=True)


DESK = (Service.REPAIR, Service.CLEANING, Service.FEEDBACK)


def desk_confirms(flow: KioskFlow, proxy: FirstByteProxy, service: Service) -> list[float]:
    """Confirm → first byte of the confirmation at the printer, for one service of the service desk."""
    times: list[float] = []
    for _ in range(DESK_RUNS):
        flow.choose(service)
        for char in "CARD0001":
            flow.card_key(char)
        flow.card_enter()
        if service is Service.REPAIR:
            flow.repair_category("plumbing")
            flow.repair_problem("tap-leak")
            flow.repair_place("kitchen")
        elif service is Service.CLEANING:
            flow.cleaning_service("deep-3h")
        if service is Service.FEEDBACK:
            flow.feedback_kind("suggestion")
            flow.feedback_topic("greenery")
            flow.text_done()
            flow.contact_back("none")
        else:
            flow.pick_slot(next(s for s in flow.desk.slots if s.free).start.isoformat())
        before = len(proxy.first)
        started = time.perf_counter()
        flow.desk_confirm()
        assert flow.state.screen is Screen.DONE, flow.state.message
        times.append((proxy.first[before] - started) * 1000)
        flow.home()
    return times


def touch_latencies(base: str, token: str, printer_url: str, work: Path) -> list[float]:
    """Touch → first frame drawn after it, from the window driver under Xvfb (empty if Xvfb is missing)."""
    if shutil.which("Xvfb") is None:
        return []
    steps = [["tap", "service.item_release"], ["card", "CARD0001"]]
    for _ in range(5):
        steps += [["tap", "item.SOFA.plus"], ["tap", "items.review"], ["tap", "nav.back"]]
    steps += [["tap", "nav.home"]] + [["tap", "service.my_requests"], ["tap", "nav.home"]] * 5
    steps += [["tap", "service.repair"], ["card", "CARD0001"]]
    for _ in range(2):
        steps += [["tap", "repair.cat.plumbing"], ["tap", "repair.item.tap-leak"], ["tap", "place.kitchen"]]
        steps += [["tap_prefix", "slot."]] + [["tap", "desk.back"]] * 4
    steps += [["tap", "nav.home"], ["tap", "service.feedback"], ["card", "CARD0001"]]
    for _ in range(2):
        steps += [["tap", "feedback.kind.complaint"], ["tap", "topic.noise"], ["kb", "c"], ["kb", "h"]]
        steps += [["tap", "kb.back"], ["tap", "kb.back"], ["tap", "text.done"], ["tap", "contact.phone"]]
        steps += [["tap", "desk.back"]] * 3 + [["tap", "desk.back"]]
    steps += [["tap", "nav.home"], ["tap", "service.cleaning"], ["card", "CARD0001"]]
    for _ in range(2):
        steps += [["tap", "cleaning.item.deep-3h"], ["tap_prefix", "slot."], ["tap", "desk.back"], ["tap", "desk.back"]]
    script = work / "script.json"
    shots = work / "shots"
    shots.mkdir()
    settings = {"server": base, "printer": printer_url, "device_token": token, "windowed": True}
    script.write_text(json.dumps({"settings": settings, "out": str(shots), "prefix": "bench", "steps": steps}))
    with virtual_display() as display:
        env = {**os.environ, "DISPLAY": display, "KIVY_NO_ARGS": "1", "KIVY_NO_CONSOLELOG": "1"}
        env.setdefault("KIVY_HOME", str(ROOT / "var/kivy"))
        done = subprocess.run(
            [sys.executable, str(ROOT / "tests/kiosk/window_driver.py"), str(script)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
        )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines or lines[-1] != {"done": True}:
        raise SystemExit(f"the window driver stopped: {done.stdout[-1500:]}{done.stderr[-1500:]}")
    # A touch that only sends a request (the card) is measured to its busy frame, like any other touch.
    return [line["touch_to_frame_ms"] for line in lines if line.get("touch_to_frame_ms") is not None]


if __name__ == "__main__":
    main()
