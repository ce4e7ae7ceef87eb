"""The two lock-board protocols described as data, and the per-board settings that differ between sites.

A protocol says how frames look (header, checksum, addresses, command bytes, default wiring); a board profile says
how one installed board is wired and configured (feedback polarity, status-byte order, channels, pulse, baud).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace

from devices.cabinet.errors import CabinetError


class Framing(enum.Enum):
    """How a family's frames are built, which names the codec that reads and writes them."""

    XOR485 = "xor485"  # `8A BB LL 11 BCC`: command, board, lock, argument, checksum
    KERONG = "kerong"  # `02 ADDR CMD 03 SUM`: STX, board×16 + lock, command, ETX, checksum


class Checksum(enum.Enum):
    XOR = "xor"  # BCC: XOR of every byte before it
    SUM = "sum"  # sum of every byte before it, mod 256


class Feedback(enum.Enum):
    """How the lock's feedback contact is wired: which door state makes the contact (reads as a set bit)."""

    DOOR_CLOSING = "door-closing"  # contact made while the door is closed: set bit = closed
    DOOR_OPENING = "door-opening"  # contact made while the door is open: set bit = open


class StatusOrder(enum.Enum):
    """Order of the status bytes in a board reply."""

    HIGH_FIRST = "high-first"  # highest channel group first, last byte = channels 1-8
    LOW_FIRST = "low-first"  # first byte = channels 1-8


@dataclass(frozen=True)
class ProtocolSpec:
    """One board family's wire protocol."""

    name: str
    title: str
    framing: Framing
    checksum: Checksum
    baudrate: int
    addresses: range  # DIP-switch addresses a board may have on one bus
    max_channels: int
    default_channels: int
    default_feedback: Feedback
    default_order: StatusOrder
    default_pulse_ms: int
    commands: dict[str, int]
    reports_presence: bool  # the board has its own compartment sensors (IR)


XOR485 = ProtocolSpec(
    name="xor485",
    title='common "485 lock board" (XOR BCC)',
    framing=Framing.XOR485,
    checksum=Checksum.XOR,
    baudrate=9600,
    addresses=range(1, 32),
    max_channels=50,
    default_channels=24,
    default_feedback=Feedback.DOOR_CLOSING,
    default_order=StatusOrder.HIGH_FIRST,
    default_pulse_ms=500,
    commands={
        "unlock": 0x8A,
        "query": 0x80,
        "batch": 0x90,
        "unlock_arg": 0x11,
        "query_arg": 0x33,
        "level_high": 0x11,
        "level_low": 0x00,
    },
    reports_presence=False,
)

KERONG_CU16 = ProtocolSpec(
    name="kerong-cu16",
    title="Kerong KR-CU16",
    framing=Framing.KERONG,
    checksum=Checksum.SUM,
    baudrate=19200,
    addresses=range(0, 16),
    max_channels=16,
    default_channels=16,
    default_feedback=Feedback.DOOR_OPENING,
    default_order=StatusOrder.LOW_FIRST,
    default_pulse_ms=300,
    commands={"stx": 0x02, "etx": 0x03, "unlock": 0x31, "status": 0x30, "status_reply": 0x35},
    reports_presence=True,
)

PROTOCOLS: dict[str, ProtocolSpec] = {p.name: p for p in (XOR485, KERONG_CU16)}


class UnknownProtocolError(CabinetError, ValueError):
    """A protocol name that is not one of the supported board families."""

    def __init__(self, name: str) -> None:
        accepted = ", ".join(PROTOCOLS)
        super().__init__(f"unknown cabinet protocol {name!r}; accepted: {accepted} (未知的锁控板协议)")


def protocol_by_name(name: str) -> ProtocolSpec:
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise UnknownProtocolError(name) from None


@dataclass(frozen=True)
class BoardProfile:
    """Settings of one installed board. `channels=None` means: learn the count from the board's reply."""

    protocol: ProtocolSpec
    channels: int | None
    feedback: Feedback
    order: StatusOrder
    pulse_ms: int
    baudrate: int

    @classmethod
    def default(cls, protocol: ProtocolSpec | str, **overrides: object) -> BoardProfile:
        spec = protocol_by_name(protocol) if isinstance(protocol, str) else protocol
        profile = cls(
            protocol=spec,
            channels=spec.default_channels,
            feedback=spec.default_feedback,
            order=spec.default_order,
            pulse_ms=spec.default_pulse_ms,
            baudrate=spec.baudrate,
        )
        return profile.with_(**overrides) if overrides else profile

    def with_(self, **changes: object) -> BoardProfile:
        profile = replace(self, **changes)  # type: ignore[arg-type]
        profile.validate()
        return profile

    def validate(self) -> None:
        if self.channels is not None and not 1 <= self.channels <= self.protocol.max_channels:
            raise ValueError(
                f"{self.protocol.name} boards have 1-{self.protocol.max_channels} channels, not {self.channels}"
            )
        if self.pulse_ms <= 0 or self.baudrate <= 0:
            raise ValueError("pulse time and baud rate must be positive")

    @property
    def status_bytes(self) -> int | None:
        """How many status bytes (8 channels each) a board reply carries, if the channel count is known."""
        return None if self.channels is None else (self.channels + 7) // 8

    def check_address(self, board: int) -> None:
        addresses = self.protocol.addresses
        if board not in addresses:
            raise ValueError(
                f"{self.protocol.name} board addresses are {addresses.start}-{addresses.stop - 1}, not {board}"
            )

    def check_slot(self, slot: int) -> None:
        limit = self.channels or self.protocol.max_channels
        if not 1 <= slot <= limit:
            raise ValueError(f"slots on this board are numbered 1-{limit}, not {slot}")
