"""OpenCV's QRCodeDetectorAruco: better detection than QRCodeDetector; slow (40–70 ms per 720p frame)."""

from __future__ import annotations

import cv2
import numpy as np

from devices.qr.decoders.base import Decoder
from devices.qr.result import Decoded, text_from_bytes


def _as_sent(raw: bytes) -> bytes:
    """The code's own bytes: OpenCV passes UTF-8 through but re-encodes anything else from ISO-8859-1 to UTF-8
    (GB2312 Chinese among it), so such a reading is turned back."""
    try:
        latin = raw.decode("utf-8").encode("latin-1")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return raw
    try:
        latin.decode("utf-8")
    except UnicodeDecodeError:
        return latin  # not UTF-8 as sent, so OpenCV re-encoded it
    return raw


class OpenCVDecoder(Decoder):
    name = "opencv"

    def __init__(self) -> None:
        self._detector = cv2.QRCodeDetectorAruco()

    def _read(self, grey: np.ndarray) -> list[Decoded]:
        # The *Bytes* calls hand back raw bytes: the text calls raise UnicodeDecodeError on non-UTF-8 content.
        ok, payloads, points, _ = self._detector.detectAndDecodeBytesMulti(grey)
        if not ok or points is None:
            return []
        codes = []
        for payload, quad in zip(payloads, points, strict=False):
            raw = _as_sent(bytes(payload))
            if raw:  # an empty payload is a detected but unread code
                corners = tuple((float(x), float(y)) for x, y in np.asarray(quad).reshape(-1, 2))
                codes.append(Decoded(text_from_bytes(raw), raw, corners, self.name))
        return codes

    def decode_grey(self, grey: np.ndarray) -> list[Decoded]:
        codes = self._read(grey)
        if not codes:
            codes = self._read(255 - grey)  # light-on-dark codes (phone dark mode)
        return codes
