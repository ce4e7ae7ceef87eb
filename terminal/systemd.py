"""Telling systemd how a device program is: ready, stopping, and alive (the watchdog).

systemd passes a unit of `Type=notify` the path of a datagram socket in `NOTIFY_SOCKET` and, with `WatchdogSec=`,
the watchdog's period in `WATCHDOG_USEC`; the program sends `READY=1` once it runs and `WATCHDOG=1` more often than
the period from the loop that must not freeze. When the pings stop (a frozen window, a stuck poll loop) systemd
kills the program and `Restart=always` starts it again. Outside systemd none of this is set and every call is a
no-op, so the programs behave the same on a technician's laptop.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable

log = logging.getLogger(__name__)


def notify(*fields: str) -> bool:
    """Send `READY=1`, `WATCHDOG=1`, `STATUS=…` (one datagram) to systemd; False when not run by it."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address:
        return False
    if address.startswith("@"):  # an abstract socket name
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
            sock.connect(address)
            sock.sendall("\n".join(fields).encode())
    except OSError as exc:
        log.warning("systemd notify %s failed: %s", fields[0] if fields else "", exc)
        return False
    return True


def watchdog_period() -> float | None:
    """The watchdog's period in seconds when systemd runs one for this process, else None."""
    usec = os.environ.get("WATCHDOG_USEC", "")
    pid = os.environ.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0 or (pid and pid != str(os.getpid())):
        return None
    return int(usec) / 1_000_000


class Watchdog:
    """Pings systemd's watchdog from the loop that calls `alive()`, at most twice a period; `ready()` once
    the program runs. `interval` is how often the loop should call `alive()` (None: no watchdog here)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.period = watchdog_period()
        self._clock = clock
        self._last = float("-inf")

    @property
    def interval(self) -> float | None:
        return None if self.period is None else self.period / 4

    def ready(self, status: str = "") -> None:
        notify("READY=1", *([f"STATUS={status}"] if status else []))

    def alive(self) -> None:
        if self.period is None:
            return
        now = self._clock()
        if now - self._last >= self.period / 2:
            self._last = now
            notify("WATCHDOG=1")

    def stopping(self) -> None:
        notify("STOPPING=1")


def keep_kivy_alive(watchdog: Watchdog) -> None:
    """Tell systemd the window is up, and ping from Kivy's main loop: a frozen window stops the pings."""
    from kivy.clock import Clock

    def beat(_dt: float) -> None:
        watchdog.alive()

    Clock.schedule_once(lambda _dt: watchdog.ready("window up"), 0)
    if watchdog.interval is not None:
        Clock.schedule_interval(beat, watchdog.interval)
