"""Cameras by URL and the capture thread: latest frame only, frame rate, reconnect with back-off, state events."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.camera import (
    Backoff,
    CameraCapture,
    CameraState,
    CameraUrlError,
    FrameSource,
    SourceUnavailable,
    parse_camera_url,
    source_factory,
)
from devices.camera.sources import MemorySource
from devices.qr.synthetic import SyntheticFrame

FAST = Backoff(initial=0.01, factor=2.0, maximum=0.05)


def numbered(count: int) -> list[np.ndarray]:
    return [np.full((24, 32, 3), index % 256, np.uint8) for index in range(count)]


@pytest.mark.parametrize(
    ("url", "scheme", "target"),
    [
        ("v4l2://0", "v4l2", "0"),
        ("v4l2:///dev/video2", "v4l2", "2"),
        ("rtsp://guard:pw@10.0.0.7:554/stream1", "rtsp", "rtsp://guard:pw@10.0.0.7:554/stream1"),
        ("file:///var/gate/test%20clip.mp4", "file", "/var/gate/test clip.mp4"),
        ("images:///tmp/frames?fps=20", "images", "/tmp/frames"),
    ],
)
def test_accepted_camera_urls(url: str, scheme: str, target: str) -> None:
    parsed = parse_camera_url(url)
    assert (parsed.scheme, parsed.target) == (scheme, target)


@pytest.mark.parametrize(
    "url", ["0", "/dev/video0", "usb://0", "v4l2://front", "rtsp://", "file://", "images:///x?fps=fast", "http://cam"]
)
def test_bad_camera_url_names_the_accepted_forms(url: str) -> None:
    with pytest.raises(CameraUrlError) as caught:
        source_factory(url)
    message = str(caught.value)
    for form in ("v4l2://", "rtsp://", "file://", "images://"):
        assert form in message


def test_backoff_grows_to_its_maximum() -> None:
    backoff = Backoff(initial=0.5, factor=2.0, maximum=4.0)
    assert [backoff.delay(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]


def test_consumer_gets_the_latest_frame_not_a_backlog() -> None:
    capture = CameraCapture(lambda: MemorySource(numbered(400), fps=400.0), backoff=Backoff(initial=60.0))
    with capture:
        first = capture.wait_frame(0, timeout=10.0)
        assert first is not None
        later = capture.wait_frame(first.number + 20, timeout=10.0)
        assert later is not None
        # Whatever came in between was replaced, not queued: the next frame asked for is newer still.
        newest = capture.wait_frame(later.number, timeout=10.0)
        assert newest is not None and newest.number > later.number
        assert capture.fps > 0
        latest = capture.latest()
        assert latest is not None and latest.number >= newest.number


def test_file_camera_that_ends_reconnects_and_reports_states(
    tmp_path: Path, video_writer: Callable[..., Path], slip_frames: dict[str, SyntheticFrame], state_log
) -> None:
    small = [cv2.resize(slip_frames["clean"].image, (320, 180))] * 5
    video = video_writer(tmp_path / "gate.avi", small, 25.0)
    capture = CameraCapture(f"file://{video}?fps=0", on_state=state_log, backoff=FAST)
    with capture:
        state_log.wait_for(CameraState.STREAMING)
        lost = state_log.wait_for(CameraState.LOST, detail="end of video file")
        assert lost.retry_in_s == pytest.approx(FAST.initial)
        again = state_log.wait_for(CameraState.CONNECTING)
        assert again.attempt == lost.attempt + 1
        state_log.wait_for(CameraState.STREAMING)
        frame = capture.wait_frame(5, timeout=10.0)  # numbers go on across reconnects
        assert frame is not None and frame.image.shape == (180, 320, 3)
    state_log.wait_for(CameraState.STOPPED)


def test_image_folder_that_disappears_and_returns(tmp_path: Path, state_log) -> None:
    folder = tmp_path / "frames"
    folder.mkdir()
    for index, image in enumerate(numbered(3)):
        cv2.imwrite(str(folder / f"{index:03d}.png"), image)
    keep = tmp_path / "keep"
    shutil.copytree(folder, keep)
    capture = CameraCapture(f"images://{folder}?fps=0", on_state=state_log, backoff=FAST)
    with capture:
        state_log.wait_for(CameraState.STREAMING)
        shutil.rmtree(folder)
        state_log.wait_for(CameraState.LOST)
        failed = state_log.wait_for(CameraState.LOST, detail="image folder not found")
        retry = state_log.wait_for(CameraState.LOST, detail="image folder not found")
        assert retry.attempt > failed.attempt
        assert retry.retry_in_s is not None and retry.retry_in_s >= failed.retry_in_s
        before = capture.latest()
        shutil.copytree(keep, folder)
        state_log.wait_for(CameraState.STREAMING)
        assert capture.wait_frame(before.number if before else 0, timeout=10.0) is not None
    assert capture.state is CameraState.STOPPED


def test_source_that_fails_to_open_is_retried_with_growing_delays(state_log) -> None:
    opened: list[int] = []

    class FlakyCamera(MemorySource):
        def open(self) -> None:
            opened.append(1)
            if len(opened) <= 3:
                raise SourceUnavailable("camera not plugged in")
            super().open()

    def make() -> FrameSource:
        return FlakyCamera(numbered(2), fps=0.0)

    with CameraCapture(make, on_state=state_log, backoff=FAST):
        delays = [state_log.wait_for(CameraState.LOST, detail="not plugged in").retry_in_s for _ in range(3)]
        state_log.wait_for(CameraState.STREAMING)
    assert delays == [0.01, 0.02, 0.04]


def test_a_driver_exception_is_a_lost_camera_not_a_dead_thread(state_log) -> None:
    class BrokenDriver(MemorySource):
        def read(self) -> np.ndarray:
            raise OSError("VIDIOC_DQBUF: No such device")

    capture = CameraCapture(lambda: BrokenDriver(numbered(1)), on_state=state_log, backoff=FAST)
    with capture:
        first = state_log.wait_for(CameraState.LOST, detail="No such device")
        second = state_log.wait_for(CameraState.LOST, detail="No such device")
        assert second.attempt > first.attempt


def test_missing_video_file_is_reported_and_retried(tmp_path: Path, state_log) -> None:
    with CameraCapture(f"file://{tmp_path}/none.avi", on_state=state_log, backoff=FAST):
        state_log.wait_for(CameraState.LOST, detail="video file not found")
        state_log.wait_for(CameraState.CONNECTING)
