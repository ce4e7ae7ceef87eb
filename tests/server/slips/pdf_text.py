"""The text of a PDF the console wrote (fpdf2 with a TrueType CJK font): each font's ToUnicode map applied to the
codes its text operators show, so a test can read what the printed page says."""

from __future__ import annotations

import re
import zlib

OBJECT = re.compile(rb"(\d+) 0 obj(.*?)endobj", re.S)
STREAM_START = re.compile(rb"stream\r?\n")
LENGTH = re.compile(rb"/Length (\d+)(?!\d)(?! \d+ R)")
SHOW = re.compile(rb"/(F\d+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) ?Tj", re.S)
ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _stream(body: bytes) -> bytes:
    """The object's stream, inflated. Its bytes are the dictionary's /Length after the `stream` line (or, with the
    length given elsewhere, all up to `endstream`, the line break after the compressed data left to zlib): taken up
    to the end marker alone, a last data byte of 0x0D (a carriage return, in one compressed stream in 256) would be
    read as part of the line break before `endstream`, and the stream cut short would not inflate."""
    start = STREAM_START.search(body)
    if start is None:
        return b""
    length = LENGTH.search(body, 0, start.start())
    end = start.end() + int(length.group(1)) if length is not None else body.find(b"endstream", start.end())
    raw = body[start.end() : end if end >= 0 else len(body)]
    try:
        return zlib.decompressobj().decompress(raw)  # what follows the compressed stream is left aside
    except zlib.error:
        return raw.rstrip(b"\r\n") if length is None else raw


def _unescape(text: bytes) -> bytes:
    out = bytearray()
    i = 0
    while i < len(text):
        if text[i : i + 1] == b"\\" and i + 1 < len(text):
            nxt = text[i + 1 : i + 2]
            octal = re.match(rb"[0-7]{1,3}", text[i + 1 : i + 4])
            if octal:
                out.append(int(octal.group(0), 8))
                i += 1 + len(octal.group(0))
                continue
            out += ESCAPES.get(nxt, nxt)
            i += 2
            continue
        out += text[i : i + 1]
        i += 1
    return bytes(out)


def pdf_text(data: bytes) -> str:
    objects = {int(m.group(1)): m.group(2) for m in OBJECT.finditer(data)}
    maps: dict[bytes, dict[int, str]] = {}
    for body in objects.values():
        for name, ref in re.findall(rb"/(F\d+) (\d+) 0 R", body):
            font = objects.get(int(ref), b"")
            unicode_ref = re.search(rb"/ToUnicode (\d+) 0 R", font)
            if unicode_ref is None:
                continue
            cmap = _stream(objects.get(int(unicode_ref.group(1)), b""))
            pairs = re.findall(rb"<([0-9A-Fa-f]{4})> <([0-9A-Fa-f]{4,})>", cmap)
            maps[name] = {int(code, 16): chr(int(char, 16)) for code, char in pairs}
    lines = []
    for body in objects.values():
        if b"/Length" not in body or b"Tj" not in _stream(body):
            continue
        font: dict[int, str] = {}
        for match in SHOW.finditer(_stream(body)):
            if match.group(1):
                font = maps.get(match.group(1), {})
                continue
            raw = _unescape(match.group(2))
            lines.append("".join(font.get(int.from_bytes(raw[i : i + 2], "big"), "?") for i in range(0, len(raw), 2)))
    return "\n".join(lines)
