"""USB cameras, RTSP streams and video files, all through OpenCV's VideoCapture.

OpenCV's own log lines ("[ WARN:0@2.7] global cap_v4l.cpp …") are silenced: a failure is reported once, as a
SourceError in our words, by whoever reads the camera.
"""

from __future__ import annotations

import os
from pathlib import Path

# FFmpeg (files, RTSP) logs through OpenCV's logger only when a level is set; -8 is AV_LOG_QUIET.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

import cv2
import numpy as np

from devices.camera.sources.base import FrameSource, Pacer, SourceEnded, SourceLost, SourceUnavailable
from devices.camera.url import CameraUrl

cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


class VideoCaptureSource(FrameSource):
    def __init__(self, url: CameraUrl) -> None:
        self.url = url
        self.description = url.url
        self._capture: cv2.VideoCapture | None = None
        self._pacer = Pacer(0)

    def open(self) -> None:
        scheme, target = self.url.scheme, self.url.target
        if scheme == "v4l2":
            device = Path(f"/dev/video{int(target)}" if target.isdigit() else target)
            if not device.exists():
                raise SourceUnavailable(
                    f"没有摄像头 / no camera at {device} ({self.description}): check that it is plugged in, "
                    "or pick another number"
                )
            capture = cv2.VideoCapture(int(target) if target.isdigit() else str(device), cv2.CAP_V4L2)
        elif scheme in ("rtsp", "rtsps"):
            capture = cv2.VideoCapture(target, cv2.CAP_FFMPEG)
        else:
            if not Path(target).is_file():
                raise SourceUnavailable(f"video file not found: {target}")
            capture = cv2.VideoCapture(target)
        if not capture.isOpened():
            capture.release()
            raise SourceUnavailable(f"cannot open {self.description}")
        if scheme == "v4l2":
            fmt = self.url.options.get("format")
            if fmt:  # before the size: a camera offers its large sizes at full rate only as MJPG
                capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*fmt.upper()))
            for key, prop in (("width", cv2.CAP_PROP_FRAME_WIDTH), ("height", cv2.CAP_PROP_FRAME_HEIGHT)):
                value = self.url.number(key)
                if value:
                    capture.set(prop, value)
            fps = self.url.number("fps")
            if fps:
                capture.set(cv2.CAP_PROP_FPS, fps)
        if scheme == "file":
            # A file plays at its own rate by default, so it behaves like the camera it stands in for.
            native = capture.get(cv2.CAP_PROP_FPS) or 25.0
            self._pacer = Pacer(self.url.number("fps", native) or 0.0)
        self._capture = capture

    def read(self) -> np.ndarray:
        if self._capture is None:
            raise SourceLost(f"{self.description} is not open")
        self._pacer.wait()
        ok, frame = self._capture.read()
        if not ok or frame is None:
            if self.url.scheme == "file":
                raise SourceEnded(f"end of video file {self.url.target}")
            raise SourceLost(f"no frame from {self.description}")
        return frame

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
