"""The capture thread: always holds only the latest frame, measures the frame rate, reconnects with back-off."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import numpy as np

from devices.backoff import Backoff
from devices.camera.sources import FrameSource, SourceError, SourceFactory, source_factory


class CameraState(StrEnum):
    CONNECTING = "connecting"
    STREAMING = "streaming"
    LOST = "lost"
    STOPPED = "stopped"


@dataclass(frozen=True)
class StateChange:
    """A change of the camera's state; ``retry_in_s`` is set when a reconnect is scheduled."""

    state: CameraState
    detail: str
    attempt: int
    at: datetime
    retry_in_s: float | None = None


@dataclass(frozen=True)
class Frame:
    """A frame, its number (counting across reconnects, from 1) and when it was captured."""

    image: np.ndarray
    number: int
    captured_at: datetime
    monotonic: float


StateListener = Callable[[StateChange], None]


class CameraCapture:
    """Reads a camera on its own thread; consumers take the latest frame and never see a backlog."""

    def __init__(
        self,
        camera: str | SourceFactory,
        *,
        on_state: StateListener | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self._factory = source_factory(camera) if isinstance(camera, str) else camera
        self._on_state = on_state
        self.backoff = backoff or Backoff()
        self._stop = threading.Event()
        self._latest_changed = threading.Condition()
        self._latest: Frame | None = None
        self._count = 0
        self._stamps: deque[float] = deque(maxlen=30)
        self._state = CameraState.STOPPED
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> CameraState:
        return self._state

    @property
    def fps(self) -> float:
        """Frames per second over the last 30 frames (0 until there are two)."""
        stamps = list(self._stamps)
        if len(stamps) < 2 or stamps[-1] <= stamps[0]:
            return 0.0
        return (len(stamps) - 1) / (stamps[-1] - stamps[0])

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("camera capture already started")
        self._thread = threading.Thread(target=self._run, name="camera-capture", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        with self._latest_changed:
            self._latest_changed.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def latest(self) -> Frame | None:
        return self._latest

    def wait_frame(self, after: int = 0, timeout: float | None = None) -> Frame | None:
        """The latest frame newer than frame number ``after``, waiting up to ``timeout`` s; None if none came."""
        with self._latest_changed:
            self._latest_changed.wait_for(
                lambda: self._stop.is_set() or (self._latest is not None and self._latest.number > after), timeout
            )
            frame = self._latest
        return frame if frame is not None and frame.number > after else None

    def __enter__(self) -> CameraCapture:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def _report(self, state: CameraState, detail: str, attempt: int, retry_in_s: float | None = None) -> None:
        self._state = state
        if self._on_state is not None:
            self._on_state(StateChange(state, detail, attempt, datetime.now(UTC), retry_in_s))

    def _run(self) -> None:
        failures = 0
        attempt = 0
        while not self._stop.is_set():
            attempt += 1
            source: FrameSource | None = None
            self._report(CameraState.CONNECTING, "opening camera", attempt)
            try:
                source = self._factory()
                source.open()
                self._report(CameraState.STREAMING, source.description, attempt)
                count_before = self._count
                try:
                    self._stream(source)
                finally:
                    if self._count > count_before:
                        failures = 0  # it streamed: the next loss starts the back-off afresh
                reason = "stopped"
            except SourceError as exc:
                reason = str(exc)
            except Exception as exc:  # a driver error must not kill the thread: treat it as a lost camera
                reason = f"{type(exc).__name__}: {exc}"
            finally:
                if source is not None:
                    source.close()
            if self._stop.is_set():
                break
            failures += 1
            delay = self.backoff.delay(failures)
            self._report(CameraState.LOST, reason, attempt, retry_in_s=delay)
            self._stop.wait(delay)
        self._report(CameraState.STOPPED, "capture stopped", attempt)

    def _stream(self, source: FrameSource) -> None:
        """Reads until stopped or until the source fails (raises SourceError)."""
        while not self._stop.is_set():
            image = source.read()
            now = time.monotonic()
            self._count += 1
            self._stamps.append(now)
            frame = Frame(image, self._count, datetime.now(UTC), now)
            with self._latest_changed:
                self._latest = frame
                self._latest_changed.notify_all()
