"""ESC/POS command bytes we send, and the raster encoding both the slip writer and the virtual printer use."""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np
from PIL import Image

ESC = b"\x1b"
GS = b"\x1d"
FS = b"\x1c"
DLE = b"\x10"

INIT = ESC + b"@"
LF = b"\n"
CHINESE_ON = FS + b"&"
CHINESE_OFF = FS + b"."
FEED_AND_CUT = GS + b"V" + bytes([66, 0])  # function B: feed to the cutter, partial cut

ALIGN_CODES = {"left": 0, "center": 1, "right": 2}
RASTER_FRAGMENT_ROWS = 128  # large images arrive as several GS v 0 images, each at most this tall
# DLE EOT, DLE ENQ and DLE DC4 are real-time commands: a printer acts on them wherever they appear, image data
# included, and answers or even pulses the drawer. A lone dot (0x10) followed by one of these bytes is cleared.
_REALTIME_IN_DATA = re.compile(rb"\x10(?=[\x04\x05\x14])")


def align(where: str) -> bytes:
    return ESC + b"a" + bytes([ALIGN_CODES[where]])


def bold(on: bool) -> bytes:
    return ESC + b"E" + bytes([1 if on else 0])


def char_size(width_mult: int, height_mult: int) -> bytes:
    """GS ! n: enlarges Chinese and ASCII alike (ESC ! would leave Chinese at normal size)."""
    if not (1 <= width_mult <= 8 and 1 <= height_mult <= 8):
        raise ValueError("character size multipliers are 1-8")
    return GS + b"!" + bytes([((width_mult - 1) << 4) | (height_mult - 1)])


def position(dots: int) -> bytes:
    """ESC $ nL nH: continue the line at `dots` from the left margin."""
    return ESC + b"$" + bytes([dots & 0xFF, dots >> 8])


def feed_dots(dots: int) -> bytes:
    """ESC J n: feed n dots (several commands for more than 255)."""
    out = b""
    while dots > 0:
        step = min(dots, 255)
        out += ESC + b"J" + bytes([step])
        dots -= step
    return out


def _qr_function(fn: int, payload: bytes) -> bytes:
    size = len(payload) + 2
    return GS + b"(k" + bytes([size & 0xFF, size >> 8, 0x31, fn]) + payload


def qr_native(data: bytes, module: int, ec: str = "M") -> bytes:
    """The GS ( k sequence: model 2, module size, error correction, store, print."""
    if not 1 <= module <= 16:
        raise ValueError("QR module size must be 1-16")
    if len(data) > 7089:
        raise ValueError("QR data too long for GS ( k")
    ec_code = {"L": 0x30, "M": 0x31, "Q": 0x32, "H": 0x33}[ec]
    return (
        _qr_function(0x41, bytes([0x32, 0x00]))
        + _qr_function(0x43, bytes([module]))
        + _qr_function(0x45, bytes([ec_code]))
        + _qr_function(0x50, b"\x30" + data)
        + _qr_function(0x51, b"\x30")
    )


def raster_rows(image: Image.Image, width_dots: int) -> tuple[int, bytes]:
    """A 1-bit image as GS v 0 data (bytes per row, packed rows), ink = bit 1, padded to `width_dots`."""
    if image.width > width_dots:
        raise ValueError(f"image is {image.width} dots wide, the paper only {width_dots}")
    canvas = Image.new("1", (width_dots, image.height), 1)
    canvas.paste(image.convert("1"), (0, 0))
    # PIL packs "1" images MSB first with white = 1; the printer wants ink = 1.
    inverted = (np.frombuffer(canvas.tobytes(), dtype=np.uint8) ^ 0xFF).tobytes()
    return width_dots // 8, _REALTIME_IN_DATA.sub(b"\x00", inverted)


def raster_image(image: Image.Image, width_dots: int) -> bytes:
    """GS v 0 commands for an image, cut into fragments of at most RASTER_FRAGMENT_ROWS rows."""
    tail = image.height % RASTER_FRAGMENT_ROWS
    if tail and tail % 48 == 0:
        # Some 58 mm Xprinters garble images whose height is a multiple of 48: add one blank row.
        padded = Image.new("1", (image.width, image.height + 1), 1)
        padded.paste(image.convert("1"), (0, 0))
        image = padded
    row_bytes, data = raster_rows(image, width_dots)
    return b"".join(_fragments(row_bytes, data, image.height))


def _fragments(row_bytes: int, data: bytes, height: int) -> Iterator[bytes]:
    for top in range(0, height, RASTER_FRAGMENT_ROWS):
        rows = min(RASTER_FRAGMENT_ROWS, height - top)
        chunk = data[top * row_bytes : (top + rows) * row_bytes]
        header = GS + b"v0" + bytes([0, row_bytes & 0xFF, row_bytes >> 8, rows & 0xFF, rows >> 8])
        yield header + chunk
