"""zxing-cpp: the default decoder (fast, reads inverted codes itself, releases the GIL)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import zxingcpp

from devices.qr.decoders.base import Decoder
from devices.qr.result import Decoded, Point, text_from_bytes

_QR = zxingcpp.BarcodeFormat.QRCode


@dataclass(frozen=True)
class ZxingRead:
    """A zxing-cpp pass: the codes read, and the corners of codes it found but could not read."""

    codes: list[Decoded]
    unread: list[tuple[Point, ...]]


def _corners(position: zxingcpp.Position) -> tuple[Point, ...]:
    return tuple(
        (float(p.x), float(p.y))
        for p in (position.top_left, position.top_right, position.bottom_right, position.bottom_left)
    )


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
    ) -> None:
        # try_rotate only matters for linear barcodes; QR detection is rotation-invariant already.
        self.binarizer = binarizer
        self.try_invert = try_invert
        self.try_downscale = try_downscale
        self.try_rotate = try_rotate

    def read(self, grey: np.ndarray, *, with_unread: bool = False) -> ZxingRead:
        barcodes = zxingcpp.read_barcodes(
            grey,
            formats=_QR,
            try_rotate=self.try_rotate,
            try_downscale=self.try_downscale,
            try_invert=self.try_invert,
            binarizer=self.binarizer,
            return_errors=with_unread,
        )
        codes: list[Decoded] = []
        unread: list[tuple[Point, ...]] = []
        for barcode in barcodes:
            if barcode.valid and barcode.format == _QR:
                codes.append(Decoded(_text(barcode), bytes(barcode.bytes), _corners(barcode.position), self.name))
            else:
                unread.append(_corners(barcode.position))
        return ZxingRead(codes, unread)

    def decode_grey(self, grey: np.ndarray) -> list[Decoded]:
        return self.read(grey).codes
