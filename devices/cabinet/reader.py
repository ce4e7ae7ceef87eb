"""The cabinet's return-point tag reader (a TM/iButton probe or an RFID reader where keys are handed back), and a
simulator of one on a pseudo-terminal.

What the reader sends — the line protocol of common RS232 readers, and what a keyboard-wedge reader types:
- one reading per line, ASCII, ended by CR LF (a lone CR or LF is taken too); blanks around it are ignored;
- a TM/iButton key (DS1990A, HARDWARE-NOTES) as its 64-bit ROM in 16 hex digits, most significant byte first as
  printed on the can: CRC-8, the 48-bit serial, then the family code 01 (`8E0000000186A101` is serial 0x186A1).
  The CRC is checked; a wrong one, or another family, is reported as a failed read, never as a key;
- an RFID (EM4100-style) tag as its 40-bit number in 10 hex digits;
- the reader repeats the reading while a key stays on the probe: the same tag within `debounce` seconds is one
  reading (as devices debounce scans).

Serial readers run at 9600 8N1 unless the URL names a baud rate. `keyboard` reads the lines a keyboard-wedge reader
types on the agent's standard input. Each reading becomes a `TagRead` (a bad line a `TagReadFailed`); an iButton id
is an inventory label, not proof of identity.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TextIO

import serial

from devices.cabinet.events import CabinetEvent, TagRead, TagReadFailed
from devices.cabinet.lines import BAUDRATE, KEYBOARD, LineReader, LineSimulator
from devices.cabinet.tags import RawTag, TagError, raw_tag, tag_hex, tag_id

__all__ = ["KEYBOARD", "ReturnPointReader", "TagReaderSimulator", "parse_reading", "reading_line"]


def parse_reading(line: str) -> str:
    """The tag id in one line a reader sent; TagError says what is wrong with it."""
    return tag_id(raw_tag(line))


def reading_line(raw: RawTag) -> bytes:
    """What a reader sends for a tag: an iButton ROM (family byte first, as read) or an RFID number."""
    return tag_hex(raw).encode() + b"\r\n"


class ReturnPointReader:
    """Reads the return-point reader on a thread and hands each reading to `on_event`."""

    def __init__(
        self,
        url: str,
        on_event: Callable[[CabinetEvent], None],
        *,
        debounce: float = 1.0,
        stdin: TextIO | None = None,
        opener: Callable[..., Any] = serial.serial_for_url,
    ) -> None:
        self.url = url
        self.on_event = on_event
        self.debounce = debounce
        self._lines = LineReader(url, self.take, name="tag-reader", stdin=stdin, opener=opener, baudrate=BAUDRATE)
        self._last: tuple[str, float] | None = None

    def start(self) -> ReturnPointReader:
        self._lines.start()
        return self

    def close(self) -> None:
        self._lines.close()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the reading to end (a keyboard wedge's standard input at its end)."""
        self._lines.join(timeout)

    def take(self, line: str) -> None:
        """One line from the reader."""
        if not line.strip():
            return
        try:
            tag = parse_reading(line)
        except TagError as exc:
            self.on_event(TagReadFailed(board=0, reader=self.url, reason=str(exc)))
            return
        now = time.monotonic()
        if self._last is not None and self._last[0] == tag and now - self._last[1] < self.debounce:
            self._last = (tag, now)
            return
        self._last = (tag, now)
        self.on_event(TagRead(board=0, tag=tag, reader=self.url))


class TagReaderSimulator(LineSimulator):
    """A return-point reader on a pseudo-terminal: `present(tag)` sends its reading, as a key held to the probe."""

    def __init__(self) -> None:
        super().__init__("estate-reader-", "ttyREADER")

    def present(self, raw: RawTag) -> None:
        self.send(reading_line(raw))

    def __enter__(self) -> TagReaderSimulator:
        return self
