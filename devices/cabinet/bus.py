"""The transaction layer: one request and its reply at a time on one RS485 bus, over any pyserial URL.

Field rules (HARDWARE-NOTES, RS485): a reply ends after a quiet period because USB adapters split it into bursts;
bytes before a valid header are skipped; after a failed transaction the line is drained and flushed so a late reply
is not taken for the next request; a minimum gap separates transactions; an unlock is never retried.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import serial

from devices.cabinet.codec import Codec, Reply, Request, RequestKind
from devices.cabinet.errors import FrameError, LineDown, NoReply, Preempted
from devices.cabinet.portlock import PortLock
from devices.cabinet.url import parse_cabinet_url

try:
    import termios

    _TTY_ERRORS: tuple[type[Exception], ...] = (termios.error,)
except ImportError:  # not a POSIX system
    _TTY_ERRORS = ()

# What a vanished port raises, depending on where it notices.
LINE_ERRORS: tuple[type[Exception], ...] = (serial.SerialException, OSError, *_TTY_ERRORS)
UNLOCK_KINDS = frozenset({RequestKind.UNLOCK, RequestKind.OPEN_ALL, RequestKind.BATCH})
PortOpener = Callable[..., Any]
# How often a pre-emptible wait looks for an unlock waiting to go out.
PREEMPT_CHECK = 0.002


def _refused(exc: BaseException | None) -> bool:
    """Whether a failed open was a refused connection (pyserial's socket handler wraps it in its own error)."""
    while exc is not None:
        if isinstance(exc, ConnectionRefusedError):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


class Bus:
    """One serial line to one or more boards of the same protocol."""

    def __init__(
        self,
        url: str,
        *,
        baudrate: int,
        reply_timeout: float = 0.15,
        quiet: float = 0.025,
        min_gap: float | None = None,
        opener: PortOpener = serial.serial_for_url,
    ) -> None:
        self.target = parse_cabinet_url(url)
        self.url = url
        self.baudrate = self.target.baudrate or baudrate
        self.reply_timeout = reply_timeout
        self.quiet = quiet
        # Two character times: enough for an auto-direction RS485 transceiver to let go of the line.
        self.min_gap = 20.0 / self.baudrate if min_gap is None else min_gap
        self._opener = opener
        self._lock = PortLock(url, self.target.port_url)
        self._port: Any = None
        self._last_end = 0.0
        self._cond = threading.Condition()
        self._busy = False
        self._urgent = 0

    # Port lifecycle -------------------------------------------------------------------------------------------
    def open(self) -> None:
        """Open the line now (it opens on the first transaction otherwise); LineDown says why it cannot."""
        with self._turn(priority=True):
            self._ensure_open()

    def _ensure_open(self) -> Any:
        if self._port is None:
            self._lock.acquire()  # held until close(), across reopenings after the line drops
            # A local device is also opened exclusively (pyserial flocks it), against programs that skip the lock file.
            exclusive = {"exclusive": True} if self.target.port_url.startswith("/") else {}
            try:
                self._port = self._opener(
                    self.target.port_url, baudrate=self.baudrate, timeout=self.reply_timeout, **exclusive
                )
            except (serial.SerialException, OSError, ValueError) as exc:
                if _refused(exc):
                    message = f"cannot open {self.url}: connection refused, nothing listens there (连接被拒绝)"
                else:
                    message = f"cannot open {self.url}: {exc} (无法打开串口)"
                raise LineDown(message, maybe_sent=False) from exc
        return self._port

    def _drop_port(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            with suppress(*LINE_ERRORS):  # it is already gone; closing only tidies up
                port.close()

    def close(self) -> None:
        with self._turn(priority=True):
            self._drop_port()
            self._lock.release()

    def __enter__(self) -> Bus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Turn-taking: one transaction at a time; unlocks go before queued polls ------------------------------------
    @contextmanager
    def _turn(self, priority: bool) -> Iterator[None]:
        with self._cond:
            if priority:
                self._urgent += 1
            try:
                while self._busy or (not priority and self._urgent):
                    self._cond.wait()
            finally:
                if priority:
                    self._urgent -= 1
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    # Transactions ---------------------------------------------------------------------------------------------
    def transact(self, request: Request, codec: Codec, *, retries: int = 0, preemptible: bool = False) -> Reply:
        """Send `request` and return its reply. Status queries may be retried; unlocks never.

        `preemptible` (a query to a board known dead): while not a byte of the reply has come, an unlock waiting for
        the bus ends the wait at once (Preempted), rather than queueing behind this board's timeouts.
        """
        if request.kind in UNLOCK_KINDS and (retries or preemptible):
            raise ValueError("an unlock is never retried blindly, nor given up for another")
        priority = request.kind in UNLOCK_KINDS
        error: Exception | None = None
        for _ in range(retries + 1):
            with self._turn(priority):
                try:
                    return self._attempt(request, codec, preemptible)
                except (NoReply, FrameError, LineDown) as exc:
                    error = exc
        assert error is not None
        raise error

    def _attempt(self, request: Request, codec: Codec, preemptible: bool = False) -> Reply:
        port = self._ensure_open()
        gap = self._last_end + self.min_gap - time.monotonic()
        if gap > 0:
            time.sleep(gap)  # the line must rest between frames
        try:
            port.reset_input_buffer()
            port.write(request.frame)
            port.flush()
            try:
                return self._read_reply(port, request, codec, preemptible)
            except Preempted:
                port.reset_input_buffer()  # nothing came from that board; the unlock's reply is matched by address
                raise
            except (NoReply, FrameError):
                self._drain(port)
                raise
        except LINE_ERRORS as exc:
            self._drop_port()
            raise LineDown(f"line {self.url} failed: {exc} (线路中断)", maybe_sent=True) from exc
        finally:
            self._last_end = time.monotonic()

    def _read_reply(self, port: Any, request: Request, codec: Codec, preemptible: bool = False) -> Reply:
        buf = bytearray()
        start = time.monotonic()
        deadline = start + self.reply_timeout
        # A line that never goes quiet (a babbling board) still ends the transaction.
        hard_deadline = deadline + self.reply_timeout
        last_byte = start
        settled = True  # every quiet period so far has been examined
        while True:
            now = time.monotonic()
            if not settled and now >= last_byte + self.quiet:
                settled = True
                # The line went quiet, so a frame has ended. If it was not ours (a late reply to someone else,
                # noise), keep listening until the reply timeout.
                try:
                    return self._final(codec, request, buf)
                except (NoReply, FrameError):
                    if now >= deadline:
                        raise
            if (settled and now >= deadline) or now >= hard_deadline:
                return self._final(codec, request, buf)
            if preemptible and not buf and self._urgent:
                raise Preempted(f"gave up waiting on board {request.board} for an unlock")
            target = deadline if settled else last_byte + self.quiet
            if preemptible and not buf:
                target = min(target, now + PREEMPT_CHECK)
            port.timeout = max(0.0, min(target, hard_deadline) - now)
            chunk = port.read(max(1, port.in_waiting))
            if chunk:
                buf += chunk
                last_byte = time.monotonic()
                settled = False
                # A checksum-valid frame of the length this request expects is complete: no need to wait for quiet.
                reply = codec.find_reply(request, buf, final=False)
                if reply is not None:
                    return reply

    @staticmethod
    def _final(codec: Codec, request: Request, buf: bytearray) -> Reply:
        reply = codec.find_reply(request, buf, final=True)
        assert reply is not None  # a final search raises rather than finding nothing
        return reply

    def _drain(self, port: Any) -> None:
        """Discard what still arrives until the line has been silent for a whole reply timeout, so a board that
        answers late is heard here and not taken for the answer to the next request."""
        now = time.monotonic()
        end = now + 3 * self.reply_timeout  # a babbling line does not hold the bus forever
        last = now
        while True:
            now = time.monotonic()
            wait = min(last + self.reply_timeout, end) - now
            if wait <= 0:
                break
            port.timeout = wait
            if port.read(max(1, port.in_waiting)):
                last = time.monotonic()
        port.reset_input_buffer()
