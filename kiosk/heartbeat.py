"""Every minute the kiosk tells the server it is alive and how its printer is, so the front desk sees a kiosk out
of paper on the console before a resident finds out at the screen."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

import httpx

from devices.printing import CoverOpen, PaperOut, PrinterOffline, PrinterStatusUnknown, PrintingError
from kiosk.printer import SlipPrinter
from server.contract.client import ApiError
from server.contract.device import Heartbeat

log = logging.getLogger(__name__)


def software() -> str:
    try:
        return f"kiosk {version('estate-desk')}"
    except PackageNotFoundError:
        return "kiosk"


def printer_state(printer: SlipPrinter) -> str:
    """ok, paper_out, cover_open, offline or unknown: what the printer says right now."""
    try:
        printer.check()
    except PaperOut:
        return "paper_out"
    except CoverOpen:
        return "cover_open"
    except PrinterStatusUnknown:
        return "unknown"
    except (PrinterOffline, PrintingError):
        return "offline"
    return "ok"


class HeartbeatSender:
    def __init__(self, send: Callable[[Heartbeat], None], printer: SlipPrinter, interval: float = 60.0) -> None:
        self.send, self.printer, self.interval = send, printer, interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat_once(self) -> Heartbeat:
        beat = Heartbeat(software=software(), peripherals={"printer": printer_state(self.printer)})
        try:
            self.send(beat)
        except (httpx.HTTPError, ApiError) as exc:  # the server is away: the next beat tries again
            log.warning("heartbeat not delivered: %s", exc)
        return beat

    def _run(self) -> None:
        while not self._stop.is_set():
            self.beat_once()
            self._stop.wait(self.interval)

    def start(self) -> HeartbeatSender:
        self._thread = threading.Thread(target=self._run, name="kiosk-heartbeat", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
