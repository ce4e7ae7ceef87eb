"""Gate benchmark: frame in → verdict ready (decode the camera frame, check the slip, checklist on screen), p95,
offline (local Ed25519 check) and online (server on localhost, SQLite); and how long the gate's status takes to
show that the network went away and came back (the background sync's heartbeat, with no scan). Prints one JSON
line.

    python bench/gate.py [--frames 60]
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

# Run as `python bench/gate.py`, this file would shadow the `gate` package: drop its folder from the path.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import httpx  # noqa: E402
import uvicorn  # noqa: E402

from devices.qr.pipeline import ScanPipeline  # noqa: E402
from devices.qr.synthetic import FrameFactory, Slip, draw_slip  # noqa: E402
from gate.flows.gate_flow import GateFlow  # noqa: E402
from gate.link import GateLink  # noqa: E402
from gate.storage import open_storage  # noqa: E402
from gate.syncer import Syncer, SyncTiming  # noqa: E402
from server.config import Settings  # noqa: E402
from server.contract.client import EstateClient  # noqa: E402
from server.db.engine import make_engine, make_sessionmaker  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.db.models import ApplicantKind, DeviceKind, OccupancyKind, Role  # noqa: E402
from server.domain import clock, devices, guards, registry, staff  # noqa: E402
from server.domain.actors import SYSTEM, Actor  # noqa: E402
from server.domain.slips import eligibility, issuing  # noqa: E402
from server.web.app import create_app  # noqa: E402

PIN = "2580"


class Switch(httpx.HTTPTransport):
    """The gate's network cable: `down` makes every request fail to connect."""

    down = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("network down", request=request)
        return super().handle_request(request)


def seed(url: str, slips: int) -> tuple[str, list[str]]:
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as db:
        estate = registry.create_estate(db, SYSTEM, "GH", "观海台")
        unit = registry.ensure_unit(db, SYSTEM, estate, "5-8B")
        owner = registry.add_person(db, SYSTEM, estate, "王建国", "13800000001")
        registry.add_occupancy(db, SYSTEM, unit, owner, OccupancyKind.owner, date(2020, 1, 1))
        guard = staff.create_user(
            db, SYSTEM, username="bench_guard", display_name="张保安", role=Role.gate_guard,
            password="correct-horse-1", estates=[estate],
        )  # fmt: skip
        guards.set_credentials(db, SYSTEM, estate, guard, pin=PIN)
        device = devices.enrol(db, SYSTEM, estate, DeviceKind.gate, "东门")
        token = devices.issue_token(db, SYSTEM, device)
        desk = Actor("user", 1, "desk")
        day = clock.local_day(estate, issuing.utcnow())
        tokens = []
        for _ in range(slips):
            applicant = eligibility.check(
                db, desk, estate, unit, ApplicantKind.owner, owner, channel="console", today=day
            )
            draft = issuing.SlipDraft([issuing.LineDraft("SOFA", None, 1), issuing.LineDraft(None, "纸箱", 5)], day)
            tokens.append(issuing.issue(db, desk, estate, unit, applicant, draft, channel="console").token)
        db.commit()
    engine.dispose()
    return token, tokens


def serve(url: str, data: Path) -> tuple[uvicorn.Server, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app = create_app(Settings(data_dir=data, database_url=url), make_engine(url))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def p95(values: list[float]) -> float:
    return round(statistics.quantiles(values, n=20)[18], 1)


def measure(flow: GateFlow, frames: list, pipeline: ScanPipeline) -> list[float]:
    """Milliseconds from a frame arriving to the checklist being ready for the guard."""
    times = []
    for frame in frames:
        start = time.perf_counter()
        codes = pipeline.scan(frame.image).codes
        flow.on_scan(codes[0].text)
        times.append((time.perf_counter() - start) * 1000)
        assert flow.state == "checklist", flow.verdict
        flow.next()
    return times


def seconds_until(condition: Callable[[], bool], limit: float = 60.0) -> float:
    start = time.monotonic()
    while not condition() and time.monotonic() - start < limit:
        time.sleep(0.02)
    return round(time.monotonic() - start, 2)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        url = f"sqlite:///{root / 'estate.db'}"
        device_token, tokens = seed(url, args.frames)
        server, base = serve(url, root / "data")
        switch = Switch()
        client = EstateClient(base, device_token, timeout=2.0, transport=switch)
        storage = open_storage(root / "gate")
        link = GateLink(client, storage.store, storage.outbox, gate_name="东门", clock=lambda: datetime.now(UTC))
        flow = GateFlow(link, today=lambda: datetime.now(UTC).date())
        link.refresh_reference()
        for key in PIN:
            flow.signin_key(key)
        flow.signin_submit()
        pipeline = ScanPipeline()
        frames = [FrameFactory(n, slip=_slip(token)).rotated(n) for n, token in enumerate(tokens)]
        measure(flow, frames[:5], pipeline)  # warm-up: connections, caches
        online = measure(flow, frames, pipeline)
        syncer = Syncer(link, SyncTiming())  # the timing a real gate runs with
        syncer.start()
        time.sleep(3.3)  # past the first round, at some phase of the heartbeat
        switch.down = True
        link_lost_s = seconds_until(lambda: not link.online)
        offline = measure(flow, frames, pipeline)
        assert not link.online
        switch.down = False
        link_back_s = seconds_until(lambda: link.online)
        syncer.stop()
        server.should_exit = True
        client.close()
    print(
        json.dumps(
            {
                "bench": "gate",
                "frames": args.frames,
                "frame_to_verdict_ms_p95_offline": p95(offline),
                "frame_to_verdict_ms_p95_online": p95(online),
                "frame_to_verdict_ms_median_offline": round(statistics.median(offline), 1),
                "frame_to_verdict_ms_median_online": round(statistics.median(online), 1),
                "target_ms_p95": {"offline": 100, "online": 200},
                "status_offline_after_s": link_lost_s,
                "status_online_again_after_s": link_back_s,
                "target_status_s": 5,
            }
        )
    )


def _slip(token: str) -> Slip:
    return draw_slip(token)


if __name__ == "__main__":
    main()
