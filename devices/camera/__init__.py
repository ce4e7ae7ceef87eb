"""Cameras by URL, the capture thread, and the gate's scanner."""

from devices.backoff import Backoff
from devices.camera.capture import CameraCapture, CameraState, Frame, StateChange
from devices.camera.scanner import ScanEvent, Scanner
from devices.camera.sources import (
    FrameSource,
    SourceEnded,
    SourceError,
    SourceLost,
    SourceUnavailable,
    source_factory,
)
from devices.camera.url import ACCEPTED_FORMS, CameraUrl, CameraUrlError, parse_camera_url

__all__ = [
    "ACCEPTED_FORMS",
    "Backoff",
    "CameraCapture",
    "CameraState",
    "CameraUrl",
    "CameraUrlError",
    "Frame",
    "FrameSource",
    "ScanEvent",
    "Scanner",
    "SourceEnded",
    "SourceError",
    "SourceLost",
    "SourceUnavailable",
    "StateChange",
    "parse_camera_url",
    "source_factory",
]
