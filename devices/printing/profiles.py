"""Printer profiles: paper width in dots, text columns, QR module size and how the slip is sent."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class PrintMode(StrEnum):
    NATIVE = "native"  # text in the printer's Chinese font, QR with GS ( k
    RASTER = "raster"  # the whole slip drawn here and sent as GS v 0 images


# Built-in fonts are 12x24 dots per half-width character (Font A) and 24x24 per Chinese character.
CELL_WIDTH = 12
CELL_HEIGHT = 24


@dataclass(frozen=True)
class PrinterProfile:
    name: str
    description: str
    dots: int  # printable width in dots
    columns: int  # half-width characters per line
    qr_module: int  # the largest QR module in dots (GS ( k function 167); a slip's code uses the largest that fits
    mode: PrintMode

    def __post_init__(self) -> None:
        if self.dots % 8:
            raise ValueError("printable width must be a whole number of bytes (multiple of 8 dots)")
        if self.columns * CELL_WIDTH > self.dots:
            raise ValueError(f"{self.columns} columns of {CELL_WIDTH} dots do not fit in {self.dots} dots")
        if not 1 <= self.qr_module <= 8:
            raise ValueError("QR module size must be 1-8 dots (what clones accept)")


PROFILES: dict[str, PrinterProfile] = {
    p.name: p
    for p in (
        PrinterProfile("cn80", "80 mm Chinese printer, native (Xprinter/Gprinter 80)", 576, 48, 8, PrintMode.NATIVE),
        PrinterProfile("cn58", "58 mm Chinese printer, native (Xprinter/Gprinter 58)", 384, 32, 8, PrintMode.NATIVE),
        PrinterProfile("tm512", "Epson TM 80 mm at 180 dpi, raster (no Chinese font)", 512, 42, 8, PrintMode.RASTER),
    )
}
DEFAULT_PROFILE = "cn80"


def get_profile(name: str) -> PrinterProfile:
    """The profile called `name`; a clear error lists the known ones."""
    try:
        return PROFILES[name]
    except KeyError:
        known = ", ".join(f"{p.name} ({p.description})" for p in PROFILES.values())
        raise ValueError(f"未知打印机型号 / unknown printer profile {name!r}; known: {known}") from None


def with_mode(profile: PrinterProfile, mode: PrintMode | str | None) -> PrinterProfile:
    """The profile, sending in `mode` instead of its own when one is given."""
    if mode is None:
        return profile
    m = PrintMode(mode)
    if m is profile.mode:
        return profile
    return PrinterProfile(profile.name, profile.description, profile.dots, profile.columns, profile.qr_module, m)
