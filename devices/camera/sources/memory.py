"""Frames from memory: a real frame source for tests and demos of the gate without a camera."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from devices.camera.sources.base import FrameSource, Pacer, SourceEnded, SourceLost


class MemorySource(FrameSource):
    """Gives ``frames`` in order at ``fps`` (0: as fast as asked), then ends, or, with ``lose_after``, is lost
    after that many frames, as an unplugged camera would be."""

    def __init__(
        self, frames: Sequence[np.ndarray], *, fps: float = 0.0, lose_after: int | None = None, name: str = "memory"
    ) -> None:
        if not frames:
            raise ValueError("a memory source needs at least one frame")
        self.description = f"{name}://{len(frames)} frames"
        self._frames = frames
        self._fps = fps
        self._lose_after = lose_after
        self._index = 0
        self._open = False
        self._pacer = Pacer(fps)

    def open(self) -> None:
        self._index, self._open = 0, True
        self._pacer = Pacer(self._fps)

    def read(self) -> np.ndarray:
        if not self._open:
            raise SourceLost(f"{self.description} is not open")
        if self._lose_after is not None and self._index >= self._lose_after:
            raise SourceLost(f"{self.description} lost after {self._index} frames")
        if self._index >= len(self._frames):
            raise SourceEnded(f"{self.description} ended")
        self._pacer.wait()
        frame = self._frames[self._index]
        self._index += 1
        return frame

    def close(self) -> None:
        self._open = False
