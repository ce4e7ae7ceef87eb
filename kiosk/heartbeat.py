"""Every few seconds the kiosk tells the server it is alive and how its printer is, so the front desk sees a kiosk
out of paper on the console before a resident finds out at the screen. The beat also tells the kiosk how its link
is: online, offline (no answer) or token_refused (a 401: the kiosk must be enrolled again, which its screen says).
Each change of the link or of the printer is logged as one line."""

from __future__ import annotations

import logging
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version

import httpx

from devices.backoff import Backoff
from devices.printing import CoverOpen, PaperOut, PrinterOffline, PrinterStatusUnknown, PrintingError
from kiosk.printer import SlipPrinter
from server.contract.client import ApiError
from server.contract.device import Heartbeat
from terminal.worker import Worker

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


LinkListener = Callable[[str], None]


class HeartbeatSender:
    def __init__(
        self,
        send: Callable[[Heartbeat], None],
        printer: SlipPrinter,
        interval: float = 10.0,
        on_link: LinkListener | None = None,
    ) -> None:
        self.send, self.printer, self.interval = send, printer, interval
        self.on_link = on_link
        self.link = "unknown"  # online | offline | token_refused, after the first beat
        self.printer_state = "unknown"
        # A beat handles its own failures (they are the link's state), so the back-off is the interval itself.
        self.worker = Worker("kiosk-heartbeat", self._step, Backoff(initial=interval, factor=1.0, maximum=interval))

    def beat_once(self) -> Heartbeat:
        state = printer_state(self.printer)
        if state != self.printer_state:
            level = logging.INFO if state == "ok" else logging.WARNING
            log.log(level, "kiosk printer: %s (was %s)", state, self.printer_state)
            self.printer_state = state
        beat = Heartbeat(software=software(), peripherals={"printer": state})
        try:
            self.send(beat)
        except ApiError as exc:
            self._link("token_refused" if exc.token_refused else "offline" if exc.status >= 500 else "online", exc)
        except httpx.HTTPError as exc:  # the server is away: the next beat tries again
            self._link("offline", exc)
        else:
            self._link("online")
        return beat

    def _link(self, link: str, error: Exception | None = None) -> None:
        if link == self.link:
            return
        if link == "token_refused":
            log.error("kiosk link: the server refused this kiosk's device token (401): enrol the kiosk again")
        elif link == "offline":
            log.warning("kiosk link: offline (was %s): %s", self.link, error)
        else:
            log.info("kiosk link: online (was %s)", self.link)
        self.link = link
        if self.on_link is not None:
            self.on_link(link)

    def _step(self) -> float:
        self.beat_once()
        return self.interval

    def start(self) -> HeartbeatSender:
        self.worker.start()
        return self

    def stop(self) -> None:
        self.worker.stop()
