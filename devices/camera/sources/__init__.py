"""Frame sources, one module per transport, picked by the camera URL's scheme."""

from __future__ import annotations

from collections.abc import Callable

from devices.camera.sources.base import (
    FrameSource,
    SourceEnded,
    SourceError,
    SourceLost,
    SourceUnavailable,
)
from devices.camera.sources.images import ImageFolderSource
from devices.camera.sources.memory import MemorySource
from devices.camera.sources.opencv import VideoCaptureSource
from devices.camera.url import parse_camera_url

SourceFactory = Callable[[], FrameSource]


def source_factory(url: str) -> SourceFactory:
    """Checks ``url`` now (CameraUrlError naming the accepted forms) and returns a maker of fresh sources,
    one per (re)connection."""
    parsed = parse_camera_url(url)
    if parsed.scheme == "images":
        parsed.number("fps")
        return lambda: ImageFolderSource(parsed)
    parsed.number("fps")
    return lambda: VideoCaptureSource(parsed)


__all__ = [
    "FrameSource",
    "ImageFolderSource",
    "MemorySource",
    "SourceEnded",
    "SourceError",
    "SourceFactory",
    "SourceLost",
    "SourceUnavailable",
    "VideoCaptureSource",
    "source_factory",
]
