"""Release-slip printing on ESC/POS printers: printer URLs, slip layout (native and raster), status, emulator.

The kiosk calls `print_slip(url_or_printer, ReleaseSlipPrint(...), profile="cn80")`.
"""

import os
from pathlib import Path

# python-escpos writes its capabilities cache at import time, to a fresh temp folder unless this is set, and
# fails if the configured folder does not exist yet.
_cache = os.environ.get("ESCPOS_CAPABILITIES_PICKLE_DIR")
if _cache:
    Path(_cache).mkdir(parents=True, exist_ok=True)

from devices.printing.encode import slip_bytes  # noqa: E402
from devices.printing.errors import (  # noqa: E402
    CoverOpen,
    FontNotFound,
    PaperOut,
    PrinterOffline,
    PrinterStatusUnknown,
    PrinterUnavailable,
    PrinterUrlError,
    PrintingError,
    SlipContentError,
)
from devices.printing.job import PrintResult, print_slip  # noqa: E402
from devices.printing.profiles import PROFILES, PrinterProfile, PrintMode, get_profile  # noqa: E402
from devices.printing.receipt import ServiceReceiptPrint, print_receipt  # noqa: E402
from devices.printing.slip import ApplicantKind, ReleaseSlipPrint, SlipItem  # noqa: E402
from devices.printing.status import CoverState, PaperState, PrinterStatus, query_status  # noqa: E402
from devices.printing.urls import open_printer, parse_printer_url  # noqa: E402

__all__ = [
    "PROFILES",
    "ApplicantKind",
    "CoverOpen",
    "CoverState",
    "FontNotFound",
    "PaperOut",
    "PaperState",
    "PrintMode",
    "PrintResult",
    "PrinterOffline",
    "PrinterProfile",
    "PrinterStatus",
    "PrinterStatusUnknown",
    "PrinterUnavailable",
    "PrinterUrlError",
    "PrintingError",
    "ReleaseSlipPrint",
    "ServiceReceiptPrint",
    "SlipContentError",
    "SlipItem",
    "get_profile",
    "open_printer",
    "parse_printer_url",
    "print_receipt",
    "print_slip",
    "query_status",
    "slip_bytes",
]
