"""Printer status by DLE EOT real-time queries, with a timeout on every backend that can answer.

No answer means "unknown", never "ok": python-escpos's own `paper_status()` reports paper OK on silence.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import asdict, dataclass
from enum import StrEnum

from escpos.escpos import Escpos
from escpos.printer import Dummy, File, Network, Serial

# DLE EOT n replies (Epson ESC/POS): bits 1 and 4 are always set, bits 0 and 7 always clear.
FIXED = 0x12
FIXED_MASK = 0x93
PRINTER_OFFLINE = 0x08  # n=1
OFFLINE_COVER_OPEN = 0x04  # n=2
OFFLINE_PAPER_END = 0x20  # n=2: printing stopped at paper end
PAPER_NEAR_END = 0x0C  # n=4, bits 2-3
PAPER_END = 0x60  # n=4, bits 5-6

DEFAULT_TIMEOUT = 2.0
SETTLE_S = 0.03  # quiet after a reply that says no other byte is on its way


class PaperState(StrEnum):
    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"
    UNKNOWN = "unknown"


class CoverState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PrinterStatus:
    online: bool | None  # None: the printer did not say
    paper: PaperState
    cover: CoverState
    detail: str = ""

    @property
    def known(self) -> bool:
        return self.online is not None and self.paper is not PaperState.UNKNOWN

    @property
    def ready(self) -> bool:
        """Only a printer that answered and reported itself fit is ready."""
        return (
            self.online is True
            and self.paper in (PaperState.OK, PaperState.NEAR_END)
            and (self.cover is CoverState.CLOSED)
        )

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["paper"], out["cover"] = self.paper.value, self.cover.value
        if not self.detail:
            del out["detail"]
        return out


UNKNOWN = PrinterStatus(None, PaperState.UNKNOWN, CoverState.UNKNOWN)


def _valid(reply: int | None) -> bool:
    return reply is not None and reply & FIXED_MASK == FIXED


def decode_status(printer: int | None, offline_cause: int | None, paper: int | None) -> PrinterStatus:
    """PrinterStatus from the replies to DLE EOT 1, 2 and 4 (None where no valid byte came back)."""
    replies = [r if _valid(r) else None for r in (printer, offline_cause, paper)]
    printer, offline_cause, paper = replies
    if printer is None:
        return PrinterStatus(None, PaperState.UNKNOWN, CoverState.UNKNOWN, "no answer to DLE EOT 1")
    online = not printer & PRINTER_OFFLINE
    cover = CoverState.UNKNOWN
    paper_state = PaperState.UNKNOWN
    if offline_cause is not None:
        cover = CoverState.OPEN if offline_cause & OFFLINE_COVER_OPEN else CoverState.CLOSED
    if paper is not None:
        if paper & PAPER_END:
            paper_state = PaperState.OUT
        elif paper & PAPER_NEAR_END:
            paper_state = PaperState.NEAR_END
        else:
            paper_state = PaperState.OK
    elif offline_cause is not None and offline_cause & OFFLINE_PAPER_END:
        paper_state = PaperState.OUT
    return PrinterStatus(online, paper_state, cover)


def can_answer(printer: Escpos) -> bool:
    """File and Dummy backends are write-only: nothing can be asked of them."""
    return not isinstance(printer, File | Dummy)


def _drain(printer: Escpos) -> None:
    """Drop late replies to earlier queries so each answer is matched to its own question."""
    device = printer.device
    if isinstance(printer, Network) and device:
        device.setblocking(False)
        try:
            with contextlib.suppress(BlockingIOError, InterruptedError):
                while device.recv(64):
                    pass
        finally:
            device.setblocking(True)
    elif isinstance(printer, Serial) and device:
        device.reset_input_buffer()


def _read(printer: Escpos, timeout: float) -> bytes | None:
    """What the printer has sent within `timeout` (None for silence); several bytes when several are waiting."""
    device = printer.device
    if isinstance(printer, Network):
        device.settimeout(timeout)
        try:
            data: bytes = device.recv(64)
        except TimeoutError:
            return None
        finally:
            device.settimeout(getattr(printer, "timeout", None))
        if not data:
            raise ConnectionError("the printer closed the connection")
        return data
    if isinstance(printer, Serial):
        device.timeout = timeout
        data = device.read(1)
        return data + device.read(device.in_waiting) if data else None
    # USB and anything else that implements _read(); the backend's own timeout applies.
    try:
        data = printer._read()
    except NotImplementedError:
        return None
    except Exception as exc:  # pyusb raises USBTimeoutError (a USBError) on silence
        if "timeout" in type(exc).__name__.lower() or "timed out" in str(exc).lower():
            return None
        raise
    return bytes(data) if data else None


def _reply(printer: Escpos, timeout: float) -> int | None:
    """The answer to the query just sent: the last byte before the line goes quiet.

    A byte that arrives first may answer something earlier (a status query the printer found in image data, or
    a late answer to a query that timed out); ours is always the last, because a printer answers in the order
    it receives. On USB, where a read waits the backend's whole timeout, the last byte of one read is taken.
    """
    data = _read(printer, timeout)
    if data is None:
        return None
    while isinstance(printer, Network | Serial):
        more = _read(printer, SETTLE_S)
        if more is None:
            break
        data = more
    return data[-1]


def query_status(printer: Escpos, timeout: float = DEFAULT_TIMEOUT) -> PrinterStatus:
    """Ask the printer DLE EOT 1, 2 and 4; stop at the first silence. Never raises for a silent printer."""
    if not can_answer(printer):
        return PrinterStatus(None, PaperState.UNKNOWN, CoverState.UNKNOWN, "this backend cannot report status")
    replies: dict[int, int | None] = {}
    deadline = time.monotonic() + timeout
    try:
        _drain(printer)
        for n in (1, 2, 4):
            printer._raw(b"\x10\x04" + bytes([n]))
            remaining = deadline - time.monotonic()
            replies[n] = _reply(printer, max(remaining, 0.05)) if remaining > 0 else None
            if replies[n] is None:
                break
    except OSError as exc:
        return PrinterStatus(False, PaperState.UNKNOWN, CoverState.UNKNOWN, f"connection lost: {exc}")
    status = decode_status(replies.get(1), replies.get(2), replies.get(4))
    if status.online is None:
        return PrinterStatus(None, PaperState.UNKNOWN, CoverState.UNKNOWN, f"no status reply within {timeout}s")
    return status
