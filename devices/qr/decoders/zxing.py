"""zxing-cpp: the default decoder (fast, reads inverted codes itself, releases the GIL)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import zxingcpp

from devices.qr.decoders.base import Decoder
from devices.qr.result import Decoded, Point, text_from_bytes

_QR = zxingcpp.BarcodeFormat.QRCode
_QR_ONLY = zxingcpp.BarcodeFormats(_QR)


@dataclass(frozen=True)
class Unread:
    """A code zxing-cpp found but could not read: its corners and, when it made them out, its QR version."""

    corners: tuple[Point, ...]
    version: int | None


@dataclass(frozen=True)
class ZxingRead:
    """A zxing-cpp pass: the codes read, and the codes it found but could not read."""

    codes: list[Decoded]
    unread: list[Unread]


def _corners(position: zxingcpp.Position) -> tuple[Point, ...]:
    return tuple(
        (float(p.x), float(p.y))
        for p in (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
    )


def _version(barcode: zxingcpp.Barcode) -> int | None:
    # Micro QR ("M3") and rMQR ("R15x59") versions are not plain numbers; those are not our codes.
    extra = barcode.extra if isinstance(barcode.extra, dict) else {}
    version = str(extra.get("Version", ""))
    return int(version) if version.isdigit() else None


def _text(barcode: zxingcpp.Barcode) -> str | None:
    # With an ECI header (symbology identifier ]Q2) the code names its character set and zxing-cpp honours it.
    # Without one zxing-cpp guesses (ISO-8859-1, Shift_JIS) and garbles GB2312: read those bytes ourselves.
    if barcode.symbology_identifier == "]Q2" and barcode.content_type == zxingcpp.ContentType.Text:
        return barcode.text
    return text_from_bytes(bytes(barcode.bytes))


class ZxingDecoder(Decoder):
    name = "zxing"

    def __init__(
        self,
        *,
        binarizer: zxingcpp.Binarizer = zxingcpp.Binarizer.LocalAverage,
        try_invert: bool = True,
        try_downscale: bool = True,
        try_rotate: bool = False,
        is_pure: bool = False,
    ) -> None:
        # try_rotate only matters for linear barcodes; QR detection is rotation-invariant already.
        # is_pure: the image is one upright code drawn clean on its quiet zone (a resampled symbol).
        self.binarizer = binarizer
        self.try_invert = try_invert
        self.try_downscale = try_downscale
        self.try_rotate = try_rotate
        self.is_pure = is_pure

    def read(self, grey: np.ndarray, *, with_unread: bool = False) -> ZxingRead:
        barcodes = zxingcpp.read_barcodes(
            grey,
            formats=_QR_ONLY,
            try_rotate=self.try_rotate,
            try_downscale=self.try_downscale,
            try_invert=self.try_invert,
            binarizer=self.binarizer,
            is_pure=self.is_pure,
            return_errors=with_unread,
        )
        codes: list[Decoded] = []
        unread: list[Unread] = []
        for barcode in barcodes:
            if barcode.valid and barcode.format == _QR:
                codes.append(Decoded(_text(barcode), bytes(barcode.bytes), _corners(barcode.position), self.name))
            elif with_unread:
                unread.append(Unread(_corners(barcode.position), _version(barcode)))
        return ZxingRead(codes, unread)

    def decode_grey(self, grey: np.ndarray) -> list[Decoded]:
        return self.read(grey).codes
