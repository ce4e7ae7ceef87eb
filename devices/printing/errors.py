"""Typed printing errors: each says what went wrong in Chinese, then English, and what to do."""

from __future__ import annotations


class PrintingError(Exception):
    """Base of every error this package raises; `job_sent` tells a caller whether bytes reached the printer."""

    job_sent: bool = False

    def __init__(self, message: str, *, job_sent: bool = False) -> None:
        super().__init__(message)
        self.job_sent = job_sent


class PrinterUrlError(PrintingError, ValueError):
    """The printer address is not one of the accepted URL forms."""


class SlipContentError(PrintingError, ValueError):
    """The slip cannot be printed as given (no items, token too long or not ASCII, ...)."""


class PrinterUnavailable(PrintingError):
    """The printer could not be opened or written to."""


class PrinterBusy(PrinterUnavailable):
    """Another program holds the printer's serial line; the message names it. Nothing was sent."""


class PrinterOffline(PrinterUnavailable):
    """The printer is unreachable or reports itself offline."""


class PaperOut(PrintingError):
    """The paper roll is empty."""


class CoverOpen(PrintingError):
    """The printer's cover is open."""


class PrinterStatusUnknown(PrintingError):
    """The printer did not answer a status query, so nothing can be said about it (never taken as "ok")."""


class FontNotFound(PrintingError):
    """No CJK font to draw raster slips or characters the printer's font lacks."""
