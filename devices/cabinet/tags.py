"""Key tags: iButton / TM touch-memory keys (DS1990A) and RFID tag numbers, the reader interface, and the tracker
that turns readings into key events.

An iButton id can be cloned (HARDWARE-NOTES): it is an inventory label for R-KEY, not proof of identity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from devices.cabinet.errors import CabinetError
from devices.cabinet.events import (
    CabinetEvent,
    KeyRemoved,
    KeyReturned,
    KeyReturnedToWrongSlot,
    TagUnreadable,
    UnknownTag,
)

SlotRef = tuple[int, int]  # (board, slot)
RawTag = bytes | int  # an iButton ROM as read off the 1-Wire bus, or an RFID tag number
DS1990A_FAMILY = 0x01
RFID_MAX = (1 << 40) - 1  # EM4100-style 40-bit numbers


class TagError(CabinetError, ValueError):
    """A reading that is not a valid tag id."""


def crc8_maxim(data: bytes) -> int:
    """Dallas/Maxim 1-Wire CRC-8 (x^8 + x^5 + x^4 + 1, reflected, initial 0)."""
    crc = 0
    for byte in data:
        for _ in range(8):
            mix = (crc ^ byte) & 1
            crc >>= 1
            if mix:
                crc ^= 0x8C
            byte >>= 1
    return crc


def ibutton_rom(serial: int, family: int = DS1990A_FAMILY) -> bytes:
    """The 64-bit ROM a DS1990A sends: family code, 48-bit serial (least significant byte first), CRC-8."""
    if not 0 <= serial < 1 << 48:
        raise TagError(f"an iButton serial is 48 bits, not {serial:#x}")
    body = bytes([family]) + serial.to_bytes(6, "little")
    return body + bytes([crc8_maxim(body)])


def ibutton_id(rom: bytes) -> str:
    """Check a ROM read off the bus and give its tag id, `ibutton:01.<serial in hex>`."""
    if len(rom) != 8:
        raise TagError(f"an iButton ROM is 8 bytes, got {len(rom)} (钥匙扣读取不完整)")
    if crc8_maxim(rom[:7]) != rom[7]:
        raise TagError(f"iButton ROM {rom.hex()} fails its CRC-8 (钥匙扣校验失败)")
    if rom[0] != DS1990A_FAMILY:
        raise TagError(f"iButton family {rom[0]:#04x} is not a DS1990A key (0x01)")
    return f"ibutton:{rom[0]:02X}.{int.from_bytes(rom[1:7], 'little'):012X}"


def rfid_id(number: int) -> str:
    if not 0 <= number <= RFID_MAX:
        raise TagError(f"RFID tag number {number} is out of range")
    return f"rfid:{number:010d}"


def tag_id(raw: RawTag) -> str:
    return ibutton_id(raw) if isinstance(raw, bytes) else rfid_id(raw)


def tag_hex(raw: RawTag) -> str:
    """A tag as readers print and type it, and as the key register and the server take it: an iButton ROM in 16 hex
    digits, most significant byte first as printed on the can (CRC-8, serial, family 01); an RFID number in 10."""
    return raw[::-1].hex().upper() if isinstance(raw, bytes) else f"{raw:010X}"


def raw_tag(text: str) -> RawTag:
    """The tag a reader's hex text stands for (the inverse of `tag_hex`); TagError says what is wrong with it."""
    digits = text.strip()
    try:
        value = int(digits, 16)
    except ValueError:
        raise TagError(f"reader line {digits[:40]!r} is not a tag in hex (读卡数据无效)") from None
    if len(digits) == 16:
        rom = value.to_bytes(8, "big")[::-1]  # printed MSB first; read off the bus family first
        ibutton_id(rom)
        return rom
    if len(digits) == 10:
        rfid_id(value)
        return value
    raise TagError(f"reader line {digits[:40]!r}: 16 hex digits (iButton) or 10 (RFID) expected (读卡数据无效)")


def hex_of_tag_id(tag: str) -> str:
    """A tag id as the driver reports it (`ibutton:01.<serial>`, `rfid:<number>`) in the hex of `tag_hex`; any other
    text is returned as it is."""
    kind, _, rest = tag.partition(":")
    try:
        if kind == "ibutton":
            family, _, serial = rest.partition(".")
            return tag_hex(ibutton_rom(int(serial, 16), int(family, 16)))
        if kind == "rfid":
            return tag_hex(int(rest, 10))
    except (ValueError, TagError):
        pass
    return tag


class KeyReader(Protocol):
    """A reader per slot or per cabinet: the raw tag in each slot it sees (None: empty)."""

    def read(self) -> Mapping[SlotRef, RawTag | None]: ...


class SimulatedKeyReader:
    """Reads the keys of a simulated cabinet, as the contact readers in each slot would."""

    def __init__(self, cabinet: _KeyModel, slots: Iterable[SlotRef]) -> None:
        self.cabinet = cabinet
        self.slots = list(slots)

    def read(self) -> dict[SlotRef, RawTag | None]:
        return {(b, s): self.cabinet.key_at(b, s) for b, s in self.slots}


class _KeyModel(Protocol):
    def key_at(self, board: int, slot: int) -> RawTag | None: ...


class KeyTracker:
    """Turns successive readings into key events. `home_of(tag)` gives the slot a key belongs in (R-KEY 4)."""

    def __init__(self, home_of: Callable[[str], SlotRef | None] | None = None) -> None:
        self.home_of = home_of
        self.seen: dict[SlotRef, str | None] = {}
        self.present: dict[SlotRef, bool] = {}

    def tag_at(self, ref: SlotRef) -> str | None:
        return self.seen.get(ref)

    def observe_tags(self, readings: Mapping[SlotRef, RawTag | None]) -> list[CabinetEvent]:
        events: list[CabinetEvent] = []
        for ref, raw in readings.items():
            board, slot = ref
            try:
                tag = None if raw is None else tag_id(raw)
            except TagError as exc:
                events.append(TagUnreadable(board=board, slot=slot, reason=str(exc)))
                continue  # keep what we knew; an unreadable contact is not a removal
            first = ref not in self.present
            before = self.seen.get(ref)
            self.seen[ref], self.present[ref] = tag, tag is not None
            if first or tag == before:
                continue
            if before is not None:
                events.append(KeyRemoved(board=board, slot=slot, tag=before))
            if tag is not None:
                events.append(self._returned(ref, tag))
        return events

    def _returned(self, ref: SlotRef, tag: str) -> CabinetEvent:
        board, slot = ref
        if self.home_of is None:
            return KeyReturned(board=board, slot=slot, tag=tag)
        home = self.home_of(tag)
        if home is None:
            return UnknownTag(board=board, slot=slot, tag=tag)
        if home != ref:
            return KeyReturnedToWrongSlot(board=board, slot=slot, tag=tag, home_board=home[0], home_slot=home[1])
        return KeyReturned(board=board, slot=slot, tag=tag)

    def observe_presence(self, board: int, presence: Iterable[bool]) -> list[CabinetEvent]:
        """Where no reader exists, the board's compartment sensor says only whether something is there."""
        events: list[CabinetEvent] = []
        for index, present in enumerate(presence):
            ref = (board, index + 1)
            before = self.present.get(ref)
            self.present[ref] = present
            if before is None or before == present:
                continue
            cls = KeyReturned if present else KeyRemoved
            events.append(cls(board=board, slot=index + 1, tag=None))
        return events
