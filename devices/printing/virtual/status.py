"""The states a test can put the virtual printer in, and its DLE EOT replies for each."""

from __future__ import annotations

from enum import StrEnum

from devices.printing import status as bits

# DLE EOT 1, bit 2: the drawer kick-out connector's pin 3 reads high, as on most printers with no drawer, so a
# healthy printer answers 0x16. The same bit in the answer to DLE EOT 2 means "cover open".
DRAWER_PIN_HIGH = 0x04


class PrinterState(StrEnum):
    OK = "ok"
    NEAR_END = "near_end"
    OUT = "out"
    COVER_OPEN = "cover_open"
    SILENT = "silent"  # answers nothing, as a printer that ignores real-time commands or has hung

    @property
    def prints(self) -> bool:
        """Whether paper comes out in this state (a silent printer is assumed to be hung)."""
        return self in (PrinterState.OK, PrinterState.NEAR_END)


def status_reply(state: PrinterState, n: int) -> bytes | None:
    """The byte a printer in `state` answers to DLE EOT n, or None for silence."""
    if state is PrinterState.SILENT:
        return None
    value = bits.FIXED
    offline = state in (PrinterState.OUT, PrinterState.COVER_OPEN)
    if n == 1:
        value |= DRAWER_PIN_HIGH
        if offline:
            value |= bits.PRINTER_OFFLINE
    elif n == 2:
        if state is PrinterState.COVER_OPEN:
            value |= bits.OFFLINE_COVER_OPEN
        if state is PrinterState.OUT:
            value |= bits.OFFLINE_PAPER_END
    elif n == 4:
        if state is PrinterState.NEAR_END:
            value |= bits.PAPER_NEAR_END
        if state is PrinterState.OUT:
            value |= bits.PAPER_END
    return bytes([value])
