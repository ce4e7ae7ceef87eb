"""Everything a running gate needs, wired together without Kivy: the server client, the local store and outbox,
the link, the flow, the background sync and the camera scanner. The CLI and the benchmark build gates with it."""

from __future__ import annotations

import logging
import time
from datetime import UTC, date, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic_settings import SettingsConfigDict

from devices.camera import CameraState, Frame, ScanEvent, Scanner, StateChange
from devices.qr.pipeline import FrameScan
from gate.flows.gate_flow import GateFlow
from gate.link import GateLink
from gate.photo import jpeg_under
from gate.storage import open_storage
from gate.syncer import Syncer, SyncTiming
from server.contract.client import EstateClient
from server.contract.device import Heartbeat
from server.contract.zones import DEFAULT_ZONE
from terminal.settings import ProgramSettings

log = logging.getLogger(__name__)
FROZEN_AFTER = 3.0  # seconds without a new frame from an open camera: its picture is frozen


def software() -> str:
    try:
        return f"gate {version('estate-desk')}"
    except PackageNotFoundError:
        return "gate"


class GateConfig(ProgramSettings):
    """Settings of one gate: command-line options over `ESTATE_GATE_*` over a TOML file over the defaults."""

    model_config = SettingsConfigDict(env_prefix="ESTATE_GATE_")

    server: str = "http://127.0.0.1:8000"
    camera: str = "v4l2://0"
    device_token: str = ""
    gate_name: str | None = None  # None: the name the gate was enrolled under on the server
    data_dir: Path = Path("var/gate")
    orientation: str = "portrait"
    windowed: bool = False
    language: str = "zh"
    timezone: str = DEFAULT_ZONE
    font: str | None = None
    timeout_s: float = 2.0
    timing: SyncTiming = SyncTiming()


def utcnow() -> datetime:
    return datetime.now(UTC)


class GateRuntime:
    def __init__(self, config: GateConfig) -> None:
        if not config.device_token:
            raise ValueError("a gate needs its device token (--device-token, or device_token in the config file)")
        self.config = config
        zone = ZoneInfo(config.timezone)
        self.zone = zone
        self.client = EstateClient(config.server, config.device_token, timeout=config.timeout_s)
        # A damaged file is repaired or rebuilt here; `storage.recoveries` says what was done and what was lost.
        self.storage = open_storage(config.data_dir)
        self.store, self.outbox = self.storage.store, self.storage.outbox
        self.link = GateLink(self.client, self.store, self.outbox, gate_name=config.gate_name, clock=utcnow)
        self.syncer = Syncer(self.link, config.timing)
        self.flow = GateFlow(self.link, today=self.today, on_decision=self.syncer.kick, photo=self.photo)
        self.latest_frame: Frame | None = None
        self._camera_down = False
        self._camera_streamed = False
        self.frozen_after = FROZEN_AFTER
        self.scanner = Scanner(config.camera, on_event=self.on_scan, on_frame=self._on_frame, on_state=self._on_camera)
        self.link.report = lambda: Heartbeat(software=software(), peripherals={"camera": self.camera_state()})

    def camera_state(self) -> str:
        """live (new frames), frozen (the camera is open but its picture stopped) or no_device (none opens)."""
        frame = self.latest_frame
        if self._camera_down or frame is None:
            return "no_device"
        return "live" if time.monotonic() - frame.monotonic < self.frozen_after else "frozen"

    def today(self) -> date:
        """Today in the estate's zone: as the server reports it, else as configured (before the first sync)."""
        device = self.link.verifier.reference.device
        zone = ZoneInfo(device.timezone) if device is not None else self.zone
        return utcnow().astimezone(zone).date()

    def photo(self) -> bytes | None:
        """The frame in front of the camera as the guard decides, as a JPEG under 200 KB (R-REL-6)."""
        frame = self.latest_frame
        if frame is None:
            return None
        try:
            return jpeg_under(frame.image)
        except ValueError as exc:
            log.warning("gate camera: no photo for this decision: %s", exc)
            return None

    def on_scan(self, event: ScanEvent) -> None:
        self.flow.on_scan(event.text)

    def _on_frame(self, frame: Frame, _scan: FrameScan) -> None:
        self.latest_frame = frame  # the preview shows the newest frame the scanner looked at

    def _on_camera(self, change: StateChange) -> None:
        """One line when the camera gives no picture, one when it does again. A source that ends after streaming
        (a folder of images, a video file) and opens again at once is not worth a line each round."""
        if change.state is CameraState.STREAMING:
            if self._camera_down:
                log.info("gate camera: streaming again (%s)", change.detail)
            self._camera_down, self._camera_streamed = False, True
        elif change.state is CameraState.LOST:
            if not self._camera_streamed and not self._camera_down:
                log.warning("gate camera: no picture (%s); retrying", change.detail)
                self._camera_down = True
            self._camera_streamed = False

    def start(self) -> None:
        self.syncer.start()
        self.scanner.start()

    def stop(self) -> None:
        self.scanner.stop()
        self.syncer.stop()
        self.client.close()
        self.storage.close()
