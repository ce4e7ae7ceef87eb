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

import contextlib
import logging
import os
import sys
import tempfile
import threading
import time
import tty
from collections.abc import Callable
from typing import Any, TextIO

import serial

from devices.cabinet.bus import LINE_ERRORS
from devices.cabinet.events import CabinetEvent, TagRead, TagReadFailed
from devices.cabinet.tags import RawTag, TagError, ibutton_id, rfid_id
from devices.cabinet.url import parse_cabinet_url

log = logging.getLogger(__name__)
KEYBOARD = "keyboard"
BAUDRATE = 9600
REOPEN_AFTER = 1.0  # a reader unplugged is looked for again this often


def parse_reading(line: str) -> str:
    """The tag id in one line a reader sent; TagError says what is wrong with it."""
    text = line.strip()
    try:
        value = int(text, 16)
    except ValueError:
        raise TagError(f"reader line {text[:40]!r} is not a tag in hex (读卡数据无效)") from None
    if len(text) == 16:
        return ibutton_id(value.to_bytes(8, "big")[::-1])  # printed MSB first; read off the bus family first
    if len(text) == 10:
        return rfid_id(value)
    raise TagError(f"reader line {text[:40]!r}: 16 hex digits (iButton) or 10 (RFID) expected (读卡数据无效)")


def reading_line(raw: RawTag) -> bytes:
    """What a reader sends for a tag: an iButton ROM (family byte first, as read) or an RFID number."""
    text = raw[::-1].hex().upper() if isinstance(raw, bytes) else f"{raw:010X}"
    return text.encode() + b"\r\n"


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
        self._stdin = stdin or sys.stdin
        self._opener = opener
        self._target = None if url == KEYBOARD else parse_cabinet_url(url)
        self._last: tuple[str, float] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> ReturnPointReader:
        self._thread = threading.Thread(target=self._run, name="tag-reader", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        # A keyboard reader's thread waits on standard input and ends with the program.
        if self._thread is not None and self._target is not None:
            self._thread.join()

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

    def _run(self) -> None:
        if self._target is None:
            for line in self._stdin:
                if self._stop.is_set():
                    return
                self.take(line)
            return
        while not self._stop.is_set():
            try:
                self._read_port()
            except LINE_ERRORS as exc:
                log.warning("tag reader %s: %s; looking for it again", self.url, exc)
                self._stop.wait(REOPEN_AFTER)

    def _read_port(self) -> None:
        assert self._target is not None
        port = self._opener(self._target.port_url, baudrate=self._target.baudrate or BAUDRATE, timeout=0.1)
        buf = bytearray()
        try:
            while not self._stop.is_set():
                buf += port.read(max(1, port.in_waiting))
                *lines, rest = buf.replace(b"\r", b"\n").split(b"\n")
                buf = bytearray(rest)
                for line in lines:
                    self.take(line.decode("ascii", "replace"))
        finally:
            port.close()


class TagReaderSimulator:
    """A return-point reader on a pseudo-terminal: `present(tag)` sends its reading, as a key held to the probe."""

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="estate-reader-")
        self.url = os.path.join(self._dir, "ttyREADER")
        master, slave = os.openpty()
        tty.setraw(slave)
        self._fds = (master, slave)
        os.symlink(os.ttyname(slave), self.url)

    def present(self, raw: RawTag) -> None:
        os.write(self._fds[0], reading_line(raw))

    def send(self, line: bytes) -> None:
        """Any bytes, as a faulty reader or a noisy line would send."""
        os.write(self._fds[0], line)

    def stop(self) -> None:
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(self.url)
            os.rmdir(self._dir)

    def __enter__(self) -> TagReaderSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
