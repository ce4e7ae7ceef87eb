"""The one interface every QR decoder implements."""

from __future__ import annotations

from abc import ABC, abstractmethod

import numpy as np

from devices.qr.grey import to_grey
from devices.qr.result import Decoded


class Decoder(ABC):
    """Reads QR codes from an image.

    ``decode`` takes any frame (BGR, BGRA or grey); ``decode_grey`` takes a frame already converted with
    :func:`devices.qr.grey.to_grey`, so a pipeline converts once and tries several passes. Implementations are
    not thread-safe: give each thread its own decoder.
    """

    name: str

    def decode(self, image: np.ndarray) -> list[Decoded]:
        return self.decode_grey(to_grey(image))

    @abstractmethod
    def decode_grey(self, grey: np.ndarray) -> list[Decoded]:
        """Every QR code read from a grey uint8 image; an empty list when there is none."""
