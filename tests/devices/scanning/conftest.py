"""Shared fixtures: seeded synthetic frames of real slip QR codes, and helpers to write them as camera sources."""

from __future__ import annotations

import queue
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.camera import CameraState, StateChange
from devices.qr.synthetic import FrameFactory, SyntheticFrame, code_free_set

SEED = 20261127


@pytest.fixture(scope="session")
def factory() -> FrameFactory:
    return FrameFactory(SEED)


@pytest.fixture(scope="session")
def slip_frames(factory: FrameFactory) -> dict[str, SyntheticFrame]:
    """One frame of each kind every decoder must read."""
    return {
        "clean": factory.clean(0),
        "rotated": factory.rotated(1, angle=137.0),
        "inverted": factory.inverted(2),
        "degraded": factory.degraded(3, 1),
        "phone_dark": factory.phone(4, 0, dark_mode=True, moire=False),
    }


@pytest.fixture(scope="session")
def code_free_frames() -> list[SyntheticFrame]:
    """Busy frames with no code in them: clutter, finder-like squares, slips without a code."""
    return code_free_set(SEED, 60)


def write_video(path: Path, frames: list[np.ndarray], fps: float = 25.0) -> Path:
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (width, height))
    assert writer.isOpened(), "OpenCV cannot write MJPG video here"
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


@pytest.fixture
def video_writer() -> Callable[[Path, list[np.ndarray], float], Path]:
    return write_video


class StateLog:
    """Collects camera state changes from the capture thread; tests wait on it with timeouts."""

    def __init__(self) -> None:
        self.changes: queue.Queue[StateChange] = queue.Queue()
        self.seen: list[StateChange] = []

    def __call__(self, change: StateChange) -> None:
        self.changes.put(change)

    def wait_for(self, state: CameraState, *, detail: str = "", timeout: float = 10.0) -> StateChange:
        """The next change to ``state`` whose detail contains ``detail``; fails the test after ``timeout`` s."""
        while True:
            try:
                change = self.changes.get(timeout=timeout)
            except queue.Empty:
                states = [(c.state.value, c.detail) for c in self.seen]
                pytest.fail(f"no {state.value} state ({detail!r}) within {timeout} s; saw {states}")
            self.seen.append(change)
            if change.state is state and detail in change.detail:
                return change


@pytest.fixture
def state_log() -> StateLog:
    return StateLog()
