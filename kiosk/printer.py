"""The kiosk's slip printer: its status before a request is sent, and printing a slip the server issued."""

from __future__ import annotations

import contextlib
import threading
from datetime import datetime
from typing import Protocol

from devices.printing import (
    ApplicantKind,
    PrintingError,
    PrintResult,
    ReleaseSlipPrint,
    SlipItem,
    open_printer,
    print_slip,
    query_status,
)
from devices.printing.job import check_ready
from devices.printing.profiles import DEFAULT_PROFILE
from devices.printing.status import can_answer
from server.contract.schemas import SlipOut


class SlipPrinter(Protocol):
    def check(self) -> None:
        """Return if the printer is fit to print; raise PaperOut, CoverOpen, PrinterOffline or
        PrinterStatusUnknown (all PrintingError) otherwise."""

    def print(self, slip: ReleaseSlipPrint) -> PrintResult: ...


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


def printable(slip: SlipOut, timezone: str) -> ReleaseSlipPrint:
    """What the printer gets, taken only from the server's confirmed answer (its print data and token)."""
    data = slip.print
    if data is None:
        raise ValueError(f"slip {slip.number} came without print data")
    issued: datetime = slip.issued_at
    return ReleaseSlipPrint(
        estate=data.estate_name,
        slip_number=data.number,
        unit=data.unit,
        applicant=data.applicant,
        applicant_kind=ApplicantKind(slip.applicant_kind),
        issued_at=issued,
        valid_until=slip.valid_until,
        items=tuple(SlipItem(i.name, i.quantity) for i in data.items),
        qr_token=data.qr_text,
        notes="；".join(data.notes),
        timezone=timezone,
    )
