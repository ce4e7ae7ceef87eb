"""What a decoder found: the code's text, its raw bytes and where it sits in the frame."""

from __future__ import annotations

from dataclasses import dataclass

Point = tuple[float, float]


def text_from_bytes(raw: bytes) -> str:
    """Text of a code's raw bytes, whatever they are.

    Slip codes are ASCII, so UTF-8 covers them; anything that is not valid UTF-8 comes back with the
    offending bytes written as ``\\xNN`` escapes instead of raising, so a stray code never stops a scan.
    """
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="backslashreplace")


@dataclass(frozen=True)
class Decoded:
    """One QR code read from one image."""

    text: str
    raw: bytes
    corners: tuple[Point, ...]
    decoder: str
