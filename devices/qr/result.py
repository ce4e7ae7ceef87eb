"""What a decoder found: the code's text, its raw bytes and where it sits in the frame."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

Point = tuple[float, float]

# Without an ECI header a code does not say its character set. UTF-8 is what phones and our slips write;
# GB18030 reads GB2312 and GBK, what older Chinese generators write.
_CHARSETS = ("utf-8", "gb18030")


def text_from_bytes(raw: bytes) -> str | None:
    """The text a code's bytes spell, or None when they are not text (control bytes, nothing that decodes)."""
    for charset in _CHARSETS:
        try:
            text = raw.decode(charset)
        except UnicodeDecodeError:
            continue
        if all(unicodedata.category(ch)[0] != "C" or ch in "\t\r\n" for ch in text):
            return text
    return None


@dataclass(frozen=True)
class Decoded:
    """One QR code read from one image. `text` is None for a code holding bytes that are not text."""

    text: str | None
    raw: bytes
    corners: tuple[Point, ...]
    decoder: str
