"""A folder of image files as a camera: each file is one frame, in name order."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from devices.camera.sources.base import FrameSource, Pacer, SourceEnded, SourceLost, SourceUnavailable
from devices.camera.url import CameraUrl
from devices.qr.images import ImageReadError, image_files_in, load_image

DEFAULT_IMAGES_FPS = 5.0


class ImageFolderSource(FrameSource):
    def __init__(self, url: CameraUrl) -> None:
        self.folder = Path(url.target)
        self.description = url.url
        self._fps = url.number("fps", DEFAULT_IMAGES_FPS) or 0.0
        self._files: list[Path] = []
        self._next = 0
        self._pacer = Pacer(self._fps)

    def open(self) -> None:
        if not self.folder.is_dir():
            raise SourceUnavailable(f"image folder not found: {self.folder}")
        try:
            files = image_files_in(self.folder)
        except OSError as exc:
            raise SourceUnavailable(f"cannot list image folder {self.folder}: {exc}") from None
        if not files:
            raise SourceUnavailable(f"no image files in {self.folder}")
        self._files, self._next = files, 0
        self._pacer = Pacer(self._fps)

    def read(self) -> np.ndarray:
        if self._next >= len(self._files):
            raise SourceEnded(f"last image of {self.folder} shown")
        self._pacer.wait()
        path = self._files[self._next]
        self._next += 1
        if not self.folder.is_dir():
            raise SourceLost(f"image folder disappeared: {self.folder}")
        try:
            return load_image(path)
        except ImageReadError as exc:
            raise SourceLost(str(exc)) from None

    def close(self) -> None:
        self._files = []
