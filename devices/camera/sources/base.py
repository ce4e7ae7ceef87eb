"""The narrow interface of a frame source; the capture thread drives any of them the same way."""

from __future__ import annotations

import time
from abc import ABC, abstractmethod

import numpy as np


class SourceError(Exception):
    """A source that cannot give frames right now; the capture thread reconnects with back-off."""


class SourceUnavailable(SourceError):
    """Opening failed: no such device, file or folder, or the stream does not answer."""


class SourceLost(SourceError):
    """A source that was giving frames stopped: unplugged, stream dropped, folder removed."""


class SourceEnded(SourceError):
    """A finite source (a video file, a folder of images) reached its end."""


class FrameSource(ABC):
    """Gives BGR frames one at a time. ``read`` blocks until the next frame is due."""

    description: str

    @abstractmethod
    def open(self) -> None:
        """Connect; raises SourceUnavailable."""

    @abstractmethod
    def read(self) -> np.ndarray:
        """The next frame; raises SourceLost or SourceEnded."""

    @abstractmethod
    def close(self) -> None:
        """Release the device; safe to call twice or after a failed open."""


class Pacer:
    """Holds a finite source to a frame rate, as a real camera would deliver it (0 = no pacing)."""

    def __init__(self, fps: float) -> None:
        self.interval = 1.0 / fps if fps > 0 else 0.0
        self._next = 0.0

    def wait(self) -> None:
        if self.interval <= 0:
            return
        now = time.monotonic()
        if self._next > now:
            time.sleep(self._next - now)  # the camera's frame interval, not synchronisation
            now = self._next
        self._next = max(self._next + self.interval, now)
