"""zxing-cpp: the default decoder (fast, reads inverted codes itself, releases the GIL)."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import zxingcpp

from devices.qr.decoders.base import Decoder
from devices.qr.result import Decoded, Point, text_from_bytes

_QR = zxingcpp.BarcodeFormat.QRCode
_QR_ONLY = zxingcpp.BarcodeFormats(_QR)
# zxing-cpp's try_downscale (its ReaderOptions defaults): copies a third of the size, box-averaged, while the
# longer side is over 500 px.
_DOWNSCALE_ABOVE = 500
_DOWNSCALE_FACTOR = 3


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

    def read_full_size(self, grey: np.ndarray, *, with_unread: bool = False) -> ZxingRead:
        """:meth:`read` of the image at its own size only (both ways up if this decoder inverts)."""
        return self._full_size().read(grey, with_unread=with_unread)

    def read_downscaled(self, grey: np.ndarray, *, with_unread: bool = False) -> ZxingRead:
        """What :meth:`read` tries beyond :meth:`read_full_size`: the image's downscaled copies, if this
        decoder downscales, made as zxing-cpp makes them. The two together read what :meth:`read` reads,
        and the image need not be read at full size twice."""
        reads = []
        scale = 1
        small = grey
        while self.try_downscale and max(small.shape) > _DOWNSCALE_ABOVE and min(small.shape) >= _DOWNSCALE_FACTOR:
            small = _downscaled(small)
            scale *= _DOWNSCALE_FACTOR
            reads.append(_scaled(self._full_size().read(small, with_unread=with_unread), scale))
        codes: dict[bytes, Decoded] = {}  # a code read in more than one copy once, as read() does
        for read in reads:
            for code in read.codes:
                codes.setdefault(code.raw, code)
        return ZxingRead(list(codes.values()), [code for read in reads for code in read.unread])

    def _full_size(self) -> ZxingDecoder:
        return ZxingDecoder(
            binarizer=self.binarizer,
            try_invert=self.try_invert,
            try_downscale=False,
            try_rotate=self.try_rotate,
            is_pure=self.is_pure,
        )


def _downscaled(grey: np.ndarray) -> np.ndarray:
    """The image a third of its size, each pixel the mean of a 3×3 block, as zxing-cpp's copies are."""
    height, width = (side // _DOWNSCALE_FACTOR for side in grey.shape)
    block_means = cv2.blur(grey, (_DOWNSCALE_FACTOR, _DOWNSCALE_FACTOR))  # a third of cv2.resize's time
    middle = _DOWNSCALE_FACTOR // 2
    return np.ascontiguousarray(block_means[middle::_DOWNSCALE_FACTOR, middle::_DOWNSCALE_FACTOR][:height, :width])


def _scaled(read: ZxingRead, scale: int) -> ZxingRead:
    """A read of a downscaled copy, with its corners in the image's coordinates."""

    def corners(points: tuple[Point, ...]) -> tuple[Point, ...]:
        return tuple((x * scale, y * scale) for x, y in points)

    return ZxingRead(
        [Decoded(code.text, code.raw, corners(code.corners), code.decoder) for code in read.codes],
        [Unread(corners(code.corners), code.version) for code in read.unread],
    )
