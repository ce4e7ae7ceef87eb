"""The gate's scanner: camera → latest frame → scan pipeline → debounce → ScanEvent.

    scanner = Scanner("v4l2://0", on_event=show_verdict, on_state=show_camera_state)
    scanner.start()
    ...
    scanner.stop()

Without ``on_event`` the events go to ``scanner.events`` (a queue). Callbacks run on the scanner's thread.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from devices.backoff import Backoff
from devices.camera.capture import CameraCapture, CameraState, Frame, StateListener
from devices.camera.sources import SourceFactory
from devices.qr.debounce import DEFAULT_WINDOW_S, Debouncer
from devices.qr.pipeline import FrameScan, ScanPipeline

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanEvent:
    """A code read at the gate: its text and raw bytes, when the frame was captured and decoded, and how long
    decoding that frame took."""

    text: str
    raw_bytes: bytes
    captured_at: datetime
    decoded_at: datetime
    decode_ms: float
    frame_no: int


FrameListener = Callable[[Frame, FrameScan], None]


class Scanner:
    def __init__(
        self,
        camera: str | SourceFactory,
        *,
        on_event: Callable[[ScanEvent], None] | None = None,
        on_state: StateListener | None = None,
        on_frame: FrameListener | None = None,
        pipeline: ScanPipeline | None = None,
        debounce_s: float = DEFAULT_WINDOW_S,
        backoff: Backoff | None = None,
        frame_limit: int | None = None,
    ) -> None:
        """``camera`` is a camera URL or a maker of frame sources; a bad URL raises CameraUrlError here.
        ``frame_limit`` stops scanning after that many frames (diagnostics); ``on_frame`` sees every scan."""
        self.capture = CameraCapture(camera, on_state=on_state, backoff=backoff)
        self.pipeline = pipeline if pipeline is not None else ScanPipeline()
        self.debouncer = Debouncer(debounce_s)
        self.events: queue.Queue[ScanEvent] = queue.Queue()
        self._on_event = on_event if on_event is not None else self.events.put
        self._on_frame = on_frame
        self._frame_limit = frame_limit
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._thread: threading.Thread | None = None
        self.frames_scanned = 0

    @property
    def state(self) -> CameraState:
        return self.capture.state

    @property
    def fps(self) -> float:
        return self.capture.fps

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("scanner already started")
        self.capture.start()
        self._thread = threading.Thread(target=self._run, name="gate-scanner", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.capture.stop(timeout)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        """Waits until the frame limit is reached or the scanner is stopped; False on timeout."""
        return self._finished.wait(timeout)

    def __enter__(self) -> Scanner:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _run(self) -> None:
        last = 0
        try:
            while not self._stop.is_set():
                frame = self.capture.wait_frame(after=last, timeout=0.2)
                if frame is None:
                    continue
                last = frame.number
                try:
                    self._scan(frame)
                except Exception:  # one bad frame or listener must not stop the gate's scanning
                    log.exception("scanning frame %d failed", frame.number)
                self.frames_scanned += 1
                if self._frame_limit is not None and self.frames_scanned >= self._frame_limit:
                    break
        finally:
            self._finished.set()

    def _scan(self, frame: Frame) -> None:
        result = self.pipeline.scan(frame.image)
        decoded_at = datetime.now(UTC)
        if self._on_frame is not None:
            self._on_frame(frame, result)
        for code in result.codes:
            if code.text is None:
                continue  # bytes that are not text: no slip, nothing for the gate
            if self.debouncer.admit(code.text, frame.monotonic):
                self._on_event(ScanEvent(code.text, code.raw, frame.captured_at, decoded_at, result.ms, frame.number))
