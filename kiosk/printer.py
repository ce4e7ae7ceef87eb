"""The kiosk's slip printer: its status before a request is sent, and printing a slip the server issued."""

from __future__ import annotations

import contextlib
import threading
from typing import Protocol

from devices.printing import (
    PrintingError,
    PrintResult,
    ReleaseSlipPrint,
    ServiceReceiptPrint,
    open_printer,
    print_receipt,
    print_slip,
    query_status,
)
from devices.printing.job import check_ready
from devices.printing.profiles import DEFAULT_PROFILE
from devices.printing.status import can_answer
from server.contract.printing import printable


class SlipPrinter(Protocol):
    def check(self) -> None:
        """Return if the printer is fit to print; raise PaperOut, CoverOpen, PrinterOffline or
        PrinterStatusUnknown (all PrintingError) otherwise."""

    def print(self, slip: ReleaseSlipPrint) -> PrintResult: ...

    def print_receipt(self, receipt: ServiceReceiptPrint) -> PrintResult: ...


class UrlPrinter:
    """The printer at a device URL (`tcp://…:9100`, `usb://…`, `serial://…`, `file://…`, `dummy://`)."""

    def __init__(self, url: str, *, profile: str = DEFAULT_PROFILE, timeout: float = 2.0) -> None:
        self.url, self.profile, self.timeout = url, profile, timeout
        # One conversation with the printer at a time: a status check (the heartbeat's) never cuts into a job.
        self._lock = threading.Lock()

    def check(self) -> None:
        with self._lock:
            device = open_printer(self.url, self.timeout)
            try:
                if can_answer(device):  # a write-only backend (file, dummy) has nothing to say
                    check_ready(query_status(device, self.timeout), self.url, job_sent=False)
            finally:
                with contextlib.suppress(OSError, PrintingError):
                    device.close()

    def print(self, slip: ReleaseSlipPrint) -> PrintResult:
        with self._lock:
            return print_slip(self.url, slip, self.profile, timeout=self.timeout)

    def print_receipt(self, receipt: ServiceReceiptPrint) -> PrintResult:
        with self._lock:
            return print_receipt(self.url, receipt, self.profile, timeout=self.timeout)


__all__ = ["SlipPrinter", "UrlPrinter", "printable"]
