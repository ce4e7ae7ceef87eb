"""Line-by-line input at the cabinet — the return-point tag reader, the staff panel's card reader and keypad — from a
keyboard wedge (lines typed on standard input) or a serial line (any pyserial URL, a pseudo-terminal), and a
simulator of such a line on a pseudo-terminal.

A line ends with CR LF, a lone CR or a lone LF. A serial line that drops (unplugged, closed) is looked for again,
so a device plugged back in is read again without a restart.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import threading
import tty
from collections.abc import Callable
from typing import Any, TextIO

import serial

from devices.cabinet.bus import LINE_ERRORS
from devices.cabinet.url import parse_cabinet_url

log = logging.getLogger(__name__)
KEYBOARD = "keyboard"
BAUDRATE = 9600
REOPEN_AFTER = 1.0  # a line unplugged is looked for again this often


class LineReader:
    """Reads lines from `url` ("keyboard" for standard input) on a thread and hands each to `on_line`."""

    def __init__(
        self,
        url: str,
        on_line: Callable[[str], None],
        *,
        name: str = "line-reader",
        stdin: TextIO | None = None,
        opener: Callable[..., Any] = serial.serial_for_url,
        baudrate: int = BAUDRATE,
    ) -> None:
        self.url = url
        self.on_line = on_line
        self.name = name
        self._stdin = stdin or sys.stdin
        self._opener = opener
        self._baudrate = baudrate
        self._target = None if url == KEYBOARD else parse_cabinet_url(url)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()  # set once lines are being read (what a line sends before that is lost)

    @property
    def keyboard(self) -> bool:
        return self._target is None

    def start(self) -> LineReader:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        # A keyboard's thread waits on standard input and ends with the program.
        if self._thread is not None and self._target is not None:
            self._thread.join()

    def join(self, timeout: float | None = None) -> None:
        """Wait for the reading to end (standard input at its end, or `close`)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _reading(self) -> None:
        if not self.ready.is_set():
            log.info("%s: reading %s", self.name, self.url)
            self.ready.set()

    def _take(self, line: str) -> None:
        try:
            self.on_line(line)
        except Exception:  # one bad line must not end the reading for the rest of the day
            log.exception("%s: a line could not be handled", self.name)

    def _run(self) -> None:
        if self._target is None:
            self._reading()
            for line in self._stdin:
                if self._stop.is_set():
                    return
                self._take(line.rstrip("\r\n"))
            return
        while not self._stop.is_set():
            try:
                self._read_port()
            except LINE_ERRORS as exc:
                log.warning("%s %s: %s; looking for it again", self.name, self.url, exc)
                self._stop.wait(REOPEN_AFTER)

    def _read_port(self) -> None:
        assert self._target is not None
        port = self._opener(self._target.port_url, baudrate=self._target.baudrate or self._baudrate, timeout=0.1)
        buf = bytearray()
        self._reading()
        try:
            while not self._stop.is_set():
                buf += port.read(max(1, port.in_waiting))
                *lines, rest = buf.replace(b"\r", b"\n").split(b"\n")
                buf = bytearray(rest)
                for line in lines:
                    if line:
                        self._take(line.decode("utf-8", "replace"))
        finally:
            port.close()


class LineSimulator:
    """A device that sends lines, on a pseudo-terminal: open `url` as its serial port; `send` what it would send."""

    def __init__(self, prefix: str = "estate-line-", name: str = "ttyLINE") -> None:
        self._dir = tempfile.mkdtemp(prefix=prefix)
        self.url = os.path.join(self._dir, name)
        master, slave = os.openpty()
        tty.setraw(slave)
        self._fds = (master, slave)
        os.symlink(os.ttyname(slave), self.url)

    def send(self, data: bytes) -> None:
        """Any bytes, as the device (or a noisy line) would send them."""
        os.write(self._fds[0], data)

    def type_line(self, text: str) -> None:
        """One line, as a keypad or a card reader sends it."""
        self.send(text.encode() + b"\r\n")

    def stop(self) -> None:
        for fd in self._fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(self.url)
            os.rmdir(self._dir)

    def __enter__(self) -> LineSimulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
