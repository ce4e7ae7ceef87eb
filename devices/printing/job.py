"""Printing one slip: check the printer, send the job once, check again, and say clearly what happened.

A job is never retried here: when anything goes wrong after bytes left, the error says so (`job_sent=True`)
and the person at the printer decides whether to reprint, so a slip is neither lost silently nor printed twice.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from escpos.escpos import Escpos

from devices.printing.encode import slip_bytes
from devices.printing.errors import CoverOpen, PaperOut, PrinterOffline, PrinterStatusUnknown, PrintingError
from devices.printing.profiles import DEFAULT_PROFILE, PrinterProfile, PrintMode
from devices.printing.slip import ReleaseSlipPrint
from devices.printing.status import (
    DEFAULT_TIMEOUT,
    CoverState,
    PaperState,
    PrinterStatus,
    can_answer,
    query_status,
)
from devices.printing.urls import open_printer

NOT_ASKED = PrinterStatus(None, PaperState.UNKNOWN, CoverState.UNKNOWN, "status not queried")


@dataclass(frozen=True)
class PrintResult:
    bytes_sent: int
    status_before: PrinterStatus
    status_after: PrinterStatus
    confirmed: bool  # the printer answered after the job and reported itself fit


def check_ready(status: PrinterStatus, where: str, *, job_sent: bool) -> None:
    """Raise the error that names what is wrong with the printer; return if it is fit to print."""
    after = (
        "；已发送的放行条可能不完整，请检查后再决定是否重打 / the slip was sent and may be incomplete: "
        "check the printout before printing it again"
        if job_sent
        else "；未发送 / nothing was sent"
    )
    if status.online is None:
        raise PrinterStatusUnknown(
            f"打印机无应答 / printer at {where} did not answer the status query ({status.detail}){after}",
            job_sent=job_sent,
        )
    if status.paper is PaperState.OUT:
        raise PaperOut(f"打印机缺纸 / printer at {where} is out of paper: load a new roll{after}", job_sent=job_sent)
    if status.cover is CoverState.OPEN:
        raise CoverOpen(f"打印机盖未关 / printer at {where} has its cover open: close it{after}", job_sent=job_sent)
    if not status.online:
        detail = f" ({status.detail})" if status.detail else ""
        raise PrinterOffline(f"打印机离线 / printer at {where} is offline{detail}{after}", job_sent=job_sent)
    if status.paper is PaperState.UNKNOWN:
        raise PrinterStatusUnknown(
            f"打印机未报告纸张状态 / printer at {where} did not report its paper{after}", job_sent=job_sent
        )


def print_slip(
    printer: str | Escpos,
    slip: ReleaseSlipPrint,
    profile: PrinterProfile | str = DEFAULT_PROFILE,
    mode: PrintMode | str | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    check_status: bool = True,
) -> PrintResult:
    """Print `slip` on the printer at a URL (or an open python-escpos printer).

    Raises SlipContentError before touching the printer if the slip cannot be printed; PrinterUrlError for a bad
    URL; PrinterOffline, PaperOut, CoverOpen or PrinterStatusUnknown when the printer is not fit, before the job
    (`job_sent=False`) or after it (`job_sent=True`). `check_status=False` is for printers that never answer
    DLE EOT; write-only backends (file, dummy) are never asked.
    """
    return send_job(printer, slip_bytes(slip, profile, mode), timeout=timeout, check_status=check_status)


def send_job(
    printer: str | Escpos, job: bytes, *, timeout: float = DEFAULT_TIMEOUT, check_status: bool = True
) -> PrintResult:
    """Send one finished job (a slip's, a receipt's, a pass's) as `print_slip` does: status before, the bytes once,
    status after; the same errors."""
    where = printer if isinstance(printer, str) else type(printer).__name__
    device = open_printer(printer, timeout) if isinstance(printer, str) else printer
    try:
        asks = check_status and can_answer(device)
        before = query_status(device, timeout) if asks else NOT_ASKED
        if asks:
            check_ready(before, where, job_sent=False)
        try:
            device._raw(job)
        except OSError as exc:
            raise PrinterOffline(
                f"发送中断 / sending to printer at {where} failed: {exc}; part of the slip may have printed, "
                "check the printer before printing again",
                job_sent=True,
            ) from exc
        after = query_status(device, timeout) if asks else NOT_ASKED
        if asks:
            check_ready(after, where, job_sent=True)
        return PrintResult(len(job), before, after, confirmed=asks)
    finally:
        if isinstance(printer, str):
            _close(device)


def _close(device: Escpos) -> None:
    with contextlib.suppress(OSError, PrintingError):
        device.close()
